"""Latency of every ``/v1/coach`` endpoint for a tester with a year of trips, over real HTTP.

Run: ``make bench-coach``. In a scratch database on the project cluster it enrols two testers and
writes their stays, trips and sections straight into their partitions (the pipeline's own store
function): one with a year of everyday life (weekday commutes by car, bus or bike, an errand most
evenings, weekend outings; about 1,500 trips), the baseline with one week of the same. It then
serves the API in a separate process (``sillage serve``, pipeline off, rate limit lifted) and
requests each endpoint ``SILLAGE_BENCH_REQUESTS`` times (default 60, after 3 warm-ups) for each
tester, one request at a time. Last line:

``coach: <endpoint> p50 X ms p99 Y ms (xR vs 1 week) ...; under 100 ms at p99: N/M``
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from bench.server import served
from bench.stats import Stopwatch, pct
from core.co2 import Mode, VehicleProfile, footprint_kg, load_registry
from core.trips import Built, SectionRecord, StayRecord, TripRecord
from ingest.testers import ConsentChoice, create_campaign, enrol
from store import trips as trips_db
from store.migrate import migrate
from store.partition import as_user
from store.rights import Actor
from store.testers import device
from tests.support.database import create_test_database, drop_test_database

PARIS = ZoneInfo("Europe/Paris")
REGISTRY = load_registry()
HOME = (46.1591, -1.1520)
WORK = (46.1390, -1.1660)
ERRANDS = [(46.1700, -1.1300), (46.1500, -1.1800), (46.1620, -1.1400), (46.1450, -1.1350)]
FIRST_DAY = date(2026, 1, 5)  # a Monday
AT = datetime(2026, 12, 31, 18, 0, tzinfo=PARIS)  # the last evening of the benchmark year
ENDPOINTS = [
    ("footprint?period=day", "/v1/coach/footprint", {"period": "day"}),
    ("footprint?period=week", "/v1/coach/footprint", {"period": "week"}),
    ("footprint?period=month", "/v1/coach/footprint", {"period": "month"}),
    ("goal", "/v1/coach/goal", {}),
    ("places", "/v1/coach/places", {}),
    ("recurring", "/v1/coach/recurring", {}),
    ("alternatives", "/v1/coach/alternatives", {}),
    ("fmd", "/v1/coach/fmd", {"year": "2026"}),
    ("fmd/attestation (html)", "/v1/coach/fmd/attestation", {"year": "2026", "employer": "E", "name": "N"}),
    (
        "fmd/attestation (pdf)",
        "/v1/coach/fmd/attestation",
        {"year": "2026", "employer": "E", "name": "N", "format": "pdf"},
    ),
    ("weekly", "/v1/coach/weekly", {"lang": "fr"}),
]


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(1.3 * math.hypot((a[0] - b[0]) * 111.2, (a[1] - b[1]) * 77.0))  # with a detour factor


class _Life:
    """Accumulates stays and trips in time order."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.stays: list[StayRecord] = []
        self.trips: list[TripRecord] = []
        self.where = HOME
        self.since = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=PARIS)

    def go(self, at: datetime, to: tuple[float, float], modes: list[Mode]) -> None:
        jitter = (self.rng.uniform(-5e-4, 5e-4), self.rng.uniform(-5e-4, 5e-4))
        dest = (to[0] + jitter[0] * 0.2, to[1] + jitter[1] * 0.2)
        self.stays.append(
            StayRecord(
                id=uuid.uuid4(),
                started_at=self.since,
                ended_at=at,
                lat=self.where[0],
                lon=self.where[1],
                n_fixes=50,
            )
        )
        km = _km(self.where, dest)
        tid = uuid.uuid4()
        sections = []
        t = at
        shares = [0.05, 0.9, 0.05] if len(modes) == 3 else [1.0]
        for seq, (mode, share) in enumerate(zip(modes, shares, strict=True)):
            d = km * share * 1000
            minutes = d / 1000 / {Mode.WALK: 5, Mode.BIKE: 15, Mode.BUS: 17}.get(mode, 30) * 60
            fp = footprint_kg(mode, d, VehicleProfile(), REGISTRY)
            end = t + timedelta(minutes=max(minutes, 1))
            sections.append(
                SectionRecord(
                    id=uuid.uuid4(),
                    trip_id=tid,
                    seq=seq,
                    started_at=t,
                    ended_at=end,
                    distance_m=d,
                    n_fixes=int(minutes * 12) + 2,
                    mode=mode.value,
                    probabilities={mode.value: 1.0},
                    mode_source="model",
                    model_version="bench",
                    geometry={
                        "type": "LineString",
                        "coordinates": [[self.where[1], self.where[0]], [dest[1], dest[0]]],
                    },
                    co2_kg=fp.kg,
                    co2_factor=fp.factor_key,
                    co2_registry=fp.registry_version,
                )
            )
            t = end
        self.trips.append(
            TripRecord(
                id=tid,
                started_at=at,
                ended_at=t,
                origin=self.where,
                destination=dest,
                origin_stay_id=None,
                destination_stay_id=None,
                distance_m=km * 1000,
                sections=tuple(sections),
            )
        )
        self.where, self.since = dest, t


