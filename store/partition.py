"""Entering a tester's partition: a transaction running under the tester's own database role.

``SET LOCAL`` scopes the role and ``search_path`` to the transaction, so a pooled connection goes
back to the NOINHERIT ``sillage_app`` (which can read no partition) when the transaction ends,
whatever happened inside it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asyncpg.connection import Connection
from asyncpg.pool import PoolConnectionProxy

Conn = Connection | PoolConnectionProxy

ROLE_PATTERN = re.compile(r"^sillage_u_[0-9a-f]{32}$")


def checked_role(role: str) -> str:
    """The role name, if it is a tester role; it is interpolated as an identifier, so be strict."""
    if ROLE_PATTERN.match(role) is None:
        raise ValueError(f"not a tester role: {role!r}")
    return role


async def enter(conn: Conn, role: str) -> None:
    """Switch the current transaction to ``role`` and its schema."""
    r = checked_role(role)
    await conn.execute(f'SET LOCAL ROLE "{r}"; SET LOCAL search_path = "{r}", public')


@asynccontextmanager
async def as_user(conn: Conn, role: str, *, then: str = "") -> AsyncIterator[Conn]:
    """A transaction in the tester's partition; committed at the end, rolled back on error.

    BEGIN and the role switch travel in one round trip (this runs on every upload); ``then``, SQL
    text without parameters, runs under the role in that same round trip. It is interpolated, so
    it must be built by the store from values that cannot carry SQL (numbers, checked names).
    Inside an already open transaction it nests as a savepoint instead.
    """
    if conn.is_in_transaction():
        # A savepoint: SET LOCAL would outlive it, so the caller's role and path are put back.
        row = await conn.fetchrow("SELECT current_user AS r, current_setting('search_path') AS p")
        assert row is not None
        async with conn.transaction():
            await enter(conn, role)
            if then:
                await conn.execute(then)
            yield conn
        restore = "RESET ROLE" if row["r"] == await conn.fetchval("SELECT session_user") else None
        if restore is None:
            await enter(conn, checked_role(row["r"]))
        else:
            await conn.execute(restore)
            await conn.execute("SELECT set_config('search_path', $1, true)", row["p"])
        return
    r = checked_role(role)
    await conn.execute(f'BEGIN; SET LOCAL ROLE "{r}"; SET LOCAL search_path = "{r}", public; {then}')
    try:
        yield conn
    except BaseException:
        if not conn.is_closed():
            await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")
