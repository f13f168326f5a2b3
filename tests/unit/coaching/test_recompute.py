import pytest

from core.co2 import CarEnergy, Mode, VehicleProfile
from core.coaching import recompute_section, trips_from_sections
from tests.unit.coaching.builders import REGISTRY, local, section


def test_correcting_the_mode_recomputes_the_footprint() -> None:
    car = section(start=local(2026, 3, 9), mode=Mode.CAR, km=6.0)
    corrected, footprint = recompute_section(car, VehicleProfile(), REGISTRY, mode=Mode.BUS)
    assert corrected.mode is Mode.BUS
    assert corrected.co2_kg == pytest.approx(6 * 0.12242)
    assert footprint.factor_key == "bus_thermal"


def test_a_profile_change_recomputes_and_keeps_the_section_occupants() -> None:
    carpool = section(start=local(2026, 3, 9), mode=Mode.CAR, km=10.0, occupants=2)
    updated, _ = recompute_section(carpool, VehicleProfile(car_energy=CarEnergy.ELECTRIC), REGISTRY)
    assert updated.co2_kg == pytest.approx(10 * 0.06737 / 2)


def test_trips_gather_their_sections_and_take_the_longest_mode() -> None:
    walk = section(start=local(2026, 3, 9, 8), mode=Mode.WALK, km=0.4, trip_id="t", purpose="work")
    bus = section(start=local(2026, 3, 9, 8, 10), mode=Mode.BUS, km=5.0, trip_id="t")
    [trip] = trips_from_sections([bus, walk])
    assert trip.main_mode is Mode.BUS
    assert trip.distance_m == pytest.approx(5400)
    assert trip.co2_kg == pytest.approx(walk.co2_kg + bus.co2_kg)
    assert (trip.origin, trip.start, trip.purpose) == (walk.origin, walk.start, "work")
