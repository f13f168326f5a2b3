"""Builders for sharing tests: testers with synthetic trips written straight into their partition."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
import msgspec

from ingest.testers import ConsentChoice, enrol
from store.partition import as_user
from store.testers import device

# Places of a synthetic town (lat, lon), each in its own 1 km grid cell.
HARBOUR = (46.1556, -1.1520)
CAMPUS = (46.1456, -1.1120)
MARKET = (46.1856, -1.1920)
STATION = (46.2056, -1.2320)
DUNES = (46.2556, -1.3320)


class Participant(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    role: str


async def new_tester(conn: asyncpg.Connection, invite_code: str, *, share: bool, at: datetime) -> Participant:
    consents = [ConsentChoice(purpose="coaching")]
    if share:
        consents.append(ConsentChoice(purpose="share_aggregates"))
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


async def seed_dashboard(conn: asyncpg.Connection, invite_code: str, monday: datetime) -> Seeded:
    """Twelve sharing testers commuting the week of ``monday``, its release, and two team accounts.

    Consents are granted the week before ``monday``, so these testers are eligible for no earlier
    period (sessions seed different weeks without disturbing each other's releases).
    """
    from ingest.sharing.release import release
    from ingest.sharing.team import add_member

    for i in range(12):
        t = await new_tester(conn, invite_code, share=True, at=monday - timedelta(days=7))
        await commute_week(conn, t.role, monday, home=HARBOUR, work=CAMPUS, mode="car" if i < 11 else "bike")
    out = await release(conn, "week", day=monday.date(), now=datetime.now(monday.tzinfo))
    tag = uuid.uuid4().hex[:8]
    password = "correct horse battery staple"
    admin, analyst = f"admin-{tag}@agglo.example", f"analyst-{tag}@agglo.example"
    await add_member(conn, admin, "admin", password)
    await add_member(conn, analyst, "analyst", password)
    return Seeded(release_id=out.release_id, admin_email=admin, analyst_email=analyst, password=password)
