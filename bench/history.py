"""Benchmark: a tester's history mixed into a pipeline step (:func:`core.history.assist`).

Run ``.venv/bin/python -m bench.history [--confirmations 2000] [--sections 2000] [--seed S]``.

A commuter's year: confirmations on a few routes they repeat (home-work by bike or bus, the school
run, the shops), each with its path as stored (a simplified polyline, a point every 100-300 m), and
a tail of one-off trips across a town the size of La Rochelle. Sections to assist: a day's six, and a
history import of ``--sections`` at once, half of them along the repeated routes with other ends
(boarding a stop later), so that the matching along paths does its most expensive work.

Each confirmation and section also has its kinematics (16 figures around a centre per mode).

Printed: the time of ``assist`` with the usual modes and ends only, then with matching along paths,
then with the kinematic match as well (the shipped default), and the matching along paths of the
import with and without its bounding boxes in the same run (without, every section end is measured
against every segment of the 200 most recent paths): the last line is ``history: X sections/s, no
boxes Y sections/s, ratio Z``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from functools import partial

import numpy as np

from bench.stats import best_of
from core.history import (
    DEFAULT_HISTORY,
    KINEMATIC_FEATURES,
    Confirmation,
    ConfirmedPaths,
    HistoryParams,
    assist,
)

CENTRE = (46.16, -1.15)
_M_PER_DEG = 111_195.0
CLASSES = ("walk", "bike", "bus", "car", "tram", "train")
# Where each mode's sections lie in the kinematic space (one centre per mode, fixed).
CENTRES = np.random.default_rng(99).normal(0.0, 2.0, (len(CLASSES), len(KINEMATIC_FEATURES)))


def _kinematics(mode: str, rng: np.random.Generator) -> tuple[float, ...]:
    return tuple((CENTRES[CLASSES.index(mode)] + rng.normal(0.0, 1.0, len(KINEMATIC_FEATURES))).tolist())


def _at(east_m: float, north_m: float) -> tuple[float, float]:
    lat = CENTRE[0] + north_m / _M_PER_DEG
    return lat, CENTRE[1] + east_m / (_M_PER_DEG * math.cos(math.radians(CENTRE[0])))


def _route(rng: np.random.Generator, length_m: float) -> list[tuple[float, float]]:
    """A street route (east, north metres): a vertex every 100-300 m, turning at corners."""
    heading = rng.uniform(0.0, 2.0 * math.pi)
    points = [tuple(rng.uniform(-8000.0, 8000.0, 2))]
    done = 0.0
    while done < length_m:
        step = rng.uniform(100.0, 300.0)
        heading += rng.normal(0.0, 0.3)
        e, n = points[-1]
        points.append((e + step * math.cos(heading), n + step * math.sin(heading)))
        done += step
    return [(float(e), float(n)) for e, n in points]


def _confirmation(
    route: list[tuple[float, float]], mode: str, rng: np.random.Generator, *, corrected: bool
) -> Confirmation:
    """A confirmation of ``route`` as ``mode``: a correction of a section shown as another mode
    (``corrected``), or an agreement with it, shown at 0.6 either way."""
    ll = [_at(e, n) for e, n in route]
    return Confirmation(
        start_lat=ll[0][0],
        start_lon=ll[0][1],
        end_lat=ll[-1][0],
        end_lon=ll[-1][1],
        mode=mode,
        path_lonlat=tuple((lon, lat) for lat, lon in ll),
        kinematics=_kinematics(mode, rng),
        shown_mode=("walk" if mode != "walk" else "bike") if corrected else mode,
        shown_probability=0.6,
    )


def history(n: int, rng: np.random.Generator) -> tuple[list[Confirmation], list[list[tuple[float, float]]]]:
    """``n`` confirmations, oldest first: 80 % on four repeated routes, the rest one-off trips; one
    in three corrects the mode shown, the others agree with it."""
    routes = [_route(rng, length) for length in (5000.0, 5200.0, 1500.0, 3000.0)]
    modes = ("bike", "bus", "walk", "car")
    out = []
    for i in range(n):
        corrected = i % 3 == 0  # one answer in three corrects the mode shown
        if rng.random() < 0.8:
            k = int(rng.integers(len(routes)))
            out.append(_confirmation(routes[k], modes[k], rng, corrected=corrected))
        else:
            route = _route(rng, rng.uniform(1000.0, 15000.0))
            out.append(_confirmation(route, str(rng.choice(CLASSES)), rng, corrected=corrected))
    return out, routes


def sections(
    n: int, routes: list[list[tuple[float, float]]], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ends, model probabilities and kinematics of ``n`` sections: half along the repeated routes,
    boarding and leaving at other vertices than the confirmed ends, half anywhere."""
    starts, ends = [], []
    for _ in range(n):
        if rng.random() < 0.5:
            route = routes[int(rng.integers(len(routes)))]
            i = int(rng.integers(1, len(route) // 2))
            j = int(rng.integers(len(route) // 2 + 2, len(route) - 1))
            a, b = route[i], route[j]
        else:
            a, b = tuple(rng.uniform(-8000.0, 8000.0, 2)), tuple(rng.uniform(-8000.0, 8000.0, 2))
        starts.append(_at(*a))
        ends.append(_at(*b))
    proba = rng.dirichlet(np.ones(len(CLASSES)), size=n)
    points = np.asarray([_kinematics(str(rng.choice(CLASSES)), rng) for _ in range(n)])
    return np.asarray(starts), np.asarray(ends), proba, points


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--confirmations", type=int, default=2000)
    ap.add_argument("--sections", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    confirmations, routes = history(args.confirmations, rng)
    ends_only = HistoryParams(along_route=False)
    in_full = HistoryParams(agreement_pseudocount=None)  # before answers were weighed by attention
    day = sections(6, routes, rng)
    many = sections(args.sections, routes, rng)
    points = sum(len(c.path_lonlat) for c in confirmations)
    print(f"{args.confirmations:,} confirmations, {points:,} path points")
    for name, (s, e, p, k) in (("a day", day), ("an import", many)):
        n = s.shape[0]
        t_ends = best_of(partial(assist, p, CLASSES, s, e, confirmations, params=ends_only), 3)[0]
        t_paths = best_of(partial(assist, p, CLASSES, s, e, confirmations), 3)[0]
        t_full = best_of(partial(assist, p, CLASSES, s, e, confirmations, points=k), 3)[0]
        t_trusted = best_of(partial(assist, p, CLASSES, s, e, confirmations, points=k, params=in_full), 3)[0]
        full = assist(p, CLASSES, s, e, confirmations, points=k)
        print(
            f"{name} ({n:,} sections): usual modes + ends {t_ends * 1000:.1f} ms, "
            f"+ along paths {t_paths * 1000:.1f} ms ({full.matched.mean():.0%} matched), "
            f"+ kinematic match {t_full * 1000:.1f} ms "
            f"({t_trusted * 1000:.1f} ms with every answer counted in full)"
        )
    s, e, p, _ = many
    recent = len(confirmations) - min(len(confirmations), DEFAULT_HISTORY.along_route_confirmations)
    paths = ConfirmedPaths.of(confirmations[recent:], DEFAULT_HISTORY.radius_m)
    assert paths is not None
    # The baseline: the same matching with boxes that rule nothing out (every segment of every
    # recent path measured for every section end).
    everywhere = dataclasses.replace(
        paths, box=np.tile([-90.0, 90.0, -180.0, 180.0], (paths.box.shape[0], 1))
    )
    t_index = best_of(partial(paths.followed, s, e), 3)[0]
    t_naive = best_of(partial(everywhere.followed, s, e), 1)[0]
    same = np.array_equal(paths.followed(s, e), everywhere.followed(s, e))
    print(
        f"matching along paths: {t_index:.3f} s with the boxes, {t_naive:.3f} s without "
        f"({args.sections:,} sections; same matches: {same})"
    )
    rate, naive_rate = args.sections / t_index, args.sections / t_naive
    ratio = rate / naive_rate
    print(f"history: {rate:,.0f} sections/s, no boxes {naive_rate:,.0f} sections/s, ratio {ratio:.1f}")


if __name__ == "__main__":
    main()
