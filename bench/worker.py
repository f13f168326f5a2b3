"""How fast the pipeline worker makes testers' trips visible: several testers at once against one at a time.

Run: ``make bench-worker``. The issue asks that a trip be visible through the API within 2 minutes
of the moment its end can be known; with one worker taking testers one after another, that holds
for as many testers as it processes in 2 minutes when their trips end together.

In a scratch database on the project cluster, it enrols ``SILLAGE_BENCH_USERS`` testers (default
100), each with one simulated phone (``sillage simulate``: sampling regime, motion activity or
not). Untimed set-up: ``SILLAGE_BENCH_DAYS`` days (default 2) of each tester's life are stored and
processed, so every tester has a history, trips and a watermark. Then the burst: for every
tester at once, the fixes of the next day up to the end of its first trip and 6 minutes of the
stay after it (what a phone uploads once a trip has ended: the stay's 5-minute dwell has been
reached) are stored with the ingest path's binary COPY, which queues the tester. One
:class:`~ingest.pipeline.Pipeline` with the shipped model then drains the queue (``run_due``, as
the API's worker does), timed, one transaction per tester.

Baseline, measured in the same run: the same burst processed one tester at a time; also the CPU
part of each step alone (``ingest.pipeline._compute``: segmentation, classification, history,
records), the rest being the database (claiming the range, reading fixes, labels, confirmations and
history, replacing the derived rows, the watermark). Last line:

``worker: X testers/s with L at once (p50 Y ms a tester), one at a time S testers/s, ratio R;
compute alone Z testers/s; N testers' trips visible within 2 minutes per worker``
"""

from __future__ import annotations

import asyncio
import atexit
import math
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec
import numpy as np

import ingest.pipeline as pipeline_module
from bench.stats import pct
from core.fixes import Activity, Fix
from core.simulate import STAY, SimulatedTrack, simulate_days
from core.track import ACTIVITY_CODES
from ingest.pipeline import Outcome, Pipeline, PipelineParams
from ingest.testers import ConsentChoice, create_campaign, enrol
from models.classifier import load_classifier
from store.fixes import append_fixes
from store.migrate import migrate
from store.pool import Database
from store.rights import Actor
from store.testers import device
from tests.support.database import create_test_database, drop_test_database

_ACTIVITIES = {code: a for a, code in ACTIVITY_CODES.items() if a is not Activity.UNKNOWN}
_SETTLE_S = 360.0  # of the stay after the trip: past the 5-minute dwell that closes the trip


def fixes_of(sim: SimulatedTrack, stop: int | None = None) -> list[Fix]:
    """The simulated track's first ``stop`` fixes (all by default) as the ingest path stores them."""
    tr = sim.track
    n = len(tr) if stop is None else stop
    return [
        Fix(
            ts=datetime.fromtimestamp(float(tr.t_s[i]), UTC),
            lat=float(tr.lat[i]),
            lon=float(tr.lon[i]),
            accuracy_m=None if math.isnan(tr.accuracy_m[i]) else float(tr.accuracy_m[i]),
            speed_mps=None if math.isnan(tr.speed_mps[i]) else float(tr.speed_mps[i]),
            activity=_ACTIVITIES.get(int(tr.activity[i])),
        )
        for i in range(n)
    ]


def first_trip_end(sim: SimulatedTrack) -> int:
    """How many fixes of the day cover its first trip and ``_SETTLE_S`` of the stay after it."""
    moving = np.flatnonzero(sim.labels != STAY)
    if moving.size == 0:
        return len(sim.track)
    after = np.flatnonzero((sim.labels == STAY) & (np.arange(sim.labels.size) > moving[0]))
    if after.size == 0:
        return len(sim.track)
    t = sim.track.t_s
    return int(np.searchsorted(t, t[after[0]] + _SETTLE_S, side="right"))


class _Timed:
    """A function with the seconds of each call kept."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.seconds: list[float] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds.append(time.perf_counter() - t0)


class _TimedPipeline(Pipeline):
    """The API's pipeline with the seconds of each tester's step (one transaction) kept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.steps: list[float] = []

    async def process_user(self, *args: Any, **kwargs: Any) -> Outcome | None:
        t0 = time.perf_counter()
        try:
            return await super().process_user(*args, **kwargs)
        finally:
            self.steps.append(time.perf_counter() - t0)


async def _drain(pipeline: Pipeline, db: Database, as_of: datetime) -> tuple[list[Outcome], int]:
    """Run rounds until nothing is due: the steps done, and how many rounds it took."""
    outcomes: list[Outcome] = []
    rounds = 0
    while True:
        done = await pipeline.run_due(db, as_of=as_of)
        rounds += 1
        outcomes += done
        if not done:
            return outcomes, rounds


async def _enrolled(conn: asyncpg.Connection, history: dict[int, list[Fix]]) -> dict[int, str]:
    """Enrol one tester per simulated user and store their history: their partition roles."""
    code = (await create_campaign(conn, "bench", actor=Actor.operator("bench"))).invite_code
    roles: dict[int, str] = {}
    for u, fixes in history.items():
        e = await enrol(
            conn, code, [ConsentChoice(purpose="coaching")], device_label="bench", now=datetime.now(UTC)
        )
        row = await device(conn, e.device_id)
        assert row is not None
        roles[u] = row.role
        assert await append_fixes(conn, row.role, fixes, "bench")
    return roles


