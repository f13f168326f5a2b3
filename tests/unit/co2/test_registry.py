import json
from pathlib import Path

import pytest

from core.co2 import DEFAULT_VERSION, FactorBasis, available_versions, load_registry, parse_registry
from core.errors import ConfigurationError, NotFound

REGISTRY_FILE = Path(__file__).parents[3] / "core" / "co2" / "registries" / f"{DEFAULT_VERSION}.json"

# The issue's table (ADEME Impact CO2, deplacement, 2026-06), plus the cited ferry factor.
EXPECTED = {
    "walk": 0.0,
    "bike": 0.00017,
    "e_bike": 0.01095,
    "e_scooter": 0.0249,
    "bus_thermal": 0.12242,
    "bus_cng": 0.1217,
    "bus_electric": 0.0217,
    "car_thermal": 0.14225,
    "car_electric": 0.06737,
    "car_hybrid": 0.14658,
    "ter": 0.02769,
    "intercites": 0.00898,
    "tgv": 0.00293,
    "rer": 0.00978,
    "metro": 0.00444,
    "tram": 0.00428,
    "coach": 0.03756,
    "motorbike_over_250cc": 0.2147,
    "motorbike_up_to_250cc": 0.0872,
    "scooter_thermal": 0.0763,
    "scooter_electric": 0.0593,
    "plane_300_1000km": 0.22457,
    "plane_1001_2000km": 0.18466,
    "ferry_foot_passenger": 0.01874,
}


def test_the_default_version_ships_with_the_package() -> None:
    assert DEFAULT_VERSION in available_versions()
    assert load_registry().version == DEFAULT_VERSION


def test_the_default_registry_holds_exactly_the_issue_factors() -> None:
    registry = load_registry()
    assert {key: f.kg_per_km for key, f in registry.factors.items()} == EXPECTED


def test_only_car_factors_are_per_vehicle_km() -> None:
    registry = load_registry()
    per_vehicle = {key for key, f in registry.factors.items() if f.per is FactorBasis.VEHICLE_KM}
    assert per_vehicle == {"car_thermal", "car_electric", "car_hybrid"}


def test_the_registry_cites_its_sources_and_scope() -> None:
    registry = load_registry()
    assert any("impactco2" in s for s in registry.sources)
    assert registry.scope.excluded
    assert "infrastructure" in registry.scope.excluded[0]
    assert registry.factor("ferry_foot_passenger").source is not None


def test_an_unknown_version_is_not_found() -> None:
    with pytest.raises(NotFound):
        load_registry("impactco2-1999-01")


def test_plane_bands_with_a_gap_are_refused() -> None:
    data = json.loads(REGISTRY_FILE.read_bytes())
    data["plane_bands"][1]["from_km"] = 1200
    with pytest.raises(ConfigurationError, match="gap"):
        parse_registry(json.dumps(data).encode())


def test_a_negative_factor_is_refused() -> None:
    data = json.loads(REGISTRY_FILE.read_bytes())
    data["factors"]["bike"]["kg_per_km"] = -0.1
    with pytest.raises(ConfigurationError):
        parse_registry(json.dumps(data).encode())


def test_a_missing_factor_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="hovercraft"):
        load_registry().factor("hovercraft")
