"""Home and work guessed from stays, confirmable by the user.

Stays are grouped into places (greedy clustering within ``radius_m`` of a place's dwell-weighted
centre, longest stays first). Home is the place with the most dwell time at night
(``night_start_h``-``night_end_h`` local, every day); work is another place with the most dwell
time during weekday working hours (``work_start_h``-``work_end_h`` local, Monday to Friday). This is
the time-window rule of trackintel's OSNA location identifier (Efstathiades et al., "Identification
of Key Locations based on Online Social Network Activity", ASONAM 2015), with minimum dwell times
so that a single hotel night or one meeting does not become home or work. A user's confirmed places
(:class:`PlaceOverrides`) always win over the guess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import msgspec

from core.coaching.geo import haversine_m
from core.coaching.periods import DEFAULT_TIME_ZONE
from core.coaching.records import LatLon, StayRecord


class PlacesParams(msgspec.Struct, frozen=True, kw_only=True):
    radius_m: float = 250.0
    night_start_h: int = 22
    night_end_h: int = 6
    work_start_h: int = 9
    work_end_h: int = 17
    min_night_dwell_s: float = 3 * 6 * 3600.0  # three full nights
    min_work_dwell_s: float = 3 * 4 * 3600.0  # three half working days
    time_zone: str = DEFAULT_TIME_ZONE


DEFAULT_PLACES_PARAMS = PlacesParams()


class PlaceSource(StrEnum):
    GUESSED = "guessed"
    CONFIRMED = "confirmed"


class Place(msgspec.Struct, frozen=True, kw_only=True):
    location: LatLon
    source: PlaceSource
    night_dwell_s: float = 0.0
    work_hours_dwell_s: float = 0.0


class PlaceOverrides(msgspec.Struct, frozen=True, kw_only=True):
    """What the user confirmed or corrected; ``None`` keeps the guess."""

    home: LatLon | None = None
    work: LatLon | None = None


NO_OVERRIDES = PlaceOverrides()


class Places(msgspec.Struct, frozen=True, kw_only=True):
    home: Place | None
    work: Place | None


class _Cluster:
    """Mutable accumulator used only while clustering."""

    def __init__(self, stay: StayRecord) -> None:
        self.weight_s = 0.0
        self.lat = stay.lat
        self.lon = stay.lon
        self.night_s = 0.0
        self.work_s = 0.0

    def add(self, stay: StayRecord, night_s: float, work_s: float) -> None:
        w = max((stay.end - stay.start).total_seconds(), 1.0)
        total = self.weight_s + w
        self.lat = (self.lat * self.weight_s + stay.lat * w) / total
        self.lon = (self.lon * self.weight_s + stay.lon * w) / total
        self.weight_s = total
        self.night_s += night_s
        self.work_s += work_s


def _overlap_s(start: datetime, end: datetime, window_start: datetime, window_end: datetime) -> float:
    return max(0.0, (min(end, window_end) - max(start, window_start)).total_seconds())


def _window_overlap_s(
    start: datetime, end: datetime, start_h: int, end_h: int, *, weekdays_only: bool
) -> float:
    """Seconds of the local stay [start, end) inside the daily window [start_h, end_h) (may wrap).

    Computed on local wall-clock (naive) times: a window that spans a daylight-saving change is
    counted an hour long or short, twice a year, which does not move a place's ranking; building
    aware datetimes for every day made this the slowest step for a year of stays.
    """
    total = 0.0
    day = datetime.combine(start.date() - timedelta(days=1), time(0))  # a night may start the day before
    last = datetime.combine(end.date(), time(0))
    span_h = (end_h - start_h) % 24 or 24
    while day <= last:
        if not weekdays_only or day.weekday() < 5:
            w_start = day + timedelta(hours=start_h)
            total += _overlap_s(start, end, w_start, w_start + timedelta(hours=span_h))
        day += timedelta(days=1)
    return total


class _Grid:
    """Files clusters under the grid cell of their first stay, to skip far-away ones.

    Cells are ``radius_m`` tall and at least as wide; a stay looks at the 5 x 5 cells around it,
    so any centre within twice the radius of its seed is found (a dwell-weighted centre of stays
    within the radius stays well inside that). The exact test is still the haversine distance, and
    the first cluster created still wins, so the result is the same as a full scan.
    """

    REACH = 2

    def __init__(self, stays: Sequence[StayRecord], radius_m: float) -> None:
        self.dlat = max(radius_m, 1.0) / 111_195.0
        max_abs_lat = max((abs(s.lat) for s in stays), default=0.0)
        self.dlon = self.dlat / max(math.cos(math.radians(min(max_abs_lat, 89.0))), 0.01)
        self.by_cell: dict[tuple[int, int], list[tuple[int, _Cluster]]] = {}

    def cell(self, lat: float, lon: float) -> tuple[int, int]:
        return (math.floor(lat / self.dlat), math.floor(lon / self.dlon))

    def file(self, seq: int, cluster: _Cluster, lat: float, lon: float) -> None:
        self.by_cell.setdefault(self.cell(lat, lon), []).append((seq, cluster))

    def near(self, lat: float, lon: float) -> list[_Cluster]:
        i, j = self.cell(lat, lon)
        found = [
            entry
            for di in range(-self.REACH, self.REACH + 1)
            for dj in range(-self.REACH, self.REACH + 1)
            for entry in self.by_cell.get((i + di, j + dj), ())
        ]
        found.sort(key=lambda e: e[0])
        return [c for _, c in found]


def _cluster(stays: Sequence[StayRecord], params: PlacesParams) -> list[_Cluster]:
    tz = ZoneInfo(params.time_zone)
    clusters: list[_Cluster] = []
    grid = _Grid(stays, params.radius_m)
    for stay in sorted(stays, key=lambda s: (-(s.end - s.start).total_seconds(), s.start)):
        start = stay.start.astimezone(tz).replace(tzinfo=None)
        end = stay.end.astimezone(tz).replace(tzinfo=None)
        night = _window_overlap_s(start, end, params.night_start_h, params.night_end_h, weekdays_only=False)
        work = _window_overlap_s(start, end, params.work_start_h, params.work_end_h, weekdays_only=True)
        home = next(
            (
                c
                for c in grid.near(stay.lat, stay.lon)
                if haversine_m((c.lat, c.lon), (stay.lat, stay.lon)) <= params.radius_m
            ),
            None,
        )
        if home is None:
            home = _Cluster(stay)
            grid.file(len(clusters), home, stay.lat, stay.lon)
            clusters.append(home)
        home.add(stay, night, work)
    return clusters


def guess_places(
    stays: Sequence[StayRecord],
    overrides: PlaceOverrides = NO_OVERRIDES,
    params: PlacesParams = DEFAULT_PLACES_PARAMS,
) -> Places:
    """Home and work from stays (rule in the module docstring), overridden by the user's confirmations."""
    clusters = _cluster(stays, params)
    home_c = max(clusters, key=lambda c: c.night_s, default=None)
    if home_c is not None and home_c.night_s < params.min_night_dwell_s:
        home_c = None
    home_at = overrides.home if overrides.home is not None else (home_c.lat, home_c.lon) if home_c else None
    work_candidates = [
        c for c in clusters if home_at is None or haversine_m((c.lat, c.lon), home_at) > params.radius_m
    ]
    work_c = max(work_candidates, key=lambda c: c.work_s, default=None)
    if work_c is not None and work_c.work_s < params.min_work_dwell_s:
        work_c = None

    def guessed(c: _Cluster | None) -> Place | None:
        if c is None:
            return None
        return Place(
            location=(c.lat, c.lon),
            source=PlaceSource.GUESSED,
            night_dwell_s=c.night_s,
            work_hours_dwell_s=c.work_s,
        )

    home = (
        guessed(home_c)
        if overrides.home is None
        else Place(location=overrides.home, source=PlaceSource.CONFIRMED)
    )
    work = (
        guessed(work_c)
        if overrides.work is None
        else Place(location=overrides.work, source=PlaceSource.CONFIRMED)
    )
    return Places(home=home, work=work)
