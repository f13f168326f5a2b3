"""A section's simplified GeoJSON across the antimeridian (core.geometry): simplified in metres the
way it went, and cut at ±180 into a MultiLineString (RFC 7946 §3.1.9)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from core.geodesy import EARTH_RADIUS_M
from core.geometry import line_positions, simplified_linestring

M_PER_DEG = np.pi * EARTH_RADIUS_M / 180.0
TAVEUNI = -16.8  # latitude of Fiji's island on the antimeridian


def _parts(geometry: dict[str, object]) -> list[list[list[float]]]:
    assert geometry["type"] == "MultiLineString"
    parts = geometry["coordinates"]
    assert isinstance(parts, list)
    for part in parts:
        assert len(part) >= 2
        assert shapely.is_valid(shapely.linestrings(part))
        assert all(-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0 for lon, lat in part)
    return parts


def test_a_ferry_crossing_eastward_is_cut_at_180_with_the_crossing_on_both_sides() -> None:
    # 179.8 E to 179.7 W, turning 0.2 degrees before the line: the simplification keeps the turn.
    lon = np.asarray([179.6, 179.8, 179.9, -179.9, -179.7])
    lat = np.asarray([TAVEUNI, TAVEUNI, TAVEUNI - 0.1, TAVEUNI - 0.3, TAVEUNI - 0.5])
    first, second = _parts(simplified_linestring(lat, lon))
    # Linear in the unwrapped plane between (179.9, -16.9) and (180.1, -17.1): halfway.
    assert first == [[179.6, TAVEUNI], [179.8, TAVEUNI], [180.0, -17.0]]
    assert second == [[-180.0, -17.0], [-179.7, -17.3]]


def test_the_same_crossing_westward_ends_at_minus_180_and_starts_again_at_180() -> None:
    lon = np.asarray([-179.7, -179.9, 179.9, 179.8, 179.6])
    lat = np.asarray([TAVEUNI - 0.5, TAVEUNI - 0.3, TAVEUNI - 0.1, TAVEUNI, TAVEUNI])
    first, second = _parts(simplified_linestring(lat, lon))
    assert first == [[-179.7, -17.3], [-180.0, -17.0]]
    assert second == [[180.0, -17.0], [179.8, TAVEUNI], [179.6, TAVEUNI]]


def test_a_flight_without_fixes_over_the_ocean_crosses_the_short_way() -> None:
    # Auckland to Los Angeles: eastward across 180, not 293 degrees west over Australia and Africa.
    lat, lon = np.asarray([-37.0, 33.9]), np.asarray([174.8, -118.4])
    first, second = _parts(simplified_linestring(lat, lon))
    crossing = -37.0 + (33.9 + 37.0) * (180.0 - 174.8) / (241.6 - 174.8)
    assert first == [[174.8, -37.0], [180.0, pytest.approx(crossing, abs=1e-6)]]
    assert second == [[-180.0, pytest.approx(crossing, abs=1e-6)], [-118.4, 33.9]]


def _wiggly(lon0: float, n: int = 201) -> tuple[np.ndarray, np.ndarray]:
    """2.2 km east along latitude TAVEUNI with a 3 m wiggle (under the 10 m tolerance) and a 60 m
    detour halfway (over it), from ``lon0`` degrees."""
    east_m = np.linspace(-1100.0, 1100.0, n)
    north_m = 3.0 * np.sin(east_m / 7.0) + np.where(np.abs(east_m) < 50.0, 60.0, 0.0)
    kx = M_PER_DEG * np.cos(np.radians(TAVEUNI))
    return TAVEUNI + north_m / M_PER_DEG, lon0 + east_m / kx


def test_a_wiggly_line_across_180_simplifies_in_metres_like_the_same_line_across_0() -> None:
    lat, lon = _wiggly(0.0)
    at_zero = simplified_linestring(lat, lon)["coordinates"]
    across = simplified_linestring(lat, ((lon + 180.0) + 180.0) % 360.0 - 180.0)
    # The same vertices, turned back by 180 degrees, besides the two copies of the crossing point.
    kept = [(lon, lat) for lon, lat in line_positions(across) if abs(lon) != 180.0]
    back = [(lon - 180.0 if lon > 0.0 else lon + 180.0, lat) for lon, lat in kept]
    assert 4 <= len(at_zero) <= 12  # the wiggle went, the detour stayed
    assert len(back) == len(at_zero)
    np.testing.assert_allclose(np.asarray(back), np.asarray(at_zero), atol=2e-6)
    _parts(across)


def test_a_line_that_does_not_cross_is_the_linestring_it_always_was() -> None:
    # Not a regression test of the cut (it passes before and after): the guard that lines which do
    # not cross keep their exact output, 179.95 E to 179.99 E included.
    lat, lon = _wiggly(-1.15)
    geometry = simplified_linestring(lat, lon)
    assert geometry["type"] == "LineString"
    assert geometry["coordinates"][0] == [round(float(lon[0]), 6), round(float(lat[0]), 6)]
    near = simplified_linestring(np.asarray([TAVEUNI, -16.9]), np.asarray([179.95, 179.99]))
    assert near == {"type": "LineString", "coordinates": [[179.95, TAVEUNI], [179.99, -16.9]]}
    touching = simplified_linestring(np.asarray([0.0, 1.0, 2.0]), np.asarray([179.0, 180.0, 179.0]))
    assert touching == {"type": "LineString", "coordinates": [[179.0, 0.0], [180.0, 1.0], [179.0, 2.0]]}
