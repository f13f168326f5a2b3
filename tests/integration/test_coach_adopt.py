"""Adopting an emission-factor registry version reprices every tester, each with their own profile."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pytest

from api.cli import build_parser
from core.co2 import DEFAULT_VERSION, Mode
from core.errors import NotFound
from ingest.calibration import recalibrate
from ingest.coaching import adopt, adopted_version
from store import coaching as coaching_db
from store.partition import as_user
from store.rights import Actor
from tests.api.test_coach import MONDAY, Leg, role_of, store_legs
from tests.support.testers import enrol


async def _section(conn: asyncpg.Connection, role: str) -> asyncpg.Record:
    async with as_user(conn, role):
        row = await conn.fetchrow("SELECT co2_kg, co2_factor, co2_registry FROM sections")
    assert row is not None
    return row


async def test_an_unknown_version_is_refused_and_nothing_is_recorded(app_conn: asyncpg.Connection) -> None:
    before = await adopted_version(app_conn)
    with pytest.raises(NotFound):
        await adopt(app_conn, "impactco2-1999-01", actor=Actor.operator("tests"))
    assert await adopted_version(app_conn) == before


async def test_adopting_records_the_version_and_reprices_with_each_profile(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    solo, electric = await enrol(http, invite_code), await enrol(http, invite_code)
    for t in (solo, electric):
        await store_legs(app_conn, t, [Leg(start=MONDAY + timedelta(days=30), mode=Mode.CAR, km=10)])
        async with as_user(app_conn, await role_of(app_conn, t)):
            await app_conn.execute("UPDATE sections SET co2_kg = 99, co2_registry = 'impactco2-2000-01'")
    async with as_user(app_conn, await role_of(app_conn, electric)):
        await app_conn.execute("""INSERT INTO profile (vehicle) VALUES ('{"car_energy": "electric"}')""")

    done = await adopt(app_conn, DEFAULT_VERSION, actor=Actor.operator("tests"))

    assert done.testers >= 2
    assert await adopted_version(app_conn) == DEFAULT_VERSION
    s = await _section(app_conn, await role_of(app_conn, solo))
    assert (s["co2_kg"], s["co2_factor"], s["co2_registry"]) == (
        pytest.approx(1.4225),
        "car_thermal",
        DEFAULT_VERSION,
    )
    e = await _section(app_conn, await role_of(app_conn, electric))
    assert (e["co2_kg"], e["co2_factor"]) == (pytest.approx(0.6737), "car_electric")


def test_the_cli_knows_the_adopt_command() -> None:
    args = build_parser().parse_args(["co2", "adopt", DEFAULT_VERSION])
    assert args.version == DEFAULT_VERSION
    assert args.func.__name__ == "cmd_adopt"


async def test_an_adoption_is_audited_with_its_operator_and_version(
    app_conn: asyncpg.Connection, admin_conn: asyncpg.Connection
) -> None:
    await adopt(app_conn, DEFAULT_VERSION, actor=Actor.operator("alice"))
    row = await admin_conn.fetchrow(
        "SELECT actor_kind, actor, detail FROM sillage.audit_log WHERE action = 'registry.adopt'"
        " ORDER BY id DESC LIMIT 1"
    )
    assert row is not None
    assert (row["actor_kind"], row["actor"]) == ("operator", "alice")
    assert DEFAULT_VERSION in row["detail"]


@pytest.mark.parametrize("job", ["adopt", "recalibrate"])
async def test_a_tester_erased_during_a_pass_over_everyone_is_passed_over(
    http: httpx.AsyncClient,
    invite_code: str,
    app_conn: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
    job: str,
) -> None:
    # Adopting a registry and mapping the shown probabilities list every tester, then enter each
    # one's partition: one erased in between stopped the pass (the app's own recalibration at
    # start-up included), and the testers after them kept the old figures.
    gone = await enrol(http, invite_code)
    listed = await coaching_db.all_testers(app_conn)
    assert (await http.delete("/v1/me", headers=gone.auth)).status_code == 200

    async def as_listed_before(conn: object) -> list[coaching_db.Tester]:
        return listed

    monkeypatch.setattr(coaching_db, "all_testers", as_listed_before)
    if job == "adopt":
        done = await adopt(app_conn, DEFAULT_VERSION, actor=Actor.operator("tests"))
        assert done.testers == len(listed)  # listed; the erased one priced nothing
    else:
        mapped = await recalibrate(app_conn, None)
        assert mapped.testers == len(listed) - 1
