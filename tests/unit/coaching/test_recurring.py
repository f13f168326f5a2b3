from datetime import timedelta

from core.co2 import Mode
from core.coaching import Commute, Place, Places, PlaceSource, RecurringParams, TripRecord, recurring_trips
from tests.unit.coaching.builders import HOME, WORK, local, moved, trip

PLACES = Places(
    home=Place(location=HOME, source=PlaceSource.CONFIRMED),
    work=Place(location=WORK, source=PlaceSource.GUESSED),
)
JITTER_M = [(0, 0), (60, -40), (-80, 30), (20, 90), (-50, -70)]


def five_mornings_to_work() -> list[TripRecord]:
    return [
        trip(
            start=local(2026, 3, 9 + k, 8),
            origin=moved(HOME, north_m=n, east_m=e),
            destination=moved(WORK, north_m=-e, east_m=n),
        )
        for k, (n, e) in enumerate(JITTER_M)
    ]


def test_a_commute_is_detected_from_five_trips_with_jittered_ends() -> None:
    [commute] = recurring_trips(five_mornings_to_work(), PLACES)
    assert commute.count == 5
    assert commute.commute is Commute.HOME_TO_WORK
    assert commute.main_mode is Mode.CAR


def test_the_way_back_is_its_own_recurring_trip() -> None:
    back = [trip(start=local(2026, 3, 9 + k, 18), origin=WORK, destination=HOME) for k in range(3)]
    found = recurring_trips(five_mornings_to_work() + back, PLACES)
    assert [(r.commute, r.count) for r in found] == [(Commute.HOME_TO_WORK, 5), (Commute.WORK_TO_HOME, 3)]


def test_ends_beyond_the_radius_are_different_trips() -> None:
    trips = [trip(start=local(2026, 3, 9 + k, 8), destination=moved(WORK, east_m=600 * k)) for k in range(4)]
    assert recurring_trips(trips, PLACES) == []


def test_fewer_trips_than_the_minimum_are_not_recurring() -> None:
    trips = five_mornings_to_work()[:2]
    assert recurring_trips(trips, PLACES) == []
    assert len(recurring_trips(trips, PLACES, RecurringParams(min_count=2))) == 1


def test_recurring_trips_are_unnamed_without_home_and_work() -> None:
    [found] = recurring_trips(five_mornings_to_work())
    assert found.commute is None


def test_the_typical_distance_is_the_median() -> None:
    trips = [trip(start=local(2026, 3, 9 + k, 8), km=km) for k, km in enumerate([2.4, 2.5, 9.0])]
    [found] = recurring_trips(trips)
    assert found.typical_distance_m == 2500


def test_frequency_is_trips_per_week_between_the_first_and_last() -> None:
    trips = [trip(start=local(2026, 3, 2, 8) + timedelta(days=7 * k)) for k in range(5)]  # weekly, 4 weeks
    [found] = recurring_trips(trips)
    assert found.per_week == 5 / 4
