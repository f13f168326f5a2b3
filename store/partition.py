"""Entering a tester's partition: a transaction running under the tester's own database role.

``SET LOCAL`` scopes the role and ``search_path`` to the transaction, so a pooled connection goes
back to the NOINHERIT ``sillage_app`` (which can read no partition) when the transaction ends,
whatever happened inside it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, NoReturn

import asyncpg
import msgspec
from asyncpg.connection import Connection
from asyncpg.pool import PoolConnectionProxy

from core.errors import Unauthorized

Conn = Connection | PoolConnectionProxy

ROLE_PATTERN = re.compile(r"^sillage_u_[0-9a-f]{32}$")


def checked_role(role: str) -> str:
    """The role name, if it is a tester role; it is interpolated as an identifier, so be strict."""
    if ROLE_PATTERN.match(role) is None:
        raise ValueError(f"not a tester role: {role!r}")
    return role


def tester_role(user_id: uuid.UUID) -> str:
    """The role (and schema) of the tester ``user_id`` (migration 0002's ``provision_user``)."""
    return f"sillage_u_{user_id.hex}"


class DeviceRefused(Exception):
    """``sillage.enter_device`` refused a device's credentials (unknown, revoked, or paused).

    The transaction was rolled back before anything ran under a tester's role. Why it refused is
    for the ordinary authentication path to say.
    """


class DeviceKey(msgspec.Struct, frozen=True, kw_only=True):
    """A device's presented credentials, checked by the database as the transaction opens.

    Entering a partition with a key instead of a role saves the authentication round trip on the
    ingestion hot path: ``sillage.enter_device`` (migration 0010) verifies the digest, revocation
    and pause, then switches the transaction to the tester's role and schema.
    """

    device_id: uuid.UUID
    secret_sha256: bytes


_REFUSED = "SLA01"  # the SQLSTATE sillage.enter_device raises


def _entry_sql(who: str | DeviceKey, dirty_us: tuple[int, int] | None = None) -> str:
    """The SQL text that switches a fresh transaction into a partition (interpolated, so strict)."""
    if isinstance(who, DeviceKey):
        digest = who.secret_sha256.hex()
        if len(digest) != 64:
            raise ValueError("a device key carries a SHA-256 digest")
        dirty = "" if dirty_us is None else f", {int(dirty_us[0])}, {int(dirty_us[1])}"
        return f"SELECT sillage.enter_device('{who.device_id}'::uuid, '\\x{digest}'::bytea{dirty})"
    if dirty_us is not None:
        raise ValueError("a reprocessing range travels with a device key only; use then=")
    r = checked_role(who)
    return f'SELECT {_kept_sql(r)}; SET LOCAL ROLE "{r}"; SET LOCAL search_path = "{r}", public'


# What a transaction in a partition holds until it ends, so that the tester's erasure waits for it
# (``store.rights.hold_against_entries`` takes the same key, exclusively): the erasure drops the
# role and the schema, and a request that entered before it then failed half way (a relation that
# no longer exists, a stream cut short). A transaction entering while the erasure runs waits for
# it, then finds the role gone: :data:`ACCOUNT_GONE`. Shared: entries never wait for each other.
# The key is the two-number form ('sillage.erase', the tester's id), as in migration 0030.
ACCOUNT_GONE = "this account no longer exists (it was erased)"


def _kept_sql(role: str) -> str:
    user_id = uuid.UUID(hex=checked_role(role)[len("sillage_u_") :])
    key = f"pg_catalog.hashtext('sillage.erase'), pg_catalog.hashtext('{user_id}')"
    return f"pg_catalog.pg_advisory_xact_lock_shared({key})"


def _gone(exc: asyncpg.PostgresError) -> bool:
    """The error of entering the partition of a tester erased meanwhile (their role is gone)."""
    text = str(exc)  # SET ROLE says 22023, other statements 42704
    return (
        isinstance(exc, asyncpg.InvalidParameterValueError | asyncpg.UndefinedObjectError)
        and 'role "sillage_u_' in text
        and text.endswith("does not exist")
    )


async def _raise_failed(conn: Conn, exc: asyncpg.PostgresError) -> NoReturn:
    """After a message that opened a partition transaction failed: roll back, and say why.

    Raises :class:`DeviceRefused` for a refused key, else ``exc`` itself.
    """
    if not conn.is_closed() and conn.is_in_transaction():
        await conn.execute("ROLLBACK")
    if exc.sqlstate == _REFUSED:
        raise DeviceRefused(str(exc)) from exc
    if _gone(exc):
        raise Unauthorized(ACCOUNT_GONE) from None  # no role name in the error's chain either
    raise exc


async def enter(conn: Conn, role: str) -> None:
    """Switch the current transaction to ``role`` and its schema; the tester's erasure waits until
    it ends (:data:`ACCOUNT_GONE` if they were erased meanwhile)."""
    try:
        await conn.execute(_entry_sql(role))
    except asyncpg.PostgresError as exc:
        if _gone(exc):
            raise Unauthorized(ACCOUNT_GONE) from None
        raise


async def exists(conn: Conn, role: str) -> bool:
    """Whether the tester's role is still there (not erased), from the catalogue."""
    there: bool = await conn.fetchval("SELECT to_regrole($1) IS NOT NULL", checked_role(role))
    return there


async def keep_tester(conn: Conn, role: str) -> None:
    """Inside a transaction that is not in the partition (or before its snapshot's first read, an
    export's): the tester's erasure waits until it ends; :data:`ACCOUNT_GONE` if they were erased
    before. The role is looked up after the lock, in the catalogue, which is not bound to the
    transaction's snapshot."""
    await conn.execute(f"SELECT {_kept_sql(role)}")
    if not await exists(conn, role):
        raise Unauthorized(ACCOUNT_GONE)


async def leave(conn: Conn) -> None:
    """Back to the login role and its search path after :func:`enter` (the transaction goes on, out
    of the partition)."""
    await conn.execute("RESET ROLE; RESET search_path")


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
    async with in_partition(conn, role, then=then):
        yield conn


@asynccontextmanager
async def in_partition(
    conn: Conn, who: str | DeviceKey, *, then: str = "", dirty_us: tuple[int, int] | None = None
) -> AsyncIterator[Conn]:
    """A top-level transaction in a partition, entered by role name or by a :class:`DeviceKey`.

    As :func:`as_user`, with BEGIN, the switch and ``then`` in one round trip. With a key, raises
    :class:`DeviceRefused` when the database refuses it (the transaction is then rolled back), and
    ``dirty_us`` (microseconds since 1970) widens the tester's reprocessing range in the same
    statement that checks the key.
    """
    if conn.is_in_transaction():
        raise RuntimeError("in_partition opens its own transaction; use as_user to nest")
    try:
        await conn.execute(f"BEGIN; {_entry_sql(who, dirty_us)}; {then}")
    except asyncpg.PostgresError as exc:
        await _raise_failed(conn, exc)
    try:
        yield conn
    except BaseException:
        if not conn.is_closed():
            await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")


async def copy_in_partition(
    conn: Conn,
    who: str | DeviceKey,
    *,
    copy_sql: str,
    types_sql: str,
    records: Iterable[Sequence[Any]],
    dirty_us: tuple[int, int] | None = None,
    then: str = "",
) -> None:
    """A whole partition transaction around a binary ``COPY ... FROM STDIN``, in one round trip.

    One simple-query message carries ``BEGIN``, the switch into ``who``'s partition (and with a
    key, the reprocessing range ``dirty_us``), ``then``, the ``COPY`` and ``COMMIT``; asyncpg
    streams the rows right behind it. On the ingestion hot path this replaces three round trips
    (BEGIN and the switch, the COPY, COMMIT) with one. ``types_sql`` is a table-free ``SELECT``
    whose result columns have the types of ``copy_sql``'s columns: asyncpg takes its binary
    encoders from it (prepared once per connection, before any switch, so it cannot name a
    tester's table). Any error, including a refused key (:class:`DeviceRefused`) and a unique
    violation, leaves nothing written: PostgreSQL skips the rest of the message, ignores the rows
    already sent, and the transaction is rolled back here.

    This uses asyncpg's ``Connection._prepare`` and ``Protocol.copy_in``, the calls its own
    ``copy_records_to_table`` makes, because that method builds the statement itself; asyncpg
    is pinned in ``constraints.txt`` and every ingestion test goes through here.
    """
    if conn.is_in_transaction():
        raise RuntimeError("copy_in_partition opens its own transaction")
    statements = ["BEGIN", _entry_sql(who, dirty_us), then, copy_sql, "COMMIT"]
    message = "; ".join(s for s in statements if s)
    internals: Any = conn  # not in asyncpg's type stubs (see above)
    types = await internals._prepare(types_sql, use_cache=True)
    try:
        await internals._protocol.copy_in(message, None, None, records, types._state, None)
    except asyncpg.PostgresError as exc:
        await _raise_failed(conn, exc)
