"""Benchmark: segmentation (and mode inference, when present) against trackintel on the same fixes.

Run ``.venv/bin/python -m bench.pipeline [--fixes N] [--trackintel-fixes N] [--seed S] [--repeat R]``.

A simple synthetic population (independent of ``core.simulate``, so the bench measures speed, not
realism): users with a sampling interval of 1-5 s and 3-8 m GPS noise spend days of stays (home,
work, elsewhere) and trips of walk + vehicle + walk legs; 0.5 % of fixes have a poor reported
accuracy and 0.05 % are far-away jumps. Sillage runs :func:`core.segmentation.segment` per user,
then, when ``core.features`` and ``models.classifier`` are importable, the section features,
``load_classifier(None).predict_proba``, the rejoining of vehicle pieces
(``models.sections.rejoin``) and the weighing by trip context (``models.context``, when the
artifact ships a context model), one call of each per user as ``ingest.pipeline`` makes them (the
classifier is loaded once, outside the timing, as the API loads it at start-up).
trackintel runs ``generate_staypoints`` (sliding, 100 m, 5 min, 15 min gaps: the same thresholds
as ``SegmentationParams``) and ``generate_triplegs`` (15 min gaps) on the same raw fixes; building
its GeoDataFrame is not timed. Both sides run ``--repeat`` times (3) and each keeps its fastest
run, the usual way to time code on a shared machine (``timeit``); every run is printed.

The last line is ``pipeline: X fixes/s, trackintel Y fixes/s, ratio Z``.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from core.fixes import Activity
from core.geodesy import EARTH_RADIUS_M
from core.segmentation import Segmentation, SegmentationParams, segment
from core.track import ACTIVITY_CODES, Track

F64 = npt.NDArray[np.float64]

# Cruise speed (m/s) and seconds stopped per kilometre of each vehicle mode of the generator.
_MODES: dict[str, tuple[float, float]] = {
    "bike": (5.0, 10.0),
    "bus": (9.0, 60.0),
    "car": (14.0, 20.0),
    "train": (30.0, 15.0),
}
_WALK_MPS = 1.4


@dataclass(frozen=True, slots=True)
class UserTrack:
    user_id: int
    track: Track


class _Builder:
    """Accumulates one user's fixes leg by leg, in local metres around the user's city."""

    def __init__(self, rng: np.random.Generator, t0: float, every_s: float, noise_m: float) -> None:
        self.rng = rng
        self.t = t0
        self.every_s = every_s
        self.noise_m = noise_m
        self.here = np.zeros(2)
        self.times: list[F64] = []
        self.xy: list[F64] = []

    def stay(self, duration_s: float) -> None:
        t = np.arange(self.t, self.t + duration_s, self.every_s)
        self.times.append(t)
        self.xy.append(np.broadcast_to(self.here, (t.size, 2)).copy())
        self.t += duration_s

    def move(self, to: F64, speed_mps: float, stop_s_per_km: float) -> None:
        length = float(np.hypot(*(to - self.here)))
        moving_s = length / speed_mps
        n_stops = int(length // 1000)
        total = moving_s + n_stops * stop_s_per_km
        t_rel = np.arange(0.0, total, self.every_s)
        # Stops evenly spread: time in motion grows in steps, flat during each stop.
        stop_at = (np.arange(1, n_stops + 1) / (n_stops + 1)) * moving_s
        moved = t_rel.copy()
        for k, begin in enumerate(stop_at):
            start = begin + k * stop_s_per_km
            moved -= np.clip(t_rel - start, 0.0, stop_s_per_km)
        share = np.clip(moved / max(moving_s, 1e-9), 0.0, 1.0)[:, None]
        self.times.append(self.t + t_rel)
        self.xy.append(self.here + share * (to - self.here))
        self.t += total
        self.here = to.astype(np.float64)

    def trip(self, to: F64) -> None:
        mode = str(self.rng.choice(list(_MODES)))
        speed, stops = _MODES[mode]
        direction = (to - self.here) / max(float(np.hypot(*(to - self.here))), 1.0)
        walk_m = self.rng.uniform(150.0, 500.0)
        if mode != "bike":
            self.move(self.here + direction * walk_m, _WALK_MPS, 0.0)
            self.stay(self.rng.uniform(30.0, 240.0))  # waiting or parking
        self.move(to - direction * (walk_m if mode != "bike" else 0.0), speed, stops)
        if mode != "bike":
            self.move(to, _WALK_MPS, 0.0)

    def track(self, centre_lat: float, centre_lon: float) -> Track:
        t = np.concatenate(self.times)
        xy = np.concatenate(self.xy) + self.rng.normal(0.0, self.noise_m, (t.size, 2))
        n = t.size
        jumps = self.rng.random(n) < 0.0005
        xy[jumps] += self.rng.uniform(1000.0, 5000.0, (int(jumps.sum()), 2))
        accuracy = self.rng.uniform(5.0, 20.0, n)
        poor = self.rng.random(n) < 0.005
        accuracy[poor] = self.rng.uniform(150.0, 500.0, int(poor.sum()))
        lat = centre_lat + np.degrees(xy[:, 1] / EARTH_RADIUS_M)
        lon = centre_lon + np.degrees(xy[:, 0] / (EARTH_RADIUS_M * math.cos(math.radians(centre_lat))))
        return Track(
            t_s=t,
            lat=lat,
            lon=lon,
            accuracy_m=accuracy,
            speed_mps=np.full(n, math.nan),
            activity=np.full(n, ACTIVITY_CODES[Activity.UNKNOWN], dtype=np.int8),
        )


def synthetic_population(n_fixes: int, seed: int) -> list[UserTrack]:
    """Users of three days each until at least ``n_fixes`` fixes exist."""
    rng = np.random.default_rng(seed)
    users: list[UserTrack] = []
    total = 0
    while total < n_fixes:
        every_s = float(rng.choice([1.0, 2.0, 3.0, 5.0]))
        b = _Builder(rng, 1_700_000_000.0, every_s, float(rng.uniform(3.0, 8.0)))
        home = np.zeros(2)
        for _day in range(3):
            work = rng.uniform(-15_000.0, 15_000.0, 2)
            other = rng.uniform(-15_000.0, 15_000.0, 2)
            b.stay(rng.uniform(3600.0, 7200.0))
            b.trip(work)
            b.stay(rng.uniform(7200.0, 14_400.0))
            b.trip(other)
            b.stay(rng.uniform(1800.0, 3600.0))
            b.trip(home)
            b.stay(rng.uniform(1800.0, 3600.0))
            b.t += 8 * 3600.0  # the phone is off at night: a gap at the same place
        track = b.track(46.52 + rng.uniform(-2, 2), 6.63 + rng.uniform(-2, 2))
        users.append(UserTrack(user_id=len(users), track=track))
        total += len(track)
    return users


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run_sillage(users: list[UserTrack], params: SegmentationParams) -> tuple[float, list[Segmentation]]:
    return _timed(lambda: [segment(u.track, params) for u in users])


@dataclass(frozen=True, slots=True)
class Inference:
    """Seconds spent on section features and on ``predict_proba`` (one call per user, as
    ``ingest.pipeline`` does), and the number of sections."""

    features_s: float
    predict_s: float
    rejoin_s: float
    context_s: float
    sections: int
    calls: int
    served_by: str

    @property
    def seconds(self) -> float:
        return self.features_s + self.predict_s + self.rejoin_s + self.context_s


def run_inference(results: list[Segmentation]) -> Inference | None:
    """Features and class probabilities of every section, user by user as the incremental pipeline
    classifies them; None when the modules are not there."""
    try:
        from core.features import features_matrix
        from models.classifier import load_classifier
        from models.context import weigh_by_context
        from models.sections import Classified, predict_proba, rejoin
    except ImportError:
        return None
    classifier = load_classifier(None)
    context = getattr(classifier, "context", None)
    features_s = predict_s = rejoin_s = context_s = 0.0
    count = calls = 0
    for seg in results:
        bounds = [(s.start, s.end) for trip in seg.trips for s in trip.sections]
        if bounds:
            start = time.perf_counter()
            x = features_matrix(seg.cleaned, bounds)
            middle = time.perf_counter()
            proba, classes = predict_proba(classifier, x)
            predicted = time.perf_counter()
            done = rejoin(classifier, Classified(seg=seg, proba=proba, classes=classes, x=x))
            rejoined = time.perf_counter()
            if context is not None:
                weigh_by_context(context, done)
            features_s += middle - start
            predict_s += predicted - middle
            rejoin_s += rejoined - predicted
            context_s += time.perf_counter() - rejoined
            count += len(bounds)
            calls += 1
    return Inference(
        features_s=features_s,
        predict_s=predict_s,
        rejoin_s=rejoin_s,
        context_s=context_s,
        sections=count,
        calls=calls,
        served_by=_served_by(classifier),
    )


def _served_by(classifier: Any) -> str:
    """Which implementation answers ``predict_proba``, so the figures can be read."""
    if getattr(classifier, "flat", None) is not None:
        return f"model {classifier.version}, flattened trees"
    if hasattr(classifier, "pipeline"):
        return f"model {classifier.version}, scikit-learn"
    return f"{classifier.version} fallback"


def trackintel_frame(users: list[UserTrack]) -> Any:
    import geopandas as gpd
    import pandas as pd

    t = np.concatenate([u.track.t_s for u in users])
    frame = pd.DataFrame(
        {
            "user_id": np.concatenate([np.full(len(u.track), u.user_id) for u in users]),
            "tracked_at": pd.to_datetime(t, unit="s", utc=True),
        }
    )
    lon = np.concatenate([u.track.lon for u in users])
    lat = np.concatenate([u.track.lat for u in users])
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def run_trackintel(
    users: list[UserTrack], params: SegmentationParams, repeat: int = 1
) -> tuple[list[float], int, int]:
    """Seconds of each of ``repeat`` runs, and the staypoints and triplegs found."""
    import trackintel as ti

    pfs = ti.Positionfixes(trackintel_frame(users))

    def both() -> tuple[int, int]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pfs_sp, sp = pfs.generate_staypoints(
                method="sliding",
                distance_metric="haversine",
                dist_threshold=params.stay_radius_m,
                time_threshold=params.stay_dwell_s / 60.0,
                gap_threshold=params.gap_s / 60.0,
            )
            _, tpls = pfs_sp.generate_triplegs(
                sp, method="between_staypoints", gap_threshold=params.gap_s / 60.0
            )
        return len(sp), len(tpls)

    runs = [_timed(both) for _ in range(repeat)]
    n_sp, n_tpls = runs[0][1]
    return [seconds for seconds, _ in runs], n_sp, n_tpls


def run_pipeline(
    users: list[UserTrack], params: SegmentationParams
) -> tuple[float, list[Segmentation], Inference | None]:
    """Segmentation then inference of every user, as the pipeline runs them: total seconds."""
    seg_s, results = run_sillage(users, params)
    inference = run_inference(results)
    return seg_s, results, inference


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--fixes", type=int, default=1_000_000, help="fixes to generate (at least)")
    parser.add_argument(
        "--trackintel-fixes",
        type=int,
        default=0,
        help="run trackintel on the first users up to this many fixes and extrapolate (0: all)",
    )
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="time both sides this many times and keep each side's fastest run: on a shared machine "
        "other processes only ever add time, and a 0.3 s run is more exposed to a burst than a 5 s one",
    )
    args = parser.parse_args(argv)

    params = SegmentationParams()
    users = synthetic_population(args.fixes, args.seed)
    n = sum(len(u.track) for u in users)
    print(f"fixes: {n} from {len(users)} synthetic users (3 days each, 1-5 s sampling)")

    segment(users[0].track.take(slice(0, 5000)), params)  # warm-up (imports, caches)
    runs = [run_pipeline(users, params) for _ in range(max(args.repeat, 1))]
    totals = [seg + (inf.seconds if inf is not None else 0.0) for seg, _, inf in runs]
    seg_s, results, inference = runs[int(np.argmin(totals))]
    pipeline_s = min(totals)
    n_stays = sum(len(r.stays) for r in results)
    n_trips = sum(len(r.trips) for r in results)
    n_sections = sum(len(t.sections) for r in results for t in r.trips)
    print(f"sillage runs: {', '.join(f'{t:.3f}' for t in totals)} s; the fastest:")
    print(
        f"sillage segment: {seg_s:.3f} s ({n / seg_s:,.0f} fixes/s), "
        f"{n_stays} stays, {n_trips} trips, {n_sections} sections"
    )
    if inference is None:
        print("sillage inference: TODO (core.features / models.classifier not importable); not timed")
    else:
        print(
            f"sillage features + predict_proba + rejoining: {inference.seconds:.3f} s "
            f"for {inference.sections} sections "
            f"(features {inference.features_s:.3f} s, "
            f"{inference.features_s / max(inference.sections, 1) * 1e3:.2f} ms/section; "
            f"predict_proba {inference.predict_s:.3f} s in {inference.calls} calls, {inference.served_by}; "
            f"rejoining vehicle pieces {inference.rejoin_s:.3f} s; trip context {inference.context_s:.3f} s)"
        )

    ti_users = users
    if args.trackintel_fixes:
        ti_users, count = [], 0
        for u in users:
            if count >= args.trackintel_fixes:
                break
            ti_users.append(u)
            count += len(u.track)
    ti_n = sum(len(u.track) for u in ti_users)
    ti_runs, n_sp, n_tpls = run_trackintel(ti_users, params, max(args.repeat, 1))
    ti_s = min(ti_runs)
    subset = "" if ti_n == n else f" (subset of {ti_n} fixes, rate extrapolated per fix)"
    print(
        f"trackintel generate_staypoints + generate_triplegs: {ti_s:.3f} s{subset} "
        f"(runs: {', '.join(f'{t:.3f}' for t in ti_runs)} s), {n_sp} staypoints, {n_tpls} triplegs"
    )

    ours = n / pipeline_s
    theirs = ti_n / ti_s
    print(f"segmentation alone: {n / seg_s:,.0f} fixes/s, ratio {n / seg_s / theirs:.1f}")
    print(f"pipeline: {ours:,.0f} fixes/s, trackintel {theirs:,.0f} fixes/s, ratio {ours / theirs:.1f}")


if __name__ == "__main__":
    main()
