"""Readable track builders: ``track_from(stay(600, at=HOME), walk(to=STOP), bus(to=WORK), ...)``.

Places are metres east/north of a reference point in Lausanne; every leg starts where the previous
one ended. Noise is deterministic (seeded) so a failing test fails the same way every time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.fixes import Activity
from core.geodesy import EARTH_RADIUS_M
from core.track import ACTIVITY_CODES, Track

REF_LAT = 46.5197
REF_LON = 6.6323


@dataclass(frozen=True, slots=True)
class Place:
    east_m: float
    north_m: float


def place(east_m: float, north_m: float) -> Place:
    return Place(east_m, north_m)


@dataclass(frozen=True, slots=True)
class Leg:
    """``kind`` is 'stay', 'move' or 'gap'; moves go straight to ``to`` at ``speed_mps``."""

    kind: str
    duration_s: float = 0.0
    to: Place | None = None
    speed_mps: float = 0.0
    every_s: float = 1.0
    noise_m: float = 3.0
    accuracy_m: float = math.nan
    activity: Activity = Activity.UNKNOWN
    stops: tuple[tuple[float, float], ...] = field(default=())  # (fraction of the way, seconds)


def stay(duration_s: float, *, at: Place | None = None, every_s: float = 1.0, noise_m: float = 3.0) -> Leg:
    return Leg(kind="stay", duration_s=duration_s, to=at, every_s=every_s, noise_m=noise_m)


def walk(*, to: Place, every_s: float = 1.0, activity: Activity = Activity.UNKNOWN) -> Leg:
    return Leg(kind="move", to=to, speed_mps=1.4, every_s=every_s, activity=activity)


def bus(*, to: Place, every_s: float = 1.0, stops: tuple[tuple[float, float], ...] = ((0.5, 30.0),)) -> Leg:
    return Leg(kind="move", to=to, speed_mps=10.0, every_s=every_s, stops=stops)


def ride(*, to: Place, speed_mps: float, every_s: float = 1.0, activity: Activity = Activity.UNKNOWN) -> Leg:
    return Leg(kind="move", to=to, speed_mps=speed_mps, every_s=every_s, activity=activity)


def gap(duration_s: float, *, to: Place | None = None) -> Leg:
    """No fix for ``duration_s``; the next leg starts at ``to`` (or where the last one ended)."""
    return Leg(kind="gap", duration_s=duration_s, to=to)


def _leg_points(leg: Leg, origin: Place) -> tuple[np.ndarray, np.ndarray, np.ndarray, Place]:
    """Relative times and east/north positions of a leg's fixes, and where it ends."""
    if leg.kind == "gap":
        return np.zeros(0), np.zeros(0), np.zeros(0), leg.to or origin
    if leg.kind == "stay":
        at = leg.to or origin
        t = np.arange(0.0, leg.duration_s, leg.every_s)
        return t, np.full(t.size, at.east_m), np.full(t.size, at.north_m), at
    assert leg.to is not None
    de, dn = leg.to.east_m - origin.east_m, leg.to.north_m - origin.north_m
    length = math.hypot(de, dn)
    moving_s = length / leg.speed_mps
    total = moving_s + sum(s for _, s in leg.stops)
    t = np.arange(0.0, total, leg.every_s)
    # Time spent moving until each fix, with the stops cut out.
    moved = t.copy()
    for fraction, seconds in leg.stops:
        begin = fraction * moving_s + sum(s for f, s in leg.stops if f < fraction)
        moved -= np.clip(t - begin, 0.0, seconds)
    share = np.clip(moved / moving_s, 0.0, 1.0)
    return t, origin.east_m + share * de, origin.north_m + share * dn, leg.to


