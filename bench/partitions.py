"""The cost of one partition (role + schema + hypertable) per tester, at 10,000 testers.

Run: ``make bench-partitions`` (``SILLAGE_BENCH_USERS`` changes the count). In a scratch database
on the project cluster it enrols testers in steps, and at a small baseline population and at the
full one measures, on the same data and in the same run: enrolment time, catalogue size, the
latency of a 200-fix ingest batch, and of a one-day per-tester query. Last line:

``partitions: N users, enrol p50 A ms p99 B ms, catalogue C MB (+D kB/user), ingest p50 E ms (xR vs
baseline), query p50 F ms (xS vs baseline)``
"""

from __future__ import annotations

import asyncio
import os
import random
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.stats import Stopwatch, pct
from core.fixes import Fix
from ingest.testers import ConsentChoice, create_campaign, enrol
from store import fixes as fixes_db
from store.migrate import migrate
from store.partition import as_user
from store.rights import Actor
from store.testers import device
from tests.support.database import create_test_database, drop_test_database

BASELINE_USERS = 100
PROBES = 300
T0 = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


async def _catalogue_bytes(conn: asyncpg.Connection) -> int:
    n: int = await conn.fetchval(
        "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n"
        " ON n.oid = c.relnamespace WHERE n.nspname IN ('pg_catalog', '_timescaledb_catalog')"
        " AND c.relkind IN ('r', 'i', 't')"
    )
    return int(n)


async def _enrol_many(pool: asyncpg.Pool, code: str, n: int, roles: list[str], times: list[float]) -> None:
    async def one() -> None:
        async with pool.acquire() as conn:
            sw = Stopwatch()
            e = await enrol(
                conn, code, [ConsentChoice(purpose="coaching")], device_label="bench", now=datetime.now(UTC)
            )
            times.append(sw.elapsed_s())
            row = await device(conn, e.device_id)
            assert row is not None
            roles.append(row.role)

    queue = list(range(n))

    async def worker() -> None:
        while queue:
            queue.pop()
            await one()

    await asyncio.gather(*(worker() for _ in range(4)))


def _batch(day: int, later_s: float = 0.0) -> list[Fix]:
    start = T0 + timedelta(days=day, seconds=later_s)
    return [
        Fix(ts=start + timedelta(seconds=5 * i), lat=46.15 + i * 1e-5, lon=-1.15, accuracy_m=8.0)
        for i in range(200)
    ]


async def _probe(
    pool: asyncpg.Pool, roles: list[str], rng: random.Random
) -> tuple[list[float], list[float], list[float]]:
    """(first batch of a tester's month, which creates its chunk), (a later batch), (one-day query)."""
    chunk_s: list[float] = []
    ingest_s: list[float] = []
    query_s: list[float] = []
    async with pool.acquire() as conn:
        for k in range(PROBES):
            role = rng.choice(roles)
            day = k % 60
            sw = Stopwatch()
            async with as_user(conn, role):
                await fixes_db.insert_fixes(conn, _batch(day), "bench")
            chunk_s.append(sw.elapsed_s())
            sw = Stopwatch()
            async with as_user(conn, role):
                await fixes_db.insert_fixes(conn, _batch(day, later_s=2000.0), "bench")
            ingest_s.append(sw.elapsed_s())
            sw = Stopwatch()
            async with as_user(conn, role):
                await fixes_db.fixes_between(conn, T0 + timedelta(days=day), T0 + timedelta(days=day + 1))
            query_s.append(sw.elapsed_s())
    return chunk_s, ingest_s, query_s


async def main() -> None:
    total = int(os.environ.get("SILLAGE_BENCH_USERS", "10000"))
    rng = random.Random(7)
    db = await create_test_database()
    try:
        admin = await asyncpg.connect(db.admin_url)
        await migrate(admin)
        pool = await asyncpg.create_pool(db.app_url, min_size=4, max_size=4)
        async with pool.acquire() as conn:
            code = (await create_campaign(conn, "bench", actor=Actor.operator("bench"))).invite_code
        cat0 = await _catalogue_bytes(admin)
        roles: list[str] = []
        enrol_s: list[float] = []
        await _enrol_many(pool, code, BASELINE_USERS, roles, enrol_s)
        base_chunk, base_ingest, base_query = await _probe(pool, roles, rng)
        print(
            f"baseline {BASELINE_USERS} users: new-chunk batch p50 {pct(base_chunk, 50):.2f} ms, "
            f"ingest p50 {pct(base_ingest, 50):.2f} ms, "
            f"query p50 {pct(base_query, 50):.2f} ms",
            flush=True,
        )
        sw = Stopwatch()
        while len(roles) < total:
            step = min(1000, total - len(roles))
            await _enrol_many(pool, code, step, roles, enrol_s)
            print(f"  {len(roles)} users enrolled ({sw.elapsed_s():.0f} s)", flush=True)
        cat1 = await _catalogue_bytes(admin)
        full_chunk, full_ingest, full_query = await _probe(pool, roles, rng)
        n_rel = await admin.fetchval("SELECT count(*) FROM pg_class")
        db_mb = await admin.fetchval("SELECT pg_database_size(current_database())") / 1e6
        await pool.close()
        await admin.close()
        print(
            f"enrolment: {len(enrol_s)} testers in {sum(enrol_s):.0f} s of enrolment time, "
            f"p50 {pct(enrol_s, 50):.1f} ms, p99 {pct(enrol_s, 99):.1f} ms"
        )
        print(
            f"catalogue: {cat1 / 1e6:.0f} MB ({(cat1 - cat0) / len(roles) / 1e3:.1f} kB per tester), "
            f"{n_rel} relations, database {db_mb:.0f} MB"
        )
        print(
            f"at {len(roles)} users: new-chunk batch p50 {pct(full_chunk, 50):.2f} ms "
            f"(x{pct(full_chunk, 50) / pct(base_chunk, 50):.2f}); ingest p50 {pct(full_ingest, 50):.2f} ms "
            f"p99 {pct(full_ingest, 99):.2f} ms; "
            f"query p50 {pct(full_query, 50):.2f} ms p99 {pct(full_query, 99):.2f} ms"
        )
        ri = pct(full_ingest, 50) / pct(base_ingest, 50)
        rq = pct(full_query, 50) / pct(base_query, 50)
        print(
            f"partitions: {len(roles)} users, enrol p50 {pct(enrol_s, 50):.1f} ms "
            f"p99 {pct(enrol_s, 99):.1f} ms, "
            f"catalogue {cat1 / 1e6:.0f} MB (+{(cat1 - cat0) / len(roles) / 1e3:.1f} kB/user), "
            f"ingest p50 {pct(full_ingest, 50):.2f} ms (x{ri:.2f} vs {BASELINE_USERS} users), "
            f"query p50 {pct(full_query, 50):.2f} ms (x{rq:.2f} vs {BASELINE_USERS} users)"
        )
    finally:
        await drop_test_database(db)


if __name__ == "__main__":
    asyncio.run(main())
