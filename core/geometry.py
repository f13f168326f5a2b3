"""Simplified section geometry for the app: a GeoJSON LineString with fewer points.

Douglas-Peucker (Douglas & Peucker 1973, via shapely/GEOS) on a local equirectangular projection in
metres, so the tolerance is a distance and not degrees; good to well under a metre of distortion
over a city-sized section.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from core.geodesy import haversine_m

F64 = npt.NDArray[np.float64]
_M_PER_DEG = 111_320.0  # metres per degree of latitude (and of longitude at the equator)


def simplified_linestring(lat: F64, lon: F64, *, tolerance_m: float = 10.0) -> dict[str, Any]:
    """A GeoJSON LineString of the points simplified within ``tolerance_m`` metres."""
    if lat.shape[0] == 0:
        return {"type": "LineString", "coordinates": []}
    if lat.shape[0] == 1:
        return {"type": "LineString", "coordinates": [[float(lon[0]), float(lat[0])]] * 2}
    lat0 = float(np.mean(lat))
    kx = _M_PER_DEG * math.cos(math.radians(lat0))
    x = (lon - lon[0]) * kx
    y = (lat - lat[0]) * _M_PER_DEG
    line = shapely.simplify(
        shapely.linestrings(np.column_stack([x, y])), tolerance_m, preserve_topology=False
    )
    xy = shapely.get_coordinates(line)
    coords = [[round(float(lon[0] + px / kx), 6), round(float(lat[0] + py / _M_PER_DEG), 6)] for px, py in xy]
    if len(coords) < 2:
        coords = [coords[0], coords[0]] if coords else [[float(lon[0]), float(lat[0])]] * 2
    return {"type": "LineString", "coordinates": coords}


def path_length_m(lat: F64, lon: F64) -> float:
    """Length of the polyline through the points, in metres (haversine per step)."""
    if lat.shape[0] < 2:
        return 0.0
    return float(np.sum(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])))
