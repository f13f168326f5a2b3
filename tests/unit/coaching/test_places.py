from datetime import date, timedelta

import pytest

from core.coaching import PlaceOverrides, PlaceSource, StayRecord, guess_places
from core.coaching.geo import haversine_m
from tests.unit.coaching.builders import HOME, WORK, local, moved, stay

SHOP = moved(HOME, north_m=1500)


def a_working_week() -> list[StayRecord]:
    """Nights at home, weekdays 9-17 at work, a Saturday afternoon at the shop."""
    stays = []
    monday = date(2026, 3, 9)
    for k in range(7):
        d = monday + timedelta(days=k)
        nxt = d + timedelta(days=1)
        stays.append(
            stay(local(d.year, d.month, d.day, 19), local(nxt.year, nxt.month, nxt.day, 7, 30), HOME)
        )
        if k < 5:
            stays.append(
                stay(local(d.year, d.month, d.day, 8, 45), local(d.year, d.month, d.day, 17, 30), WORK)
            )
    stays.append(stay(local(2026, 3, 14, 14), local(2026, 3, 14, 18), SHOP))
    return stays


def test_home_is_where_the_nights_are_and_work_where_weekdays_are() -> None:
    places = guess_places(a_working_week())
    assert places.home is not None
    assert places.work is not None
    assert haversine_m(places.home.location, HOME) < 5
    assert haversine_m(places.work.location, WORK) < 5
    assert places.home.source is PlaceSource.GUESSED
    assert places.work.work_hours_dwell_s == pytest.approx(5 * 8 * 3600)


def test_jittered_stays_merge_into_one_place() -> None:
    stays = [
        stay(local(2026, 3, d, 21), local(2026, 3, d + 1, 7), moved(HOME, north_m=40 * (d % 3), east_m=-30))
        for d in range(2, 9)
    ]
    places = guess_places(stays)
    assert places.home is not None
    assert haversine_m(places.home.location, HOME) < 60


def test_a_single_night_away_is_not_home() -> None:
    places = guess_places([stay(local(2026, 3, 9, 22), local(2026, 3, 10, 7), HOME)])
    assert places.home is None


def test_confirmed_places_override_the_guess() -> None:
    confirmed_work = moved(WORK, east_m=800)
    places = guess_places(a_working_week(), PlaceOverrides(work=confirmed_work))
    assert places.work is not None
    assert places.work.location == confirmed_work
    assert places.work.source is PlaceSource.CONFIRMED
