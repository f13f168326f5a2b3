"""Matching consenting testers' offers into carpool proposals.

1. :func:`core.carpool.index.close_pairs` finds every pair of offers whose origins and destinations
   are within the radii (grid hashing, not a pairwise loop).
2. The pairs are filtered, all at once with numpy: different testers, departure windows within
   ``max_departure_gap_min``, enough shared weekdays, someone who can drive, a small detour and a
   CO2 saving overall. When both can drive, the driver is the one that saves more CO2 (the smaller
   detour).
3. Proposals are accepted greedily by yearly CO2 saved, each tester getting at most
   ``max_proposals_per_tester`` partners (a greedy b-matching, half-optimal at worst), and each
   offer being used once per partner. Pairs in ``excluded`` (declined or blocked) never come back.

Savings model, per shared trip: the driver drives their usual distance plus the detour; that car's
footprint and cost are split equally between the two (``SavingsParams``). Each tester saves their
usual footprint (and, if they usually drive, their usual car cost) minus their half.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from enum import StrEnum

import msgspec
import numpy as np
import numpy.typing as npt

from core.carpool.index import close_pairs, haversine_m
from core.carpool.offers import Offer
from core.carpool.params import DEFAULT_MATCH_PARAMS, MatchParams
from core.carpool.zones import zone_of
from core.co2.modes import Mode

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

MATCH_NAMESPACE = uuid.UUID("5b1c6f0e-8d1a-4c53-9a53-0c0a7f9c2b11")
_POPCOUNT = np.array([bin(v).count("1") for v in range(128)], dtype=np.int64)


class Side(StrEnum):
    LOW = "low"
    HIGH = "high"


class Leg(msgspec.Struct, frozen=True, kw_only=True):
    """One trip two testers could share. ``low``/``high`` are the pair's testers by id order."""

    low_seq: int
    high_seq: int
    driver: Side
    origin_zone: str
    destination_zone: str
    weekdays: int
    depart_from_min: int
    depart_to_min: int
    detour_m: float
    low_co2_kg_per_year: float
    high_co2_kg_per_year: float
    low_eur_per_year: float
    high_eur_per_year: float


class Proposal(msgspec.Struct, frozen=True, kw_only=True):
    """Two testers who could carpool, and the trips they could share."""

    match_id: uuid.UUID
    user_low: uuid.UUID
    user_high: uuid.UUID
    legs: tuple[Leg, ...]


def match_id(a: uuid.UUID, b: uuid.UUID) -> uuid.UUID:
    """The stable id of the pair {a, b}: the same whichever order and whichever run."""
    low, high = sorted((a, b))
    return uuid.uuid5(MATCH_NAMESPACE, f"{low}:{high}")


class _Columns:
    """The offers as numpy columns."""

    def __init__(self, offers: Sequence[Offer]) -> None:
        self.o_lat = np.array([o.origin[0] for o in offers], dtype=np.float64)
        self.o_lon = np.array([o.origin[1] for o in offers], dtype=np.float64)
        self.d_lat = np.array([o.destination[0] for o in offers], dtype=np.float64)
        self.d_lon = np.array([o.destination[1] for o in offers], dtype=np.float64)
        self.start = np.array([o.depart_from_min for o in offers], dtype=np.int64)
        self.end = np.array([o.depart_to_min for o in offers], dtype=np.int64)
        self.days = np.array([o.weekdays & 0x7F for o in offers], dtype=np.int64)
        self.dist_m = np.array([o.distance_m for o in offers], dtype=np.float64)
        self.co2 = np.array([o.usual_co2_kg for o in offers], dtype=np.float64)
        self.drives = np.array([o.usual_mode is Mode.CAR for o in offers], dtype=np.bool_)
        self.can_drive = np.array([o.can_drive for o in offers], dtype=np.bool_)
        self.car_f = np.array([o.car_kg_per_km for o in offers], dtype=np.float64)
        users: dict[uuid.UUID, int] = {}
        self.user = np.array([users.setdefault(o.user_id, len(users)) for o in offers], dtype=np.int64)


class _Option:
    """Driver ``d`` takes passenger ``p`` (index arrays over candidate pairs)."""

    def __init__(self, c: _Columns, d: I64, p: I64, params: MatchParams) -> None:
        s = params.savings
        crow = (
            haversine_m(c.o_lat[d], c.o_lon[d], c.o_lat[p], c.o_lon[p])
            + haversine_m(c.o_lat[p], c.o_lon[p], c.d_lat[p], c.d_lon[p])
            + haversine_m(c.d_lat[p], c.d_lon[p], c.d_lat[d], c.d_lon[d])
            - haversine_m(c.o_lat[d], c.o_lon[d], c.d_lat[d], c.d_lon[d])
        )
        self.detour_m = np.maximum(crow, 0.0) * s.circuity
        shared_km = (c.dist_m[d] + self.detour_m) / 1000.0
        half_co2 = shared_km * c.car_f[d] / 2
        half_eur = shared_km * s.cost_per_km_eur / 2
        usual_eur_d = np.where(c.drives[d], c.dist_m[d] / 1000.0 * s.cost_per_km_eur, 0.0)
        usual_eur_p = np.where(c.drives[p], c.dist_m[p] / 1000.0 * s.cost_per_km_eur, 0.0)
        self.co2_d, self.co2_p = c.co2[d] - half_co2, c.co2[p] - half_co2
        self.eur_d, self.eur_p = usual_eur_d - half_eur, usual_eur_p - half_eur
        self.total = self.co2_d + self.co2_p
        self.ok: B = (
            c.can_drive[d]
            & (self.detour_m <= params.max_detour_m)
            & (self.detour_m <= params.max_detour_share * c.dist_m[d])
            & (self.total > params.min_saving_kg_per_trip)
        )


