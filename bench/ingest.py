"""End-to-end ingest throughput against the raw COPY ceiling, measured in the same run.

Run: ``make bench-ingest``. It starts the real server (``sillage serve``, a separate process, with
``SILLAGE_WORKERS`` = ``SILLAGE_BENCH_WORKERS``, default 2: one per core) on a scratch database of
the project cluster, enrols 1,000 testers through the API, then a separate load process posts
concurrent 200-fix native batches for a fixed time. The ceiling: the same kind of rows written
straight into the same testers' tables with ``COPY`` (asyncpg ``copy_records_to_table``), with the
same concurrency and duration. The two sides alternate (``SILLAGE_BENCH_ROUNDS``, default 4
rounds of a quarter of the duration each): the database's state drifts during a run (tables
outgrow the buffer cache, checkpoints write full pages, autovacuum wakes up), and a COPY phase run
only after the whole end-to-end phase measured 289k to 490k fixes/s depending on that drift alone.
Totals over all rounds give the figures; each round's are printed. Last line:

``ingest: X fixes/s end-to-end, Y fixes/s raw COPY, ratio Z, p50 A ms, p99 B ms``

Both sides are measured in steady state: before either timed phase, one untimed row per tester
creates the TimescaleDB chunk (30 days) that each side then writes into. Creating a chunk costs
about 10 ms of database time, once a month per tester in real use, but 1,000 times within a
20-second run here, and the end-to-end side (fewer, slower batches) paid it about seven times more
per batch than the COPY side. ``SILLAGE_BENCH_WARMUP=0`` measures without it. The chunks created
during each timed phase are printed. The COPY side keeps every tester's column-type probe in
asyncpg's statement cache (asyncpg prepares it per schema-qualified table; with the default 100
entries it was prepared again on nearly every batch).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import httpx
import msgspec

from bench.loadgen import run_in_process
from bench.server import served
from bench.stats import parent_pid, pct, tree_cpu_s
from ingest.testers import create_campaign
from store.migrate import migrate
from store.rights import Actor
from tests.support.database import create_test_database, drop_test_database

USERS = int(os.environ.get("SILLAGE_BENCH_USERS", "1000"))
DURATION_S = float(os.environ.get("SILLAGE_BENCH_SECONDS", "20"))
CONCURRENCY = int(os.environ.get("SILLAGE_BENCH_CONCURRENCY", "16"))
WORKERS = int(os.environ.get("SILLAGE_BENCH_WORKERS", "2"))
WARMUP = os.environ.get("SILLAGE_BENCH_WARMUP", "1") != "0"
ROUNDS = int(os.environ.get("SILLAGE_BENCH_ROUNDS", "4"))
BATCH = 200
EPOCH0 = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
COPY_SEQ0 = 1_000_000  # the COPY side writes later batches of the same testers (never the same rows)


def batch_fixes(user: int, seq: int) -> list[dict[str, float]]:
    """Fixes for a tester's ``seq``-th batch: 1 s apart, never overlapping another batch."""
    t0 = EPOCH0 + seq * BATCH + user * 1e-3
    return [
        {
            "ts": t0 + i,
            "lat": 46.15 + (i % 50) * 1e-5,
            "lon": -1.15 + user * 1e-6,
            "accuracy_m": 8.0,
            "speed_mps": 1.4,
        }
        for i in range(BATCH)
    ]


