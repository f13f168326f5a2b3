"""Releases: 30 testers with synthetic trips, 20 of them sharing; k-threshold, revocation, budget.

The scenario runs in 2025 weeks with consents granted before them, so testers enrolled "now" by
other tests (whose consent postdates these weeks) are never eligible. Assertions are about this
cohort, read from the privacy ledger.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
import pytest

from core.errors import Conflict
from core.privacy.params import BudgetParams
from core.privacy.zones import GridZones
from ingest.sharing.consents import ConsentChange, change_consents
from ingest.sharing.release import ReleaseOutcome, release
from store import sharing as db
from store.partition import as_user
from tests.support.database import ScratchDatabase
from tests.support.sharing import (
    CAMPUS,
    DUNES,
    HARBOUR,
    MARKET,
    STATION,
    Participant,
    add_trip,
    commute_week,
    new_tester,
    release_cells,
    release_zone_ids,
)

PARIS = ZoneInfo("Europe/Paris")
WEEK1 = datetime(2025, 3, 3, tzinfo=PARIS)
WEEK2 = datetime(2025, 3, 10, tzinfo=PARIS)
WEEK3 = datetime(2025, 3, 17, tzinfo=PARIS)
GRANTED = datetime(2025, 2, 20, tzinfo=UTC)
GRID = GridZones(1000.0)


class Scenario(msgspec.Struct, frozen=True, kw_only=True):
    sharing: list[Participant]
    private: list[Participant]
    first: ReleaseOutcome
    second: ReleaseOutcome
    revoked: Participant


@pytest.fixture(scope="module")
async def scenario(test_db: ScratchDatabase, invite_code: str) -> AsyncIterator[Scenario]:
    conn = await asyncpg.connect(test_db.app_url)
    try:
        sharing = [await new_tester(conn, invite_code, share=True, at=GRANTED) for _ in range(20)]
        private = [await new_tester(conn, invite_code, share=False, at=GRANTED) for _ in range(10)]
        for week in (WEEK1, WEEK2, WEEK3):
            for i, t in enumerate(sharing):
                await commute_week(
                    conn, t.role, week, home=HARBOUR, work=CAMPUS, mode="car" if i < 12 else "bike"
                )
            # Nine sharing testers also go from the market to the station on Wednesday: 9 < k.
            for t in sharing[11:]:
                await add_trip(
                    conn, t.role, at=week + timedelta(days=2, hours=12), origin=MARKET, destination=STATION
                )
                await add_trip(
                    conn, t.role, at=week + timedelta(days=2, hours=13), origin=STATION, destination=MARKET
                )
            # The private testers make the same trips: counted, they would lift that flow to 19 testers.
            for t in private:
                await commute_week(conn, t.role, week, home=HARBOUR, work=CAMPUS)
                await add_trip(
                    conn, t.role, at=week + timedelta(days=2, hours=12), origin=MARKET, destination=STATION
                )
        # A hidden trip of a sharing tester, to a place nobody else goes.
        await add_trip(
            conn,
            sharing[0].role,
            at=WEEK1 + timedelta(hours=20),
            origin=HARBOUR,
            destination=DUNES,
            hidden=True,
        )
        now = datetime.now(UTC)
        first = await release(conn, "week", day=WEEK1.date(), now=now)
        revoked = sharing[0]
        await change_consents(
            conn, revoked.user_id, [ConsentChange(purpose="share_aggregates", granted=False)], now=now
        )
        second = await release(conn, "week", day=WEEK2.date(), now=now)
        yield Scenario(sharing=sharing, private=private, first=first, second=second, revoked=revoked)
    finally:
        await conn.close()


async def _ledger(app_conn: asyncpg.Connection, release_id: uuid.UUID) -> set[uuid.UUID]:
    return set(await db.ledger_users(app_conn, release_id))


async def test_release_contains_every_sharing_tester(
    scenario: Scenario, app_conn: asyncpg.Connection
) -> None:
    ledger = await _ledger(app_conn, scenario.first.release_id)
    assert {t.user_id for t in scenario.sharing} <= ledger


async def test_release_contains_no_private_tester(scenario: Scenario, app_conn: asyncpg.Connection) -> None:
    ledger = await _ledger(app_conn, scenario.first.release_id)
    assert not ledger & {t.user_id for t in scenario.private}


async def test_flow_of_many_testers_is_published(scenario: Scenario, app_conn: asyncpg.Connection) -> None:
    flows = {(c.dim_a, c.dim_b) for c in await release_cells(app_conn, scenario.first.release_id, "od_flows")}
    assert (GRID.zone_of(*HARBOUR), GRID.zone_of(*CAMPUS)) in flows


async def test_zone_with_nine_testers_is_absent(scenario: Scenario, app_conn: asyncpg.Connection) -> None:
    cells = await release_cells(app_conn, scenario.first.release_id, "od_flows")
    small = {GRID.zone_of(*MARKET), GRID.zone_of(*STATION)}
    assert not [c for c in cells if {c.dim_a, c.dim_b} & small]
    zones = await release_zone_ids(app_conn, scenario.first.release_id)
    assert not zones & small


async def test_mode_with_eight_testers_is_suppressed(
    scenario: Scenario, app_conn: asyncpg.Connection
) -> None:
    modes = {c.dim_a for c in await release_cells(app_conn, scenario.first.release_id, "mode_trips")}
    assert "car" in modes
    assert "bike" not in modes


async def test_release_publishes_epsilon_and_k(scenario: Scenario, app_conn: asyncpg.Connection) -> None:
    async with db.as_team(app_conn, None):
        rows = {r.id: r for r in await db.list_releases(app_conn, "week", 100)}
    r = rows[scenario.first.release_id]
    assert (r.epsilon, r.k) == (1.0, 10)
    assert {t["table"] for t in r.tables} >= {"mode_trips", "od_flows"}
    assert all(t["noise_scale"] > 0 for t in r.tables)


async def test_second_release_after_one_revocation_has_nineteen(
    scenario: Scenario, app_conn: asyncpg.Connection
) -> None:
    ledger = await _ledger(app_conn, scenario.second.release_id)
    assert len(ledger & {t.user_id for t in scenario.sharing}) == 19
    assert scenario.revoked.user_id not in ledger


async def test_revocation_keeps_what_was_released(scenario: Scenario, app_conn: asyncpg.Connection) -> None:
    assert scenario.revoked.user_id in await _ledger(app_conn, scenario.first.release_id)


async def test_hidden_trips_are_not_read(scenario: Scenario, app_conn: asyncpg.Connection) -> None:
    async with as_user(app_conn, scenario.sharing[0].role):
        trips = await db.period_trips(app_conn, WEEK1, WEEK2)
    assert len(trips) == 10


async def test_a_period_is_released_once(scenario: Scenario, app_conn: asyncpg.Connection) -> None:
    with pytest.raises(Conflict, match="already released"):
        await release(app_conn, "week", day=WEEK1.date(), now=datetime.now(UTC))


async def test_unfinished_period_is_refused(app_conn: asyncpg.Connection) -> None:
    now = datetime.now(UTC)
    with pytest.raises(Conflict, match="not over"):
        await release(app_conn, "week", day=now.date(), now=now)


async def test_exhausted_budgets_leave_testers_out(scenario: Scenario, app_conn: asyncpg.Connection) -> None:
    # Every sharing tester has spent 1 or 2 already: a budget of 1.5 leaves too few to release.
    with pytest.raises(Conflict, match="fewer than k"):
        await release(
            app_conn,
            "week",
            day=WEEK3.date(),
            now=datetime.now(UTC),
            budget=BudgetParams(epsilon_per_window=1.5),
        )
    assert not await db.release_exists(app_conn, "week", WEEK3.astimezone(UTC))


async def test_release_with_city_zones(scenario: Scenario, app_conn: asyncpg.Connection) -> None:
    from core.privacy.zones import GeoJSONZones

    def square(lat: float, lon: float) -> dict[str, object]:
        d = 0.004
        ring = [
            [lon - d, lat - d],
            [lon + d, lat - d],
            [lon + d, lat + d],
            [lon - d, lat + d],
            [lon - d, lat - d],
        ]
        return {"type": "Polygon", "coordinates": [ring]}

    zones = GeoJSONZones(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code": "17300", "name": "Vieux-Port"},
                    "geometry": square(*HARBOUR),
                },
                {
                    "type": "Feature",
                    "properties": {"code": "17000", "name": "Campus"},
                    "geometry": square(*CAMPUS),
                },
            ],
        }
    )
    out = await release(app_conn, "month", day=date(2025, 3, 1), now=datetime.now(UTC), zones=zones)
    flows = {(c.dim_a, c.dim_b) for c in await release_cells(app_conn, out.release_id, "od_flows")}
    assert flows == {("17300", "17000"), ("17000", "17300")}


async def commuting_sharers(
    conn: asyncpg.Connection, invite_code: str, week: datetime, n: int
) -> list[Participant]:
    """``n`` testers sharing aggregates since the week before ``week``, each commuting that week."""
    testers = [await new_tester(conn, invite_code, share=True, at=week - timedelta(days=7)) for _ in range(n)]
    for t in testers:
        await commute_week(conn, t.role, week, home=HARBOUR, work=CAMPUS)
    return testers


async def test_trips_made_while_the_consent_was_revoked_are_never_read_into_a_release(
    app_conn: asyncpg.Connection, invite_code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tester revokes on Tuesday, travels on Wednesday, grants again on Friday: the week's release
    # read all their trips of the week, the Wednesday's included ("you will be left out of every
    # release from now on"). Since a revocation, only the trips from the next grant on are read.
    week = datetime(2012, 10, 8, tzinfo=PARIS)
    testers = await commuting_sharers(app_conn, invite_code, week, 11)
    x = testers[0]
    granted_again = week + timedelta(days=4)
    share = "share_aggregates"
    await change_consents(
        app_conn, x.user_id, [ConsentChange(purpose=share, granted=False)], now=week + timedelta(days=1)
    )
    await add_trip(app_conn, x.role, at=week + timedelta(days=2, hours=21), origin=HARBOUR, destination=DUNES)
    await change_consents(
        app_conn, x.user_id, [ConsentChange(purpose=share, granted=True)], now=granted_again
    )
    read: dict[str, list[datetime]] = {}
    real = db.period_trips

    async def recorded(conn: asyncpg.Connection, start: datetime, end: datetime) -> list[Any]:
        trips = await real(conn, start, end)
        read.setdefault(await conn.fetchval("SELECT current_user"), []).extend(t.started_at for t in trips)
        return trips

    monkeypatch.setattr(db, "period_trips", recorded)
    await release(app_conn, "week", day=week.date(), now=datetime.now(UTC))
    assert len(read[x.role]) == 2  # Friday's commute, out and back
    assert min(read[x.role]) >= granted_again
    assert len(read[testers[1].role]) == 10  # who never revoked: the whole week, as before


async def test_a_tester_erased_during_a_release_is_passed_over(
    app_conn: asyncpg.Connection, invite_code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The release lists who shares, then reads each one's partition: one erased in between stopped
    # the release for everyone.
    week = datetime(2012, 11, 5, tzinfo=PARIS)
    testers = await commuting_sharers(app_conn, invite_code, week, 12)
    listed = await db.sharing_testers(app_conn, week + timedelta(days=7))
    gone = testers[0]
    assert await app_conn.fetchval("SELECT sillage.erase_user($1)", gone.user_id) is not None

    async def as_listed_before(
        conn: asyncpg.Connection, period_end: datetime, campaign_id: uuid.UUID | None = None
    ) -> list[db.Sharer]:
        return listed

    monkeypatch.setattr(db, "sharing_testers", as_listed_before)
    out = await release(app_conn, "week", day=week.date(), now=datetime.now(UTC))
    ledger = set(await db.ledger_users(app_conn, out.release_id))
    assert gone.user_id not in ledger
    assert testers[1].user_id in ledger
