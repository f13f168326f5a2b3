"""The migrations runner: numbered SQL files applied in order, each in one transaction.

Files are ``infra/migrations/NNNN_name.sql``. Applied versions are recorded with the file's
SHA-256 in ``sillage.schema_migrations``; an applied file that changed afterwards is an error
rather than a silent divergence. A transaction-level advisory lock serialises concurrent runners.

A migration that changes every tester's partition only records a *partition step*; after the files,
the runner brings the testers up to date in batches of :data:`PARTITION_BATCH`, one transaction
each (``sillage.apply_partition_steps``, migration 0011), because one transaction over 100,000
partitions would need more locks than the cluster has. An interrupted run resumes where it
stopped on the next one.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import asyncpg
import msgspec

from core.errors import ConfigurationError
from store.health import require_timescaledb

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "infra" / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x5111A6E  # arbitrary, stable advisory-lock key
PARTITION_BATCH = 100  # testers per transaction: about 11 locks each, more with their fix chunks


class Migration(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    name: str
    sql: str
    sha256: str


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations in ``directory``, sorted; a number used twice is an error.

    Numbers may skip (work developed in parallel reserves its numbers); they apply in order.
    """
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if m is None:
            raise ConfigurationError(f"migration file name not understood: {path.name}")
        sql = path.read_text(encoding="utf-8")
        found.append(
            Migration(
                version=int(m.group(1)),
                name=m.group(2),
                sql=sql,
                sha256=hashlib.sha256(sql.encode()).hexdigest(),
            )
        )
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ConfigurationError(f"two migrations share a number: {versions}")
    return found


async def applied(conn: asyncpg.Connection) -> dict[int, str]:
    exists = await conn.fetchval("SELECT to_regclass('sillage.schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, sha256 FROM sillage.schema_migrations")
    return {r["version"]: r["sha256"] for r in rows}


async def migrate(
    conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR, *, partition_batch: int = PARTITION_BATCH
) -> list[Migration]:
    """Apply every pending migration, then the pending partition steps (``partition_batch``
    testers per transaction); returns the migrations applied now."""
    await require_timescaledb(conn)
    done: list[Migration] = []
    for mig in discover(directory):
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
            await conn.execute(
                "CREATE SCHEMA IF NOT EXISTS sillage;"
                " CREATE TABLE IF NOT EXISTS sillage.schema_migrations ("
                " version int PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            have = await applied(conn)
            if mig.version in have:
                if have[mig.version] != mig.sha256:
                    raise ConfigurationError(
                        f"migration {mig.version:04d}_{mig.name} was changed after being applied"
                    )
                continue
            await conn.execute(mig.sql)
            await conn.execute(
                "INSERT INTO sillage.schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
                mig.version,
                mig.name,
                mig.sha256,
            )
            done.append(mig)
    await apply_partition_steps(conn, partition_batch)
    return done


async def apply_partition_steps(conn: asyncpg.Connection, batch: int = PARTITION_BATCH) -> int:
    """Bring every tester's partition up to date with the recorded steps, ``batch`` testers per
    transaction; returns how many testers were updated (0 before migration 0011)."""
    if not await conn.fetchval(
        "SELECT to_regprocedure('sillage.apply_partition_steps(integer)') IS NOT NULL"
    ):
        return 0
    total = 0
    while True:
        async with conn.transaction():
            n: int = await conn.fetchval("SELECT sillage.apply_partition_steps($1)", batch)
        if n == 0:
            return total
        total += n
