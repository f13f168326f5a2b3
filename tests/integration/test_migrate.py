from pathlib import Path

import asyncpg
import pytest

from core.errors import ConfigurationError, MissingExtension
from store.migrate import applied, discover, migrate
from tests.support.database import ScratchDatabase, with_dbname


async def test_the_session_database_is_fully_migrated(admin_conn: asyncpg.Connection) -> None:
    have = await applied(admin_conn)
    assert sorted(have) == [m.version for m in discover()]


async def test_migrating_again_applies_nothing(admin_conn: asyncpg.Connection) -> None:
    assert await migrate(admin_conn) == []


async def test_an_applied_migration_that_changed_is_refused(
    admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    for mig in discover():
        (tmp_path / f"{mig.version:04d}_{mig.name}.sql").write_text(mig.sql)
    first = sorted(tmp_path.iterdir())[0]
    first.write_text(first.read_text() + "\n-- edited after release\n")
    with pytest.raises(ConfigurationError, match="changed after being applied"):
        await migrate(admin_conn, tmp_path)


async def test_a_database_without_timescaledb_is_refused(test_db: ScratchDatabase) -> None:
    su = await asyncpg.connect(with_dbname(test_db.superuser_url, "postgres"))
    name = test_db.name + "_plain"
    await su.execute(f'CREATE DATABASE "{name}" OWNER sillage_admin')
    try:
        conn = await asyncpg.connect(with_dbname(test_db.admin_url, name))
        try:
            with pytest.raises(MissingExtension, match="CREATE EXTENSION timescaledb"):
                await migrate(conn)
            assert await applied(conn) == {}
        finally:
            await conn.close()
    finally:
        await su.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await su.close()
