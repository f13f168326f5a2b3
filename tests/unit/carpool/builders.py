"""Readable builders for carpool tests: offers, weekly commutes, and seeding them into a partition.

Places are in La Rochelle; times are Europe/Paris wall-clock. ``seed_commutes`` writes trips and
car sections straight into a tester's own partition, under their role (faster than uploads and the
pipeline, and the same tables the pipeline fills).
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.carpool import Offer
from core.co2 import Mode
from core.coaching import LatLon
from core.coaching.geo import haversine_m
from store.partition import Conn, as_user

PARIS = ZoneInfo("Europe/Paris")
HOME: LatLon = (46.1700, -1.1000)  # Périgny side
WORK: LatLon = (46.1450, -1.1650)  # Les Minimes side, about 5.7 km away
CAR_KG_PER_KM = 0.14225  # registry impactco2-2026-06, car_thermal, per vehicle-km
BUS_KG_PER_KM = 0.12242  # same registry, bus_thermal, per passenger-km
WEEKDAYS = 0b0011111  # Monday to Friday


def moved(point: LatLon, *, north_m: float = 0.0, east_m: float = 0.0) -> LatLon:
    lat = point[0] + north_m / 111_195.0
    lon = point[1] + east_m / (111_195.0 * math.cos(math.radians(point[0])))
    return (lat, lon)


def minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def offer(
    *,
    user: uuid.UUID | None = None,
    seq: int = 0,
    origin: LatLon = HOME,
    destination: LatLon = WORK,
    depart: str = "07:45",
    width_min: int = 10,
    weekdays: int = WEEKDAYS,
    mode: Mode = Mode.CAR,
    can_drive: bool | None = None,
    distance_m: float | None = None,
) -> Offer:
    """An offer whose usual footprint is a solo thermal car's (or zero for walking/cycling)."""
    dist = distance_m if distance_m is not None else haversine_m(origin, destination) * 1.3
    start = minutes(depart) - width_min // 2
    co2 = dist / 1000 * {Mode.CAR: CAR_KG_PER_KM, Mode.BUS: BUS_KG_PER_KM}.get(mode, 0.0)
    return Offer(
        user_id=user or uuid.uuid4(),
        seq=seq,
        origin=origin,
        destination=destination,
        depart_from_min=start,
        depart_to_min=start + width_min,
        weekdays=weekdays,
        distance_m=dist,
        usual_co2_kg=co2,
        usual_mode=mode,
        can_drive=(mode is Mode.CAR) if can_drive is None else can_drive,
        car_kg_per_km=CAR_KG_PER_KM,
    )


def weekdays_back(weeks: int, *, today: date | None = None) -> list[date]:
    """Monday-to-Friday dates of the ``weeks`` full weeks before the current one."""
    today = today or datetime.now(PARIS).date()
    monday = today - timedelta(days=today.weekday() + 7 * weeks)
    return [monday + timedelta(days=7 * w + d) for w in range(weeks) for d in range(5)]


class Trip:
    def __init__(self, start: datetime, origin: LatLon, destination: LatLon, mode: Mode = Mode.CAR) -> None:
        self.id = uuid.uuid4()
        self.start = start
        self.distance_m = haversine_m(origin, destination) * 1.3
        self.end = start + timedelta(seconds=self.distance_m / 10.0)
        self.origin = origin
        self.destination = destination
        self.mode = mode


def commutes(
    days: list[date],
    *,
    home: LatLon = HOME,
    work: LatLon = WORK,
    leave_home: str = "07:45",
    leave_work: str = "17:30",
    mode: Mode = Mode.CAR,
) -> list[Trip]:
    """Home to work and back on each day, departures jittered by up to 4 minutes."""
    trips = []
    for k, day in enumerate(days):
        jitter = timedelta(minutes=(k * 3) % 5)
        for hhmm, a, b in ((leave_home, home, work), (leave_work, work, home)):
            h, m = (int(x) for x in hhmm.split(":"))
            at = datetime.combine(day, time(h, m), tzinfo=PARIS) + jitter
            trips.append(Trip(at.astimezone(UTC), a, b, mode))
    return trips


def role_of(user_id: uuid.UUID) -> str:
    return "sillage_u_" + user_id.hex


async def seed_commutes(conn: Conn, user_id: uuid.UUID, trips: list[Trip]) -> None:
    """Insert ``trips`` (one section each, solo footprint) into the tester's own partition."""
    async with as_user(conn, role_of(user_id)):
        await conn.executemany(
            "INSERT INTO trips (id, started_at, ended_at, origin_lat, origin_lon, destination_lat,"
            " destination_lon, distance_m) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [(t.id, t.start, t.end, *t.origin, *t.destination, t.distance_m) for t in trips],
        )
        await conn.executemany(
            "INSERT INTO sections (id, trip_id, seq, started_at, ended_at, distance_m, n_fixes, mode,"
            " probabilities, mode_source, model_version, geometry, co2_kg, co2_factor, co2_registry)"
            " VALUES ($1, $2, 0, $3, $4, $5, 10, $6, $7::jsonb, 'heuristic', 'test', $8::jsonb, $9,"
            " 'car_thermal', 'impactco2-2026-06')",
            [
                (
                    uuid.uuid4(),
                    t.id,
                    t.start,
                    t.end,
                    t.distance_m,
                    t.mode.value,
                    json.dumps({t.mode.value: 1.0}),
                    json.dumps({"type": "LineString", "coordinates": []}),
                    t.distance_m / 1000 * CAR_KG_PER_KM if t.mode is Mode.CAR else 0.0,
                )
                for t in trips
            ],
        )
