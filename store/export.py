"""Reading everything held about one tester, in pieces, for their export.

The export is generic over the layout: the tables of the tester's partition, and the shared
tables with a foreign key to ``sillage.users``, are enumerated from the catalogue (``sql/rights.sql``,
``sql/partition/rights.sql``), so a table another feature adds is exported without changing this
module. Each table is read through a server-side cursor as ready-made CSV lines (formatted by
PostgreSQL, so Python only joins text), a few thousand rows at a time: memory stays flat whatever
the number of fixes. Everything is read in one REPEATABLE READ, READ ONLY transaction, so the files
of one export are one consistent snapshot.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import msgspec

from store.partition import Conn, enter
from store.queries import queries

# Columns never exported, whatever table they are in: token digests and other credentials.
SECRET_COLUMN = re.compile(r"secret|sha256|hash|token|password|salt", re.IGNORECASE)
ISO_UTC = '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\''


def _q(name: str) -> str:
    return queries("rights")[name]


def _p(name: str) -> str:
    return queries("partition/rights")[name]


class Column(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: str  # PostgreSQL's format_type, e.g. "timestamp with time zone"
    category: str  # pg_type.typcategory: N numeric, B boolean, D date/time, S string, U user...
    comment: str | None = None


class Relation(msgspec.Struct, frozen=True, kw_only=True):
    """A table to export; ``user_column`` filters a shared table to the tester's rows."""

    schema: str
    name: str
    columns: tuple[Column, ...]
    order_by: tuple[str, ...] = ()
    comment: str | None = None
    user_column: str | None = None
    shares_table: bool = False  # another relation reads the same table by another user column


