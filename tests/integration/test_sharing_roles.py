"""The mobility team's database role reads the released tables and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from store import sharing as db
from tests.support.sharing import new_tester


async def _as_team(conn: asyncpg.Connection, sql: str) -> object:
    async with conn.transaction():
        await conn.execute("SET LOCAL ROLE sillage_team")
        return await conn.fetch(sql)


async def test_team_reads_released_tables(app_conn: asyncpg.Connection) -> None:
    assert await _as_team(app_conn, "SELECT count(*) FROM released.cells") is not None


async def test_team_cannot_read_a_personal_partition(app_conn: asyncpg.Connection, invite_code: str) -> None:
    t = await new_tester(app_conn, invite_code, share=True, at=datetime.now(UTC))
    for table in ("fixes", "trips", "sections"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await _as_team(app_conn, f'SELECT * FROM "{t.role}".{table}')


@pytest.mark.parametrize(
    "table",
    [
        "users",
        "consents",
        "consent_events",
        "devices",
        "privacy_ledger",
        "team_accounts",
        "team_sessions",
        "login_throttle",
    ],
)
async def test_team_cannot_read_sillage_tables(app_conn: asyncpg.Connection, table: str) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await _as_team(app_conn, f"SELECT * FROM sillage.{table}")


async def test_team_cannot_write_released_tables(app_conn: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await _as_team(app_conn, "DELETE FROM released.cells")


async def test_team_role_does_not_outlive_its_transaction(app_conn: asyncpg.Connection) -> None:
    async with db.as_team(app_conn, None):
        assert await app_conn.fetchval("SELECT current_user") == "sillage_team"
    assert await app_conn.fetchval("SELECT current_user") == "sillage_app"
