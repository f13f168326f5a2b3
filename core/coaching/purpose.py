"""Naming a trip's purpose from home and work: commutes and returns home.

Travel surveys classify a trip by the activity at each end (the Cerema "enquête mobilité certifiée
Cerema" (EMC²), formerly EMD, codes the purpose at the origin and at the destination; home-work
trips are "domicile-travail"). Sillage only knows two activities, home and work, so it names:

- ``commute``: home → work or work → home (both ends within ``radius_m``);
- ``work``: a trip to or from work whose other end is not home (a "secondary trip linked to work");
- ``home``: back home from anywhere but work;

and nothing otherwise (leaving home for somewhere unknown tells nothing about why). These are the
purposes Sillage derives itself (:data:`DERIVED`): they are renamed when home or work change, while
any other stored purpose (set by the user or another tool) is kept as it is.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from core.coaching.geo import haversine_m
from core.coaching.places import Places
from core.coaching.records import LatLon


class Purpose(StrEnum):
    COMMUTE = "commute"
    WORK = "work"
    HOME = "home"


DERIVED = frozenset(p.value for p in Purpose)


class PurposeParams(msgspec.Struct, frozen=True, kw_only=True):
    radius_m: float = 250.0  # the same radius as places and recurring trips


DEFAULT_PURPOSE_PARAMS = PurposeParams()


def trip_purpose(
    origin: LatLon, destination: LatLon, places: Places, params: PurposeParams = DEFAULT_PURPOSE_PARAMS
) -> Purpose | None:
    """The purpose of a trip between these ends (rule in the module docstring)."""

    def at(point: LatLon, place_kind: str) -> bool:
        place = places.home if place_kind == "home" else places.work
        return place is not None and haversine_m(point, place.location) <= params.radius_m

    from_home, to_home = at(origin, "home"), at(destination, "home")
    from_work, to_work = at(origin, "work"), at(destination, "work")
    if (from_home and to_work) or (from_work and to_home):
        return Purpose.COMMUTE
    if from_work != to_work:
        return Purpose.WORK
    if to_home and not from_home:
        return Purpose.HOME
    return None


def resolved_purpose(
    stored: str | None,
    origin: LatLon,
    destination: LatLon,
    places: Places,
    params: PurposeParams = DEFAULT_PURPOSE_PARAMS,
) -> str | None:
    """A purpose someone else set is kept; a derived or missing one is named from ``places``."""
    if stored is not None and stored not in DERIVED:
        return stored
    named = trip_purpose(origin, destination, places, params)
    return None if named is None else named.value
