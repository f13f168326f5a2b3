"""`sillage rights retention`: whole chunks dropped, the rest deleted, trips past their limit gone,
and a second run removes nothing more. Also the audit log's guarantees."""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

import ingest.pipeline as pipeline_module
from api.commands.rights import cmd_retention
from core.fixes import Fix
from core.settings import Settings
from ingest.pipeline import Pipeline, PipelineParams
from ingest.testers import ConsentChoice, create_campaign, enrol
from models.heuristic import HeuristicClassifier
from store import fixes as fixes_db
from store import rights as rights_db
from store.partition import as_user
from store.pool import Database
from store.rights import Actor, audit
from tests.support.commute import commute_fixes
from tests.support.testers import enrol as enrol_over_http
from tests.support.testers import upload

AS_OF = datetime.now(UTC).replace(microsecond=0)
FIXES_DAYS = 90
TRIPS_DAYS = 365


def day_of_fixes(days_ago: float) -> list[Fix]:
    start = AS_OF - timedelta(days=days_ago)
    return [
        Fix(ts=start + timedelta(seconds=60 * i), lat=46.16, lon=-1.15, accuracy_m=5.0) for i in range(10)
    ]


async def add_trip(conn: asyncpg.Connection, days_ago: float) -> None:
    start = AS_OF - timedelta(days=days_ago)
    trip_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO trips (id, started_at, ended_at, origin_lat, origin_lon, destination_lat,"
        " destination_lon, distance_m) VALUES ($1, $2, $3, 46.1, -1.1, 46.2, -1.2, 1500)",
        trip_id,
        start,
        start + timedelta(minutes=20),
    )
    await conn.execute(
        "INSERT INTO sections (id, trip_id, seq, started_at, ended_at, distance_m, n_fixes, mode,"
        " probabilities, mode_source, model_version, geometry) VALUES ($1, $2, 0, $3, $4, 1500, 10,"
        " 'bike', '{}', 'heuristic', 'h', '{}')",
        uuid.uuid4(),
        trip_id,
        start,
        start + timedelta(minutes=20),
    )
    await conn.execute(
        "INSERT INTO stays (id, started_at, ended_at, lat, lon, n_fixes) VALUES ($1, $2, $3, 46.1, -1.1, 5)",
        uuid.uuid4(),
        start - timedelta(hours=1),
        start,
    )


@pytest.fixture
async def kept_tester(app_conn: asyncpg.Connection) -> str:
    """A tester of a campaign keeping fixes 90 days and trips a year, with older and newer data."""
    campaign = await create_campaign(
        app_conn,
        f"retention {uuid.uuid4().hex[:8]}",
        actor=Actor.operator("tests"),
        fixes_retention_days=FIXES_DAYS,
        trips_retention_days=TRIPS_DAYS,
    )
    e = await enrol(
        app_conn, campaign.invite_code, [ConsentChoice(purpose="coaching")], device_label="p", now=AS_OF
    )
    role = f"sillage_u_{e.user_id.hex}"
    async with as_user(app_conn, role):
        for days_ago in (400, 200, 150, 91, 89, 10):
            await fixes_db.insert_fixes(app_conn, day_of_fixes(days_ago), "test")
        # the fixes of 91 days ago straddle nothing: those of 90 days ago do (5 before, 5 after)
        straddle = [
            Fix(ts=AS_OF - timedelta(days=FIXES_DAYS, minutes=5 - i), lat=46.16, lon=-1.15) for i in range(10)
        ]
        await fixes_db.insert_fixes(app_conn, straddle, "test")
        for days_ago in (500, 366, 364, 30):
            await add_trip(app_conn, days_ago)
    return role


async def run_retention(settings: Settings) -> int:
    return await asyncio.to_thread(cmd_retention, argparse.Namespace(as_of=AS_OF), settings)


async def count(conn: asyncpg.Connection, role: str, sql: str) -> int:
    async with as_user(conn, role):
        n: int = await conn.fetchval(sql)
    return n


async def chunks(conn: asyncpg.Connection, role: str) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_schema = $1", role
    )
    return n