def _fitting(c: _Columns, params: MatchParams) -> tuple[I64, I64]:
    i, j = close_pairs(
        c.o_lat,
        c.o_lon,
        c.d_lat,
        c.d_lon,
        origin_radius_m=params.origin_radius_m,
        destination_radius_m=params.destination_radius_m,
    )
    gap = np.maximum(c.start[i], c.start[j]) - np.minimum(c.end[i], c.end[j])
    shared = _POPCOUNT[c.days[i] & c.days[j]]
    keep = (
        (c.user[i] != c.user[j])
        & (gap <= params.max_departure_gap_min)
        & (shared >= params.min_shared_weekdays)
        & (c.can_drive[i] | c.can_drive[j])
    )
    return i[keep], j[keep]


def match_offers(
    offers: Sequence[Offer],
    params: MatchParams = DEFAULT_MATCH_PARAMS,
    *,
    excluded: Collection[uuid.UUID] = frozenset(),
) -> list[Proposal]:
    """Carpool proposals among ``offers`` (rules in the module docstring), best first."""
    if len(offers) < 2:
        return []
    c = _Columns(offers)
    i, j = _fitting(c, params)
    first, second = _Option(c, i, j, params), _Option(c, j, i, params)
    i_drives = first.ok & (~second.ok | (first.total >= second.total))
    f = first.ok | second.ok
    i, j, i_drives = i[f], j[f], i_drives[f]
    co2_i = np.where(i_drives, first.co2_d[f], second.co2_p[f])
    co2_j = np.where(i_drives, first.co2_p[f], second.co2_d[f])
    eur_i = np.where(i_drives, first.eur_d[f], second.eur_p[f])
    eur_j = np.where(i_drives, first.eur_p[f], second.eur_d[f])
    detour = np.where(i_drives, first.detour_m[f], second.detour_m[f])
    shared_days = c.days[i] & c.days[j]
    per_year = _POPCOUNT[shared_days] * params.savings.working_weeks_per_year
    gap_lo = np.minimum(c.end[i], c.end[j])
    gap_hi = np.maximum(c.start[i], c.start[j])
    win_from, win_to = np.minimum(gap_lo, gap_hi), np.maximum(gap_lo, gap_hi)
    order = np.argsort(-(co2_i + co2_j) * per_year, kind="stable")

    partners: dict[int, set[int]] = {}
    used: set[tuple[int, int]] = set()  # (offer, partner user) already sharing a leg
    legs: dict[tuple[int, int], list[Leg]] = {}
    cap = params.max_proposals_per_tester
    blocked = set(excluded)
    for k in order.tolist():
        a, b = int(i[k]), int(j[k])
        ua, ub = int(c.user[a]), int(c.user[b])
        pair = (min(ua, ub), max(ua, ub))
        if pair not in legs and (
            len(partners.get(ua, ())) >= cap
            or len(partners.get(ub, ())) >= cap
            or (blocked and match_id(offers[a].user_id, offers[b].user_id) in blocked)
        ):
            continue
        if (a, ub) in used or (b, ua) in used:
            continue
        used.update({(a, ub), (b, ua)})
        partners.setdefault(ua, set()).add(ub)
        partners.setdefault(ub, set()).add(ua)
        a_low = offers[a].user_id < offers[b].user_id
        lo, hi = (a, b) if a_low else (b, a)
        mid = (
            ((c.o_lat[a] + c.o_lat[b]) / 2, (c.o_lon[a] + c.o_lon[b]) / 2),
            ((c.d_lat[a] + c.d_lat[b]) / 2, (c.d_lon[a] + c.d_lon[b]) / 2),
        )
        y = float(per_year[k])
        co2 = (float(co2_i[k]) * y, float(co2_j[k]) * y)
        eur = (float(eur_i[k]) * y, float(eur_j[k]) * y)
        a_drives = bool(i_drives[k])
        legs.setdefault(pair, []).append(
            Leg(
                low_seq=offers[lo].seq,
                high_seq=offers[hi].seq,
                driver=Side.LOW if a_drives == a_low else Side.HIGH,
                origin_zone=zone_of(mid[0], params.zones),
                destination_zone=zone_of(mid[1], params.zones),
                weekdays=int(shared_days[k]),
                depart_from_min=int(win_from[k]),
                depart_to_min=int(win_to[k]),
                detour_m=round(float(detour[k]), 1),
                low_co2_kg_per_year=round(co2[0] if a_low else co2[1], 3),
                high_co2_kg_per_year=round(co2[1] if a_low else co2[0], 3),
                low_eur_per_year=round(eur[0] if a_low else eur[1], 2),
                high_eur_per_year=round(eur[1] if a_low else eur[0], 2),
            )
        )
    user_of = {int(c.user[k]): offers[k].user_id for k in range(len(offers))}
    out = []
    for (ua, ub), pair_legs in legs.items():
        low, high = sorted((user_of[ua], user_of[ub]))
        out.append(
            Proposal(
                match_id=match_id(low, high),
                user_low=low,
                user_high=high,
                legs=tuple(sorted(pair_legs, key=lambda leg: (leg.depart_from_min, leg.low_seq))),
            )
        )
    return out
