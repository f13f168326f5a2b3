import math

import pytest

from core.co2 import (
    LA_ROCHELLE,
    BikeKind,
    BusKind,
    CarEnergy,
    Deployment,
    Mode,
    MotorbikeKind,
    TrainKind,
    VehicleProfile,
    footprint_kg,
    load_registry,
)
from core.errors import Unprocessable

REGISTRY = load_registry()
SOLO = VehicleProfile()


def kg(mode: Mode, km: float, profile: VehicleProfile = SOLO, **kwargs: object) -> float:
    return footprint_kg(mode, km * 1000.0, profile, REGISTRY, **kwargs).kg  # type: ignore[arg-type]


def key(mode: Mode, km: float, profile: VehicleProfile = SOLO, **kwargs: object) -> str:
    return footprint_kg(mode, km * 1000.0, profile, REGISTRY, **kwargs).factor_key  # type: ignore[arg-type]


def test_a_solo_thermal_car_emits_the_vehicle_factor_per_km() -> None:
    assert kg(Mode.CAR, 10) == pytest.approx(1.4225)


def test_car_factor_is_divided_by_the_occupants() -> None:
    assert kg(Mode.CAR, 10, VehicleProfile(car_occupants=3)) == pytest.approx(1.4225 / 3)


def test_a_section_occupant_count_overrides_the_profile() -> None:
    assert kg(Mode.CAR, 10, VehicleProfile(car_occupants=3), occupants=2) == pytest.approx(1.4225 / 2)


def test_occupants_do_not_divide_per_passenger_factors() -> None:
    assert kg(Mode.BUS, 10, VehicleProfile(car_occupants=4)) == pytest.approx(1.2242)


def test_an_electric_car_uses_the_electric_factor() -> None:
    assert key(Mode.CAR, 5, VehicleProfile(car_energy=CarEnergy.ELECTRIC)) == "car_electric"
    assert kg(Mode.CAR, 5, VehicleProfile(car_energy=CarEnergy.ELECTRIC)) == pytest.approx(0.33685)


def test_a_corrected_mode_changes_the_footprint() -> None:
    inferred = footprint_kg(Mode.CAR, 8000, SOLO, REGISTRY)
    corrected = footprint_kg(Mode.BIKE, 8000, SOLO, REGISTRY)
    assert (inferred.factor_key, corrected.factor_key) == ("car_thermal", "bike")
    assert corrected.kg == pytest.approx(8 * 0.00017)
    assert corrected.kg < inferred.kg


def test_an_electric_bike_profile_prices_bike_sections_as_e_bike() -> None:
    assert key(Mode.BIKE, 4, VehicleProfile(bike_kind=BikeKind.ELECTRIC)) == "e_bike"
    assert key(Mode.BIKE, 4, VehicleProfile(bike_kind=BikeKind.E_SCOOTER)) == "e_scooter"


def test_buses_default_to_the_deployment_fleet_and_the_profile_wins() -> None:
    assert LA_ROCHELLE.bus_kind is BusKind.THERMAL
    assert key(Mode.BUS, 5) == "bus_thermal"
    assert key(Mode.BUS, 5, deployment=Deployment(name="Grenoble", bus_kind=BusKind.CNG)) == "bus_cng"
    assert key(Mode.BUS, 5, VehicleProfile(bus_kind=BusKind.ELECTRIC)) == "bus_electric"


@pytest.mark.parametrize(
    ("km", "expected"),
    [(40, "ter"), (150, "ter"), (180, "intercites"), (470, "tgv")],
)
def test_train_kind_follows_the_distance_heuristic(km: float, expected: str) -> None:
    assert key(Mode.TRAIN, km) == expected


def test_a_deployment_with_suburban_trains_prices_short_trains_as_rer() -> None:
    paris = Deployment(name="Paris", bus_kind=BusKind.THERMAL, short_train_kind=TrainKind.RER)
    assert key(Mode.TRAIN, 25, deployment=paris) == "rer"


def test_the_profile_train_kind_wins_over_the_heuristic() -> None:
    assert key(Mode.TRAIN, 470, VehicleProfile(train_kind=TrainKind.INTERCITES)) == "intercites"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (MotorbikeKind.OVER_250CC, "motorbike_over_250cc"),
        (MotorbikeKind.UP_TO_250CC, "motorbike_up_to_250cc"),
        (MotorbikeKind.SCOOTER_THERMAL, "scooter_thermal"),
        (MotorbikeKind.SCOOTER_ELECTRIC, "scooter_electric"),
    ],
)
def test_motorbike_size_comes_from_the_profile(kind: MotorbikeKind, expected: str) -> None:
    assert key(Mode.MOTORBIKE, 10, VehicleProfile(motorbike_kind=kind)) == expected


@pytest.mark.parametrize(
    ("km", "expected"),
    [
        (150, "plane_300_1000km"),
        (700, "plane_300_1000km"),
        (1500, "plane_1001_2000km"),
        (6000, "plane_1001_2000km"),
    ],
)
def test_plane_bands_cover_every_distance(km: float, expected: str) -> None:
    assert key(Mode.PLANE, km) == expected


def test_ferry_uses_the_cited_foot_passenger_factor() -> None:
    assert kg(Mode.FERRY, 10) == pytest.approx(0.1874)


def test_walking_emits_nothing() -> None:
    assert kg(Mode.WALK, 3) == 0.0


def test_the_footprint_records_the_registry_version() -> None:
    assert footprint_kg(Mode.TRAM, 3000, SOLO, REGISTRY).registry_version == "impactco2-2026-06"


@pytest.mark.parametrize("distance_m", [-1.0, math.nan])
def test_an_impossible_distance_is_unprocessable(distance_m: float) -> None:
    with pytest.raises(Unprocessable):
        footprint_kg(Mode.CAR, distance_m, SOLO, REGISTRY)
