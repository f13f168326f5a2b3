"""Composing a release: sum bounded contributions, suppress small cells, add calibrated noise.

Order matters. Suppression is decided on exact distinct-tester counts (a deterministic k threshold,
as the city asked), then every table is noised as a whole, then the withheld cells are dropped and
negative noisy values clipped to zero (post-processing, free of privacy cost). The release's
epsilon is split equally over the eight noisy tables (six of trips, two of carpool potential);
derived values (average distance by mode, matches as pairs) are computed from noisy tables only.

Caveat, stated in the README: thresholding on exact counts makes the guarantee (epsilon, delta)
rather than pure epsilon for the existence of OD cells (Korolova et al. 2009; Wilson et al. 2020);
the fixed-domain tables (modes, hours, weekdays) are pure epsilon-DP before suppression.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import msgspec

from core.co2.modes import Mode
from core.privacy.contribution import TABLE_NOISY, Cell, Contribution, sensitivity
from core.privacy.corridors import MATCHES_PER_PAIR
from core.privacy.noise import add_noise
from core.privacy.params import ReleaseParams
from core.privacy.suppression import suppressed_cells

MODE_DOMAIN: tuple[Cell, ...] = tuple((m.value, "") for m in Mode)
DOMAINS: dict[str, tuple[Cell, ...]] = {
    "mode_trips": MODE_DOMAIN,
    "mode_km": MODE_DOMAIN,
    "mode_co2": MODE_DOMAIN,
    "trips_by_hour": tuple((f"{h:02d}", "") for h in range(24)),
    "trips_by_weekday": tuple((str(d), "") for d in range(1, 8)),
    "od_flows": (),
    "carpool_matches": (),
    "carpool_co2": (),
}
# Tables filled by the same testers' same rows share one suppression decision.
SUPPRESSION_GROUP = {"mode_km": "mode_trips", "mode_co2": "mode_trips", "carpool_co2": "carpool_matches"}
PARTICIPANT_BUCKETS = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


class PublishedCell(msgspec.Struct, frozen=True, kw_only=True):
    table: str
    dim_a: str
    dim_b: str
    dim_c: str = ""  # the time band of carpool cells
    value: float


class TableInfo(msgspec.Struct, frozen=True, kw_only=True):
    table: str
    unit: str
    sensitivity: float  # in ``unit``, like the noise scale (noise_scale = sensitivity / epsilon)
    noise_scale: float  # in ``unit``
    epsilon: float
    # Cells withheld, counted for tables whose cells are public (modes, hours, weekdays: which of
    # them is missing shows anyway); None for the others (origin-destination pairs, corridors),
    # where the count would tell, exactly, how many rare pairs there are: one tester's presence.
    suppressed: int | None


class Composed(msgspec.Struct, frozen=True, kw_only=True):
    cells: list[PublishedCell]
    tables: list[TableInfo]
    participants_bucket: str


UNITS = {
    "mode_km": "km",
    "mode_co2": "kg CO2e",
    "carpool_matches": "potential matches (pairs of testers)",
    "carpool_co2": "kg CO2e per year",
}


def participants_bucket(n: int) -> str:
    """A coarse public count of contributors (``"20-49"``); exact counts are not published."""
    lower = [b for b in PARTICIPANT_BUCKETS if b <= n]
    if not lower:
        return f"<{PARTICIPANT_BUCKETS[0]}"
    lo = lower[-1]
    higher = [b for b in PARTICIPANT_BUCKETS if b > n]
    return f"{lo}-{higher[0] - 1}" if higher else f"{lo}+"


def _unit_factor(table: str, params: ReleaseParams) -> float:
    if table == "mode_km":
        return params.km_unit
    if table == "mode_co2":
        return params.co2_unit_kg
    if table == "carpool_matches":
        return 1.0 / MATCHES_PER_PAIR
    if table == "carpool_co2":
        return params.carpool.co2_unit_kg
    return 1.0


def compose(contributions: Sequence[Contribution], params: ReleaseParams, *, n_days: int) -> Composed:
    """The publishable cells of a release from the testers' bounded contributions."""
    sums: dict[str, dict[Cell, int]] = {t: defaultdict(int) for t in TABLE_NOISY}
    users: dict[str, dict[Cell, int]] = {t: defaultdict(int) for t in TABLE_NOISY}
    for c in contributions:
        for table, contributed in c.tables.items():
            for cell, v in contributed.items():
                sums[table][cell] += v
                users[table][cell] += 1
    hidden = {
        t: suppressed_cells(users[t], params.k, DOMAINS[t]) for t in TABLE_NOISY if t not in SUPPRESSION_GROUP
    }
    for t, group in SUPPRESSION_GROUP.items():
        hidden[t] = hidden[group]
    eps_each = params.epsilon / len(TABLE_NOISY)
    cells: list[PublishedCell] = []
    infos: list[TableInfo] = []
    noisy_by_table: dict[str, dict[Cell, float]] = {}
    for t in TABLE_NOISY:
        keys = sorted(set(sums[t]) | set(DOMAINS[t]))
        sens = sensitivity(t, params, n_days)
        noisy = add_noise([sums[t].get(k, 0) for k in keys], sensitivity=sens, epsilon=eps_each)
        unit = _unit_factor(t, params)
        shown = {k: max(v, 0) * unit for k, v in zip(keys, noisy.values, strict=True) if k not in hidden[t]}
        noisy_by_table[t] = shown
        cells.extend(
            PublishedCell(
                table=t, dim_a=k[0], dim_b=k[1], dim_c=k[2] if len(k) > 2 else "", value=round(v, 3)
            )
            for k, v in sorted(shown.items())
        )
        infos.append(
            TableInfo(
                table=t,
                unit=UNITS.get(t, "trips"),
                sensitivity=sens * unit,
                noise_scale=noisy.scale * unit,
                epsilon=noisy.epsilon,
                suppressed=len(hidden[t] & set(DOMAINS[t])) if DOMAINS[t] else None,
            )
        )
    trips_by_mode, km_by_mode = noisy_by_table["mode_trips"], noisy_by_table["mode_km"]
    for k, km in sorted(km_by_mode.items()):
        n = trips_by_mode.get(k, 0.0)
        if n >= 1:
            cells.append(PublishedCell(table="avg_km_by_mode", dim_a=k[0], dim_b="", value=round(km / n, 3)))
    return Composed(cells=cells, tables=infos, participants_bucket=participants_bucket(len(contributions)))
