"""Distances on the sphere, vectorised over numpy arrays.

The Earth is taken as a sphere of radius :data:`EARTH_RADIUS_M`, the IUGG mean radius R1 of the
GRS 80 ellipsoid (Moritz 2000, "Geodetic Reference System 1980", J. Geodesy 74:128-133). Over the
distances segmentation cares about (metres to a few hundred kilometres) the spherical error is
below 0.5 %, far under GPS noise, and the formula stays one vectorised expression.
"""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

EARTH_RADIUS_M = 6_371_008.8


@overload
def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float: ...
@overload
def haversine_m(lat1: F64 | float, lon1: F64 | float, lat2: F64, lon2: F64) -> F64: ...
@overload
def haversine_m(lat1: F64, lon1: F64, lat2: F64 | float, lon2: F64 | float) -> F64: ...
def haversine_m(lat1: F64 | float, lon1: F64 | float, lat2: F64 | float, lon2: F64 | float) -> F64 | float:
    """Great-circle distance in metres between points given in degrees (arrays broadcast).

    The haversine form (Sinnott 1984, "Virtues of the haversine", Sky and Telescope 68:159) stays
    accurate for the short distances between consecutive fixes, where the spherical law of cosines
    loses all its digits.
    """
    phi1 = np.radians(lat1)
    phi2 = np.radians(lat2)
    half_dphi = (phi2 - phi1) / 2.0
    half_dlam = np.radians(np.subtract(lon2, lon1)) / 2.0
    a = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlam) ** 2
    distance = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    if np.ndim(distance) == 0:
        return float(distance)
    return np.asarray(distance, dtype=np.float64)


def antimeridian_turns(east_deg: F64) -> F64:
    """The whole turn (-360, 0 or +360 degrees) that takes each longitude step (within ±360) the
    short way round: a step from 179.9 to -179.9 crosses ±180, it does not go back across the
    whole globe. 0 for a step already within ±180."""
    turns: F64 = np.where(east_deg > 180.0, -360.0, 0.0) + np.where(east_deg < -180.0, 360.0, 0.0)
    return turns


def unit_vectors(lat: F64, lon: F64) -> tuple[F64, F64, F64]:
    """Points as unit vectors (x, y, z) on the sphere, for fast repeated distance thresholds.

    Comparing a great-circle distance with a fixed radius is the same as comparing the squared chord
    between unit vectors with :func:`chord2_for_distance_m` of that radius (the chord grows
    monotonically with the arc), which costs three subtractions instead of five trigonometric calls.
    """
    phi = np.radians(lat)
    lam = np.radians(lon)
    cos_phi = np.cos(phi)
    return cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)


def chord2_for_distance_m(distance_m: float) -> float:
    """Squared chord between unit vectors that are ``distance_m`` apart along the great circle."""
    half_angle = min(distance_m / (2.0 * EARTH_RADIUS_M), np.pi / 2.0)
    return float((2.0 * np.sin(half_angle)) ** 2)


def distance_from_chord2_m(chord2: F64) -> F64:
    """Great-circle distance in metres for squared chords between unit vectors (inverse of above)."""
    half_chord = np.sqrt(np.clip(chord2, 0.0, 4.0)) / 2.0
    return np.asarray(2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(half_chord, 1.0)), dtype=np.float64)
