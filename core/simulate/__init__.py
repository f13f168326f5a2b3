"""Synthetic, labelled trajectories: per-mode kinematics, GPS error and phone sampling regimes.

Pure and seeded: the same seed gives the same fixes. Used to train the shipped mode classifier
(data we may redistribute) and to test the segmentation against known truth.
"""

from core.simulate.days import (
    DEFAULT_DAY,
    STAY,
    DayParams,
    SimulatedDay,
    SimulatedLeg,
    SimulatedTrack,
    simulate_day,
    simulate_days,
    simulate_leg_track,
)
from core.simulate.profiles import MODES, PROFILES, ModeProfile
from core.simulate.sensor import REGIMES, SamplingRegime

__all__ = [
    "DEFAULT_DAY",
    "MODES",
    "PROFILES",
    "REGIMES",
    "STAY",
    "DayParams",
    "ModeProfile",
    "SamplingRegime",
    "SimulatedDay",
    "SimulatedLeg",
    "SimulatedTrack",
    "simulate_day",
    "simulate_days",
    "simulate_leg_track",
]
