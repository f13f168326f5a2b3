"""A throw-away database per test session on the project cluster.

The superuser (reachable only through the cluster's private socket) creates
``sillage_test_<random>`` with TimescaleDB; migrations run as ``sillage_admin`` like production.
Teardown drops the database and every per-user role created in it, so concurrent sessions and
repeated runs never see each other's objects.
"""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec


class ScratchDatabase(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    app_url: str
    admin_url: str
    superuser_url: str


def with_dbname(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def required_env(key: str) -> str:
    value = os.environ.get(key)
    if not value:
        raise RuntimeError(f"{key} is not set: run the tests through `make test` (infra/db.sh exec)")
    return value


async def create_test_database() -> ScratchDatabase:
    su = required_env("SILLAGE_SUPERUSER_DATABASE_URL")
    name = "sillage_test_" + secrets.token_hex(4)
    conn = await asyncpg.connect(with_dbname(su, "postgres"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" OWNER sillage_admin')
    finally:
        await conn.close()
    conn = await asyncpg.connect(with_dbname(su, name))
    try:
        await conn.execute("CREATE EXTENSION timescaledb")
    finally:
        await conn.close()
    return ScratchDatabase(
        name=name,
        app_url=with_dbname(required_env("SILLAGE_DATABASE_URL"), name),
        admin_url=with_dbname(required_env("SILLAGE_ADMIN_DATABASE_URL"), name),
        superuser_url=with_dbname(su, name),
    )


async def drop_test_database(db: ScratchDatabase) -> None:
    conn = await asyncpg.connect(with_dbname(db.superuser_url, "postgres"))
    try:
        # Per-user roles are cluster-wide: collect the ones this database created before dropping it.
        roles = await _user_roles(db)
        await conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
        for role in roles:
            await conn.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await conn.close()


async def _user_roles(db: ScratchDatabase) -> list[str]:
    conn = await asyncpg.connect(db.superuser_url)
    try:
        exists = await conn.fetchval("SELECT to_regclass('sillage.users') IS NOT NULL")
        if not exists:
            return []
        return [r["role_name"] for r in await conn.fetch("SELECT role_name FROM sillage.users")]
    finally:
        await conn.close()


async def mode_source_check(conn: asyncpg.Connection, role: str) -> str:
    """The definition of the check on ``mode_source`` of a tester's ``sections`` table."""
    check: str = await conn.fetchval(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conname = 'sections_mode_source_check' AND conrelid = $1::regclass",
        f'"{role}".sections',
    )
    return check
