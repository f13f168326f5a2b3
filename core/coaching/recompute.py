"""Recomputing a stored section's footprint after a mode correction, a profile change or a new registry.

The section keeps its own ``occupants`` (a carpool recorded as such stays one); everything else
comes from the profile, the deployment and the registry passed in.
"""

from __future__ import annotations

import msgspec

from core.co2.footprint import Footprint, footprint_kg
from core.co2.modes import Mode
from core.co2.profile import LA_ROCHELLE, Deployment, VehicleProfile
from core.co2.registry import Registry
from core.coaching.records import SectionRecord


def recompute_section(
    section: SectionRecord,
    profile: VehicleProfile,
    registry: Registry,
    *,
    mode: Mode | None = None,
    deployment: Deployment = LA_ROCHELLE,
) -> tuple[SectionRecord, Footprint]:
    """The section with ``mode`` (if given) and its new ``co2_kg``, and the footprint's provenance."""
    new_mode = section.mode if mode is None else mode
    footprint = footprint_kg(
        new_mode, section.distance_m, profile, registry, deployment=deployment, occupants=section.occupants
    )
    return msgspec.structs.replace(section, mode=new_mode, co2_kg=footprint.kg), footprint