@dataclass(frozen=True)
class NativeRequests:
    """Builds pre-encoded POST /v1/fixes requests; picklable for the load process."""

    host: str
    port: int
    tokens: tuple[str, ...]
    concurrency: int
    seq0: int = 0

    def __call__(self, worker: int, i: int) -> tuple[bytes, int]:
        user = (worker + i * self.concurrency) % len(self.tokens)
        seq = self.seq0 + (worker + i * self.concurrency) // len(self.tokens)
        body = msgspec.json.encode({"fixes": batch_fixes(user, seq)})
        head = (
            f"POST /v1/fixes HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {self.tokens[user]}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        return head + body, BATCH


async def enrol_all(base: str, code: str, n: int) -> list[str]:
    tokens: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one() -> None:
            r = await client.post("/v1/enrol", json={"invite_code": code, "consents": ["coaching"]})
            r.raise_for_status()
            tokens.append(r.json()["token"])

        for start in range(0, n, 8):
            await asyncio.gather(*(one() for _ in range(min(8, n - start))))
    return tokens


async def create_chunks(admin_url: str, roles: list[str]) -> None:
    """One untimed row per tester just before each side's first batch: their chunks exist."""
    pool = await asyncpg.create_pool(admin_url, min_size=4, max_size=4, statement_cache_size=len(roles) + 100)
    starts = [EPOCH0 - 1.0, EPOCH0 + COPY_SEQ0 * BATCH - 1.0]

    async def one(role: str) -> None:
        rows = [(datetime.fromtimestamp(t, UTC), 46.15, -1.15, 8.0, "warmup") for t in starts]
        async with pool.acquire() as conn:
            await conn.copy_records_to_table(
                "fixes", schema_name=role, records=rows, columns=["ts", "lat", "lon", "accuracy_m", "source"]
            )

    for start in range(0, len(roles), 4):
        await asyncio.gather(*(one(r) for r in roles[start : start + 4]))
    await pool.close()


async def chunk_count(admin: asyncpg.Connection) -> int:
    n: int = await admin.fetchval("SELECT count(*) FROM _timescaledb_catalog.chunk")
    return n


async def copy_ceiling(
    admin_url: str, roles: list[str], concurrency: int, duration_s: float, seq0: int = 0
) -> tuple[int, float]:
    """Write the same shape of rows with COPY into the same tables; returns (fixes, seconds)."""
    pool = await asyncpg.create_pool(
        admin_url, min_size=concurrency, max_size=concurrency, statement_cache_size=len(roles) + 100
    )
    columns = ["ts", "lat", "lon", "accuracy_m", "speed_mps", "source"]
    total = 0
    deadline = time.perf_counter() + duration_s

    async def worker(w: int) -> None:
        nonlocal total
        i = 0
        async with pool.acquire() as conn:
            while time.perf_counter() < deadline:
                user = (w + i * concurrency) % len(roles)
                seq = COPY_SEQ0 + seq0 + (w + i * concurrency) // len(roles)
                i += 1
                rows = [
                    (
                        datetime.fromtimestamp(f["ts"], UTC),
                        f["lat"],
                        f["lon"],
                        f["accuracy_m"],
                        f["speed_mps"],
                        "copy",
                    )
                    for f in batch_fixes(user, seq)
                ]
                await conn.copy_records_to_table(
                    "fixes", schema_name=roles[user], records=rows, columns=columns
                )
                total += len(rows)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    elapsed = time.perf_counter() - t0
    await pool.close()
    return total, elapsed


async def stored_native(admin: asyncpg.Connection, roles: list[str]) -> int:
    total = 0
    for r in roles:
        # "native:<device>" since the source names the device (the app's endpoint either way).
        total += await admin.fetchval(f"SELECT count(*) FROM \"{r}\".fixes WHERE source LIKE 'native:%'")
    return total


async def main() -> None:
    db = await create_test_database()
    try:
        admin = await asyncpg.connect(db.admin_url)
        await migrate(admin)
        app = await asyncpg.connect(db.app_url)
        code = (await create_campaign(app, "bench-ingest", actor=Actor.operator("bench"))).invite_code
        await app.close()
        phase_s = DURATION_S / ROUNDS
        # batches one tester can receive in one phase, with room to spare: rounds never overlap
        spacing = int(phase_s * 5000 / USERS) + 10
        e2e_fixes, e2e_s, copy_fixes, copy_s = 0, 0.0, 0, 0.0
        latencies: list[float] = []
        # CPU seconds spent, per side: [API server or COPY client, database, load process]
        cpu = {"e2e": [0.0, 0.0, 0.0], "copy": [0.0, 0.0, 0.0]}
        postmaster = parent_pid(await admin.fetchval("SELECT pg_backend_pid()"))
        with served(
            db.app_url,
            RATE_LIMIT_PER_MINUTE="0",
            POOL_MIN_SIZE="8",
            # 8 per worker: 16 database connections in all, as on the COPY side. Each connection
            # then meets each tester's tables more often; with 16 per worker the database spent
            # 0.98-1.13 ms per batch instead of 0.85-0.91 (SILLAGE_BENCH_POOL=16 to see it).
            POOL_MAX_SIZE=os.environ.get("SILLAGE_BENCH_POOL", "8"),
            WORKERS=str(WORKERS),
            LOG_LEVEL=os.environ.get("SILLAGE_BENCH_LOG_LEVEL", "INFO"),
        ) as server:
            tokens = await enrol_all(server.base_url, code, USERS)
            print(f"enrolled {len(tokens)} testers through the API", flush=True)
            roles = [r["role_name"] for r in await admin.fetch("SELECT role_name FROM sillage.users")]
            if WARMUP:
                await create_chunks(db.admin_url, roles)
            chunks0 = await chunk_count(admin)
            for r in range(ROUNDS):
                requests = NativeRequests(
                    "127.0.0.1", server.port, tuple(tokens), CONCURRENCY, seq0=r * spacing
                )
                srv0, db0 = tree_cpu_s(server.pid), tree_cpu_s(postmaster)
                res = run_in_process("127.0.0.1", server.port, requests, CONCURRENCY, phase_s)
                srv1, db1 = tree_cpu_s(server.pid), tree_cpu_s(postmaster)
                me0 = time.process_time()
                n_copy, s_copy = await copy_ceiling(
                    db.admin_url, roles, CONCURRENCY, phase_s, seq0=r * spacing
                )
                me1, db2 = time.process_time(), tree_cpu_s(postmaster)
                spent = {"e2e": (srv1 - srv0, db1 - db0, res.cpu_s), "copy": (me1 - me0, db2 - db1, 0.0)}
                for side, add in spent.items():
                    cpu[side] = [a + b for a, b in zip(cpu[side], add, strict=True)]
                e2e_fixes, e2e_s = e2e_fixes + res.fixes, e2e_s + res.elapsed_s
                copy_fixes, copy_s = copy_fixes + n_copy, copy_s + s_copy
                latencies += res.latencies_s
                print(
                    f"round {r + 1}/{ROUNDS}: end-to-end {res.fixes / res.elapsed_s:.0f} fixes/s "
                    f"({res.requests} requests, {res.errors} errors, statuses {res.statuses}, load process "
                    f"CPU {res.cpu_s / res.elapsed_s:.2f} cores), raw COPY {n_copy / s_copy:.0f} fixes/s",
                    flush=True,
                )
        chunks1 = await chunk_count(admin)
        stored = await stored_native(admin, roles)
        await admin.close()
        print(
            f"{WORKERS} server worker(s), {USERS} testers, {CONCURRENCY} concurrent batches per side, "
            f"{ROUNDS} alternating rounds of {phase_s:.1f} s per side; {chunks1 - chunks0} chunks created "
            f"while timed; the testers' tables hold {stored} API fixes, "
            f"{'as' if stored == e2e_fixes else 'NOT as'} acknowledged ({e2e_fixes})"
        )
        e2e_batches, copy_batches = e2e_fixes / BATCH, copy_fixes / BATCH
        print(
            "CPU per 200-fix batch: end-to-end {:.2f} ms API server + {:.2f} ms database + {:.2f} ms "
            "load process; raw COPY {:.2f} ms client + {:.2f} ms database "
            "({:.2f} and {:.2f} cores busy)".format(
                *(1000 * c / e2e_batches for c in cpu["e2e"]),
                *(1000 * c / copy_batches for c in cpu["copy"][:2]),
                sum(cpu["e2e"]) / e2e_s,
                sum(cpu["copy"]) / copy_s,
            )
        )
        e2e, raw = e2e_fixes / e2e_s, copy_fixes / copy_s
        print(
            f"ingest: {e2e:.0f} fixes/s end-to-end, {raw:.0f} fixes/s raw COPY, ratio {e2e / raw:.2f}, "
            f"p50 {pct(latencies, 50):.1f} ms, p99 {pct(latencies, 99):.1f} ms"
        )
    finally:
        await drop_test_database(db)


if __name__ == "__main__":
    asyncio.run(main())
