"""Server and extension versions, for ``/health`` and the migration pre-flight check."""

from __future__ import annotations

import asyncpg
import msgspec

from core.errors import MissingExtension


class ServerInfo(msgspec.Struct, frozen=True, kw_only=True):
    postgresql: str
    timescaledb: str | None
    # The newest migration applied; None when the runner never ran (or this login may not see it).
    schema: int | None = None


async def server_info(conn: asyncpg.Connection) -> ServerInfo:
    row = await conn.fetchrow(
        "SELECT current_setting('server_version') AS pg,"
        " (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS ts,"
        " coalesce(has_table_privilege(to_regclass('sillage.schema_migrations'), 'SELECT'), false)"
        " AS readable"
    )
    assert row is not None
    # The table is named only once it is known to exist and be readable (else the query fails).
    schema = (
        await conn.fetchval("SELECT max(version) FROM sillage.schema_migrations") if row["readable"] else None
    )
    return ServerInfo(postgresql=row["pg"], timescaledb=row["ts"], schema=schema)


async def require_timescaledb(conn: asyncpg.Connection) -> ServerInfo:
    """The server info, or MissingExtension: Sillage never runs on plain PostgreSQL."""
    info = await server_info(conn)
    if info.timescaledb is None:
        raise MissingExtension(
            "the database has no 'timescaledb' extension; a superuser must run"
            " CREATE EXTENSION timescaledb (and preload it with shared_preload_libraries)"
        )
    return info
