import pytest

from core.co2 import CarEnergy, Mode, VehicleProfile
from core.coaching import AlternativeKind, RecurringTrip, alternatives_for, alternatives_for_recurring
from tests.unit.coaching.builders import HOME, REGISTRY, WORK

SOLO = VehicleProfile()


def recurring(*, km: float, mode: Mode = Mode.CAR) -> RecurringTrip:
    return RecurringTrip(
        origin=HOME,
        destination=WORK,
        trip_ids=["a", "b", "c"],
        count=3,
        typical_distance_m=km * 1000,
        typical_co2_kg=0.0,
        main_mode=mode,
        commute=None,
        per_week=3.0,
    )


def kinds(km: float, profile: VehicleProfile = SOLO) -> list[AlternativeKind]:
    return sorted(a.kind for a in alternatives_for(recurring(km=km), profile, REGISTRY).alternatives)


def test_walking_is_not_proposed_for_12_km() -> None:
    assert kinds(12) == sorted(
        [AlternativeKind.BIKE, AlternativeKind.E_BIKE, AlternativeKind.BUS, AlternativeKind.CARPOOL]
    )


def test_walking_is_proposed_for_a_short_trip() -> None:
    assert AlternativeKind.WALK in kinds(2.5)


def test_only_the_e_bike_among_cycles_beyond_15_km() -> None:
    found = kinds(20)
    assert AlternativeKind.BIKE not in found
    assert AlternativeKind.E_BIKE in found


def test_yearly_saving_is_52_times_the_per_trip_saving() -> None:
    result = alternatives_for(recurring(km=12), SOLO, REGISTRY)
    assert result.car_kg == pytest.approx(12 * 0.14225)
    for alt in result.alternatives:
        assert alt.saving_per_trip_kg == pytest.approx(result.car_kg - alt.footprint_kg)
        assert alt.yearly_saving_kg == pytest.approx(52 * alt.saving_per_trip_kg)


def test_door_to_door_time_comes_from_typical_speeds() -> None:
    result = alternatives_for(recurring(km=12), SOLO, REGISTRY)
    e_bike = next(a for a in result.alternatives if a.kind is AlternativeKind.E_BIKE)
    assert e_bike.door_to_door_s == pytest.approx(12 / 20 * 3600 + 120)
    assert result.car_time_s == pytest.approx(12 / 30 * 3600 + 300)


def test_alternatives_are_ranked_by_yearly_saving() -> None:
    savings = [a.yearly_saving_kg for a in alternatives_for(recurring(km=8), SOLO, REGISTRY).alternatives]
    assert savings == sorted(savings, reverse=True)


def test_carpooling_is_not_proposed_to_someone_who_already_carpools() -> None:
    assert AlternativeKind.CARPOOL not in kinds(12, VehicleProfile(car_occupants=2))


def test_alternatives_that_emit_more_than_the_car_are_left_out() -> None:
    # a solo electric car (0.06737 kg/km) beats a diesel bus (0.12242 kg/pkm)
    assert AlternativeKind.BUS not in kinds(12, VehicleProfile(car_energy=CarEnergy.ELECTRIC))


def test_only_car_trips_get_alternatives() -> None:
    trips = [recurring(km=5, mode=Mode.BUS), recurring(km=5)]
    assert [t.trip.main_mode for t in alternatives_for_recurring(trips, SOLO, REGISTRY)] == [Mode.CAR]