async def test_retention_drops_old_chunks_and_deletes_what_is_past_the_limit(
    settings: Settings, app_conn: asyncpg.Connection, admin_conn: asyncpg.Connection, kept_tester: str
) -> None:
    chunks_before = await chunks(admin_conn, kept_tester)
    assert await run_retention(settings) == 0
    cutoff = AS_OF - timedelta(days=FIXES_DAYS)
    assert await chunks(admin_conn, kept_tester) < chunks_before
    assert (
        await count(app_conn, kept_tester, f"SELECT count(*) FROM fixes WHERE ts < '{cutoff.isoformat()}'")
        == 0
    )
    assert await count(app_conn, kept_tester, "SELECT count(*) FROM fixes") == 10 + 10 + 5
    trips_cutoff = (AS_OF - timedelta(days=TRIPS_DAYS)).isoformat()
    assert (
        await count(app_conn, kept_tester, f"SELECT count(*) FROM trips WHERE ended_at < '{trips_cutoff}'")
        == 0
    )
    assert await count(app_conn, kept_tester, "SELECT count(*) FROM trips") == 2
    assert await count(app_conn, kept_tester, "SELECT count(*) FROM sections") == 2
    assert await count(app_conn, kept_tester, "SELECT count(*) FROM stays") == 2


async def test_running_retention_twice_removes_nothing_more(
    settings: Settings, app_conn: asyncpg.Connection, kept_tester: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await run_retention(settings)
    first = capsys.readouterr().out
    assert " 0 fixes" not in first
    fixes_left = await count(app_conn, kept_tester, "SELECT count(*) FROM fixes")
    await run_retention(settings)
    second = capsys.readouterr().out
    assert "0 chunks dropped, 0 fixes, 0 trips, 0 stays, 0 labels deleted" in second
    assert await count(app_conn, kept_tester, "SELECT count(*) FROM fixes") == fixes_left


async def test_a_campaign_without_limits_keeps_everything(
    settings: Settings, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    e = await enrol(app_conn, invite_code, [ConsentChoice(purpose="coaching")], device_label="p", now=AS_OF)
    role = f"sillage_u_{e.user_id.hex}"
    async with as_user(app_conn, role):
        await fixes_db.insert_fixes(app_conn, day_of_fixes(3000), "test")
    await run_retention(settings)
    assert await count(app_conn, role, "SELECT count(*) FROM fixes") == 10


async def test_a_retention_run_is_audited_as_an_operator_action(
    settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    await run_retention(settings)
    row = await admin_conn.fetchrow(
        "SELECT actor_kind, detail FROM sillage.audit_log WHERE action = 'retention.run'"
        " ORDER BY id DESC LIMIT 1"
    )
    assert row is not None
    assert row["actor_kind"] == "operator"
    assert '"testers"' in row["detail"]


async def test_the_audit_log_refuses_a_location(app_conn: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.CheckViolationError):
        await app_conn.execute("SELECT sillage.audit('system', 'test', 'place.seen', NULL, '{\"lat\": 46}')")
    with pytest.raises(asyncpg.CheckViolationError):
        await app_conn.execute(
            "SELECT sillage.audit('system', 'test', 'place.seen', NULL, '{\"where\": 46.1585}')"
        )


async def test_audit_refuses_fractional_numbers_before_reaching_the_database(
    app_conn: asyncpg.Connection,
) -> None:
    with pytest.raises(TypeError, match="must be a string"):
        await audit(app_conn, Actor.system("test"), "place.seen", detail={"x": 46.1585})  # type: ignore[dict-item]


async def test_the_api_login_cannot_rewrite_the_audit_log(app_conn: asyncpg.Connection) -> None:
    await audit(app_conn, Actor.operator("alice"), "campaign.create", detail={"name": "x"})
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.execute("DELETE FROM sillage.audit_log")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.execute("UPDATE sillage.audit_log SET actor = 'mallory'")


async def test_a_tester_appears_in_the_audit_log_only_as_a_pseudonym(
    app_conn: asyncpg.Connection, admin_conn: asyncpg.Connection, invite_code: str
) -> None:
    e = await enrol(app_conn, invite_code, [ConsentChoice(purpose="coaching")], device_label="p", now=AS_OF)
    entry = await audit(app_conn, Actor.tester(e.user_id), "export.download", subject=e.user_id)
    row = await admin_conn.fetchrow(
        "SELECT a.*, a::text AS text FROM sillage.audit_log a WHERE id = $1", entry
    )
    assert row is not None
    assert row["actor"] == row["subject"]
    assert row["actor"].startswith("p")
    assert str(e.user_id) not in row["text"]
    assert e.user_id.hex not in row["text"]


async def test_trips_kept_past_the_fixes_limit_survive_reprocessing_that_reaches_back(
    settings: Settings, app_conn: asyncpg.Connection, http: httpx.AsyncClient, db: Database
) -> None:
    campaign = await create_campaign(
        app_conn,
        f"retention {uuid.uuid4().hex[:8]}",
        actor=Actor.operator("tests"),
        fixes_retention_days=30,
        trips_retention_days=60,
    )
    t = await enrol_over_http(http, campaign.invite_code)
    days = (50, 40, 10)
    for days_ago in days:  # a history import: a commute 50, 40 and 10 days ago
        await upload(http, t, commute_fixes((AS_OF - timedelta(days=days_ago)).timestamp()))
    pipeline = Pipeline(HeuristicClassifier(), PipelineParams())
    await pipeline.run_due(db, as_of=AS_OF)
    role = f"sillage_u_{t.user_id.hex}"
    trips_sql = "SELECT count(*) FROM trips"
    assert await count(app_conn, role, trips_sql) == len(days)
    await run_retention(settings)
    assert await count(app_conn, role, "SELECT count(*) FROM fixes") > 0  # the last commute's
    assert await count(app_conn, role, trips_sql) == len(days)  # the trips limit is 60 days
    # A confirmation revisits 14 days back, a late upload its range: here, from 55 days ago.
    async with as_user(app_conn, role):
        await fixes_db.mark_my_dirty(app_conn, AS_OF - timedelta(days=55), AS_OF - timedelta(days=5))
    await pipeline.run_due(db, as_of=AS_OF)
    assert await count(app_conn, role, trips_sql) == len(days)


async def test_retention_run_during_a_step_leaves_no_trip_past_the_limit(
    settings: Settings,
    app_conn: asyncpg.Connection,
    http: httpx.AsyncClient,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A step was building a history import's trips when retention ran. Retention deleted the old
    # trips it could see (none yet), the step then stored them: a trip past the limit was left
    # until the next run. Retention now waits for the tester's step under way.
    campaign = await create_campaign(
        app_conn,
        f"retention {uuid.uuid4().hex[:8]}",
        actor=Actor.operator("tests"),
        trips_retention_days=60,
    )
    t = await enrol_over_http(http, campaign.invite_code)
    for days_ago in (70, 10):
        await upload(http, t, commute_fixes((AS_OF - timedelta(days=days_ago)).timestamp()))
    pipeline = Pipeline(HeuristicClassifier(), PipelineParams())
    real = pipeline_module._compute
    computing = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> Any:  # the step holds the tester meanwhile
        computing.set()
        time.sleep(1.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, "_compute", slow)
    step = asyncio.create_task(pipeline.run_due(db, as_of=AS_OF))
    assert await asyncio.to_thread(computing.wait, 10)
    await run_retention(settings)
    done = await step
    assert t.user_id in {o.user_id for o in done}
    role = f"sillage_u_{t.user_id.hex}"
    cutoff = (AS_OF - timedelta(days=60)).isoformat()
    assert await count(app_conn, role, f"SELECT count(*) FROM trips WHERE ended_at < '{cutoff}'") == 0
    assert await count(app_conn, role, "SELECT count(*) FROM trips") == 1  # 10 days ago


async def test_a_tester_erased_during_a_retention_run_is_passed_over(
    settings: Settings,
    app_conn: asyncpg.Connection,
    http: httpx.AsyncClient,
    kept_tester: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The run lists the testers of campaigns with limits, then works on each: one erased in
    # between failed the run, and the testers after them kept what was past their limits.
    campaign = await create_campaign(
        app_conn, f"retention {uuid.uuid4().hex[:8]}", actor=Actor.operator("tests"), trips_retention_days=60
    )
    gone = await enrol_over_http(http, campaign.invite_code)
    listed = await rights_db.retention_targets(app_conn)
    assert (await http.delete("/v1/me", headers=gone.auth)).status_code == 200

    async def as_listed_before(conn: Any) -> list[rights_db.RetentionTarget]:
        return listed

    monkeypatch.setattr(rights_db, "retention_targets", as_listed_before)
    assert await run_retention(settings) == 0
    trips_cutoff = (AS_OF - timedelta(days=TRIPS_DAYS)).isoformat()
    assert (
        await count(app_conn, kept_tester, f"SELECT count(*) FROM trips WHERE ended_at < '{trips_cutoff}'")
        == 0
    )
