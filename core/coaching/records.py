"""The coaching room's inputs: sections, trips and stays as read from a user's own partition.

Times are timezone-aware datetimes (UTC as stored); each computation converts them to the user's
time zone itself. Coordinates are WGS84 ``(lat, lon)`` degrees, distances metres, footprints kgCO2e.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

import msgspec

from core.co2.modes import Mode

LatLon = tuple[float, float]
Metres = Annotated[float, msgspec.Meta(ge=0)]
Kg = Annotated[float, msgspec.Meta(ge=0)]


class SectionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One single-mode leg of a trip with its stored footprint.

    ``occupants`` counts everyone in the vehicle, driver included (cars only: 2 or more is
    carpooling); it is what the footprint was computed with.
    """

    trip_id: str
    section_id: str
    start: datetime
    end: datetime
    mode: Mode
    distance_m: Metres
    co2_kg: Kg
    origin: LatLon
    destination: LatLon
    purpose: str | None = None
    occupants: Annotated[int, msgspec.Meta(ge=1)] = 1
    # Not confirmed by the tester and unsure of its mode (core.history.unsure): its footprint may
    # change with the tester's answer.
    to_confirm: bool = False


class TripRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A door-to-door trip: its sections' span, total distance and footprint, and main mode."""

    trip_id: str
    start: datetime
    end: datetime
    origin: LatLon
    destination: LatLon
    distance_m: Metres
    co2_kg: Kg
    main_mode: Mode
    purpose: str | None = None


class StayRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stay point (staypoint in trackintel's vocabulary): where the user dwelt, from when to when."""

    start: datetime
    end: datetime
    lat: float
    lon: float


def trips_from_sections(sections: Iterable[SectionRecord]) -> list[TripRecord]:
    """Group sections by ``trip_id`` into trips, sorted by start.

    The main mode is the one covering the longest distance (ties: the first one met). Travel
    surveys often rank modes by a fixed hierarchy instead; distance needs no such table and
    matches what dominates the trip's footprint. The purpose is the first non-empty one.
    """
    by_trip: dict[str, list[SectionRecord]] = {}
    for section in sections:
        by_trip.setdefault(section.trip_id, []).append(section)
    trips = []
    for trip_id, legs in by_trip.items():
        legs.sort(key=lambda s: s.start)
        distance_by_mode: dict[Mode, float] = {}
        for leg in legs:
            distance_by_mode[leg.mode] = distance_by_mode.get(leg.mode, 0.0) + leg.distance_m
        main_mode = max(distance_by_mode, key=lambda m: distance_by_mode[m])  # first max wins on ties
        purpose = next((leg.purpose for leg in legs if leg.purpose), None)
        trips.append(
            TripRecord(
                trip_id=trip_id,
                start=legs[0].start,
                end=max(leg.end for leg in legs),
                origin=legs[0].origin,
                destination=legs[-1].destination,
                distance_m=sum(leg.distance_m for leg in legs),
                co2_kg=sum(leg.co2_kg for leg in legs),
                main_mode=main_mode,
                purpose=purpose,
            )
        )
    trips.sort(key=lambda t: t.start)
    return trips
