"""Releases and team accounts scoped to a campaign (migration 0032): a city's team reads the
aggregates of its own testers only, and the database enforces it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
import pytest

from core.errors import Conflict
from core.privacy.params import ReleaseParams
from core.privacy.zones import GridZones
from ingest.sharing.release import ReleaseOutcome, release, release_corridors
from ingest.sharing.scheduler import ReleaseScheduler, SchedulerParams
from ingest.testers import create_campaign
from store import carpool as carpool_db
from store import sharing as db
from store.pool import Database
from store.rights import Actor
from tests.support.database import ScratchDatabase
from tests.support.sharing import CAMPUS, HARBOUR, Participant, commute_week, new_tester, seed_carpool

PARIS = ZoneInfo("Europe/Paris")
# Weeks of 2025 no other test releases; consents granted before them.
WEEK = datetime(2025, 6, 2, tzinfo=PARIS)
SCHEDULED_WEEK = datetime(2025, 6, 16, tzinfo=PARIS)
GRANTED = datetime(2025, 5, 20, tzinfo=UTC)
SMALL_K = ReleaseParams(k=3)


class Cities(msgspec.Struct, frozen=True, kw_only=True):
    a: db.CampaignRef
    b: db.CampaignRef
    testers_a: list[Participant]
    testers_b: list[Participant]
    release_a: ReleaseOutcome
    release_b: ReleaseOutcome
    pooled: ReleaseOutcome


async def _city(conn: asyncpg.Connection, name: str) -> tuple[db.CampaignRef, list[Participant]]:
    campaign = await create_campaign(conn, name, actor=Actor.operator("tests"))
    ref = await db.campaign_by_name(conn, name)
    assert ref is not None
    testers = [await new_tester(conn, campaign.invite_code, share=True, at=GRANTED) for _ in range(4)]
    for week in (WEEK, SCHEDULED_WEEK):
        for t in testers:
            await commute_week(conn, t.role, week, home=HARBOUR, work=CAMPUS)
    return ref, testers


@pytest.fixture(scope="module")
async def cities(test_db: ScratchDatabase) -> AsyncIterator[Cities]:
    conn = await asyncpg.connect(test_db.app_url)
    try:
        tag = uuid.uuid4().hex[:6]
        a, testers_a = await _city(conn, f"Aytré {tag}")
        b, testers_b = await _city(conn, f"Brest {tag}")
        now = datetime.now(UTC)
        release_a = await release(conn, "week", day=WEEK.date(), now=now, params=SMALL_K, campaign=a)
        release_b = await release(conn, "week", day=WEEK.date(), now=now, params=SMALL_K, campaign=b)
        pooled = await release(conn, "week", day=WEEK.date(), now=now, params=SMALL_K)
        yield Cities(
            a=a,
            b=b,
            testers_a=testers_a,
            testers_b=testers_b,
            release_a=release_a,
            release_b=release_b,
            pooled=pooled,
        )
    finally:
        await conn.close()


def _ids(testers: list[Participant]) -> set[uuid.UUID]:
    return {t.user_id for t in testers}


async def test_a_campaigns_release_is_made_of_its_testers_only(
    cities: Cities, app_conn: asyncpg.Connection
) -> None:
    assert set(await db.ledger_users(app_conn, cities.release_a.release_id)) == _ids(cities.testers_a)
    assert set(await db.ledger_users(app_conn, cities.release_b.release_id)) == _ids(cities.testers_b)
    pooled = set(await db.ledger_users(app_conn, cities.pooled.release_id))
    assert _ids(cities.testers_a) | _ids(cities.testers_b) <= pooled
    assert cities.release_a.campaign == cities.a.name
    assert cities.pooled.campaign is None


async def test_a_period_is_released_once_per_scope(cities: Cities, app_conn: asyncpg.Connection) -> None:
    now = datetime.now(UTC)
    with pytest.raises(Conflict, match="already released for the campaign"):
        await release(app_conn, "week", day=WEEK.date(), now=now, params=SMALL_K, campaign=cities.a)
    with pytest.raises(Conflict, match="already released"):
        await release(app_conn, "week", day=WEEK.date(), now=now, params=SMALL_K)


async def test_a_team_of_one_campaign_reads_its_releases_only(
    cities: Cities, app_conn: asyncpg.Connection
) -> None:
    mine, theirs = cities.release_a.release_id, cities.release_b.release_id
    async with db.as_team(app_conn, cities.a.id):
        listed = {r.id for r in await db.list_releases(app_conn, "week", 500)}
        assert mine in listed
        assert not {theirs, cities.pooled.release_id} & listed  # pooled ones mix in other cities
        assert await db.release_by_id(app_conn, theirs) is None
        assert await db.release_cells(app_conn, theirs) == []
        assert await db.release_cells(app_conn, mine) != []
    async with db.as_team(app_conn, None):  # a national team reads every release
        listed = {r.id for r in await db.list_releases(app_conn, "week", 500)}
        assert {mine, theirs, cities.pooled.release_id} <= listed
        row = await db.release_by_id(app_conn, mine)
        assert row is not None
        assert row.campaign == cities.a


async def test_the_team_role_without_a_scope_reads_no_release(
    cities: Cities, app_conn: asyncpg.Connection
) -> None:
    # The database enforces the scope: a query that forgot to set it sees nothing, not everything.
    async with app_conn.transaction():
        await app_conn.execute("SET LOCAL ROLE sillage_team")
        assert await app_conn.fetchval("SELECT count(*) FROM released.releases") == 0
        assert await app_conn.fetchval("SELECT count(*) FROM released.cells") == 0
        assert await app_conn.fetchval("SELECT count(*) FROM released.zones") == 0


async def test_the_scheduler_by_campaign_releases_each_campaign_apart(
    cities: Cities, test_db: ScratchDatabase, app_conn: asyncpg.Connection
) -> None:
    database = Database(test_db.app_url, min_size=1, max_size=1)
    try:
        scheduler = ReleaseScheduler(
            database, SchedulerParams(kinds=("week",), release=SMALL_K, by_campaign=True)
        )
        done = await scheduler.run_once(now=SCHEDULED_WEEK + timedelta(days=8))
    finally:
        await database.close()
    ours = {o.campaign: o for o in done if o.campaign in {cities.a.name, cities.b.name}}
    assert set(ours) == {cities.a.name, cities.b.name}
    assert all(o.period_start == SCHEDULED_WEEK for o in ours.values())
    assert set(await db.ledger_users(app_conn, ours[cities.a.name].release_id)) == _ids(cities.testers_a)
    assert None not in {o.campaign for o in done}  # no pooled release beside them


async def test_a_campaigns_carpool_potential_counts_only_pairs_of_its_own_testers(
    app_conn: asyncpg.Connection,
) -> None:
    # Found by a probe: matching pairs testers across campaigns, and a city's release counted its
    # testers' matches with another city's, who had not agreed to share with this city's team.
    # Here A's testers cannot drive, so every match of theirs is with one of B's.
    tag = uuid.uuid4().hex[:6]
    granted = datetime.now(UTC) - timedelta(days=40)
    a = await create_campaign(app_conn, f"Ars {tag}", actor=Actor.operator("tests"))
    b = await create_campaign(app_conn, f"Bords {tag}", actor=Actor.operator("tests"))
    testers_a = [
        await new_tester(app_conn, a.invite_code, share=True, carpool=True, at=granted) for _ in range(3)
    ]
    testers_b = [
        await new_tester(app_conn, b.invite_code, share=True, carpool=True, at=granted) for _ in range(3)
    ]
    for t in testers_a:
        await carpool_db.upsert_profile(app_conn, t.user_id, "A", "a@city.example", False)
    for t in testers_b:
        await carpool_db.upsert_profile(app_conn, t.user_id, "B", "b@city.example", True)
    await seed_carpool(app_conn, testers_a + testers_b, tag=41)
    sharers = [db.Sharer(user_id=t.user_id, role=t.role) for t in testers_a]
    ref = await db.campaign_by_name(app_conn, f"Ars {tag}")
    pooled = await release_corridors(app_conn, sharers, GridZones(1000.0), SMALL_K)
    assert set(pooled) == _ids(testers_a)  # their matches with B's testers, in a pooled release
    assert await release_corridors(app_conn, sharers, GridZones(1000.0), SMALL_K, campaign=ref) == {}


async def test_the_scheduler_releases_a_period_in_one_scope_only(
    cities: Cities, test_db: ScratchDatabase
) -> None:
    # Found by a probe: switching SILLAGE_RELEASE_SCOPE from pooled to campaign released the same
    # week again per campaign, and charged its testers twice.
    week = datetime(2025, 6, 23, tzinfo=PARIS)
    database = Database(test_db.app_url, min_size=1, max_size=1)
    try:
        runs = []
        for by_campaign in (False, True):
            params = SchedulerParams(kinds=("week",), release=SMALL_K, by_campaign=by_campaign)
            runs.append(await ReleaseScheduler(database, params).run_once(now=week + timedelta(days=8)))
    finally:
        await database.close()
    pooled, per_campaign = runs
    assert [(o.campaign, o.period_start) for o in pooled] == [(None, week)]
    assert per_campaign == []
