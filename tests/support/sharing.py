"""Builders for sharing tests: testers with synthetic trips written straight into their partition."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from core.privacy.params import ReleaseParams
from core.privacy.zones import GridZones
from ingest import carpool
from ingest.testers import ConsentChoice, create_campaign, enrol
from store import sharing as sharing_db
from store.partition import as_user
from store.rights import Actor
from store.testers import device
from tests.unit.carpool.builders import HOME, WORK, commutes, moved, seed_commutes, weekdays_back

# Places of a synthetic town (lat, lon), each in its own 1 km grid cell.
HARBOUR = (46.1556, -1.1520)
CAMPUS = (46.1456, -1.1120)
MARKET = (46.1856, -1.1920)
STATION = (46.2056, -1.2320)
DUNES = (46.2556, -1.3320)


class Participant(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    role: str


async def new_tester(
    conn: asyncpg.Connection, invite_code: str, *, share: bool, at: datetime, carpool: bool = False
) -> Participant:
    consents = [ConsentChoice(purpose="coaching")]
    if share:
        consents.append(ConsentChoice(purpose="share_aggregates"))
    if carpool:
        consents.append(ConsentChoice(purpose="carpool_matching"))
    e = await enrol(conn, invite_code, consents, device_label="synthetic", now=at)
    row = await device(conn, e.device_id)
    assert row is not None
    return Participant(user_id=e.user_id, role=row.role)


async def add_trip(
    conn: asyncpg.Connection,
    role: str,
    *,
    at: datetime,
    origin: tuple[float, float],
    destination: tuple[float, float],
    mode: str = "car",
    distance_m: float = 4000.0,
    co2_kg: float = 0.8,
    hidden: bool = False,
) -> None:
    trip_id = uuid.uuid4()
    end = at + timedelta(minutes=15)
    async with as_user(conn, role):
        await conn.execute(
            "INSERT INTO trips (id, started_at, ended_at, origin_lat, origin_lon, destination_lat,"
            " destination_lon, distance_m, hidden) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            trip_id,
            at,
            end,
            *origin,
            *destination,
            distance_m,
            hidden,
        )
        await conn.execute(
            "INSERT INTO sections (id, trip_id, seq, started_at, ended_at, distance_m, n_fixes, mode,"
            " probabilities, mode_source, model_version, geometry, co2_kg)"
            " VALUES ($1, $2, 0, $3, $4, $5, 100, $6, '{}', 'model', 'test', '{}', $7)",
            uuid.uuid4(),
            trip_id,
            at,
            end,
            distance_m,
            mode,
            co2_kg,
        )


async def commute_week(
    conn: asyncpg.Connection,
    role: str,
    monday: datetime,
    *,
    home: tuple[float, float],
    work: tuple[float, float],
    mode: str = "car",
) -> None:
    """Home to work at 08:00 and back at 17:30, Monday to Friday (times in ``monday``'s zone)."""
    for d in range(5):
        day = monday + timedelta(days=d)
        await add_trip(conn, role, at=day.replace(hour=8), origin=home, destination=work, mode=mode)
        await add_trip(
            conn, role, at=day.replace(hour=17, minute=30), origin=work, destination=home, mode=mode
        )


class Seeded(msgspec.Struct, frozen=True, kw_only=True):
    release_id: uuid.UUID
    admin_email: str
    analyst_email: str
    password: str


def far_commute(tag: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Home and work 5.7 km apart, about 400 km south of La Rochelle and ``tag`` × 10 km east, each
    at the centre of a 1 km release grid cell: carpool testers placed here match only each other
    (other tests match near La Rochelle or east of it), and every pair's corridor is one cell pair."""
    grid = GridZones(1000.0)

    def centred(p: tuple[float, float]) -> tuple[float, float]:
        zone = grid.zone_of(*p)
        assert zone is not None
        return grid.zone(zone).centroid

    shift = {"north_m": -400_000.0, "east_m": 10_000.0 * tag}
    return centred(moved(HOME, **shift)), centred(moved(WORK, **shift))


async def seed_carpool(conn: asyncpg.Connection, testers: list[Participant], *, tag: int) -> None:
    """The ``testers`` (consenting to carpool matching) drive the same commute (:func:`far_commute`)
    every weekday of the last four weeks; then the carpool run makes their offers and matches."""
    home, work = far_commute(tag)
    for t in testers:
        await seed_commutes(conn, t.user_id, commutes(weekdays_back(4), home=home, work=work))
    await carpool.run(conn, now=datetime.now(UTC))


async def seed_dashboard(conn: asyncpg.Connection, invite_code: str, monday: datetime) -> Seeded:
    """Twelve sharing testers commuting the week of ``monday``, who also consent to carpool matching
    and could all carpool along one corridor; its release, and two team accounts.

    Consents are granted the week before ``monday``, so these testers are eligible for no earlier
    period (sessions seed different weeks without disturbing each other's releases).
    """
    from ingest.sharing.release import release
    from ingest.sharing.team import add_member

    testers = []
    for i in range(12):
        t = await new_tester(conn, invite_code, share=True, carpool=True, at=monday - timedelta(days=7))
        await commute_week(conn, t.role, monday, home=HARBOUR, work=CAMPUS, mode="car" if i < 11 else "bike")
        testers.append(t)
    await seed_carpool(conn, testers, tag=monday.toordinal() // 7 % 10)
    out = await release(conn, "week", day=monday.date(), now=datetime.now(monday.tzinfo))
    tag = uuid.uuid4().hex[:8]
    password = "correct horse battery staple"
    admin, analyst = f"admin-{tag}@agglo.example", f"analyst-{tag}@agglo.example"
    await add_member(conn, admin, "admin", password)
    await add_member(conn, analyst, "analyst", password)
    return Seeded(release_id=out.release_id, admin_email=admin, analyst_email=analyst, password=password)


async def release_cells(
    conn: asyncpg.Connection, release_id: uuid.UUID, table: str
) -> list[sharing_db.CellRow]:
    """One table's cells of a release, read as the mobility team reads them."""
    async with sharing_db.as_team(conn, None):
        return await sharing_db.release_cells(conn, release_id, table)


async def release_zone_ids(conn: asyncpg.Connection, release_id: uuid.UUID) -> set[str]:
    """The zones a release publishes for its map, read as the mobility team reads them."""
    async with sharing_db.as_team(conn, None):
        return {z.zone_id for z in await sharing_db.release_zones(conn, release_id)}


PASSWORD = "correct horse battery staple"


class City(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    invite_code: str
    release_id: uuid.UUID
    analyst: str
    admin: str


async def seed_city(conn: asyncpg.Connection, name: str, *weeks: datetime) -> City:
    """A campaign of three sharing testers commuting the ``weeks`` (consents granted the week
    before the first), its own release of the first week (k=3), and an analyst and an admin
    account scoped to it."""
    from ingest.sharing.release import release
    from ingest.sharing.team import add_member

    campaign = await create_campaign(conn, name, actor=Actor.operator("tests"))
    for _ in range(3):
        t = await new_tester(conn, campaign.invite_code, share=True, at=weeks[0] - timedelta(days=7))
        for week in weeks:
            await commute_week(conn, t.role, week, home=HARBOUR, work=CAMPUS)
    ref = await sharing_db.campaign_by_name(conn, name)
    out = await release(
        conn, "week", day=weeks[0].date(), now=datetime.now(UTC), params=ReleaseParams(k=3), campaign=ref
    )
    tag = uuid.uuid4().hex[:8]
    analyst, admin = f"analyst-{tag}@city.example", f"admin-{tag}@city.example"
    await add_member(conn, analyst, "analyst", PASSWORD, campaign=name)
    await add_member(conn, admin, "admin", PASSWORD, campaign=name)
    return City(
        name=name, invite_code=campaign.invite_code, release_id=out.release_id, analyst=analyst, admin=admin
    )
