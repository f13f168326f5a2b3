"""Entering a partition with a device key (``sillage.enter_device``) and the pool's reset skip."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from core import tokens
from core.fixes import Fix
from ingest.testers import ConsentChoice, enrol
from store import fixes as fixes_db
from store.partition import DeviceKey, DeviceRefused, in_partition
from store.pool import Database
from tests.support.database import ScratchDatabase

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


async def _device(conn: asyncpg.Connection, invite_code: str) -> tuple[DeviceKey, str]:
    e = await enrol(conn, invite_code, [ConsentChoice(purpose="coaching")], device_label="t", now=T0)
    parsed = tokens.parse(e.token)
    assert parsed is not None
    key = DeviceKey(device_id=parsed.device_id, secret_sha256=tokens.digest(parsed.secret))
    return key, f"sillage_u_{e.user_id.hex}"


async def test_a_valid_key_enters_the_testers_role_and_schema_for_the_transaction_only(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    key, role = await _device(app_conn, invite_code)
    async with in_partition(app_conn, key):
        assert await app_conn.fetchval("SELECT current_user") == role
        assert await app_conn.fetchval("SHOW search_path") == f"{role}, public"
        await fixes_db.insert_fixes(app_conn, [Fix(ts=T0, lat=46.1, lon=-1.1)], "test")
    assert await app_conn.fetchval("SELECT current_user") == "sillage_app"
    async with in_partition(app_conn, role):
        assert await app_conn.fetchval("SELECT count(*) FROM fixes") == 1


async def test_a_key_can_widen_the_reprocessing_range_in_the_same_statement(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    key, role = await _device(app_conn, invite_code)
    user_id = uuid.UUID(role.removeprefix("sillage_u_"))
    us = 1_780_000_000_000_001  # a microsecond-exact instant in 2026
    for lo, hi in ((us, us + 10), (us - 5, us + 3), (us + 2, us + 20)):
        async with in_partition(app_conn, key, dirty_us=(lo, hi)):
            pass
    row = await app_conn.fetchrow(
        "SELECT from_ts, to_ts FROM sillage.pipeline_dirty WHERE user_id = $1", user_id
    )
    assert row is not None
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert (row["from_ts"], row["to_ts"]) == (
        epoch + timedelta(microseconds=us - 5),
        epoch + timedelta(microseconds=us + 20),
    )
    with pytest.raises(ValueError, match="device key"):
        async with in_partition(app_conn, role, dirty_us=(us, us)):
            pass


@pytest.mark.parametrize("what", ["wrong secret", "unknown device", "revoked", "paused"])
async def test_a_refused_key_runs_nothing_as_the_tester(
    app_conn: asyncpg.Connection, invite_code: str, owner_conn: asyncpg.Connection, what: str
) -> None:
    key, role = await _device(app_conn, invite_code)
    if what == "wrong secret":
        key = DeviceKey(device_id=key.device_id, secret_sha256=tokens.digest("not the secret"))
    elif what == "unknown device":
        key = DeviceKey(device_id=uuid.uuid4(), secret_sha256=key.secret_sha256)
    elif what == "revoked":
        await owner_conn.execute("UPDATE sillage.devices SET revoked_at = now() WHERE id = $1", key.device_id)
    else:
        await owner_conn.execute("UPDATE sillage.users SET paused_at = now() WHERE role_name = $1", role)
    dirty_us = (int(T0.timestamp() * 1e6), int((T0 + timedelta(seconds=5)).timestamp() * 1e6))
    with pytest.raises(DeviceRefused):
        async with in_partition(app_conn, key, dirty_us=dirty_us):
            pytest.fail("the block must not run")
    assert not app_conn.is_in_transaction()
    assert await app_conn.fetchval("SELECT current_user") == "sillage_app"
    dirty = await owner_conn.fetchval(
        "SELECT count(*) FROM sillage.pipeline_dirty WHERE user_id = sillage.role_user_id($1)", role
    )
    assert dirty == 0


async def test_the_key_is_interpolated_only_from_checked_values(app_conn: asyncpg.Connection) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        async with in_partition(app_conn, DeviceKey(device_id=uuid.uuid4(), secret_sha256=b"'; DROP")):
            pass
    assert not app_conn.is_in_transaction()


async def test_a_release_skips_the_reset_only_when_the_session_was_declared_unchanged(
    test_db: ScratchDatabase,
) -> None:
    db = Database(test_db.app_url, min_size=1, max_size=1)
    try:
        async with db.connection() as conn:
            await conn.execute("SET application_name = 'left behind'")
        async with db.connection() as conn:  # the ordinary release reset it
            assert await conn.fetchval("SHOW application_name") != "left behind"
            await conn.execute("SET application_name = 'declared unchanged'")
            db.session_unchanged(conn)
        async with db.connection() as conn:  # the one connection, not reset this time
            assert await conn.fetchval("SHOW application_name") == "declared unchanged"
        async with db.connection() as conn:  # the declaration lasts one release only
            assert await conn.fetchval("SHOW application_name") != "declared unchanged"
    finally:
        await db.close()


async def test_a_refused_key_in_the_one_round_trip_copy_writes_nothing(
    app_conn: asyncpg.Connection, invite_code: str, owner_conn: asyncpg.Connection
) -> None:
    key, role = await _device(app_conn, invite_code)
    fixes = [Fix(ts=T0 + timedelta(seconds=i), lat=46.1, lon=-1.1) for i in range(50)]
    forged = DeviceKey(device_id=key.device_id, secret_sha256=tokens.digest("forged"))
    with pytest.raises(DeviceRefused):
        await fixes_db.append_fixes(app_conn, forged, fixes, "test")
    assert not app_conn.is_in_transaction()
    assert await app_conn.fetchval("SELECT current_user") == "sillage_app"
    # the same connection goes on working, and the genuine key stores the batch
    assert await fixes_db.append_fixes(app_conn, key, fixes, "test")
    assert not app_conn.is_in_transaction()
    async with in_partition(app_conn, role):
        assert await app_conn.fetchval("SELECT count(*) FROM fixes") == 50
    dirty = await owner_conn.fetchrow(
        "SELECT from_ts, to_ts FROM sillage.pipeline_dirty WHERE user_id = sillage.role_user_id($1)", role
    )
    assert dirty is not None
    assert (dirty["from_ts"], dirty["to_ts"]) == (T0, T0 + timedelta(seconds=49))
