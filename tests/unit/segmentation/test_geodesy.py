"""The spherical distance used by segmentation."""

from __future__ import annotations

import math

import numpy as np

from core.geodesy import EARTH_RADIUS_M, chord2_for_distance_m, haversine_m, unit_vectors


def test_one_degree_of_latitude_is_a_180th_of_half_the_circumference() -> None:
    assert math.isclose(haversine_m(0.0, 0.0, 1.0, 0.0), math.pi * EARTH_RADIUS_M / 180.0, rel_tol=1e-12)


def test_scalars_give_a_float_and_arrays_give_arrays() -> None:
    assert isinstance(haversine_m(46.5, 6.6, 46.5, 6.6), float)
    d = haversine_m(
        np.array([46.5, 46.5]), np.array([6.6, 6.6]), np.array([46.5, 46.6]), np.array([6.6, 6.6])
    )
    assert d.shape == (2,)
    assert d[0] == 0.0
    assert math.isclose(d[1], 0.1 * math.pi * EARTH_RADIUS_M / 180.0, rel_tol=1e-9)


def test_distances_across_the_antimeridian_are_short() -> None:
    assert haversine_m(0.0, 179.9, 0.0, -179.9) < 23_000


def test_a_chord_threshold_matches_the_great_circle_distance() -> None:
    x, y, z = unit_vectors(np.array([46.5, 46.5]), np.array([6.6, 6.6 + 100.0 / 76_600.0]))
    chord2 = (x[1] - x[0]) ** 2 + (y[1] - y[0]) ** 2 + (z[1] - z[0]) ** 2
    d = haversine_m(46.5, 6.6, 46.5, 6.6 + 100.0 / 76_600.0)
    assert chord2 >= chord2_for_distance_m(d * 0.999)
    assert chord2 < chord2_for_distance_m(d * 1.001)
