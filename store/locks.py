"""Session-level advisory locks that serialise a job across processes (``sql/locks.sql``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from store.partition import Conn
from store.queries import queries


def _q(name: str) -> str:
    return queries("locks")[name]


@asynccontextmanager
async def advisory_lock(conn: Conn, name: str, *, wait: bool) -> AsyncIterator[bool]:
    """The lock ``name`` for as long as the block runs, on ``conn``'s session; yields whether it was
    taken: always with ``wait`` (after waiting for it), else only if no other session holds it."""
    if wait:
        await conn.execute(_q("lock"), name)
        taken = True
    else:
        taken = bool(await conn.fetchval(_q("try_lock"), name))
    try:
        yield taken
    finally:
        if taken and not conn.is_closed():
            await conn.execute(_q("unlock"), name)
