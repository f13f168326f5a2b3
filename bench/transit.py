"""Benchmark: reading a GTFS feed, and classifying sections with the transit network and without.

Run ``.venv/bin/python -m bench.transit [--fixes 1000000] [--stops-per-city 5000] [--seed S]``.

- **Data**: the synthetic population of :mod:`bench.pipeline` (users of three days in cities
  scattered over 4° x 4°), segmented once (not timed). Each user's city gets a network:
  ``--stops-per-city`` stops spread over 32 x 32 km, routes of 25 stops each (a bus network with a
  tenth of its routes tram, metro or train), 20 trips per route, written as a GTFS folder.
- **Timed**: :func:`ingest.transit.read_gtfs` on that folder (stop-time rows per second), building
  :class:`core.transit.TransitStops`, then :func:`models.sections.classify` (features, the model,
  the rejoining of vehicle pieces) on every user's segmentation without the network and with it,
  best of 3 each, the same model (the shipped artifact, or the heuristic fallback).
- **Last line**: ``transit: X sections/s with the network, Y without, ratio Z`` (Z = X / Y: the
  share of the speed kept when the network weighs every section).
"""

from __future__ import annotations

import argparse
import csv
import math
import tempfile
from pathlib import Path

import numpy as np

from bench.pipeline import synthetic_population
from bench.stats import best_of
from core.geodesy import EARTH_RADIUS_M
from core.segmentation import DEFAULT_PARAMS, segment
from core.transit import TransitStop, TransitStops
from ingest.transit import read_gtfs
from models.classifier import load_classifier
from models.sections import Network, classify

_KINDS = (3,) * 9 + (0,)  # route types: nine bus routes for one tram
_RAIL = (0, 1, 2)


def write_feed(folder: Path, cities: list[tuple[float, float]], stops_per_city: int, seed: int) -> int:
    """A GTFS folder with a network around each city; the number of stop-time rows."""
    rng = np.random.default_rng(seed)
    stops: list[tuple[str, float, float]] = []
    routes: list[tuple[str, int, list[str]]] = []
    for c, (lat0, lon0) in enumerate(cities):
        xy = rng.uniform(-16_000.0, 16_000.0, (stops_per_city, 2))
        lat = lat0 + np.degrees(xy[:, 1] / EARTH_RADIUS_M)
        lon = lon0 + np.degrees(xy[:, 0] / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
        ids = [f"c{c}s{k}" for k in range(stops_per_city)]
        stops += zip(ids, lat.tolist(), lon.tolist(), strict=True)
        for n in range(stops_per_city // 10):
            kind = int(rng.choice(_RAIL)) if rng.random() < 0.1 else int(rng.choice(_KINDS))
            chosen = rng.choice(stops_per_city, 25, replace=False)
            routes.append((f"c{c}r{n}", kind, [ids[k] for k in chosen]))
    folder.mkdir(parents=True, exist_ok=True)
    rows = 0
    with (folder / "stops.txt").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("stop_id", "stop_name", "stop_lat", "stop_lon"))
        w.writerows((s, s, f"{la:.6f}", f"{lo:.6f}") for s, la, lo in stops)
    with (folder / "routes.txt").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("route_id", "route_short_name", "route_type"))
        w.writerows((r, r, kind) for r, kind, _ in routes)
    with (
        (folder / "trips.txt").open("w", newline="") as f,
        (folder / "stop_times.txt").open("w", newline="") as g,
    ):
        trips, times = csv.writer(f), csv.writer(g)
        trips.writerow(("route_id", "service_id", "trip_id"))
        times.writerow(("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"))
        for r, _, calls in routes:
            for k in range(20):
                trip = f"{r}t{k}"
                trips.writerow((r, "all", trip))
                for seq, stop in enumerate(calls):
                    clock = f"{6 + k // 2:02d}:{seq:02d}:00"
                    times.writerow((trip, clock, clock, stop, seq))
                    rows += 1
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixes", type=int, default=1_000_000)
    ap.add_argument("--stops-per-city", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    users = synthetic_population(args.fixes, args.seed)
    segs = [segment(u.track, DEFAULT_PARAMS) for u in users]
    n_sections = sum(len(t.sections) for s in segs for t in s.trips)
    cities = [(float(u.track.lat[0]), float(u.track.lon[0])) for u in users]
    print(f"{len(users)} users, {sum(len(u.track) for u in users):,} fixes, {n_sections:,} sections")

    with tempfile.TemporaryDirectory() as tmp:
        rows = write_feed(Path(tmp) / "feed", cities, args.stops_per_city, args.seed)
        read_s, read = best_of(lambda: read_gtfs(Path(tmp) / "feed"))
    print(
        f"read_gtfs: {len(read.stops):,} stops, {read.routes:,} routes, {rows:,} stop times "
        f"in {read_s:.2f} s ({rows / read_s:,.0f} stop times/s)"
    )
    of_s, stops = best_of(
        lambda: TransitStops.of(
            [
                TransitStop(lat=s.lat, lon=s.lon, routes=tuple(zip(s.route_ids, s.modes, strict=True)))
                for s in read.stops
            ]
        )
    )
    print(f"TransitStops.of: {of_s:.2f} s")

    model = load_classifier(None)
    network = Network(stops)
    without_s, _ = best_of(lambda: [classify(model, s) for s in segs], runs=3)
    with_s, done = best_of(lambda: [classify(model, s, network=network) for s in segs], runs=3)
    classified = sum(len(c.proba) for c in done)
    print(f"classify without the network: {without_s:.2f} s; with it: {with_s:.2f} s")
    print(f"({classified:,} sections after rejoining vehicle pieces)")
    print(
        f"transit: {n_sections / with_s:,.0f} sections/s with the network, "
        f"{n_sections / without_s:,.0f} without, ratio {without_s / with_s:.2f}"
    )


if __name__ == "__main__":
    main()
