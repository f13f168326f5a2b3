"""Flights: a signal gap that only an aeroplane can cross becomes a trip of its own.

Phones are in aeroplane mode from boarding to landing, so a flight leaves no fix: the last one at
the departure airport, then the first one hours later and hundreds of kilometres away. Cut at the
signal gap like any other (``gap_s``), the flight would be in no trip at all, and a CO2 coach that
misses flights misses the largest item of many footprints. So a gap hop is a flight when it covers
at least ``flight_min_distance_m`` at an average of at least ``flight_min_speed_mps`` and at most
``flight_max_speed_mps`` (airliners cruise at 230-260 m/s over the ground; more is a position
error). The default minimum speed, 80 m/s (288 km/h), is above what the fastest French train
timetables average as the crow flies (Paris-Bordeaux, about 500 km in 2 h 04: 67 m/s) and below
what a 700 km flight averages gate to gate with the phone off from boarding to landing (about
2 h: 97 m/s); shorter flights, slower gate to gate, are left out rather than guessed.

Such a hop is returned as a trip of two fixes (the last before the gap and the first after), with
one section, linked to the stays it leaves and reaches. Its mode is for the classifier's rules to
say (``models.sections``): the segmentation only keeps the hop from vanishing. A phone that wakes
in flight (a fix or a few over the sea, then aeroplane mode again) splits one flight into several
hops: consecutive hops with no stay between them, whose fixes between are airborne (at least
``flight_min_speed_mps`` from the first to the last, or for a lone fix by the phone's own speed),
are one flight, and the fixes between belong to it rather than to a trip of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from core.geodesy import haversine_m
from core.segmentation.params import SegmentationParams
from core.segmentation.result import SectionBounds, Stay, Trip
from core.track import Track

IntArray = npt.NDArray[np.intp]
F64 = npt.NDArray[np.float64]


class GapHops(NamedTuple):
    """The hops ``i → i + 1`` of a track across a signal gap (no fix for over ``gap_s``)."""

    before: IntArray  # ``i``, the fix before the gap
    distance_m: F64  # as the crow flies
    duration_s: F64


def gap_hops(track: Track, params: SegmentationParams) -> GapHops:
    """The hops of ``track`` (cleaned, time-sorted) across a signal gap: what flights and rides
    (:mod:`.rides`) are read from."""
    t = track.t_s
    gaps = np.flatnonzero(np.diff(t) > params.gap_s).astype(np.intp)
    d = haversine_m(track.lat[gaps], track.lon[gaps], track.lat[gaps + 1], track.lon[gaps + 1])
    return GapHops(gaps, np.asarray(d, dtype=np.float64), t[gaps + 1] - t[gaps])


def flight_pace(distance_m: F64, duration_s: F64, params: SegmentationParams) -> npt.NDArray[np.bool_]:
    """Whether covering ``distance_m`` in ``duration_s`` is a flight's: at least
    ``flight_min_distance_m``, at an average from ``flight_min_speed_mps`` to ``flight_max_speed_mps``
    (a hop across a signal gap here, a section seen from the air in :mod:`.impossible`). Products,
    not a division: a duration may be 0."""
    return (
        (distance_m >= params.flight_min_distance_m)
        & (distance_m >= params.flight_min_speed_mps * duration_s)
        & (distance_m <= params.flight_max_speed_mps * duration_s)
    )


def flight_hops(hops: GapHops, params: SegmentationParams) -> IntArray:
    """Index ``i`` of each hop ``i → i + 1`` across a signal gap that is a flight."""
    return hops.before[flight_pace(hops.distance_m, hops.duration_s, params)]


def stay_lookup(stays: tuple[Stay, ...]) -> Callable[[int], int | None]:
    """The number of the stay holding fix ``i``, or None."""
    starts = np.asarray([s.start for s in stays], dtype=np.intp)
    ends = np.asarray([s.end for s in stays], dtype=np.intp)

    def stay_of(i: int) -> int | None:
        k = int(np.searchsorted(starts, i, side="right")) - 1
        return k if k >= 0 and i < ends[k] else None

    return stay_of


def hop_trip(track: Track, a: int, z: int, stay_of: Callable[[int], int | None], final_before: int) -> Trip:
    """The trip of one section from fix ``a`` (the last before a gap) to fix ``z`` (the first after
    it, or after the last of hops in a row), complete once ``z`` is final (before ``final_before``)."""
    return Trip(
        start=a,
        end=z + 1,
        t_start_s=float(track.t_s[a]),
        t_end_s=float(track.t_s[z]),
        sections=(SectionBounds(start=a, end=z + 1),),
        origin_stay=stay_of(a),
        destination_stay=stay_of(z),
        complete=z < final_before,
        across_gap=True,
    )


def flight_trips(
    track: Track, stays: tuple[Stay, ...], hops: IntArray, final_before: int, params: SegmentationParams
) -> list[Trip]:
    """A trip for each flight (a hop, or hops in a row across fixes taken in the air: module
    docstring); complete once its arrival fix is final (before ``final_before``)."""
    stay_of = stay_lookup(stays)

    def airborne(a: int, b: int) -> bool:
        """Fixes ``a`` to ``b`` (between two hops) were taken in flight: fast, and in no stay. A
        lone fix is only with the phone's own speed to say so: else it may as well be the one fix
        a phone took at a connecting airport."""
        if a < b:
            d = float(haversine_m(track.lat[a], track.lon[a], track.lat[b], track.lon[b]))
            fast = d >= params.flight_min_speed_mps * float(track.t_s[b] - track.t_s[a])
        else:
            fast = bool(track.speed_mps[a] >= params.flight_min_speed_mps)  # False when unknown
        return fast and all(stay_of(i) is None for i in range(a, b + 1))

    flights: list[tuple[int, int]] = []  # (first fix, last fix)
    for i in hops.tolist():
        if flights and airborne(flights[-1][1], i):
            flights[-1] = (flights[-1][0], i + 1)
        else:
            flights.append((i, i + 1))
    return [hop_trip(track, a, z, stay_of, final_before) for a, z in flights]
