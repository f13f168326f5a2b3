"""Carpool potential for the agglomeration: per corridor (zone to zone) and time band.

Input rows for the sharing release, which applies its k-threshold, per-tester bounding and
differential privacy: one :class:`CorridorContribution` per tester, corridor and band, so that the
release can count distinct contributors and bound what each adds. Only pairs of testers who
both share aggregates count: a tester who refused must not shape a released figure, even through a
partner's row. Each side counts in the corridor of its own offer's ends (the release's zones,
``zone_of``, e.g. ``core.privacy.zones.GridZones.zone_of`` or the city's districts), so where a
row lies never depends on the partner's places; both sides of a pair usually fall in one corridor,
where ``sum(matches) / 2`` is the number of potential shared trips and ``sum(co2_kg_per_year)``
what they would save. Coordinates go in, only zone ids come out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence

import msgspec

from core.carpool.matching import Proposal
from core.carpool.offers import clock
from core.coaching.records import LatLon

OfferEnds = Mapping[tuple[uuid.UUID, int], tuple[LatLon, LatLon]]
ZoneOf = Callable[[float, float], str | None]


class CorridorContribution(msgspec.Struct, frozen=True, kw_only=True):
    """What one tester adds to one corridor and band. ``user_id`` is for counting and bounding
    contributors only: the release must never publish it."""

    user_id: uuid.UUID
    origin_zone: str
    destination_zone: str
    time_band: str  # local start of the band, "HH:MM"
    matches: int
    co2_kg_per_year: float


class CorridorTotal(msgspec.Struct, frozen=True, kw_only=True):
    """Plain totals (no threshold, no noise): for tests and for the release to compare against."""

    origin_zone: str
    destination_zone: str
    time_band: str
    contributors: int
    matches: int
    co2_kg_per_year: float


def corridor_contributions(
    proposals: Sequence[Proposal],
    ends: OfferEnds,
    zone_of: ZoneOf,
    sharing: Collection[uuid.UUID],
    *,
    band_min: int = 60,
) -> list[CorridorContribution]:
    """Contributions of the testers in ``sharing`` (consented to shared aggregates) from the pairs
    they form with each other, sorted.

    ``ends`` maps ``(user_id, seq)`` to an offer's (origin, destination); a leg whose offers are
    gone contributes nothing, and a side whose own ends fall outside every zone neither.
    """
    acc: dict[tuple[uuid.UUID, str, str, str], list[float]] = {}
    for p in proposals:
        if p.user_low not in sharing or p.user_high not in sharing:
            continue
        for leg in p.legs:
            low, high = ends.get((p.user_low, leg.low_seq)), ends.get((p.user_high, leg.high_seq))
            if low is None or high is None:
                continue
            band = clock(leg.depart_from_min // band_min * band_min)
            sides = (
                (p.user_low, low, leg.low_co2_kg_per_year),
                (p.user_high, high, leg.high_co2_kg_per_year),
            )
            for user, (o, d), co2 in sides:
                o_zone, d_zone = zone_of(o[0], o[1]), zone_of(d[0], d[1])
                if o_zone is None or d_zone is None:
                    continue
                cell = acc.setdefault((user, o_zone, d_zone, band), [0, 0.0])
                cell[0] += 1
                cell[1] += co2
    return [
        CorridorContribution(
            user_id=u, origin_zone=o, destination_zone=d, time_band=t, matches=int(n), co2_kg_per_year=kg
        )
        for (u, o, d, t), (n, kg) in sorted(acc.items(), key=lambda kv: (kv[0][1:], str(kv[0][0])))
    ]


def corridor_totals(contributions: Sequence[CorridorContribution]) -> list[CorridorTotal]:
    """Sum contributions per corridor and band."""
    acc: dict[tuple[str, str, str], tuple[set[uuid.UUID], int, float]] = {}
    for c in contributions:
        users, n, kg = acc.get((c.origin_zone, c.destination_zone, c.time_band), (set(), 0, 0.0))
        users.add(c.user_id)
        acc[(c.origin_zone, c.destination_zone, c.time_band)] = (users, n + c.matches, kg + c.co2_kg_per_year)
    return [
        CorridorTotal(
            origin_zone=o,
            destination_zone=d,
            time_band=t,
            contributors=len(users),
            matches=n,
            co2_kg_per_year=kg,
        )
        for (o, d, t), (users, n, kg) in sorted(acc.items())
    ]
