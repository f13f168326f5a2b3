import pytest

from core.coaching import BudgetParams, budget_status
from tests.unit.coaching.builders import local, section

APRIL_FIRST = local(2026, 4, 1, 0)  # 90 days (less the DST hour) into a 365-day year


def test_the_default_mobility_budget_is_a_quarter_of_two_tonnes() -> None:
    assert BudgetParams().yearly_mobility_kg == pytest.approx(500.0)


def test_pace_projects_the_year_end_linearly_and_is_on_track_below_budget() -> None:
    status = budget_status([section(start=local(2026, 2, 1), co2_kg=100.0)], APRIL_FIRST)
    assert status.elapsed_fraction == pytest.approx(90 / 365, rel=1e-3)
    assert status.projected_year_end_kg == pytest.approx(100 * 365 / 90, rel=1e-3)
    assert status.used_fraction == pytest.approx(0.2)
    assert status.on_track


def test_pace_above_budget_is_off_track() -> None:
    status = budget_status([section(start=local(2026, 2, 1), co2_kg=200.0)], APRIL_FIRST)
    assert status.projected_year_end_kg == pytest.approx(811.1, rel=1e-3)
    assert not status.on_track
    assert status.remaining_kg == pytest.approx(300.0)


def test_only_this_local_year_up_to_now_counts() -> None:
    sections = [
        section(start=local(2025, 12, 31, 23, 30), co2_kg=50.0),  # 22:30 UTC: last year in Paris
        section(start=local(2026, 1, 1, 0, 30), co2_kg=5.0),  # 23:30 UTC on 31 Dec, but 2026 in Paris
        section(start=local(2026, 5, 1), co2_kg=70.0),  # after "now"
    ]
    assert budget_status(sections, APRIL_FIRST).used_kg == pytest.approx(5.0)


def test_no_projection_before_the_first_day_has_passed() -> None:
    status = budget_status([section(start=local(2026, 1, 1, 0, 30), co2_kg=1.0)], local(2026, 1, 1, 9))
    assert status.projected_year_end_kg is None


def test_a_tester_who_began_late_in_the_year_is_paced_from_their_first_data() -> None:
    first = local(2026, 11, 23, 8)  # enrolled a week ago; 1 kg a day since
    sections = [section(start=local(2026, 11, 23 + d, 8), co2_kg=1.0) for d in range(7)]
    at = local(2026, 11, 30, 8)
    budget = BudgetParams(personal_budget_kg=300.0)
    status = budget_status(sections, at, budget, first_data=first)
    assert status.pace_since == first
    assert status.observed_fraction == pytest.approx(7 / 365, rel=1e-3)
    assert status.projected_year_end_kg == pytest.approx(365.0, rel=1e-3)  # 1 kg a day, all year
    assert not status.on_track  # 365 kg a year against 300
    assert status.elapsed_fraction == pytest.approx(333 / 365, rel=1e-2)  # the calendar's part
    # Paced from 1 January, the same week looked frugal (7 kg "so far" in eleven months).
    assert budget_status(sections, at, budget).on_track


def test_data_from_an_earlier_year_paces_from_1_january() -> None:
    status = budget_status([], APRIL_FIRST, first_data=local(2024, 6, 1))
    assert status.pace_since == local(2026, 1, 1, 0)
    assert status.observed_fraction == pytest.approx(status.elapsed_fraction)
