"""The versioned, cited emission-factor registry.

A registry is data: one JSON file per version under ``core/co2/registries/``, with its sources,
units and scope. Adopting a new version means adding a file; footprints record the version they
were computed with, so they can be recomputed when the adopted version changes.
"""

from __future__ import annotations

import math
from enum import StrEnum
from importlib import resources
from typing import Annotated

import msgspec

from core.errors import ConfigurationError, NotFound

DEFAULT_VERSION = "impactco2-2026-06"
_PACKAGE = "core.co2.registries"

KgPerKm = Annotated[float, msgspec.Meta(ge=0)]


class FactorBasis(StrEnum):
    """What one kilometre counts: a passenger's, or the whole vehicle's (shared by its occupants)."""

    PASSENGER_KM = "passenger_km"
    VEHICLE_KM = "vehicle_km"


class Factor(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kg_per_km: KgPerKm
    per: FactorBasis
    label: str
    source: str | None = None
    scope_note: str | None = None


class Scope(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    included: tuple[str, ...]
    excluded: tuple[str, ...]


class PlaneBand(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which plane factor applies from ``from_km`` (inclusive) to ``to_km`` (exclusive, None = ∞)."""

    factor: str
    from_km: Annotated[float, msgspec.Meta(ge=0)]
    to_km: Annotated[float, msgspec.Meta(gt=0)] | None
    note: str


class Registry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: str
    title: str
    unit: str
    scope: Scope
    sources: tuple[str, ...]
    factors: dict[str, Factor]
    plane_bands: tuple[PlaneBand, ...]

    def factor(self, key: str) -> Factor:
        """The factor under ``key``; a missing key is a registry that cannot serve this deployment."""
        try:
            return self.factors[key]
        except KeyError as exc:
            raise ConfigurationError(f"registry {self.version} has no factor {key!r}") from exc

    def plane_factor_key(self, distance_km: float) -> str:
        for band in self.plane_bands:
            if band.from_km <= distance_km and (band.to_km is None or distance_km < band.to_km):
                return band.factor
        raise ConfigurationError(f"registry {self.version} has no plane band for {distance_km} km")


_decoder = msgspec.json.Decoder(Registry)


def parse_registry(data: bytes) -> Registry:
    """Decode and check a registry file: plane bands must cover [0, ∞) without gaps and name factors."""
    try:
        registry = _decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise ConfigurationError(f"invalid emission-factor registry: {exc}") from exc
    _check_plane_bands(registry)
    return registry


def _check_plane_bands(registry: Registry) -> None:
    expected_from = 0.0
    for band in registry.plane_bands:
        if band.factor not in registry.factors:
            raise ConfigurationError(f"plane band names unknown factor {band.factor!r}")
        if not math.isclose(band.from_km, expected_from):
            raise ConfigurationError(f"plane bands leave a gap or overlap at {expected_from} km")
        if band.to_km is None:
            return
        expected_from = band.to_km
    raise ConfigurationError("plane bands must end with an open band (to_km null)")


def available_versions() -> list[str]:
    """The registry versions shipped with this build, sorted."""
    files = resources.files(_PACKAGE).iterdir()
    return sorted(f.name.removesuffix(".json") for f in files if f.name.endswith(".json"))


def load_registry(version: str = DEFAULT_VERSION) -> Registry:
    """Load one shipped registry version; an unknown version is :class:`NotFound`."""
    if version not in available_versions():
        raise NotFound(f"no emission-factor registry version {version!r}", version=version)
    data = resources.files(_PACKAGE).joinpath(f"{version}.json").read_bytes()
    registry = parse_registry(data)
    if registry.version != version:
        raise ConfigurationError(f"registry file {version}.json declares version {registry.version!r}")
    return registry
