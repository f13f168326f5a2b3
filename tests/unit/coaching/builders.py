"""Readable builders for coaching tests: local Paris times, La Rochelle places, metre offsets."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.co2 import Mode, VehicleProfile, footprint_kg, load_registry
from core.coaching import LatLon, SectionRecord, StayRecord, TripRecord

PARIS = ZoneInfo("Europe/Paris")
REGISTRY = load_registry()
HOME: LatLon = (46.1591, -1.1520)  # La Rochelle, Vieux-Port
WORK: LatLon = (46.1390, -1.1660)  # La Rochelle, Les Minimes, about 2.5 km away
_ids = itertools.count(1)


def local(y: int, mo: int, d: int, h: int = 8, mi: int = 0) -> datetime:
    """An aware datetime at this Europe/Paris wall-clock time."""
    return datetime(y, mo, d, h, mi, tzinfo=PARIS)


def moved(point: LatLon, *, north_m: float = 0.0, east_m: float = 0.0) -> LatLon:
    """``point`` shifted by a few metres (jitter)."""
    lat = point[0] + north_m / 111_195.0
    lon = point[1] + east_m / (111_195.0 * math.cos(math.radians(point[0])))
    return (lat, lon)


def section(
    *,
    start: datetime,
    minutes: float = 20,
    mode: Mode = Mode.CAR,
    km: float = 5.0,
    co2_kg: float | None = None,
    origin: LatLon = HOME,
    destination: LatLon = WORK,
    purpose: str | None = None,
    occupants: int = 1,
    trip_id: str | None = None,
    to_confirm: bool = False,
) -> SectionRecord:
    """A section whose footprint defaults to the registry's (solo thermal car profile)."""
    n = next(_ids)
    if co2_kg is None:
        co2_kg = footprint_kg(mode, km * 1000, VehicleProfile(), REGISTRY, occupants=occupants).kg

    return SectionRecord(
        trip_id=trip_id or f"t{n}",
        section_id=f"s{n}",
        start=start,
        end=start + timedelta(minutes=minutes),
        mode=mode,
        distance_m=km * 1000,
        co2_kg=co2_kg,
        origin=origin,
        destination=destination,
        purpose=purpose,
        occupants=occupants,
        to_confirm=to_confirm,
    )


def trip(
    *,
    start: datetime,
    origin: LatLon = HOME,
    destination: LatLon = WORK,
    km: float = 2.5,
    mode: Mode = Mode.CAR,
    co2_kg: float = 0.36,
) -> TripRecord:

    return TripRecord(
        trip_id=f"t{next(_ids)}",
        start=start,
        end=start + timedelta(minutes=15),
        origin=origin,
        destination=destination,
        distance_m=km * 1000,
        co2_kg=co2_kg,
        main_mode=mode,
    )


def stay(start: datetime, end: datetime, where: LatLon) -> StayRecord:
    return StayRecord(start=start, end=end, lat=where[0], lon=where[1])
