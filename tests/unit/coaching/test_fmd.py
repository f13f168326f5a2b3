from typing import Any

from core.co2 import Mode
from core.coaching import FmdParams, SectionRecord, day_eligible, fmd_days
from tests.unit.coaching.builders import local, section


def test_a_day_with_a_solo_car_section_is_not_a_sustainable_day() -> None:
    day = [
        section(start=local(2026, 3, 9, 8), mode=Mode.BIKE),
        section(start=local(2026, 3, 9, 18), mode=Mode.CAR),
    ]
    assert not day_eligible(day)


def test_bike_with_walking_legs_is_a_sustainable_day() -> None:
    day = [
        section(start=local(2026, 3, 9, 8), mode=Mode.WALK),
        section(start=local(2026, 3, 9, 8, 5), mode=Mode.BIKE),
    ]
    assert day_eligible(day)


def test_carpooling_and_public_transport_days_count() -> None:
    assert day_eligible([section(start=local(2026, 3, 9), mode=Mode.CAR, occupants=2)])
    assert day_eligible(
        [section(start=local(2026, 3, 9), mode=Mode.BUS), section(start=local(2026, 3, 9), mode=Mode.TRAIN)]
    )
    assert day_eligible([section(start=local(2026, 3, 9), mode=Mode.FERRY)])


def test_motorbike_and_plane_days_do_not_count() -> None:
    assert not day_eligible([section(start=local(2026, 3, 9), mode=Mode.MOTORBIKE)])
    assert not day_eligible([section(start=local(2026, 3, 9), mode=Mode.PLANE)])


def test_walking_alone_counts_only_when_asked() -> None:
    day = [section(start=local(2026, 3, 9), mode=Mode.WALK)]
    assert not day_eligible(day)
    assert day_eligible(day, FmdParams(count_walk_only_days=True))


def commute(**kw: Any) -> SectionRecord:
    return section(purpose="commute", **kw)


def test_days_are_counted_per_year_and_month_in_local_time() -> None:
    sections = [
        commute(start=local(2026, 3, 9, 8), mode=Mode.BIKE),
        commute(start=local(2026, 3, 10, 8), mode=Mode.BIKE),
        commute(start=local(2026, 3, 10, 18), mode=Mode.CAR),  # spoils 10 March
        commute(start=local(2026, 4, 1, 0, 30), mode=Mode.BUS),  # 31 March in UTC, 1 April in Paris
        commute(start=local(2025, 12, 31, 8), mode=Mode.BIKE),  # another year
    ]
    result = fmd_days(sections, 2026)
    assert [d.isoformat() for d in result.days] == ["2026-03-09", "2026-04-01"]
    assert result.by_month == {3: 1, 4: 1}
    assert result.total == 2


def test_only_home_work_trips_make_a_day_and_other_trips_neither_make_nor_spoil_it() -> None:
    sections = [
        # Saturday: a bike ride to the beach and back, no trip to or from work.
        section(start=local(2026, 3, 7, 15), mode=Mode.BIKE),
        section(start=local(2026, 3, 7, 17), mode=Mode.BIKE, purpose="home"),
        # Monday: cycled to work and back, drove to the shops in the evening.
        commute(start=local(2026, 3, 9, 8), mode=Mode.BIKE),
        commute(start=local(2026, 3, 9, 18), mode=Mode.BIKE),
        section(start=local(2026, 3, 9, 19), mode=Mode.CAR),
        # Tuesday: drove to work, cycled to a friend's in the evening.
        commute(start=local(2026, 3, 10, 8), mode=Mode.CAR),
        section(start=local(2026, 3, 10, 19), mode=Mode.BIKE),
        # Wednesday: a trip from work to a client by bus ("work" purpose) is not home-work.
        section(start=local(2026, 3, 11, 10), mode=Mode.BUS, purpose="work"),
    ]
    result = fmd_days(sections, 2026)
    assert [d.isoformat() for d in result.days] == ["2026-03-09"]
    assert result.other_sustainable_days == 2  # Saturday and Wednesday: not counted, but shown
