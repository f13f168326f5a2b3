"""The incremental pipeline's per-tester dirty range (``sql/pipeline.sql``)."""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from core.calibration import ConfidenceCalibration
from core.fixes import EARLIEST, LATEST
from store.locks import advisory_lock
from store.partition import Conn
from store.queries import queries


def _q(name: str) -> str:
    return queries("pipeline")[name]


async def due_users(conn: Conn, now: datetime, limit: int) -> list[tuple[uuid.UUID, str]]:
    rows = await conn.fetch(_q("due_users"), now, limit)
    return [(r["user_id"], r["role_name"]) for r in rows]


def _aware(at: datetime) -> datetime:
    """A stored bound as an aware time: -infinity and +infinity come back from asyncpg as naive
    ``datetime.min`` and ``datetime.max`` (a range queued before their bounds were clamped)."""
    if at.tzinfo is not None:
        return at
    return EARLIEST if at == datetime.min else LATEST


async def lock_dirty(conn: Conn, user_id: uuid.UUID, now: datetime) -> tuple[datetime, datetime] | None:
    """Claim the tester's pending range (inside a transaction); None if nothing is due or it is taken.

    A change to the tester's trips under way (an answer, a hide, an export, an erasure, retention)
    holds the tester (``store.coaching.hold_tester_queue``): None then too, and the step is left
    for the next round. The hold is taken first, as the change takes it before it queues a range:
    neither then waits for the other."""
    if not await conn.fetchval(_q("try_hold_tester"), user_id):
        return None
    row = await conn.fetchrow(_q("lock_dirty"), user_id, now)
    return None if row is None else (_aware(row["from_ts"]), _aware(row["to_ts"]))


async def finish_dirty(conn: Conn, user_id: uuid.UUID) -> None:
    await conn.execute(_q("finish_dirty"), user_id)


async def defer_dirty(conn: Conn, user_id: uuid.UUID, start: datetime, end: datetime, due: datetime) -> None:
    await conn.execute(_q("defer_dirty"), user_id, start, end, due)


async def retry_later(
    conn: Conn, user_id: uuid.UUID, now: datetime, first_delay_s: float, max_delay_s: float
) -> tuple[int, datetime] | None:
    """Put off a tester whose step failed: their failures in a row, and when they are due again
    (None if their range is gone)."""
    row = await conn.fetchrow(_q("retry_later"), user_id, now, first_delay_s, max_delay_s)
    return None if row is None else (row["failures"], row["due_at"])


async def shown_calibration(conn: Conn) -> tuple[str, float, float] | None:
    """The calibration every stored section was last mapped with, as (model version, slope,
    intercept); None: the model's own probabilities (migration 0029)."""
    row = await conn.fetchrow(_q("shown_calibration"))
    if row is None or row["model_version"] is None:
        return None
    return (row["model_version"], row["slope"], row["intercept"])


async def set_shown_calibration(conn: Conn, fitted: ConfidenceCalibration | None) -> None:
    """Record that every stored section is now mapped with ``fitted`` (None: none)."""
    if fitted is None:
        await conn.execute(_q("set_shown_calibration"), None, None, None)
    else:
        await conn.execute(_q("set_shown_calibration"), fitted.model_version, fitted.slope, fitted.intercept)


def recalibrate_lock(conn: Conn, *, wait: bool) -> AbstractAsyncContextManager[bool]:
    """The advisory lock held by one pass mapping every tester's sections at a time across processes
    (API workers, `sillage pipeline recalibrate`); yields whether it was taken (always, after
    waiting, with ``wait``)."""
    return advisory_lock(conn, "sillage.recalibrate", wait=wait)
