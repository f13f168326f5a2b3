"""Benchmark: carpool matching of all pairs among N consenting testers (spatial index, not pairs).

Run ``.venv/bin/python -m bench.match [--testers 10000] [--baseline 1000] [--naive 1000] [--seed S]``.

A synthetic agglomeration the size of La Rochelle's (about 30 x 25 km): homes scattered around a
few residential centres, workplaces in 40 employment zones (a few large), each tester with a
morning and an evening commute (two offers), departures around 07:45 and 17:30 (sd 40 min),
windows 10-30 minutes wide, Monday-Friday or a part-time subset, 70 % driving. Offers are built in
memory (the database side of a run is one read of the offers table and one write of proposals).

Printed: the time of :func:`core.carpool.match_offers` for N testers in one agglomeration and for
the baseline size (same run; in one agglomeration the number of true matches grows with the square
of the density, so time does too), then N testers as N/baseline towns of the baseline's density
(near-linear: the index's own cost), and a naive pairwise loop over ``--naive`` testers with its
quadratic extrapolation to N.
"""

from __future__ import annotations

import argparse
import math
import time
import uuid

import msgspec
import numpy as np

from core.carpool import DEFAULT_MATCH_PARAMS, Offer, match_offers
from core.carpool.index import close_pairs
from core.co2 import Mode
from core.coaching.geo import haversine_m

CENTRE = (46.16, -1.15)
CAR_KG_PER_KM = 0.14225
_M_PER_DEG = 111_195.0


def _shift(rng: np.random.Generator, centre: tuple[float, float], sd_m: float) -> tuple[float, float]:
    north, east = rng.normal(0.0, sd_m, 2)
    return (
        centre[0] + north / _M_PER_DEG,
        centre[1] + east / (_M_PER_DEG * math.cos(math.radians(centre[0]))),
    )


def population(n: int, seed: int) -> list[Offer]:
    rng = np.random.default_rng(seed)
    homes_c = [_shift(rng, CENTRE, 8000.0) for _ in range(12)]
    jobs_c = [_shift(rng, CENTRE, 5000.0) for _ in range(40)]
    job_w = rng.pareto(1.2, len(jobs_c)) + 1
    job_w /= job_w.sum()
    offers = []
    for _ in range(n):
        user = uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | int(rng.integers(0, 2**63)))
        home = _shift(rng, homes_c[int(rng.integers(len(homes_c)))], 1500.0)
        work = _shift(rng, jobs_c[int(rng.choice(len(jobs_c), p=job_w))], 400.0)
        drives = bool(rng.random() < 0.7)
        days = 0b11111 if rng.random() < 0.8 else int(rng.integers(1, 32))
        dist = haversine_m(home, work) * 1.3 + 500.0
        co2 = dist / 1000 * (CAR_KG_PER_KM if drives else 0.12242)
        for seq, (a, b, mean) in enumerate(((home, work, 465.0), (work, home, 1050.0))):
            width = int(rng.integers(10, 31))
            start = int(np.clip(rng.normal(mean, 40.0), 0, 1439 - width))
            offers.append(
                Offer(
                    user_id=user,
                    seq=seq,
                    origin=a,
                    destination=b,
                    depart_from_min=start,
                    depart_to_min=start + width,
                    weekdays=days,
                    distance_m=dist,
                    usual_co2_kg=co2,
                    usual_mode=Mode.CAR if drives else Mode.BUS,
                    can_drive=drives,
                    car_kg_per_km=CAR_KG_PER_KM,
                )
            )
    return offers


def tiled(n: int, towns: int, seed: int) -> list[Offer]:
    """``towns`` copies of the same ``n``-tester town, 100 km apart: ``n * towns`` testers at the density
    of one town (isolates the cost of the index from the growth of true matches with density)."""
    town = population(n, seed)
    out = []
    for k in range(towns):
        east = k * 100_000.0 / (_M_PER_DEG * math.cos(math.radians(CENTRE[0])))
        out += [
            msgspec.structs.replace(
                o,
                user_id=uuid.UUID(int=(o.user_id.int + k) % 2**128),
                origin=(o.origin[0], o.origin[1] + east),
                destination=(o.destination[0], o.destination[1] + east),
            )
            for o in town
        ]
    return out


def timed_match(offers: list[Offer], repeat: int = 3) -> tuple[float, int, int]:
    """Best of ``repeat`` runs (the machine is shared), the proposals and legs found."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        proposals = match_offers(offers)
        best = min(best, time.perf_counter() - t0)
    return best, len(proposals), sum(len(p.legs) for p in proposals)


def naive_pairs(offers: list[Offer]) -> tuple[float, int]:
    """The pairwise loop the index replaces: every pair, both radii, the window and the days."""
    p = DEFAULT_MATCH_PARAMS
    t0 = time.perf_counter()
    found = 0
    for i, a in enumerate(offers):
        for b in offers[i + 1 :]:
            if (
                a.user_id != b.user_id
                and haversine_m(a.origin, b.origin) <= p.origin_radius_m
                and haversine_m(a.destination, b.destination) <= p.destination_radius_m
                and max(a.depart_from_min, b.depart_from_min) - min(a.depart_to_min, b.depart_to_min)
                <= p.max_departure_gap_min
                and a.weekdays & b.weekdays
            ):
                found += 1
    return time.perf_counter() - t0, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--testers", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--naive", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20260)
    args = parser.parse_args()

    big = population(args.testers, args.seed)
    small = big[: 2 * args.baseline]
    match_offers(small[:200])  # warm-up (imports, numpy)

    t_small, n_small, _ = timed_match(small)
    t_big, n_big, l_big = timed_match(big)
    print(f"baseline: {args.baseline} testers ({len(small)} offers): {t_small:.3f} s, {n_small} proposals")
    print(
        f"matching: {args.testers} testers ({len(big)} offers): {t_big:.3f} s,"
        f" {n_big} proposals, {l_big} legs"
    )
    per_small, per_big = t_small / args.baseline, t_big / args.testers
    print(
        f"per tester: {per_small * 1e6:.0f} us at {args.baseline}, {per_big * 1e6:.0f} us at {args.testers}"
    )
    print(f"scaling: x{args.testers / args.baseline:.0f} testers -> x{t_big / t_small:.1f} time")

    towns = args.testers // args.baseline
    t_tiled, n_tiled, _ = timed_match(tiled(args.baseline, towns, args.seed))
    print(
        f"same density: {towns} towns of {args.baseline} testers: {t_tiled:.3f} s, {n_tiled} proposals;"
        f" x{towns} testers -> x{t_tiled / t_small:.1f} time"
    )

    t0 = time.perf_counter()
    o = np.array([x.origin for x in big])
    d = np.array([x.destination for x in big])
    i, _ = close_pairs(o[:, 0], o[:, 1], d[:, 0], d[:, 1], origin_radius_m=1500, destination_radius_m=1500)
    print(
        f"spatial join alone: {time.perf_counter() - t0:.3f} s,"
        f" {len(i)} offer pairs within 1.5 km at both ends"
    )

    sample = big[: 2 * args.naive]
    t_naive, _ = naive_pairs(sample)
    extrapolated = t_naive * (args.testers / args.naive) ** 2
    print(
        f"naive pairwise loop: {args.naive} testers in {t_naive:.2f} s;"
        f" extrapolated to {args.testers}: {extrapolated:.0f} s"
    )
    print(
        f"match: {args.testers} testers in {t_big:.2f} s;"
        f" naive pairwise x{extrapolated / t_big:.0f} slower (extrapolated)"
    )


if __name__ == "__main__":
    main()