class Account(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    campaign: str
    enrolled_at: datetime
    paused_at: datetime | None
    fixes_retention_days: int | None
    trips_retention_days: int | None


def quote_ident(name: str) -> str:
    """An SQL identifier, quoted (names come from the catalogue, never from a request)."""
    return '"' + name.replace('"', '""') + '"'


def csv_header(columns: tuple[Column, ...]) -> str:
    return ",".join(_csv_text(c.name) for c in columns)


def _csv_text(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if re.search(r'[",\r\n]', value) else value


def _cell(column: Column) -> str:
    """An SQL expression giving the CSV cell of ``column`` (NULL for an SQL NULL)."""
    ident = quote_ident(column.name)
    if column.type == "timestamp with time zone":
        return f"to_char({ident} AT TIME ZONE 'UTC', {ISO_UTC})"
    if column.category == "N":
        return f"{ident}::text"
    if column.category == "B":
        return f"CASE WHEN {ident} THEN 'true' ELSE 'false' END"
    if column.category == "A":  # an array, as JSON (a section's kinematics: [0.27, 1.3, ...])
        return f"'\"' || replace(to_jsonb({ident})::text, '\"', '\"\"') || '\"'"
    return f"'\"' || replace({ident}::text, '\"', '\"\"') || '\"'"


def csv_select(rel: Relation) -> str:
    """One text column per row: the row as a CSV line (RFC 4180; NULL is an empty cell, text is
    always quoted, so an empty string is ``""``). ``$1`` is the user id for a shared table."""
    line = " || ',' || ".join(f"coalesce({_cell(c)}, '')" for c in rel.columns)
    # Identifiers come from the catalogue (never from a request) and are quoted.
    sql = f"SELECT {line} FROM {quote_ident(rel.schema)}.{quote_ident(rel.name)}"  # noqa: S608
    if rel.user_column is not None:
        sql += f" WHERE {quote_ident(rel.user_column)} = $1"
    if rel.order_by:
        sql += " ORDER BY " + ", ".join(quote_ident(c) for c in rel.order_by)
    return sql


@asynccontextmanager
async def snapshot(conn: Conn) -> AsyncIterator[Conn]:
    """One consistent, read-only view of the database for the whole export."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        yield conn


async def enter_partition(conn: Conn, role: str) -> None:
    """Continue the snapshot's transaction as the tester (after the shared reads)."""
    await enter(conn, role)


async def account(conn: Conn, user_id: uuid.UUID) -> Account | None:
    r = await conn.fetchrow(_q("account"), user_id)
    if r is None:
        return None
    return Account(
        user_id=r["id"],
        campaign=r["campaign"],
        enrolled_at=r["created_at"],
        paused_at=r["paused_at"],
        fixes_retention_days=r["fixes_retention_days"],
        trips_retention_days=r["trips_retention_days"],
    )


async def _columns(conn: Conn, oid: int) -> list[Column]:
    rows = await conn.fetch(_q("relation_columns"), oid)
    return [
        Column(name=r["name"], type=r["type"], category=r["category"], comment=r["comment"])
        for r in rows
        if not SECRET_COLUMN.search(r["name"]) and r["type"] != "bytea"
    ]


async def _key(conn: Conn, oid: int) -> tuple[str, ...]:
    cols: list[str] | None = await conn.fetchval(_q("relation_key"), oid)
    return tuple(cols or ())


async def shared_relations(conn: Conn) -> list[Relation]:
    """The shared tables holding rows about a tester (read as the API's login)."""
    out = []
    for r in await conn.fetch(_q("shared_relations")):
        others = set(r["user_columns"]) - {r["user_column"]}
        columns = [c for c in await _columns(conn, r["oid"]) if c.name not in others]
        key = tuple(c for c in await _key(conn, r["oid"]) if any(col.name == c for col in columns))
        out.append(
            Relation(
                schema=r["schema"],
                name=r["name"],
                columns=tuple(columns),
                order_by=key,
                comment=r["comment"],
                user_column=r["user_column"],
                shares_table=bool(others),
            )
        )
    return out


async def partition_relations(conn: Conn) -> list[Relation]:
    """The tables of the current tester's partition (call after :func:`enter_partition`)."""
    out = []
    for r in await conn.fetch(_p("partition_relations")):
        columns = await _columns(conn, r["oid"])
        out.append(
            Relation(
                schema=r["schema"],
                name=r["name"],
                columns=tuple(columns),
                order_by=await _key(conn, r["oid"]),
                comment=r["comment"],
            )
        )
    return out


async def lines(conn: Conn, sql: str, *args: object, batch_rows: int = 5000) -> AsyncIterator[list[str]]:
    """The first column of each row of ``sql``, ``batch_rows`` at a time, through a server-side
    cursor (inside the snapshot's transaction)."""
    cursor = await conn.cursor(sql, *args)
    while True:
        rows = await cursor.fetch(batch_rows)
        if not rows:
            return
        yield [r[0] for r in rows]


async def relation_lines(conn: Conn, rel: Relation, user_id: uuid.UUID) -> AsyncIterator[list[str]]:
    """The rows of ``rel`` as CSV lines (the tester's rows only, for a shared table)."""
    args: tuple[object, ...] = (user_id,) if rel.user_column is not None else ()
    async for batch in lines(conn, csv_select(rel), *args):
        yield batch


AUDIT_RELATION = Relation(
    schema="sillage",
    name="audit_log",
    comment="What was done with your account and data, and when (the operator's log, about you)",
    columns=(
        Column(name="id", type="bigint", category="N"),
        Column(name="at", type="timestamp with time zone", category="D"),
        Column(name="actor_kind", type="text", category="S"),
        Column(name="action", type="text", category="S"),
        Column(name="detail", type="jsonb", category="U"),
    ),
)


async def audit_lines(conn: Conn, user_id: uuid.UUID) -> AsyncIterator[list[str]]:
    """The audit entries about the tester, as CSV lines (the table itself is not readable)."""
    cells = " || ',' || ".join(f"coalesce({_cell(c)}, '')" for c in AUDIT_RELATION.columns)
    sql = f"SELECT {cells} FROM ({_q('audit_about')}) a"  # noqa: S608  (fixed columns)
    async for batch in lines(conn, sql, user_id):
        yield batch


async def partition_query_lines(conn: Conn, name: str) -> AsyncIterator[list[str]]:
    """A named query of ``sql/partition/rights.sql`` that yields one text per row (GeoJSON, GPX)."""
    async for batch in lines(conn, _p(name)):
        yield batch
