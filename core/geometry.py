"""Simplified section geometry for the app: a GeoJSON LineString with fewer points, or a
MultiLineString when the section crosses the antimeridian.

Douglas-Peucker (Douglas & Peucker 1973, via shapely/GEOS) on a local equirectangular projection in
metres, so the tolerance is a distance and not degrees; good to well under a metre of distortion
over a city-sized section.

Longitudes are unwrapped first (a step of more than 180 degrees between consecutive fixes is taken
the short way, across ±180), so a section in Fiji or a flight from Auckland to Los Angeles is
projected and simplified along the way it went, not the long way round the globe. RFC 7946 §3.1.9
then asks for a line crossing the antimeridian to be cut there: the result is a MultiLineString whose
parts end and start at the crossing, ``[..., [180, lat]]`` then ``[[-180, lat], ...]`` going east (the
other way round going west). The crossing's latitude is linearly interpolated along the simplified
segment that crosses, in the unwrapped longitude-latitude plane (the plane the simplification worked
in, up to scale): within the tolerance of the fixes where they are dense, and a straight line on the
map, not a great circle, where they are not (a flight with no fix over the ocean). A section that
does not cross keeps the plain LineString it always had, byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from core.geodesy import antimeridian_turns, haversine_m

F64 = npt.NDArray[np.float64]
_M_PER_DEG = 111_320.0  # metres per degree of latitude (and of longitude at the equator)


def unwrapped_lon(lon: F64) -> F64:
    """``lon`` made continuous: each step of more than 180 degrees is taken the short way, across
    ±180, so values may leave [-180, 180]. ``lon`` itself (the same array) when no step does."""
    turns = antimeridian_turns(np.diff(lon))
    if not turns.any():
        return lon
    return np.asarray(lon + np.concatenate(([0.0], np.cumsum(turns))), dtype=np.float64)


def simplified_linestring(lat: F64, lon: F64, *, tolerance_m: float = 10.0) -> dict[str, Any]:
    """A GeoJSON LineString of the points simplified within ``tolerance_m`` metres, or a
    MultiLineString cut at the antimeridian when they cross it (module docstring)."""
    if lat.shape[0] == 0:
        return {"type": "LineString", "coordinates": []}
    if lat.shape[0] == 1:
        return {"type": "LineString", "coordinates": [[float(lon[0]), float(lat[0])]] * 2}
    ulon = unwrapped_lon(lon)
    lat0 = float(np.mean(lat))
    kx = _M_PER_DEG * math.cos(math.radians(lat0))
    x = (ulon - ulon[0]) * kx
    y = (lat - lat[0]) * _M_PER_DEG
    line = shapely.simplify(
        shapely.linestrings(np.column_stack([x, y])), tolerance_m, preserve_topology=False
    )
    xy = shapely.get_coordinates(line)
    lon0 = ulon[0]  # lon[0], so that a line that does not cross is computed exactly as before
    coords = [[round(float(lon0 + px / kx), 6), round(float(lat[0] + py / _M_PER_DEG), 6)] for px, py in xy]
    if len(coords) < 2:
        coords = [coords[0], coords[0]] if coords else [[float(lon[0]), float(lat[0])]] * 2
    if ulon is lon:  # nothing crossed: the line as it always was
        return {"type": "LineString", "coordinates": coords}
    parts = _cut_at_antimeridian(coords)
    if len(parts) == 1:  # the crossing was simplified away, or only touched ±180
        return {"type": "LineString", "coordinates": parts[0]}
    return {"type": "MultiLineString", "coordinates": parts}


def _cut_at_antimeridian(coords: Sequence[Sequence[float]]) -> list[list[list[float]]]:
    """The unwrapped ``[lon, lat]`` line as parts that each stay within [-180, 180]: cut wherever it
    crosses a meridian ``180 + 360 k``, the crossing point ending one part and starting the next.

    Each piece between cuts belongs to the copy of the globe ("sheet") its midpoint lies in and is
    shifted back by whole turns; a new part starts when the sheet changes. A point exactly on ±180
    thus reads 180 in the part west of it and -180 in the part east of it, and a line that only
    touches ±180 is not cut."""
    parts: list[list[list[float]]] = []
    sheet: int | None = None
    for (u0, v0), (u1, v1) in pairwise(coords):
        for (a, va), (b, vb) in pairwise([(u0, v0), *_crossings(u0, v0, u1, v1), (u1, v1)]):
            k = sheet if a == b and sheet is not None else math.floor(((a + b) / 2.0 + 180.0) / 360.0)
            if k != sheet:
                parts.append([[round(a - 360.0 * k, 6), va]])
                sheet = k
            parts[-1].append([round(b - 360.0 * k, 6), vb])
    return parts


def _crossings(u0: float, v0: float, u1: float, v1: float) -> Iterator[tuple[float, float]]:
    """The points where the segment from ``(u0, v0)`` to ``(u1, v1)`` (unwrapped longitude,
    latitude) strictly crosses a meridian ``180 + 360 k``, in the order it meets them; latitude
    linearly interpolated."""
    lo, hi = min(u0, u1), max(u0, u1)
    first, last = math.floor((lo - 180.0) / 360.0) + 1, math.ceil((hi - 180.0) / 360.0) - 1
    ks = range(first, last + 1) if u1 >= u0 else range(last, first - 1, -1)
    for k in ks:
        b = 180.0 + 360.0 * k
        if lo < b < hi:
            yield b, round(v0 + (v1 - v0) * (b - u0) / (u1 - u0), 6)


def line_positions(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    """The ``(lon, lat)`` positions of a section geometry in order, the parts of a MultiLineString
    one after the other: the path as one sequence for consumers that follow it (the history's
    matching along confirmed paths), where the two copies of a crossing point, at 180 and -180, are
    a step of no length once longitudes are compared the short way."""
    coordinates = geometry.get("coordinates") or []
    lines = coordinates if geometry.get("type") == "MultiLineString" else [coordinates]
    return [(float(p[0]), float(p[1])) for line in lines for p in line]


def path_length_m(lat: F64, lon: F64) -> float:
    """Length of the polyline through the points, in metres (haversine per step: across ±180 too,
    since it takes the sine of half the longitude step)."""
    if lat.shape[0] < 2:
        return 0.0
    return float(np.sum(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])))
