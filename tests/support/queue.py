"""The pipeline's queue (``sillage.pipeline_dirty``) put back as it was after a test: the test
database is shared by the session's tests, and some tests queue or clear other testers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


@asynccontextmanager
async def queue_put_back(conn: asyncpg.Connection, *, cleared: bool = False) -> AsyncIterator[None]:
    """Inside, the queue as it is (``cleared`` False) or empty (True); after, as it was before."""
    before = await conn.fetch("SELECT * FROM sillage.pipeline_dirty")
    if cleared:
        await conn.execute("DELETE FROM sillage.pipeline_dirty")
    try:
        yield
    finally:
        async with conn.transaction():
            await conn.execute("DELETE FROM sillage.pipeline_dirty")
            await conn.executemany(
                "INSERT INTO sillage.pipeline_dirty (user_id, from_ts, to_ts, updated_at, due_at, failures)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                [
                    (r["user_id"], r["from_ts"], r["to_ts"], r["updated_at"], r["due_at"], r["failures"])
                    for r in before
                ],
            )
