"""Per-tester bounding of carpool potential for a release: corridors, time bands, matches, CO2.

The carpool matcher gives, per tester, one row per corridor (origin zone to destination zone, in
the release's own zones) and departure-time band (:class:`core.carpool.CorridorContribution`).
Two noisy tables come out of them, keyed ``(origin_zone, destination_zone, time_band)``:

- ``carpool_matches``: each tester adds their number of potential partners on that leg, capped;
  the release publishes half the noisy sum, so a pair of sharing testers counts as one match
  (and a pair whose other tester does not share aggregates as half of one);
- ``carpool_co2``: each tester adds what sharing that leg with one partner would save them per
  year (their mean saving over the potential partners: a trip is shared with one of them at a
  time), clipped.

Which rows a tester keeps is decided by a keyed hash of the cell, so the cap favours no corridor
or hour; the caps fix the L1 sensitivity (Dwork & Roth 2014, §3.3; Wilson et al. 2020).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from core.carpool.corridors import CorridorContribution
from core.privacy.params import CarpoolCaps

CorridorCell = tuple[str, str, str]  # (origin_zone, destination_zone, time_band)
CARPOOL_TABLES = ("carpool_matches", "carpool_co2")
MATCHES_PER_PAIR = 2  # a pair of testers is counted once from each side


def _merged(rows: Sequence[CorridorContribution]) -> dict[CorridorCell, tuple[int, float]]:
    out: dict[CorridorCell, tuple[int, float]] = {}
    for r in rows:
        if r.matches <= 0:
            continue
        cell = (r.origin_zone, r.destination_zone, r.time_band)
        n, kg = out.get(cell, (0, 0.0))
        out[cell] = (n + r.matches, kg + max(r.co2_kg_per_year, 0.0))
    return out


def _keep_order(cell: CorridorCell, seed: bytes) -> bytes:
    return hashlib.sha256(seed + "\x1f".join(cell).encode()).digest()


def corridor_cells(
    rows: Sequence[CorridorContribution], caps: CarpoolCaps, seed: bytes
) -> dict[str, dict[CorridorCell, int]]:
    """One tester's bounded additions to the carpool tables, in their integer units (partners;
    ``caps.co2_unit_kg`` per year). ``rows`` must all be the same tester's."""
    merged = _merged(rows)
    kept = sorted(merged, key=lambda c: _keep_order(c, seed))[: caps.max_corridors_per_tester]
    matches: dict[CorridorCell, int] = {}
    co2: dict[CorridorCell, int] = {}
    for cell in kept:
        n, kg = merged[cell]
        per_partner = min(kg / n, caps.max_co2_kg_per_year_per_corridor)
        matches[cell] = min(n, caps.max_matches_per_corridor)
        co2[cell] = round(per_partner / caps.co2_unit_kg)
    return {"carpool_matches": matches, "carpool_co2": co2}


def corridor_sensitivity(table: str, caps: CarpoolCaps) -> int:
    """L1 sensitivity of a carpool table in its integer unit: the most one tester adds to it."""
    if table == "carpool_matches":
        return caps.max_corridors_per_tester * caps.max_matches_per_corridor
    if table == "carpool_co2":
        return caps.max_corridors_per_tester * round(caps.max_co2_kg_per_year_per_corridor / caps.co2_unit_kg)
    raise ValueError(f"not a carpool table: {table}")
