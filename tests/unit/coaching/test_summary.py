import pytest

from core.co2 import Mode
from core.coaching import Period, SummaryParams, footprint_report
from core.coaching.summary import trend
from tests.unit.coaching.builders import local, section


def test_week_trend_is_the_difference_and_its_percentage() -> None:
    sections = [
        section(start=local(2026, 3, 9), co2_kg=8.0),  # Monday of the previous ISO week
        section(start=local(2026, 3, 17), co2_kg=6.0),
        section(start=local(2026, 3, 19), co2_kg=4.0),
    ]
    report = footprint_report(sections, Period.WEEK, local(2026, 3, 20, 18))
    assert report.current.total_kg == pytest.approx(10.0)
    assert report.vs_previous.reference_kg == pytest.approx(8.0)
    assert report.vs_previous.delta_kg == pytest.approx(2.0)
    assert report.vs_previous.delta_pct == pytest.approx(25.0)


def test_the_average_trend_uses_the_previous_periods_mean() -> None:
    sections = [section(start=local(2026, 3, d), co2_kg=kg) for d, kg in [(2, 4.0), (9, 8.0), (16, 6.0)]]
    report = footprint_report(sections, Period.WEEK, local(2026, 3, 16), SummaryParams(previous_periods=2))
    assert [p.total_kg for p in report.previous] == [8.0, 4.0]
    assert report.vs_average.reference_kg == pytest.approx(6.0)
    assert report.vs_average.delta_pct == pytest.approx(0.0)


def test_a_zero_reference_gives_no_percentage() -> None:
    assert trend(3.0, 0.0).delta_pct is None


def test_sections_belong_to_their_local_week() -> None:
    sunday_late = section(start=local(2026, 3, 22, 23, 30), co2_kg=1.0)  # 22:30 UTC, still Sunday in Paris
    monday_early = section(start=local(2026, 3, 23, 0, 30), co2_kg=2.0)  # Sunday 23:30 UTC, Monday in Paris
    report = footprint_report([sunday_late, monday_early], Period.WEEK, local(2026, 3, 23, 12))
    assert report.current.total_kg == pytest.approx(2.0)
    assert report.previous[0].total_kg == pytest.approx(1.0)


def test_footprint_is_split_by_mode_and_by_purpose() -> None:
    sections = [
        section(start=local(2026, 5, 4, 8), mode=Mode.CAR, co2_kg=1.5, purpose="work"),
        section(start=local(2026, 5, 4, 18), mode=Mode.BUS, co2_kg=0.5, purpose="work"),
        section(start=local(2026, 5, 4, 20), mode=Mode.CAR, co2_kg=1.0),
    ]
    day = footprint_report(sections, Period.DAY, local(2026, 5, 4, 21)).current
    assert day.by_mode_kg == {"bus": 0.5, "car": 2.5}
    assert day.by_purpose_kg == {"unknown": 1.0, "work": 2.0}
    assert day.section_count == 3
    assert (day.to_confirm_trips, day.to_confirm_kg) == (0, 0.0)


def test_a_period_says_how_much_of_its_footprint_awaits_confirmation() -> None:
    sections = [
        section(start=local(2026, 5, 4, 8), mode=Mode.CAR, co2_kg=1.5, trip_id="a", to_confirm=True),
        section(start=local(2026, 5, 4, 8, 30), mode=Mode.WALK, co2_kg=0.0, trip_id="a"),
        section(start=local(2026, 5, 4, 18), mode=Mode.BUS, co2_kg=0.5, trip_id="b", to_confirm=True),
        section(start=local(2026, 5, 4, 20), mode=Mode.CAR, co2_kg=1.0, trip_id="c"),
        section(start=local(2026, 5, 3, 20), mode=Mode.CAR, co2_kg=9.0, trip_id="d", to_confirm=True),
    ]
    day = footprint_report(sections, Period.DAY, local(2026, 5, 4, 21)).current
    assert (day.to_confirm_trips, day.to_confirm_kg, day.total_kg) == (2, 2.0, 3.0)


def test_months_compare_across_the_new_year() -> None:
    sections = [
        section(start=local(2025, 12, 15), co2_kg=20.0),
        section(start=local(2026, 1, 10), co2_kg=15.0),
    ]
    report = footprint_report(sections, Period.MONTH, local(2026, 1, 31, 23))
    assert (report.current.start.isoformat(), report.previous[0].start.isoformat()) == (
        "2026-01-01",
        "2025-12-01",
    )
    assert report.vs_previous.delta_pct == pytest.approx(-25.0)