def track_from(
    *legs: Leg, start_s: float = 1_700_000_000.0, seed: int = 7, start: Place | None = None
) -> Track:
    """Concatenate legs into a Track (noise in metres added to every fix)."""
    rng = np.random.default_rng(seed)
    here = start or place(0.0, 0.0)
    now = start_s
    ts, east, north, acc = [np.zeros(0)], [np.zeros(0)], [np.zeros(0)], [np.zeros(0)]
    act = [np.zeros(0, dtype=np.int8)]
    for leg in legs:
        t, e, n, here = _leg_points(leg, here)
        ts.append(now + t)
        east.append(e + rng.normal(0.0, leg.noise_m, t.size) if t.size else e)
        north.append(n + rng.normal(0.0, leg.noise_m, t.size) if t.size else n)
        acc.append(np.full(t.size, leg.accuracy_m))
        act.append(np.full(t.size, ACTIVITY_CODES[leg.activity], dtype=np.int8))
        now += leg.duration_s if leg.kind != "move" else (t[-1] + leg.every_s if t.size else 0.0)
    e_all, n_all = np.concatenate(east), np.concatenate(north)
    lat = REF_LAT + np.degrees(n_all / EARTH_RADIUS_M)
    lon = REF_LON + np.degrees(e_all / (EARTH_RADIUS_M * math.cos(math.radians(REF_LAT))))
    t_all = np.concatenate(ts)
    return Track(
        t_s=t_all,
        lat=lat,
        lon=lon,
        accuracy_m=np.concatenate(acc),
        speed_mps=np.full(t_all.size, math.nan),
        activity=np.concatenate(act),
    )


def with_fix(
    track: Track, *, at_s: float, east_m: float, north_m: float, accuracy_m: float = math.nan
) -> Track:
    """The track with one extra fix inserted in time order."""
    i = int(np.searchsorted(track.t_s, at_s))
    lat = REF_LAT + math.degrees(north_m / EARTH_RADIUS_M)
    lon = REF_LON + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(REF_LAT))))
    return Track(
        t_s=np.insert(track.t_s, i, at_s),
        lat=np.insert(track.lat, i, lat),
        lon=np.insert(track.lon, i, lon),
        accuracy_m=np.insert(track.accuracy_m, i, accuracy_m),
        speed_mps=np.insert(track.speed_mps, i, math.nan),
        activity=np.insert(track.activity, i, ACTIVITY_CODES[Activity.UNKNOWN]).astype(np.int8),
    )


def until(track: Track, t_s: float) -> Track:
    """The fixes before ``t_s`` (what the server had seen at that time)."""
    return track.take(np.flatnonzero(track.t_s < t_s))


def since(track: Track, t_s: float) -> Track:
    return track.take(np.flatnonzero(track.t_s >= t_s))


def walk_to_the_shop(*, every_s: float, seed: int, start_s: float, stay_s: float = 600.0) -> Track:
    """Home, a walk of 1.1 km east, the shop: one tracker's view of it (``seed`` draws its noise)."""
    return track_from(
        stay(stay_s, at=place(0.0, 0.0), every_s=every_s),
        walk(to=place(1100.0, 0.0), every_s=every_s),
        stay(stay_s, every_s=every_s),
        seed=seed,
        start_s=start_s,
    )


def metro_without_signal() -> Track:
    """A walk, 13 minutes and 7 km underground without a fix, a walk: a metro ride as a phone logs it."""
    return track_from(
        stay(600, at=place(0.0, 0.0), every_s=5),
        walk(to=place(400.0, 0.0), every_s=5),
        gap(780, to=place(7400.0, 0.0)),
        walk(to=place(7800.0, 0.0), every_s=5),
        stay(600, every_s=5),
    )


def two_trackers(first: Track, second: Track) -> Track:
    """The fixes of two trackers of one tester in one track (``source`` 0 and 1), as the pipeline
    reads them when both logged; a fix of the second at the time of one of the first is left out,
    as the store keeps one fix per instant."""
    second_only = ~np.isin(second.t_s, first.t_s)
    source = np.concatenate((np.zeros(first.t_s.size, np.int8), np.ones(int(second_only.sum()), np.int8)))
    t_s = np.concatenate((first.t_s, second.t_s[second_only]))
    order = np.argsort(t_s, kind="stable")

    def col(name: str) -> np.ndarray:
        return np.concatenate((getattr(first, name), getattr(second, name)[second_only]))[order]

    return Track(
        t_s=t_s[order],
        lat=col("lat"),
        lon=col("lon"),
        accuracy_m=col("accuracy_m"),
        speed_mps=col("speed_mps"),
        activity=col("activity").astype(np.int8),
        source=source[order],
    )
