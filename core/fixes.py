"""Position fixes: the one normalised shape every accepted format is turned into.

Units: UTC, metres, metres per second, degrees. A :class:`RawFix` is what a decoder read, possibly
invalid; :func:`normalise` turns it into a :class:`Fix` or a :class:`Rejection` with a reason the
client can act on. Validation is per fix, so one bad fix never fails its batch.
"""

from __future__ import annotations

import math
import sys
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import msgspec

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_FUTURE = timedelta(minutes=5)
# No fix is older than EARLIEST (refused below) nor later than LATEST: time ranges asked of the
# API or queued for reprocessing are clamped to these, so that a bound such as 0001-01-01 (which
# PostgreSQL stores as -infinity and asyncpg returns as a naive datetime.min) never goes further.
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

# The value rules of :func:`normalise` that do not depend on the time of arrival, as msgspec
# constraints: a decoder that reads a whole batch into these types in one call has checked every
# value the way ``normalise`` would accept it unchanged (finite, in range, nothing to drop).
# ``le=sys.float_info.max`` is how a constraint says "finite": it refuses +inf, and NaN fails any
# comparison.
_FINITE = sys.float_info.max
# Accuracy is stored as a 4-byte float (``real``): a larger value cannot be stored, and refuses
# its fix (it is not a fix anyone could use). Altitudes and speeds beyond what a phone can have
# (aloft in an airliner, 1,000 m/s is three times the speed of sound) are dropped, like a
# negative speed.
REAL_MAX = 3.4028234663852886e38
MAX_ALTITUDE_M = 100_000.0
MAX_SPEED_MPS = 1_000.0
Latitude = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
Longitude = Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]
AccuracyM = Annotated[float, msgspec.Meta(ge=0.0, le=REAL_MAX)]
AltitudeM = Annotated[float, msgspec.Meta(ge=-MAX_ALTITUDE_M, le=MAX_ALTITUDE_M)]
SpeedMps = Annotated[float, msgspec.Meta(ge=0.0, le=MAX_SPEED_MPS)]
BearingDeg = Annotated[float, msgspec.Meta(ge=0.0, lt=360.0)]
Battery = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]


class Activity(StrEnum):
    """The phone's own motion class, mapped from each platform's vocabulary."""

    STILL = "still"
    WALK = "walk"
    RUN = "run"
    BIKE = "bike"
    VEHICLE = "vehicle"
    UNKNOWN = "unknown"


class RawFix(msgspec.Struct, kw_only=True):
    """A fix as decoded from a payload, before validation. ``ts`` is timezone-aware or None."""

    ts: datetime | None
    lat: float | None
    lon: float | None
    accuracy_m: float | None = None
    altitude_m: float | None = None
    speed_mps: float | None = None
    bearing_deg: float | None = None
    activity: Activity | None = None
    battery: float | None = None  # 0..1


class Fix(msgspec.Struct, frozen=True, kw_only=True):
    """A valid, normalised fix (UTC, metres, m/s, degrees)."""

    ts: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None
    altitude_m: float | None = None
    speed_mps: float | None = None
    bearing_deg: float | None = None
    activity: Activity | None = None
    battery: float | None = None


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    reason: str


def _finite_or_none(name: str, value: float | None) -> tuple[float | None, str | None]:
    if value is None:
        return None, None
    if not math.isfinite(value):
        return None, f"{name} is not a finite number"
    return value, None


def normalise(raw: RawFix, now: datetime) -> Fix | Rejection:
    """Validate one fix against ``now`` (UTC).

    Rejected: missing or non-finite time or coordinates, latitude outside [-90, 90], longitude
    outside [-180, 180], time before 2000-01-01 or more than 5 minutes after ``now``, negative
    accuracy or one too large to store. Optional values that are impossible (negative speed, as
    Overland sends for "unknown"; a speed over 1,000 m/s; an altitude beyond 100 km) are dropped
    rather than rejecting the fix.
    """
    if raw.ts is None:
        return Rejection(reason="missing timestamp")
    if raw.ts.tzinfo is None:
        return Rejection(reason="timestamp has no UTC offset")
    if raw.lat is None or raw.lon is None:
        return Rejection(reason="missing coordinates")
    for name, value in (("lat", raw.lat), ("lon", raw.lon)):
        if not math.isfinite(value):
            return Rejection(reason=f"{name} is not a finite number")
    if not -90.0 <= raw.lat <= 90.0:
        return Rejection(reason=f"latitude {raw.lat} is outside [-90, 90]")
    if not -180.0 <= raw.lon <= 180.0:
        return Rejection(reason=f"longitude {raw.lon} is outside [-180, 180]")
    try:
        ts = raw.ts.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        return Rejection(reason="timestamp is out of range")
    problem = time_problem(ts, now)
    if problem is not None:
        return Rejection(reason=problem)
    optional: dict[str, float | None] = {}
    for name in ("accuracy_m", "altitude_m", "speed_mps", "bearing_deg", "battery"):
        checked, problem = _finite_or_none(name, getattr(raw, name))
        if problem is not None:
            return Rejection(reason=problem)
        optional[name] = checked
    if optional["accuracy_m"] is not None and optional["accuracy_m"] < 0:
        return Rejection(reason="accuracy_m is negative")
    if optional["accuracy_m"] is not None and optional["accuracy_m"] > REAL_MAX:
        return Rejection(reason="accuracy_m is too large")
    speed = optional["speed_mps"]
    if speed is not None and not 0 <= speed <= MAX_SPEED_MPS:
        optional["speed_mps"] = None  # negative is "unknown" in several trackers
    altitude = optional["altitude_m"]
    if altitude is not None and abs(altitude) > MAX_ALTITUDE_M:
        optional["altitude_m"] = None
    bearing = optional["bearing_deg"]
    if bearing is not None:
        optional["bearing_deg"] = bearing % 360.0 if bearing >= 0 else None
    if optional["battery"] is not None and not 0.0 <= optional["battery"] <= 1.0:
        optional["battery"] = None
    return Fix(
        ts=ts,
        lat=raw.lat,
        lon=raw.lon,
        activity=raw.activity,
        **optional,
    )


def time_problem(ts: datetime, now: datetime) -> str | None:
    """Why a fix taken at ``ts`` cannot be accepted at ``now`` (both aware), or None if it can."""
    if ts < EARLIEST:
        return "timestamp is before 2000-01-01"
    if ts > now + MAX_FUTURE:
        return "timestamp is more than 5 minutes in the future"
    return None
