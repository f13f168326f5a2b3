"""Unit conversions to the normalised units of ``core.fixes`` (metres, m/s, degrees, battery 0..1)."""

from __future__ import annotations

KNOT_MPS = 1852.0 / 3600.0  # international nautical mile (1852 m) per hour
KMH_MPS = 1000.0 / 3600.0
FOOT_M = 0.3048  # international foot


def knots_to_mps(value: float | None) -> float | None:
    return None if value is None else value * KNOT_MPS


def kmh_to_mps(value: float | None) -> float | None:
    return None if value is None else value * KMH_MPS


def feet_to_m(value: float | None) -> float | None:
    return None if value is None else value * FOOT_M


def percent_to_fraction(value: float | None) -> float | None:
    """Battery percent (0..100) to the 0..1 fraction; out-of-range values are left for ``normalise``."""
    return None if value is None else value / 100.0