class _Burst(msgspec.Struct, frozen=True, kw_only=True):
    """What one drain of the burst measured."""

    lanes: int
    processed: int
    with_trip: int
    wall_s: float
    rounds: int
    steps: list[float]
    compute: list[float]

    @property
    def rate(self) -> float:
        return self.processed / self.wall_s


async def _burst(
    lanes: int, history: dict[int, list[Fix]], burst: dict[int, list[Fix]], set_up_label: str
) -> _Burst:
    """In a scratch database: enrol the testers, process their history (untimed), store the burst
    and drain it with ``lanes`` testers at once (timed)."""
    compute = _Timed(pipeline_module._compute)
    pipeline = _TimedPipeline(load_classifier(None), PipelineParams(concurrent_testers=lanes))
    scratch = await create_test_database()
    try:
        admin = await asyncpg.connect(scratch.admin_url)
        await migrate(admin)
        await admin.close()
        conn = await asyncpg.connect(scratch.app_url)
        roles = await _enrolled(conn, history)
        db = Database(_through_delay(scratch.app_url), min_size=1, max_size=lanes)
        try:
            history_end = max(f.ts for fixes in history.values() for f in fixes)
            t0 = time.perf_counter()
            set_up, _ = await _drain(pipeline, db, history_end + timedelta(hours=1))
            print(
                f"{set_up_label}: history {len(set_up)} steps in {time.perf_counter() - t0:.1f} s", flush=True
            )
            for u, fixes in burst.items():
                assert await append_fixes(conn, roles[u], fixes, "bench")
            pipeline.steps.clear()
            pipeline_module._compute = compute
            burst_end = max(f.ts for fixes in burst.values() for f in fixes)
            t0 = time.perf_counter()
            steps, rounds = await _drain(pipeline, db, burst_end)
            wall = time.perf_counter() - t0
        finally:
            pipeline_module._compute = compute.fn
            await db.close()
        await conn.close()
    finally:
        await drop_test_database(scratch)
    processed = len({o.user_id for o in steps})
    if processed == 0:
        raise SystemExit("worker: no tester was processed")
    result = _Burst(
        lanes=lanes,
        processed=processed,
        with_trip=sum(1 for o in steps if o.trips),
        wall_s=wall,
        rounds=rounds,
        steps=pipeline.steps,
        compute=compute.seconds,
    )
    print(
        f"{set_up_label}: burst of {processed} testers ({result.with_trip} with their trip built) in "
        f"{wall:.2f} s over {rounds} rounds and {len(steps)} steps, {result.rate:,.1f} testers/s; a "
        f"tester's step p50 {pct(result.steps, 50):.1f} ms, p99 {pct(result.steps, 99):.1f} ms, of which "
        f"compute p50 {pct(result.compute, 50):.1f} ms, p99 {pct(result.compute, 99):.1f} ms",
        flush=True,
    )
    return result


_PROXIES: dict[str, int] = {}


def _through_delay(url: str) -> str:
    """``url``, or with ``SILLAGE_BENCH_DB_DELAY_MS`` set, the same database through a proxy
    process that delays every chunk by that much each way (:mod:`bench.latency`): the database
    on another host. One proxy per server, started on first use."""
    delay_ms = float(os.environ.get("SILLAGE_BENCH_DB_DELAY_MS", "0") or 0)
    if delay_ms <= 0:
        return url
    parts = urlsplit(url)
    target = f"{parts.hostname}:{parts.port or 5432}"
    if target not in _PROXIES:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.latency",
                parts.hostname or "",
                str(parts.port or 5432),
                str(delay_ms),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        _PROXIES[target] = int(proc.stdout.readline())
        atexit.register(proc.terminate)
    credentials = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{_PROXIES[target]}"))


async def main() -> None:
    n_users = int(os.environ.get("SILLAGE_BENCH_USERS", "100"))
    n_days = int(os.environ.get("SILLAGE_BENCH_DAYS", "2"))
    lanes = PipelineParams().concurrent_testers
    days: dict[int, list[SimulatedTrack]] = defaultdict(list)
    for d in simulate_days(users=n_users, days=n_days + 1, seed=17):
        days[d.user].append(d.sim)
    history = {u: [f for sim in sims[:n_days] for f in fixes_of(sim)] for u, sims in days.items()}
    burst = {u: fixes_of(sims[n_days], first_trip_end(sims[n_days])) for u, sims in days.items()}
    delay_ms = float(os.environ.get("SILLAGE_BENCH_DB_DELAY_MS", "0") or 0)
    print(
        f"{n_users} testers: {sum(map(len, history.values())):,} fixes of history over {n_days} days, "
        f"{sum(map(len, burst.values())):,} in the burst (a trip each)"
        + (f"; the worker's database {delay_ms:g} ms away each way" if delay_ms > 0 else ""),
        flush=True,
    )
    # The same burst twice, each in its own database: one tester at a time (the baseline), then
    # the shipped setting.
    single = await _burst(1, history, burst, "one at a time")
    shipped = await _burst(lanes, history, burst, f"{lanes} at once")
    compute_rate = len(single.compute) / sum(single.compute)
    print(
        f"worker: {shipped.rate:,.1f} testers/s with {lanes} at once (p50 {pct(shipped.steps, 50):.1f} ms "
        f"a tester), one at a time {single.rate:,.1f} testers/s, ratio {shipped.rate / single.rate:.2f}; "
        f"compute alone {compute_rate:,.1f} testers/s; {int(shipped.rate * 120):,} testers' trips visible "
        "within 2 minutes per worker"
    )


if __name__ == "__main__":
    asyncio.run(main())
