"""A section's CO2 footprint: inferred mode + vehicle profile + distance → registry factor → kg.

Car factors are per vehicle-km and are divided by the number of occupants (carpooling shares one
car's emissions); every other factor is already per passenger-km. The footprint records the factor
key and registry version so that it can be recomputed when a mode is corrected, the profile changes
or a new registry version is adopted.
"""

from __future__ import annotations

import msgspec

from core.co2.modes import BikeKind, BusKind, CarEnergy, Mode, MotorbikeKind, TrainKind
from core.co2.profile import LA_ROCHELLE, Deployment, VehicleProfile
from core.co2.registry import FactorBasis, Registry
from core.errors import Unprocessable


class Footprint(msgspec.Struct, frozen=True, kw_only=True):
    """kgCO2e for one person over one section, and where the number comes from."""

    kg: float
    factor_key: str
    registry_version: str


_CAR = {CarEnergy.THERMAL: "car_thermal", CarEnergy.ELECTRIC: "car_electric", CarEnergy.HYBRID: "car_hybrid"}
_BIKE = {BikeKind.MUSCULAR: "bike", BikeKind.ELECTRIC: "e_bike", BikeKind.E_SCOOTER: "e_scooter"}
_BUS = {
    BusKind.THERMAL: "bus_thermal",
    BusKind.CNG: "bus_cng",
    BusKind.ELECTRIC: "bus_electric",
    BusKind.COACH: "coach",
}
_MOTORBIKE = {
    MotorbikeKind.OVER_250CC: "motorbike_over_250cc",
    MotorbikeKind.UP_TO_250CC: "motorbike_up_to_250cc",
    MotorbikeKind.SCOOTER_THERMAL: "scooter_thermal",
    MotorbikeKind.SCOOTER_ELECTRIC: "scooter_electric",
}
_TRAIN = {
    TrainKind.TER: "ter",
    TrainKind.INTERCITES: "intercites",
    TrainKind.TGV: "tgv",
    TrainKind.RER: "rer",
}
_FIXED = {
    Mode.WALK: "walk",
    Mode.E_BIKE: "e_bike",
    Mode.TRAM: "tram",
    Mode.METRO: "metro",
    Mode.FERRY: "ferry_foot_passenger",
}


def train_kind_for(distance_m: float, profile: VehicleProfile, deployment: Deployment) -> TrainKind:
    """The profile's train kind, else a distance heuristic (see :class:`TrainDistanceParams`)."""
    if profile.train_kind is not None:
        return profile.train_kind
    bands = deployment.train_distance
    if distance_m <= bands.ter_max_m:
        return deployment.short_train_kind
    if distance_m <= bands.intercites_max_m:
        return TrainKind.INTERCITES
    return TrainKind.TGV


def factor_key_for(
    mode: Mode,
    distance_m: float,
    profile: VehicleProfile,
    registry: Registry,
    *,
    deployment: Deployment = LA_ROCHELLE,
) -> str:
    """The registry key that prices ``mode`` for this profile, deployment and distance."""
    if mode in _FIXED:
        return _FIXED[mode]
    if mode is Mode.BIKE:
        return _BIKE[profile.bike_kind]
    if mode is Mode.CAR:
        return _CAR[profile.car_energy]
    if mode is Mode.MOTORBIKE:
        return _MOTORBIKE[profile.motorbike_kind]
    if mode is Mode.BUS:
        return _BUS[profile.bus_kind or deployment.bus_kind]
    if mode is Mode.TRAIN:
        return _TRAIN[train_kind_for(distance_m, profile, deployment)]
    if mode is Mode.PLANE:
        return registry.plane_factor_key(distance_m / 1000.0)
    raise Unprocessable(f"no emission factor for mode {mode!r}")  # pragma: no cover - exhaustive


def footprint_kg(
    mode: Mode,
    distance_m: float,
    profile: VehicleProfile,
    registry: Registry,
    *,
    deployment: Deployment = LA_ROCHELLE,
    occupants: int | None = None,
) -> Footprint:
    """kgCO2e for one person travelling ``distance_m`` metres by ``mode``.

    ``occupants`` (everyone in the vehicle, driver included) overrides the profile's
    ``car_occupants`` for this section; it only matters for per-vehicle-km factors (cars), which are
    divided by it. Factors: ADEME Impact CO2 (see the registry's ``sources``).
    """
    if not distance_m >= 0.0:
        raise Unprocessable(f"distance_m must be a non-negative number, got {distance_m}")
    key = factor_key_for(mode, distance_m, profile, registry, deployment=deployment)
    factor = registry.factor(key)
    kg = factor.kg_per_km * distance_m / 1000.0
    if factor.per is FactorBasis.VEHICLE_KM:
        people = profile.car_occupants if occupants is None else occupants
        if people < 1:
            raise Unprocessable(f"occupants must be at least 1, got {people}")
        kg /= people
    return Footprint(kg=kg, factor_key=key, registry_version=registry.version)