def _commute_modes(rng: random.Random) -> list[Mode]:
    r = rng.random()
    if r < 0.6:
        return [Mode.CAR]
    if r < 0.8:
        return [Mode.WALK, Mode.BUS, Mode.WALK]
    return [Mode.BIKE]


def live(days: int, seed: int) -> Built:
    """``days`` days of stays and trips from FIRST_DAY (about 4 trips a weekday, 2 a weekend day)."""
    rng = random.Random(seed)
    life = _Life(rng)
    for k in range(days):
        day = datetime.combine(FIRST_DAY + timedelta(days=k), datetime.min.time(), tzinfo=PARIS)
        if day.weekday() < 5:
            modes = _commute_modes(rng)
            life.go(day + timedelta(hours=8, minutes=rng.randint(0, 30)), WORK, modes)
            life.go(day + timedelta(hours=17, minutes=rng.randint(0, 60)), HOME, modes)
            if rng.random() < 0.7:
                life.go(
                    day + timedelta(hours=19),
                    rng.choice(ERRANDS),
                    [rng.choice([Mode.CAR, Mode.WALK, Mode.BIKE])],
                )
                life.go(day + timedelta(hours=20), HOME, [Mode.CAR])
        else:
            life.go(day + timedelta(hours=10), rng.choice(ERRANDS), [Mode.CAR])
            life.go(day + timedelta(hours=16), HOME, [Mode.CAR])
    return Built(stays=life.stays, trips=life.trips)


async def _tester(conn: asyncpg.Connection, code: str, built: Built) -> str:
    e = await enrol(
        conn, code, [ConsentChoice(purpose="coaching")], device_label="bench", now=datetime.now(UTC)
    )
    row = await device(conn, e.device_id)
    assert row is not None
    async with as_user(conn, row.role):
        await trips_db.replace_from(conn, built.stays[0].started_at, built)
    return e.token


def _time(client: httpx.Client, token: str, path: str, params: dict[str, str], n: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    query = {"at": AT.isoformat(), **params}
    for _ in range(3):
        r = client.get(path, params=query, headers=headers)
        r.raise_for_status()
    out = []
    for _ in range(n):
        sw = Stopwatch()
        r = client.get(path, params=query, headers=headers)
        out.append(sw.elapsed_s())
        r.raise_for_status()
    return out


async def main() -> None:
    n = int(os.environ.get("SILLAGE_BENCH_REQUESTS", "60"))
    year, week = live(362, seed=1), live(7, seed=2)
    n_sections = sum(len(t.sections) for t in year.trips)
    print(f"year tester: {len(year.trips)} trips, {n_sections} sections, {len(year.stays)} stays", flush=True)
    db = await create_test_database()
    try:
        admin = await asyncpg.connect(db.admin_url)
        await migrate(admin)
        await admin.close()
        conn = await asyncpg.connect(db.app_url)
        code = (await create_campaign(conn, "bench", actor=Actor.operator("bench"))).invite_code
        year_token = await _tester(conn, code, year)
        week_token = await _tester(conn, code, week)
        await conn.close()
        summary = []
        under = 0
        print(f"{'endpoint':<26} {'1 week p50/p99 ms':>18} {'1 year p50/p99 ms':>18} {'ratio':>6}  <100 ms")
        with (
            served(db.app_url, RATE_LIMIT_PER_MINUTE="0") as server,
            httpx.Client(base_url=server.base_url, timeout=30) as client,
        ):
            for label, path, params in ENDPOINTS:
                w = _time(client, week_token, path, params, n)
                y = _time(client, year_token, path, params, n)
                ratio = pct(y, 50) / pct(w, 50)
                ok = pct(y, 99) < 100.0
                under += ok
                print(
                    f"{label:<26} {pct(w, 50):8.1f} /{pct(w, 99):7.1f}  {pct(y, 50):8.1f} /{pct(y, 99):7.1f}"
                    f" {ratio:6.2f}  {'yes' if ok else 'NO'}",
                    flush=True,
                )
                summary.append(
                    f"{label} p50 {pct(y, 50):.1f} ms p99 {pct(y, 99):.1f} ms (x{ratio:.2f} vs 1 week)"
                )
        print(f"coach: {'; '.join(summary)}; under 100 ms at p99: {under}/{len(ENDPOINTS)}")
    finally:
        await drop_test_database(db)


if __name__ == "__main__":
    asyncio.run(main())
