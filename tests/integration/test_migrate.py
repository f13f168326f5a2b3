from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from core.errors import ConfigurationError, MissingExtension
from ingest.testers import ConsentChoice, create_campaign, enrol
from store.migrate import applied, discover, migrate
from store.rights import Actor
from store.testers import device
from tests.support.database import (
    ScratchDatabase,
    create_test_database,
    drop_test_database,
    mode_source_check,
    with_dbname,
)


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


async def test_an_upgrade_brings_existing_testers_partitions_up_to_date_in_batches(tmp_path: Path) -> None:
    db = await create_test_database()
    try:
        for mig in discover():
            if mig.version <= 10:  # the release before partition steps were spread in batches
                (tmp_path / f"{mig.version:04d}_{mig.name}.sql").write_text(mig.sql)
        admin = await asyncpg.connect(db.admin_url)
        app = await asyncpg.connect(db.app_url)
        try:
            await migrate(admin, tmp_path)
            campaign = await create_campaign(app, "upgrade", actor=Actor.operator("tests"))
            t0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
            roles = []
            for _ in range(3):
                e = await enrol(
                    app, campaign.invite_code, [ConsentChoice(purpose="coaching")], device_label="t", now=t0
                )
                row = await device(app, e.device_id)
                assert row is not None
                roles.append(row.role)
            await admin.executemany(
                f'INSERT INTO "{roles[0]}".fixes (ts, lat, lon, source) VALUES ($1, $2, $3, $4)',
                [(t0 + timedelta(seconds=10 * i), 46.1 + 0.001 * i, -1.15, "test") for i in range(30)],
            )
            await admin.execute(
                f'INSERT INTO "{roles[0]}".labels (started_at, ended_at, mode) VALUES ($1, $2, $3)',
                t0 + timedelta(seconds=50),
                t0 + timedelta(seconds=200),
                "bus",
            )

            applied_now = await migrate(admin, partition_batch=1)  # one tester per transaction

            assert [m.version for m in applied_now] == [m.version for m in discover() if m.version > 10]
            positions = await admin.fetch("SELECT role_name, position FROM sillage.partition_state")
            top = await admin.fetchval("SELECT max(position) FROM sillage.partition_steps")
            assert {r["role_name"]: r["position"] for r in positions} == dict.fromkeys(roles, top)
            ends = await admin.fetchrow(f'SELECT start_lat, end_lat FROM "{roles[0]}".labels')
            assert ends is not None
            assert (ends["start_lat"], ends["end_lat"]) == (pytest.approx(46.105), pytest.approx(46.120))
            for role in roles:
                assert "'history'" in await mode_source_check(admin, role)
        finally:
            await app.close()
            await admin.close()
    finally:
        await drop_test_database(db)
