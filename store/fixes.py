"""A tester's fixes (``sql/partition/fixes.sql``); call inside :func:`store.partition.as_user`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from asyncpg import Record

from core.fixes import Activity, Fix
from store.partition import Conn
from store.queries import queries


def _q(name: str) -> str:
    return queries("partition/fixes")[name]


async def insert_fixes(conn: Conn, fixes: Sequence[Fix], source: str) -> list[datetime]:
    """Store ``fixes`` and queue their range for the pipeline (one round trip).

    Returns the timestamps newly stored, duplicates excluded.
    """
    if not fixes:
        return []
    rows = await conn.fetch(
        _q("insert_fixes"),
        [f.ts for f in fixes],
        [f.lat for f in fixes],
        [f.lon for f in fixes],
        [f.accuracy_m for f in fixes],
        [f.altitude_m for f in fixes],
        [f.speed_mps for f in fixes],
        [f.bearing_deg for f in fixes],
        [None if f.activity is None else f.activity.value for f in fixes],
        [f.battery for f in fixes],
        [source] * len(fixes),
    )
    return [r["ts"] for r in rows]


async def mark_my_dirty(conn: Conn, start: datetime, end: datetime) -> None:
    """Queue [start, end] of the current tester for reprocessing, in the same transaction."""
    await conn.execute(_q("mark_my_dirty"), start, end)


def fix_from_row(r: Record) -> Fix:
    """A stored fix (a row of ``fixes``) as the domain type."""
    return Fix(
        ts=r["ts"],
        lat=r["lat"],
        lon=r["lon"],
        accuracy_m=r["accuracy_m"],
        altitude_m=r["altitude_m"],
        speed_mps=r["speed_mps"],
        bearing_deg=r["bearing_deg"],
        activity=None if r["activity"] is None else Activity(r["activity"]),
        battery=r["battery"],
    )


async def fixes_between(conn: Conn, start: datetime, end: datetime) -> list[Fix]:
    return [fix_from_row(r) for r in await conn.fetch(_q("fixes_between"), start, end)]


async def count_fixes(conn: Conn) -> int:
    n: int = await conn.fetchval(_q("count_fixes"))
    return n
