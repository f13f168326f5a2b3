"""Emission factors and footprints: a versioned, cited registry and the mode → factor mapping."""

from core.co2.footprint import Footprint, factor_key_for, footprint_kg, train_kind_for
from core.co2.modes import BikeKind, BusKind, CarEnergy, Mode, MotorbikeKind, TrainKind
from core.co2.profile import LA_ROCHELLE, Deployment, TrainDistanceParams, VehicleProfile
from core.co2.registry import (
    DEFAULT_VERSION,
    Factor,
    FactorBasis,
    Registry,
    available_versions,
    load_registry,
    parse_registry,
)

__all__ = [
    "DEFAULT_VERSION",
    "LA_ROCHELLE",
    "BikeKind",
    "BusKind",
    "CarEnergy",
    "Deployment",
    "Factor",
    "FactorBasis",
    "Footprint",
    "Mode",
    "MotorbikeKind",
    "Registry",
    "TrainDistanceParams",
    "TrainKind",
    "VehicleProfile",
    "available_versions",
    "factor_key_for",
    "footprint_kg",
    "load_registry",
    "parse_registry",
    "train_kind_for",
]
