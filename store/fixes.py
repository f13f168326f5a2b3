"""A tester's fixes (``sql/partition/fixes.sql``).

Call these inside :func:`store.partition.as_user`, except :func:`append_fixes`, which is a whole
transaction of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from asyncpg import Record

from core.fixes import EARLIEST, LATEST, Activity, Fix
from store.partition import Conn, DeviceKey, copy_in_partition
from store.queries import queries

# The columns a batch fills; ``received_at`` takes its default. Unqualified ``fixes`` is the
# tester's own table through the ``search_path`` that :func:`as_user` sets, which also keeps the
# text of asyncpg's column-type probe the same for every tester (one cached statement per
# connection instead of one per tester).
COPY_COLUMNS = (
    "ts",
    "lat",
    "lon",
    "accuracy_m",
    "altitude_m",
    "speed_mps",
    "bearing_deg",
    "activity",
    "battery",
    "source",
)
# Their SQL types, in the same order (a test compares them with the table): binary COPY needs
# each value encoded as exactly its column's type.
COPY_TYPES = ("timestamptz", "float8", "float8", "real", "real", "real", "real", "text", "real", "text")
_COPY_SQL = f"COPY fixes ({', '.join(COPY_COLUMNS)}) FROM STDIN (FORMAT binary)"
_COPY_TYPES_SQL = "SELECT " + ", ".join(f"NULL::{t}" for t in COPY_TYPES)


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


async def append_fixes(conn: Conn, who: str | DeviceKey, fixes: Sequence[Fix], source: str) -> bool:
    """Store a batch of fixes none of which is stored yet, in one transaction in ``who``'s partition.

    Binary ``COPY`` into the tester's table, with their reprocessing range widened in the same
    transaction: about half the database work of :func:`insert_fixes`, which must check every row
    for a conflict. If a timestamp is already stored (a retried upload) or repeated within
    ``fixes``, the unique index refuses the COPY, the transaction rolls back with nothing
    written, and this returns False: the caller then stores the batch with :func:`insert_fixes`,
    which sorts new fixes from duplicates. True means every fix was stored. ``who`` is a role
    name or a :class:`~store.partition.DeviceKey` (then :class:`~store.partition.DeviceRefused`
    may be raised, with nothing written).
    """
    if not fixes:
        return True
    records = [
        (
            f.ts,
            f.lat,
            f.lon,
            f.accuracy_m,
            f.altitude_m,
            f.speed_mps,
            f.bearing_deg,
            None if f.activity is None else f.activity.value,
            f.battery,
            source,
        )
        for f in fixes
    ]
    stamps = [f.ts for f in fixes]
    dirty_us = _us(min(stamps)), _us(max(stamps))
    marking: dict[str, Any] = (
        {"dirty_us": dirty_us} if isinstance(who, DeviceKey) else {"then": _mark_my_dirty_sql(*dirty_us)}
    )
    try:
        await copy_in_partition(
            conn, who, copy_sql=_COPY_SQL, types_sql=_COPY_TYPES_SQL, records=records, **marking
        )
    except asyncpg.UniqueViolationError:
        return False
    return True


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _us(t: datetime) -> int:
    """Microseconds since 1970, exact."""
    return (t - _EPOCH) // _MICROSECOND


def _mark_my_dirty_sql(start_us: int, end_us: int) -> str:
    """``mark_my_dirty`` as literal SQL, to ride in the round trip that opens the transaction.

    Only integers (microseconds since 1970) are interpolated.
    """
    return (
        queries("partition/fixes")["mark_my_dirty_us"]
        .replace("$1", str(int(start_us)))
        .replace("$2", str(int(end_us)))
    )


async def mark_my_dirty(conn: Conn, start: datetime, end: datetime) -> None:
    """Queue [start, end] of the current tester for reprocessing, in the same transaction."""
    # A range reaching beyond the times fixes can have is queued as its part within.
    start, end = max(start, EARLIEST), min(end, LATEST)
    await conn.execute(_q("mark_my_dirty"), start, max(start, end))


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
