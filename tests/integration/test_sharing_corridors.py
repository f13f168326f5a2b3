"""Carpool potential in the sharing release: corridors, time bands, CO2 (issue 8, the agglomeration).

Synthetic testers drive recent commutes (the carpool run turns them into offers and matches), with
consents granted before a 2024 week that this module alone releases. Ten sharing testers commute
along corridor A (k = 10 is met), four along corridor B (withheld), and one tester along A consents
to carpool matching but not to sharing aggregates (eleven on A: with at most ten proposals each,
every one of them is matched with all the others). Assertions are about this cohort's
corridors: testers seeded by other modules sit elsewhere.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
import pytest

from core.carpool import CorridorContribution
from core.privacy.corridors import corridor_cells, corridor_sensitivity
from core.privacy.params import CarpoolCaps, ReleaseParams
from core.privacy.zones import GridZones
from ingest.sharing.release import ReleaseOutcome, release, release_corridors
from store import sharing as db
from tests.support.database import ScratchDatabase
from tests.support.sharing import (
    Participant,
    far_commute,
    new_tester,
    release_cells,
    release_zone_ids,
    seed_carpool,
)

PARIS = ZoneInfo("Europe/Paris")
WEEK = datetime(2024, 4, 8, tzinfo=PARIS)
GRANTED = datetime(2024, 3, 25, tzinfo=UTC)
GRID = GridZones(1000.0)
TAG_A, TAG_B = 21, 31


class Scenario(msgspec.Struct, frozen=True, kw_only=True):
    corridor_a: list[Participant]
    corridor_b: list[Participant]
    not_sharing: Participant
    outcome: ReleaseOutcome


def _zones(tag: int) -> tuple[str, str]:
    home, work = far_commute(tag)
    h, w = GRID.zone_of(*home), GRID.zone_of(*work)
    assert h is not None
    assert w is not None
    return h, w


@pytest.fixture(scope="module")
async def scenario(test_db: ScratchDatabase, invite_code: str) -> AsyncIterator[Scenario]:
    conn = await asyncpg.connect(test_db.app_url)
    try:

        async def tester(*, share: bool) -> Participant:
            return await new_tester(conn, invite_code, share=share, carpool=True, at=GRANTED)

        corridor_a = [await tester(share=True) for _ in range(10)]
        corridor_b = [await tester(share=True) for _ in range(4)]
        not_sharing = await tester(share=False)
        await seed_carpool(conn, corridor_b, tag=TAG_B)
        await seed_carpool(conn, [*corridor_a, not_sharing], tag=TAG_A)
        outcome = await release(conn, "week", day=WEEK.date(), now=datetime.now(UTC))
        yield Scenario(corridor_a=corridor_a, corridor_b=corridor_b, not_sharing=not_sharing, outcome=outcome)
    finally:
        await conn.close()


async def test_corridor_of_ten_testers_is_published_by_time_band(
    scenario: Scenario, app_conn: asyncpg.Connection
) -> None:
    home, work = _zones(TAG_A)
    cells = {
        (c.dim_a, c.dim_b, c.dim_c)
        for c in await release_cells(app_conn, scenario.outcome.release_id, "carpool_matches")
    }
    assert {(home, work, "07:00"), (work, home, "17:00")} <= cells


async def test_co2_is_published_for_the_same_corridors(
    scenario: Scenario, app_conn: asyncpg.Connection
) -> None:
    matches = await release_cells(app_conn, scenario.outcome.release_id, "carpool_matches")
    co2 = await release_cells(app_conn, scenario.outcome.release_id, "carpool_co2")
    assert {(c.dim_a, c.dim_b, c.dim_c) for c in co2} == {(c.dim_a, c.dim_b, c.dim_c) for c in matches}
    assert matches


async def test_corridor_of_four_testers_is_withheld(scenario: Scenario, app_conn: asyncpg.Connection) -> None:
    sharers = await db.sharing_testers(app_conn, WEEK + timedelta(days=7))
    counted = await release_corridors(app_conn, sharers, GRID, ReleaseParams())
    assert {t.user_id for t in scenario.corridor_b} <= set(counted)  # matched, yet:
    small = set(_zones(TAG_B))
    for table in ("carpool_matches", "carpool_co2"):
        cells = await release_cells(app_conn, scenario.outcome.release_id, table)
        assert not [c for c in cells if {c.dim_a, c.dim_b} & small]
    zones = await release_zone_ids(app_conn, scenario.outcome.release_id)
    assert not zones & small


async def test_corridor_zones_are_released_for_the_map(
    scenario: Scenario, app_conn: asyncpg.Connection
) -> None:
    zones = await release_zone_ids(app_conn, scenario.outcome.release_id)
    assert set(_zones(TAG_A)) <= zones


async def test_a_matched_tester_without_share_consent_never_contributes(
    scenario: Scenario, app_conn: asyncpg.Connection
) -> None:
    who = scenario.not_sharing.user_id
    matched = await app_conn.fetchval(
        "SELECT count(*) FROM sillage.carpool_matches WHERE $1 IN (user_low, user_high)", who
    )
    assert matched > 0  # they could carpool with corridor A ...
    sharers = await db.sharing_testers(app_conn, WEEK + timedelta(days=7))
    counted = await release_corridors(app_conn, sharers, GRID, ReleaseParams())
    assert {t.user_id for t in scenario.corridor_a} <= set(counted)
    assert who not in counted  # ... yet nothing of theirs enters a release
    assert who not in set(await db.ledger_users(app_conn, scenario.outcome.release_id))


async def test_release_publishes_the_carpool_tables_epsilon_and_caps(
    scenario: Scenario, app_conn: asyncpg.Connection
) -> None:
    async with db.as_team(app_conn, None):
        r = await db.release_by_id(app_conn, scenario.outcome.release_id)
    assert r is not None
    tables = {t["table"]: t for t in r.tables}
    assert tables["carpool_matches"]["epsilon"] == pytest.approx(r.epsilon / 8)
    assert tables["carpool_co2"]["noise_scale"] > 0
    assert sum(t["epsilon"] for t in r.tables) == pytest.approx(r.epsilon)
    assert r.caps["carpool"]["max_corridors_per_tester"] == 2


# --- the bounding itself (pure) ------------------------------------------------------------------


def _row(
    o: str, d: str, band: str = "07:00", *, matches: int = 1, co2: float = 100.0
) -> CorridorContribution:
    return CorridorContribution(
        user_id=uuid.UUID(int=1),
        origin_zone=o,
        destination_zone=d,
        time_band=band,
        matches=matches,
        co2_kg_per_year=co2,
    )


def test_a_tester_keeps_at_most_two_corridors() -> None:
    rows = [_row("a", "b"), _row("b", "a", "17:00"), _row("a", "c"), _row("c", "a", "18:00")]
    cells = corridor_cells(rows, CarpoolCaps(max_corridors_per_tester=2), b"seed")
    assert len(cells["carpool_matches"]) == len(cells["carpool_co2"]) == 2


def test_matches_per_corridor_are_capped() -> None:
    cells = corridor_cells(
        [_row("a", "b", matches=9, co2=900.0)], CarpoolCaps(max_matches_per_corridor=2), b"s"
    )
    assert cells["carpool_matches"] == {("a", "b", "07:00"): 2}


def test_co2_is_the_saving_with_one_partner_clipped() -> None:
    caps = CarpoolCaps(max_co2_kg_per_year_per_corridor=200.0)
    three = corridor_cells([_row("a", "b", matches=3, co2=360.0)], caps, b"s")
    big = corridor_cells([_row("a", "b", matches=1, co2=5000.0)], caps, b"s")
    assert (three["carpool_co2"], big["carpool_co2"]) == (
        {("a", "b", "07:00"): 120},
        {("a", "b", "07:00"): 200},
    )


def test_carpool_sensitivity_follows_the_caps() -> None:
    caps = CarpoolCaps(
        max_corridors_per_tester=2, max_matches_per_corridor=2, max_co2_kg_per_year_per_corridor=200
    )
    assert (corridor_sensitivity("carpool_matches", caps), corridor_sensitivity("carpool_co2", caps)) == (
        4,
        400,
    )
