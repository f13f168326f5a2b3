"""Concrete alternatives to a recurring car trip: footprint, door-to-door time, yearly saving.

Each alternative covers the car trip's typical distance; its time is distance over a typical speed
plus a fixed door-to-door overhead. Typical speeds (all parameters):

- walking 4.8 km/h: comfortable gait speed of adults, 1.3-1.4 m/s (Bohannon, "Comfortable and
  maximum walking speed of adults aged 20-79 years", Age and Ageing 26(1), 1997);
- bicycle 15 km/h and e-bike 20 km/h: urban cycling averages around 15-16 km/h (City of
  Copenhagen, Bicycle Account), and pedal assistance stops at 25 km/h (Regulation (EU) No 168/2013,
  art. 2(2)(h); EN 15194), so an e-bike cruises a little below that; plus 2 min to lock and unlock;
- bus 17 km/h commercial speed, the order of magnitude of French urban networks outside Paris
  (CEREMA / UTP network statistics), plus 15 min: about 5 min walking at each end and 5 min
  waiting (half of a 10 min headway);
- car 30 km/h in town plus 5 min parking, and carpooling adds 5 min to pick up the passenger.

Feasibility: walking only up to 3 km, cycling up to 15 km, e-bike up to 25 km, bus up to 40 km;
carpooling has no limit. The yearly saving assumes the switch on ``days_per_week`` days of each of
``weeks_per_year`` weeks: 52 x the per-trip saving for "one day a week". Only alternatives that
save CO2 are proposed.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import msgspec

from core.co2.footprint import footprint_kg
from core.co2.modes import BikeKind, Mode
from core.co2.profile import LA_ROCHELLE, Deployment, VehicleProfile
from core.co2.registry import Registry
from core.coaching.recurring import RecurringTrip


class AlternativeKind(StrEnum):
    WALK = "walk"
    BIKE = "bike"
    E_BIKE = "ebike"
    BUS = "bus"
    CARPOOL = "carpool"


class AlternativeParams(msgspec.Struct, frozen=True, kw_only=True):
    walk_speed_kmh: float = 4.8
    bike_speed_kmh: float = 15.0
    e_bike_speed_kmh: float = 20.0
    bus_speed_kmh: float = 17.0
    car_speed_kmh: float = 30.0
    bike_overhead_s: float = 120.0
    bus_overhead_s: float = 900.0
    car_overhead_s: float = 300.0
    carpool_extra_s: float = 300.0
    walk_max_m: float = 3_000.0
    bike_max_m: float = 15_000.0
    e_bike_max_m: float = 25_000.0
    bus_max_m: float = 40_000.0
    carpool_occupants: int = 2
    days_per_week: float = 1.0
    weeks_per_year: float = 52.0


DEFAULT_ALTERNATIVE_PARAMS = AlternativeParams()


class Alternative(msgspec.Struct, frozen=True, kw_only=True):
    kind: AlternativeKind
    footprint_kg: float
    door_to_door_s: float
    extra_time_s: float  # versus the car, may be negative
    saving_per_trip_kg: float
    yearly_saving_kg: float


class TripAlternatives(msgspec.Struct, frozen=True, kw_only=True):
    """The car baseline of one recurring trip and its alternatives, best yearly saving first."""

    trip: RecurringTrip
    car_kg: float
    car_time_s: float
    alternatives: list[Alternative]


def _time_s(distance_m: float, speed_kmh: float, overhead_s: float) -> float:
    return distance_m / (speed_kmh / 3.6) + overhead_s


def alternatives_for(
    trip: RecurringTrip,
    profile: VehicleProfile,
    registry: Registry,
    *,
    deployment: Deployment = LA_ROCHELLE,
    params: AlternativeParams = DEFAULT_ALTERNATIVE_PARAMS,
) -> TripAlternatives:
    """Alternatives to driving ``trip`` as the profile usually does (its energy and occupants)."""
    d = trip.typical_distance_m
    car_kg = footprint_kg(Mode.CAR, d, profile, registry, deployment=deployment).kg
    car_time = _time_s(d, params.car_speed_kmh, params.car_overhead_s)
    muscular = msgspec.structs.replace(profile, bike_kind=BikeKind.MUSCULAR)

    def kg(mode: Mode, *, who: VehicleProfile = profile, occupants: int | None = None) -> float:
        return footprint_kg(mode, d, who, registry, deployment=deployment, occupants=occupants).kg

    options: list[tuple[AlternativeKind, float, float]] = []  # kind, kg, seconds
    if d <= params.walk_max_m:
        options.append((AlternativeKind.WALK, kg(Mode.WALK), _time_s(d, params.walk_speed_kmh, 0.0)))
    if d <= params.bike_max_m:
        options.append(
            (
                AlternativeKind.BIKE,
                kg(Mode.BIKE, who=muscular),
                _time_s(d, params.bike_speed_kmh, params.bike_overhead_s),
            )
        )
    if d <= params.e_bike_max_m:
        options.append(
            (
                AlternativeKind.E_BIKE,
                kg(Mode.E_BIKE),
                _time_s(d, params.e_bike_speed_kmh, params.bike_overhead_s),
            )
        )
    if d <= params.bus_max_m:
        options.append(
            (AlternativeKind.BUS, kg(Mode.BUS), _time_s(d, params.bus_speed_kmh, params.bus_overhead_s))
        )
    if params.carpool_occupants > profile.car_occupants:
        options.append(
            (
                AlternativeKind.CARPOOL,
                kg(Mode.CAR, occupants=params.carpool_occupants),
                car_time + params.carpool_extra_s,
            )
        )
    per_year = params.days_per_week * params.weeks_per_year
    alternatives = [
        Alternative(
            kind=kind,
            footprint_kg=alt_kg,
            door_to_door_s=seconds,
            extra_time_s=seconds - car_time,
            saving_per_trip_kg=car_kg - alt_kg,
            yearly_saving_kg=per_year * (car_kg - alt_kg),
        )
        for kind, alt_kg, seconds in options
        if alt_kg < car_kg
    ]
    alternatives.sort(key=lambda a: -a.yearly_saving_kg)  # stable: ties keep the listing order
    return TripAlternatives(trip=trip, car_kg=car_kg, car_time_s=car_time, alternatives=alternatives)


def alternatives_for_recurring(
    trips: Sequence[RecurringTrip],
    profile: VehicleProfile,
    registry: Registry,
    *,
    deployment: Deployment = LA_ROCHELLE,
    params: AlternativeParams = DEFAULT_ALTERNATIVE_PARAMS,
) -> list[TripAlternatives]:
    """Alternatives for every recurring trip whose usual main mode is the car, in the input order."""
    return [
        alternatives_for(t, profile, registry, deployment=deployment, params=params)
        for t in trips
        if t.main_mode is Mode.CAR
    ]
