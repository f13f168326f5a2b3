"""Per-tester contribution bounding: what one tester adds to each table of a release.

Bounding each tester's contribution is what makes user-level differential privacy possible: the L1
sensitivity of a table is the most one tester can add to it (Dwork & Roth 2014, §3.3; the same
"contribution bounding" step as Wilson et al. 2020, "Differentially private SQL with bounded user
contribution", PoPETs). Every trip is attributed to its main mode (the mode of its longest
section), as household travel surveys do. The carpool tables are bounded in
:mod:`core.privacy.corridors`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import msgspec

from core.carpool.corridors import CorridorContribution
from core.privacy.corridors import CARPOOL_TABLES, corridor_cells, corridor_sensitivity
from core.privacy.params import ContributionCaps, ReleaseParams

# (dim_a, dim_b) for the trip tables, dim_b "" when one-dimensional; (origin_zone,
# destination_zone, time_band) for the carpool tables.
Cell = tuple[str, ...]


class SectionRecord(msgspec.Struct, frozen=True, kw_only=True):
    mode: str
    distance_m: float
    co2_kg: float | None


class TripRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A tester's (not hidden) trip, as read from their partition."""

    id: str
    started_at: datetime
    origin: tuple[float, float]  # (lat, lon)
    destination: tuple[float, float]
    distance_m: float
    sections: Sequence[SectionRecord]


class Contribution(msgspec.Struct, frozen=True, kw_only=True):
    """One tester's bounded additions to each table, in the release's integer units."""

    tables: dict[str, dict[Cell, int]]
    trips_kept: int


TABLE_NOISY = (
    "mode_trips",
    "mode_km",
    "mode_co2",
    "trips_by_hour",
    "trips_by_weekday",
    "od_flows",
    *CARPOOL_TABLES,
)

Zoner = Callable[[float, float], str | None]


def main_mode(trip: TripRecord) -> str | None:
    """The mode of the trip's longest section (None for a trip without sections)."""
    if not trip.sections:
        return None
    return max(trip.sections, key=lambda s: s.distance_m).mode


def _keep_order(trip: TripRecord, seed: bytes) -> bytes:
    return hashlib.sha256(seed + trip.id.encode()).digest()


def kept_trips(
    trips: Sequence[TripRecord], caps: ContributionCaps, tz: ZoneInfo, seed: bytes
) -> list[TripRecord]:
    """At most ``caps.max_trips_per_day`` trips per local day, picked by a keyed hash of the trip id
    (deterministic for a release, unbiased towards any time of day)."""
    by_day: dict[date, list[TripRecord]] = defaultdict(list)
    for t in trips:
        if main_mode(t) is not None:
            by_day[t.started_at.astimezone(tz).date()].append(t)
    kept: list[TripRecord] = []
    for day in sorted(by_day):
        ranked = sorted(by_day[day], key=lambda t: _keep_order(t, seed))
        kept.extend(ranked[: caps.max_trips_per_day])
    return kept


def contribution(
    trips: Sequence[TripRecord],
    params: ReleaseParams,
    *,
    zone_of: Zoner,
    seed: bytes,
    corridors: Sequence[CorridorContribution] = (),
) -> Contribution:
    """The tester's bounded contribution to every noisy table of a release; ``corridors`` are the
    tester's own carpool rows (empty unless they also consent to carpool matching)."""
    tz = ZoneInfo(params.timezone)
    caps = params.caps
    tables: dict[str, dict[Cell, int]] = {name: defaultdict(int) for name in TABLE_NOISY}
    kept = kept_trips(trips, caps, tz, seed)
    for t in kept:
        mode = main_mode(t)
        assert mode is not None
        km = min(t.distance_m / 1000.0, caps.max_km_per_trip)
        co2 = min(sum(s.co2_kg or 0.0 for s in t.sections), caps.max_co2_kg_per_trip)
        local = t.started_at.astimezone(tz)
        tables["mode_trips"][(mode, "")] += 1
        tables["mode_km"][(mode, "")] += round(km / params.km_unit)
        tables["mode_co2"][(mode, "")] += round(co2 / params.co2_unit_kg)
        tables["trips_by_hour"][(f"{local.hour:02d}", "")] += 1
        tables["trips_by_weekday"][(str(local.isoweekday()), "")] += 1
        o, d = zone_of(*t.origin), zone_of(*t.destination)
        if o is not None and d is not None:
            tables["od_flows"][(o, d)] += 1
    for table, cells in corridor_cells(corridors, params.carpool, seed).items():
        for cell, v in cells.items():
            tables[table][cell] = v
    return Contribution(tables={k: dict(v) for k, v in tables.items()}, trips_kept=len(kept))


def sensitivity(table: str, params: ReleaseParams, n_days: int) -> int:
    """L1 sensitivity of ``table`` in its integer unit: the most one tester can add to it."""
    if table in CARPOOL_TABLES:
        return corridor_sensitivity(table, params.carpool)
    trips = params.caps.max_trips_per_day * n_days
    if table == "mode_km":
        return trips * round(params.caps.max_km_per_trip / params.km_unit)
    if table == "mode_co2":
        return trips * round(params.caps.max_co2_kg_per_trip / params.co2_unit_kg)
    return trips
