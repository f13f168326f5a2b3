"""Carpool matching against the real database: row-level security on offers, confirmed carpools
in the coaching footprint, and corridor rows for the sharing release."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest

from core.carpool import zone_of
from core.carpool.params import ZoneParams
from ingest import carpool
from ingest.testers import ConsentChoice, enrol
from store import carpool as carpool_db
from store.partition import as_user
from store.pool import Database
from store.testers import Principal
from tests.support.database import ScratchDatabase
from tests.unit.carpool.builders import (
    HOME,
    PARIS,
    WORK,
    Trip,
    commutes,
    moved,
    role_of,
    seed_commutes,
    weekdays_back,
)


async def enrolled(conn: asyncpg.Connection, invite_code: str, *purposes: str) -> Principal:
    e = await enrol(
        conn,
        invite_code,
        [ConsentChoice(purpose=p) for p in ("coaching", *purposes)],
        device_label="test",
        now=datetime.now(UTC),
    )
    return Principal(device_id=e.device_id, user_id=e.user_id, role=role_of(e.user_id), paused=False)


# Pairs of this module sit 30 km apart, far outside each other's matching radius (random offsets
# collided now and then: a tester matched another test's tester); the base is random so that runs
# against a database kept from earlier runs do not land on the same places either.
_BASE_M = (random.uniform(-1_500_000, 1_500_000), random.uniform(150_000, 3_000_000))
_PAIRS = itertools.count()


async def pair(conn: asyncpg.Connection, invite_code: str, *purposes: str) -> tuple[Principal, Principal]:
    """Two fitting car commuters somewhere no other test puts anyone; matching already run."""
    north, east = _BASE_M[0], _BASE_M[1] + 30_000 * next(_PAIRS)
    home, work = moved(HOME, north_m=north, east_m=east), moved(WORK, north_m=north, east_m=east)
    a = await enrolled(conn, invite_code, "carpool_matching", *purposes)
    b = await enrolled(conn, invite_code, "carpool_matching", *purposes)
    days = weekdays_back(4)
    await seed_commutes(conn, a.user_id, commutes(days, home=home, work=work))
    await seed_commutes(conn, b.user_id, commutes(days, home=moved(home, north_m=300), work=work))
    await carpool.run(conn, now=datetime.now(UTC))
    return a, b


async def test_a_tester_role_sees_and_writes_only_its_own_offers(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    a, b = await pair(app_conn, invite_code)
    async with as_user(app_conn, a.role):
        owners = {r["user_id"] for r in await app_conn.fetch("SELECT user_id FROM sillage.carpool_offers")}
    assert owners == {a.user_id}
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_user(app_conn, a.role):
            await app_conn.execute(
                "INSERT INTO sillage.carpool_offers (user_id, seq, origin_lat, origin_lon, destination_lat,"
                " destination_lon, depart_from_min, depart_to_min, weekdays, distance_m, usual_co2_kg,"
                " usual_mode, can_drive, car_kg_per_km) VALUES ($1, 9, 0, 0, 0, 0, 0, 0, 1, 0, 0, 'car',"
                " true, 0)",
                b.user_id,
            )


@pytest.mark.parametrize("table", ["carpool_matches", "carpool_profiles", "carpool_responses"])
async def test_a_tester_role_cannot_read_matches_or_anyones_contact(
    app_conn: asyncpg.Connection, invite_code: str, table: str
) -> None:
    a = await enrolled(app_conn, invite_code, "carpool_matching")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_user(app_conn, a.role):
            await app_conn.fetch(f"SELECT * FROM sillage.{table}")


async def test_a_confirmed_carpool_counts_with_two_occupants_in_the_footprint(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    a, b = await pair(app_conn, invite_code)
    [m] = await carpool.list_matches(app_conn, a)
    for who, name in ((a, "Anne"), (b, "Bruno")):
        await carpool.set_profile(app_conn, who, display_name=name, contact="x", can_drive=None)
        await carpool.express_interest(app_conn, who, m.id)
    offers = {
        r["depart_from_min"]: (r["origin_lat"], r["origin_lon"], r["destination_lat"], r["destination_lon"])
        for r in await app_conn.fetch("SELECT * FROM sillage.carpool_offers WHERE user_id = $1", a.user_id)
    }
    morning = offers[min(offers)]
    day = datetime.now(PARIS).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    after = Trip(datetime.combine(day, time(7, 45), tzinfo=PARIS).astimezone(UTC), morning[:2], morning[2:])
    await seed_commutes(app_conn, a.user_id, [after])
    run = await carpool.run(app_conn, now=datetime.now(UTC))
    assert run.carpool_sections >= 1
    async with as_user(app_conn, a.role):
        rows = await app_conn.fetch(
            "SELECT occupants, co2_kg, distance_m FROM sections WHERE trip_id = $1", after.id
        )
        earlier = await app_conn.fetchval("SELECT max(occupants) FROM sections WHERE trip_id <> $1", after.id)
    [row] = rows
    assert row["occupants"] == 2
    assert row["co2_kg"] == pytest.approx(row["distance_m"] / 1000 * 0.14225 / 2)
    assert earlier == 1  # trips before the agreement stay solo


async def test_corridor_rows_come_only_from_testers_who_share_aggregates(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    a, b = await pair(app_conn, invite_code, "share_aggregates")
    c, d = await pair(app_conn, invite_code)
    grid = ZoneParams(cell_m=5000.0)
    rows = await carpool.corridors(app_conn, lambda lat, lon: zone_of((lat, lon), grid))
    contributors = {r.user_id for r in rows}
    assert {a.user_id, b.user_id} <= contributors
    assert not {c.user_id, d.user_id} & contributors
    mine = [r for r in rows if r.user_id in (a.user_id, b.user_id)]
    assert {r.time_band for r in mine} == {"07:00", "17:00"}
    assert all(r.co2_kg_per_year > 0 for r in mine)
    assert all(isinstance(r.user_id, uuid.UUID) for r in rows)


async def test_a_run_again_keeps_the_matches_and_the_answers(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    # The API runs matching at every start-up: a run must change nothing that was already right.
    a, _ = await pair(app_conn, invite_code)
    [m] = await carpool.list_matches(app_conn, a)
    await carpool.set_profile(app_conn, a, display_name="Anne", contact="x", can_drive=None)
    await carpool.express_interest(app_conn, a, m.id)
    await carpool.run(app_conn, now=datetime.now(UTC))
    [again] = await carpool.list_matches(app_conn, a)
    assert (again.id, again.my_response, again.legs) == (m.id, "interested", m.legs)


async def test_a_run_while_another_is_under_way_is_refused_and_the_scheduled_one_skips(
    app_conn: asyncpg.Connection, test_db: ScratchDatabase, db: Database
) -> None:
    # Every API worker schedules a run at start-up; two at once collided on the offers' keys.
    other = await asyncpg.connect(test_db.app_url)
    try:
        async with carpool_db.run_lock(other) as taken:
            assert taken
            with pytest.raises(carpool.RunUnderWay):
                await carpool.run(app_conn, now=datetime.now(UTC))
            assert await carpool.scheduled_run(db, now=datetime.now(UTC)) is None
    finally:
        await other.close()
    assert isinstance(await carpool.scheduled_run(db, now=datetime.now(UTC)), carpool.CarpoolRun)
