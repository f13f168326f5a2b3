"""The operator commands ``sillage team add`` and ``sillage share release``."""

from __future__ import annotations

import asyncpg
import httpx

from store import sharing as db
from tests.support.cli import sillage
from tests.support.database import ScratchDatabase


async def test_team_add_stores_an_argon2_hash(test_db: ScratchDatabase, app_conn: asyncpg.Connection) -> None:
    r = sillage(
        test_db,
        "team",
        "add",
        "Mobilite@Agglo.example",
        "--role",
        "analyst",
        "--password-stdin",
        stdin="a long enough secret\n",
    )
    assert r.returncode == 0, r.stderr
    account = await db.team_account(app_conn, "mobilite@agglo.example")
    assert account is not None
    assert account.password_hash.startswith("$argon2id$")


def test_team_add_refuses_a_short_password(test_db: ScratchDatabase) -> None:
    r = sillage(
        test_db, "team", "add", "x@agglo.example", "--role", "admin", "--password-stdin", stdin="short\n"
    )
    assert r.returncode == 2
    assert "at least 12 characters" in r.stderr


def test_release_without_enough_sharing_testers_is_refused(test_db: ScratchDatabase) -> None:
    r = sillage(test_db, "share", "release", "--period", "week", "--at", "2020-01-08")
    assert r.returncode == 2
    assert "fewer than k=10" in r.stderr


async def test_static_assets_carry_security_headers(http: httpx.AsyncClient) -> None:
    r = await http.get("/dashboard/static/dashboard.js")
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
