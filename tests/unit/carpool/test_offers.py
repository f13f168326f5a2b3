"""From recurring trips to offers: window, weekdays, snapping, driving."""

from __future__ import annotations

import uuid
from datetime import UTC, date

from core.carpool import DEFAULT_OFFER_PARAMS, offers_from_trips, weekday_names, zone_of
from core.carpool.offers import clock, departure_window, snap
from core.carpool.params import ZoneParams
from core.co2 import Mode
from core.coaching import TripRecord, recurring_trips
from core.coaching.geo import haversine_m
from tests.unit.carpool.builders import HOME, WORK, Trip, commutes, weekdays_back


def _records(trips: list[Trip]) -> list[TripRecord]:
    return [
        TripRecord(
            trip_id=str(t.id),
            start=t.start,
            end=t.end,
            origin=t.origin,
            destination=t.destination,
            distance_m=t.distance_m,
            co2_kg=1.0,
            main_mode=t.mode,
        )
        for t in trips
    ]


def _offers(trips: list[Trip], *, can_drive: bool | None = None) -> list:  # type: ignore[type-arg]
    records = _records(trips)
    return offers_from_trips(
        uuid.uuid4(), records, recurring_trips(records), can_drive=can_drive, car_kg_per_km=0.14
    )


DAYS = weekdays_back(4, today=date(2026, 3, 30))


def test_a_weekday_commute_gives_one_offer_per_direction() -> None:
    offers = _offers(commutes(DAYS))
    assert len(offers) == 2
    assert all(weekday_names(o.weekdays) == ["mon", "tue", "wed", "thu", "fri"] for o in offers)


def test_the_window_covers_the_usual_departures_in_local_time() -> None:
    morning = next(o for o in _offers(commutes(DAYS)) if o.depart_from_min < 12 * 60)
    assert clock(morning.depart_from_min) <= "07:45" <= clock(morning.depart_to_min)
    assert morning.depart_to_min - morning.depart_from_min >= DEFAULT_OFFER_PARAMS.min_window_min


def test_a_narrow_window_is_widened_to_the_minimum() -> None:
    assert departure_window([465, 465, 465], DEFAULT_OFFER_PARAMS) == (460, 470)


def test_a_day_made_only_once_in_four_weeks_is_not_a_usual_weekday() -> None:
    days = [d for d in DAYS if d.weekday() < 4] + [d for d in DAYS if d.weekday() == 4][:1]
    offers = _offers(commutes(days))
    assert all("fri" not in weekday_names(o.weekdays) for o in offers)


def test_coordinates_are_snapped_to_about_100_m() -> None:
    offers = _offers(commutes(DAYS))
    morning = next(o for o in offers if o.depart_from_min < 12 * 60)
    assert morning.origin != HOME
    assert haversine_m(morning.origin, HOME) < 100
    assert snap(morning.origin, 100.0) == morning.origin


def test_a_car_commuter_can_drive_unless_they_say_otherwise() -> None:
    assert all(o.can_drive for o in _offers(commutes(DAYS)))
    assert not any(o.can_drive for o in _offers(commutes(DAYS), can_drive=False))
    assert not any(o.can_drive for o in _offers(commutes(DAYS, mode=Mode.BUS)))


def test_zones_are_two_kilometre_cells() -> None:
    params = ZoneParams()
    assert zone_of(HOME, params) == zone_of((HOME[0] + 0.001, HOME[1]), params)
    assert zone_of(HOME, params) != zone_of(WORK, params)


def test_times_are_utc_aware() -> None:
    assert all(t.start.tzinfo is not None for t in commutes(DAYS))
    assert commutes(DAYS)[0].start.astimezone(UTC).hour in (5, 6)
