"""Recurring trips: the same origin and the same destination, within a radius, several times.

Trips are clustered greedily in time order: a trip joins the first cluster whose origin centre and
destination centre are both within ``radius_m`` of its own ends, and the centres move to the mean
of their members; direction matters (home→work and work→home are two recurring trips). This is
the origin-destination variant of the radius clustering used for staypoints (Li et al., "Mining
user similarity based on location history", ACM GIS 2008), kept greedy because a user's year is a
few thousand trips. Clusters with at least ``min_count`` trips are recurring; they are named
commutes when their ends fall within ``radius_m`` of home and work.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from enum import StrEnum

import msgspec

from core.co2.modes import Mode
from core.coaching.geo import haversine_m
from core.coaching.places import Places
from core.coaching.records import LatLon, TripRecord


class RecurringParams(msgspec.Struct, frozen=True, kw_only=True):
    radius_m: float = 250.0
    min_count: int = 3


DEFAULT_RECURRING_PARAMS = RecurringParams()


NO_PLACES = Places(home=None, work=None)
_WEEK_S = 7 * 86_400.0


class Commute(StrEnum):
    HOME_TO_WORK = "home_to_work"
    WORK_TO_HOME = "work_to_home"


class RecurringTrip(msgspec.Struct, frozen=True, kw_only=True):
    """A recurring origin→destination pair and what is typical of its trips."""

    origin: LatLon
    destination: LatLon
    trip_ids: list[str]
    count: int
    typical_distance_m: float  # median
    typical_co2_kg: float  # median
    main_mode: Mode  # most frequent main mode (ties: the one met first)
    commute: Commute | None
    per_week: float  # count / weeks between the first and last trip (at least one week)


class _Cluster:
    def __init__(self, trip: TripRecord, seq: int) -> None:
        self.seq = seq
        self.origin = trip.origin
        self.destination = trip.destination
        self.trips: list[TripRecord] = []

    def add(self, trip: TripRecord) -> None:
        self.trips.append(trip)
        n = len(self.trips)
        self.origin = _mean_step(self.origin, trip.origin, n)
        self.destination = _mean_step(self.destination, trip.destination, n)


class _Grid:
    """Prunes the cluster search: clusters are filed under the grid cell of their first origin.

    Cells are ``radius_m`` tall and at least as wide (sized at the highest latitude met), and a
    trip looks at the 5 x 5 cells around its origin, so any centre within twice the radius of the
    seed is found; centres are means of points within the radius, so they stay well inside that.
    The exact test is still the haversine distance; the grid only skips far-away clusters, which
    keeps a year of trips (a few thousand) linear instead of quadratic.
    """

    REACH = 2

    def __init__(self, trips: Sequence[TripRecord], radius_m: float) -> None:
        self.dlat = max(radius_m, 1.0) / 111_195.0  # metres per degree of latitude
        max_abs_lat = max((abs(t.origin[0]) for t in trips), default=0.0)
        self.dlon = self.dlat / max(math.cos(math.radians(min(max_abs_lat, 89.0))), 0.01)

    def cell(self, point: LatLon) -> tuple[int, int]:
        return (math.floor(point[0] / self.dlat), math.floor(point[1] / self.dlon))

    def candidates(self, by_cell: dict[tuple[int, int], list[_Cluster]], point: LatLon) -> list[_Cluster]:
        i, j = self.cell(point)
        found = [
            c
            for di in range(-self.REACH, self.REACH + 1)
            for dj in range(-self.REACH, self.REACH + 1)
            for c in by_cell.get((i + di, j + dj), ())
        ]
        found.sort(key=lambda c: c.seq)  # the first cluster created wins, as without the grid
        return found


def _mean_step(mean: LatLon, point: LatLon, n: int) -> LatLon:
    return (mean[0] + (point[0] - mean[0]) / n, mean[1] + (point[1] - mean[1]) / n)


def _commute(origin: LatLon, destination: LatLon, places: Places, radius_m: float) -> Commute | None:
    if places.home is None or places.work is None:
        return None
    home, work = places.home.location, places.work.location

    def near(a: LatLon, b: LatLon) -> bool:
        return haversine_m(a, b) <= radius_m

    if near(origin, home) and near(destination, work):
        return Commute.HOME_TO_WORK
    if near(origin, work) and near(destination, home):
        return Commute.WORK_TO_HOME
    return None


def recurring_trips(
    trips: Sequence[TripRecord],
    places: Places = NO_PLACES,
    params: RecurringParams = DEFAULT_RECURRING_PARAMS,
) -> list[RecurringTrip]:
    """Recurring trips, most frequent first (ties: earliest first trip), commutes named."""
    clusters: list[_Cluster] = []
    grid = _Grid(trips, params.radius_m)
    by_cell: dict[tuple[int, int], list[_Cluster]] = {}
    for trip in sorted(trips, key=lambda t: t.start):
        cluster = next(
            (
                c
                for c in grid.candidates(by_cell, trip.origin)
                if haversine_m(c.origin, trip.origin) <= params.radius_m
                and haversine_m(c.destination, trip.destination) <= params.radius_m
            ),
            None,
        )
        if cluster is None:
            cluster = _Cluster(trip, len(clusters))
            clusters.append(cluster)
            by_cell.setdefault(grid.cell(trip.origin), []).append(cluster)
        cluster.add(trip)
    result = []
    for c in clusters:
        if len(c.trips) < params.min_count:
            continue
        modes = Counter(t.main_mode for t in c.trips)
        result.append(
            RecurringTrip(
                origin=c.origin,
                destination=c.destination,
                trip_ids=[t.trip_id for t in c.trips],
                count=len(c.trips),
                typical_distance_m=statistics.median(t.distance_m for t in c.trips),
                typical_co2_kg=statistics.median(t.co2_kg for t in c.trips),
                main_mode=modes.most_common(1)[0][0],
                commute=_commute(c.origin, c.destination, places, params.radius_m),
                per_week=len(c.trips)
                / max(1.0, (c.trips[-1].start - c.trips[0].start).total_seconds() / _WEEK_S),
            )
        )
    result.sort(key=lambda r: -r.count)  # stable: equal counts keep first-trip order
    return result
