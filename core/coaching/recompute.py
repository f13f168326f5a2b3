"""Recomputing a stored section's footprint after a mode correction, a profile change or a new registry.

A stored section's ``occupants`` is 1 (the column default) unless a carpool was recorded for that
section; the pipeline prices car sections with the profile's ``car_occupants`` and leaves the column
at 1. So 1 reads as "as the profile says" and more than 1 as a recorded carpool, which stays one
whatever the profile (:func:`occupants_for`); everything else comes from the profile, the
deployment and the registry passed in.
"""

from __future__ import annotations

import msgspec

from core.co2.footprint import Footprint, footprint_kg
from core.co2.modes import Mode
from core.co2.profile import LA_ROCHELLE, Deployment, VehicleProfile
from core.co2.registry import Registry
from core.coaching.records import SectionRecord


def occupants_for(recorded: int, profile: VehicleProfile) -> int:
    """Everyone in the car for a section whose stored ``occupants`` is ``recorded``."""
    return recorded if recorded > 1 else profile.car_occupants


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
        new_mode,
        section.distance_m,
        profile,
        registry,
        deployment=deployment,
        occupants=occupants_for(section.occupants, profile),
    )
    return msgspec.structs.replace(section, mode=new_mode, co2_kg=footprint.kg), footprint
