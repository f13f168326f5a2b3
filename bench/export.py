"""Peak memory of the API process while it streams an export: 100,000 vs 1,000,000 fixes.

Run: ``make bench-export`` (``--small`` and ``--large`` change the sizes, ``--formats`` the
formats). In a scratch database on the project cluster, two testers get ``--small`` and
``--large`` synthetic fixes (loaded with COPY). For each format and tester, a fresh server process
(``sillage serve``, pipeline off) is started and warmed up by one authenticated request; its peak
resident set is then reset (``/proc/<pid>/clear_refs``) and the export is downloaded and
discarded while counting bytes. The figure is the process's peak RSS during the export
(``VmHWM``) minus its RSS before it: flat memory means the same growth for both sizes. Last line:

``export: zip 1,000,000 fixes in T s (B MB), peak +P MB vs +Q MB at 100,000 fixes (xR)``
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from bench.server import served
from ingest.testers import ConsentChoice, create_campaign, enrol
from store.fixes import COPY_COLUMNS
from store.migrate import migrate
from store.partition import as_user
from store.rights import Actor
from store.testers import device
from tests.support.database import ScratchDatabase, create_test_database, drop_test_database

T0 = datetime(2025, 1, 1, tzinfo=UTC)
LOAD_BATCH = 100_000


def _records(start: int, n: int) -> list[tuple[object, ...]]:
    """Synthetic fixes every 2 s on a circle around La Rochelle (values vary so compression is fair)."""
    out: list[tuple[object, ...]] = []
    for i in range(start, start + n):
        a = i / 5000.0
        out.append(
            (
                T0 + timedelta(seconds=2 * i),
                46.16 + 0.01 * math.sin(a),
                -1.15 + 0.01 * math.cos(a),
                5.0 + (i % 17),
                10.0 + (i % 7),
                1.4 + (i % 11) / 3.0,
                float(i % 360),
                ("walk", "vehicle", "still")[i % 3],
                0.5,
                "bench",
            )
        )
    return out


async def _tester(conn: asyncpg.Connection, code: str, n_fixes: int) -> str:
    """Enrol a tester with ``n_fixes`` fixes; returns their token."""
    e = await enrol(
        conn, code, [ConsentChoice(purpose="coaching")], device_label="bench", now=datetime.now(UTC)
    )
    row = await device(conn, e.device_id)
    assert row is not None
    for start in range(0, n_fixes, LOAD_BATCH):
        async with as_user(conn, row.role):
            await conn.copy_records_to_table(
                "fixes",
                records=_records(start, min(LOAD_BATCH, n_fixes - start)),
                columns=COPY_COLUMNS,
                schema_name=row.role,
            )
    return e.token


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/{pid}/status")


class Measure:
    def __init__(self, seconds: float, size_bytes: int, rss_kb: int, peak_kb: int) -> None:
        self.seconds = seconds
        self.size_bytes = size_bytes
        self.rss_kb = rss_kb
        self.peak_kb = peak_kb

    @property
    def growth_mb(self) -> float:
        return (self.peak_kb - self.rss_kb) / 1024


def _measure(db: ScratchDatabase, token: str, fmt: str) -> Measure:
    """One fresh server, one export; its peak RSS during the export."""
    auth = {"Authorization": f"Bearer {token}"}
    with served(db.app_url) as server, httpx.Client(base_url=server.base_url, timeout=600) as client:
        client.get("/v1/me", headers=auth).raise_for_status()  # warm-up
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # reset the peak RSS
        rss_kb = _status_kb(server.pid, "VmRSS")
        t0 = time.perf_counter()
        size = 0
        with client.stream("GET", "/v1/me/export", params={"format": fmt}, headers=auth) as r:
            r.raise_for_status()
            for chunk in r.iter_bytes():
                size += len(chunk)
        seconds = time.perf_counter() - t0
        peak_kb = _status_kb(server.pid, "VmHWM")
    return Measure(seconds, size, rss_kb, peak_kb)


async def _setup(db: ScratchDatabase, sizes: list[int]) -> list[str]:
    admin = await asyncpg.connect(db.admin_url)
    try:
        await migrate(admin)
    finally:
        await admin.close()
    conn = await asyncpg.connect(db.app_url)
    try:
        code = (await create_campaign(conn, "bench export", actor=Actor.operator("bench"))).invite_code
        return [await _tester(conn, code, n) for n in sizes]
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--formats", default="zip,csv")
    args = parser.parse_args()
    sizes = [args.small, args.large]
    db = asyncio.run(create_test_database())
    try:
        t0 = time.perf_counter()
        tokens = asyncio.run(_setup(db, sizes))
        print(f"loaded {sizes[0]:,} and {sizes[1]:,} fixes in {time.perf_counter() - t0:.1f} s")
        last = ""
        for fmt in args.formats.split(","):
            small, large = (_measure(db, token, fmt) for token in tokens)
            for n, m in ((sizes[0], small), (sizes[1], large)):
                print(
                    f"{fmt:>7} {n:>9,} fixes: {m.seconds:6.1f} s, {m.size_bytes / 1e6:7.1f} MB,"
                    f" {n / m.seconds:9,.0f} fixes/s, RSS before {m.rss_kb / 1024:.0f} MB,"
                    f" peak during export {m.peak_kb / 1024:.0f} MB (+{m.growth_mb:.1f} MB)"
                )
            ratio = large.growth_mb / small.growth_mb if small.growth_mb > 0 else float("inf")
            last = (
                f"export: {fmt} {sizes[1]:,} fixes in {large.seconds:.1f} s"
                f" ({large.size_bytes / 1e6:.0f} MB), peak +{large.growth_mb:.1f} MB"
                f" vs +{small.growth_mb:.1f} MB at {sizes[0]:,} fixes (x{ratio:.2f})"
            )
            print(last)
    finally:
        asyncio.run(drop_test_database(db))


if __name__ == "__main__":
    main()
