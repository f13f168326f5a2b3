"""Each platform's motion vocabulary mapped onto :class:`core.fixes.Activity`.

Sources: Android ``DetectedActivity`` constants (Google Play services), as relayed by e-mission
(``emission/core/wrapper/motionactivity.py``: 0 in vehicle, 1 bicycle, 2 on foot, 3 still,
4 unknown, 5 tilting, 7 walking, 8 running, 9 none, 10 stopped in vehicle, 11 air or high-speed
rail); iOS ``CMMotionActivity`` booleans (e-mission iOS, and Overland's ``motion`` list); the
Transistorsoft background-geolocation activity names used by Traccar Client.

When several iOS flags are true at once the most specific motion wins, in the order vehicle, bike,
run, walk, still: ``automotive`` with ``stationary`` is a phone resting in a car at a red light
(Apple's CMMotionActivity documentation; the Overland README calls it "a common combination").
Labels we do not know map to ``None`` (no information), not to ``Activity.UNKNOWN``, which means
the phone itself said it did not know.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.fixes import Activity

ANDROID_CODES: dict[int, Activity | None] = {
    0: Activity.VEHICLE,
    1: Activity.BIKE,
    2: Activity.WALK,  # "on foot": walking or running, walking being by far the more common
    3: Activity.STILL,
    4: Activity.UNKNOWN,
    5: Activity.UNKNOWN,  # tilting: the phone moved, the person's motion is unknown
    7: Activity.WALK,
    8: Activity.RUN,
    9: None,
    10: Activity.VEHICLE,  # stopped while in vehicle
    11: Activity.VEHICLE,  # air or high-speed rail
}

_NAMES: dict[str, Activity] = {
    "still": Activity.STILL,
    "stationary": Activity.STILL,
    "stopped": Activity.STILL,
    "walk": Activity.WALK,
    "walking": Activity.WALK,
    "on_foot": Activity.WALK,
    "run": Activity.RUN,
    "running": Activity.RUN,
    "bike": Activity.BIKE,
    "cycling": Activity.BIKE,
    "bicycle": Activity.BIKE,
    "bicycling": Activity.BIKE,
    "on_bicycle": Activity.BIKE,
    "vehicle": Activity.VEHICLE,
    "in_vehicle": Activity.VEHICLE,
    "automotive": Activity.VEHICLE,
    "driving": Activity.VEHICLE,
    "unknown": Activity.UNKNOWN,
    "tilting": Activity.UNKNOWN,
}

# Most specific first: see the module docstring.
_PRIORITY = (Activity.VEHICLE, Activity.BIKE, Activity.RUN, Activity.WALK, Activity.STILL, Activity.UNKNOWN)


def from_name(name: str | None) -> Activity | None:
    """A motion label in any of the known vocabularies (case, spaces and dashes ignored)."""
    if name is None:
        return None
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return _NAMES.get(key)


def from_android_code(code: int | None) -> Activity | None:
    return None if code is None else ANDROID_CODES.get(code)


def most_specific(names: Iterable[str]) -> Activity | None:
    """Several simultaneous motion labels (iOS flags, Overland's ``motion``) reduced to one."""
    found = {activity for activity in map(from_name, names) if activity is not None}
    for activity in _PRIORITY:
        if activity in found:
            return activity
    return None
