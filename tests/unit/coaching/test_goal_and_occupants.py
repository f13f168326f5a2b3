import pytest

from core.co2 import CarEnergy, Mode, VehicleProfile
from core.coaching import BudgetParams, budget_status, occupants_for, recompute_section
from tests.unit.coaching.builders import REGISTRY, local, section


def test_a_personal_budget_replaces_the_default_trajectory_share() -> None:
    assert BudgetParams().yearly_mobility_kg == pytest.approx(500.0)
    params = BudgetParams(personal_budget_kg=800.0)
    status = budget_status([section(start=local(2026, 2, 2), co2_kg=40.0)], local(2026, 3, 1), params)
    assert status.budget_kg == pytest.approx(800.0)
    assert status.used_fraction == pytest.approx(0.05)


def test_a_section_without_a_recorded_carpool_follows_the_profile() -> None:
    assert occupants_for(1, VehicleProfile(car_occupants=3)) == 3
    assert occupants_for(2, VehicleProfile(car_occupants=3)) == 2


def test_a_carpool_profile_reprices_ordinary_car_sections() -> None:
    car = section(start=local(2026, 3, 9), mode=Mode.CAR, km=9.0)
    profile = VehicleProfile(car_energy=CarEnergy.HYBRID, car_occupants=3)
    updated, _ = recompute_section(car, profile, REGISTRY)
    assert updated.co2_kg == pytest.approx(9 * 0.14658 / 3)
