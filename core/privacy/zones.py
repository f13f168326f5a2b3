"""The geography of origin–destination flows: a square grid by default, or the city's zones.

The grid is global and stateless: rows are ``grid_cell_m`` of latitude, and each row is cut into
columns of ``grid_cell_m`` of longitude at the row's central latitude, so a cell's id says where it
is and needs no stored layer. City zones (communes, districts) come as GeoJSON polygons; a point is
assigned to the first zone that covers it, through a shapely STRtree.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import shapely

_M_PER_DEG = 111_320.0
# A city-scale grid. Below a metre, cells are finer than any GPS fix (and tiny sizes overflow the
# row arithmetic); above 1,000 km one cell holds a region, and cells near 10,000 km would reach
# past the poles.
GRID_CELL_M_MIN = 1.0
GRID_CELL_M_MAX = 1_000_000.0


class Zone(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    geometry: dict[str, Any]  # GeoJSON geometry (WGS 84)
    centroid: tuple[float, float]  # (lat, lon)


class GridZones:
    """Square cells of about ``cell_m`` metres."""

    source = "grid"

    def __init__(self, cell_m: float) -> None:
        if not GRID_CELL_M_MIN <= cell_m <= GRID_CELL_M_MAX:  # NaN fails too
            raise ValueError(
                f"grid cell size must be from {GRID_CELL_M_MIN:g} to {GRID_CELL_M_MAX:,.0f} m, got {cell_m:g}"
            )
        self.cell_m = cell_m
        self.dlat = cell_m / _M_PER_DEG

    def _dlon(self, row: int) -> float:
        lat = (row + 0.5) * self.dlat
        return self.cell_m / (_M_PER_DEG * max(math.cos(math.radians(lat)), 1e-6))

    def zone_of(self, lat: float, lon: float) -> str | None:
        row = math.floor(lat / self.dlat)
        col = math.floor(lon / self._dlon(row))
        return f"g{row}_{col}"

    def zone(self, zone_id: str) -> Zone:
        row_s, col_s = zone_id[1:].split("_")
        row, col = int(row_s), int(col_s)
        dlon = self._dlon(row)
        s, w = row * self.dlat, col * dlon
        n, e = s + self.dlat, w + dlon
        ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
        return Zone(
            id=zone_id,
            name=f"{self.cell_m:g} m cell {zone_id}",
            geometry={"type": "Polygon", "coordinates": [ring]},
            centroid=((s + n) / 2, (w + e) / 2),
        )


class GeoJSONZones:
    """Zones from a GeoJSON FeatureCollection of (Multi)Polygons; ``id`` from the feature's ``id``
    or its ``code``/``id``/``name`` property, ``name`` from ``name`` (else the id)."""

    source = "geojson"

    def __init__(self, collection: object) -> None:
        """``collection`` is the decoded JSON, checked here: a file's content is not trusted to
        have the shape GeoJSON (RFC 7946) says, and every defect is a ValueError naming it."""
        if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
            raise ValueError("zones must be a GeoJSON FeatureCollection")
        features = collection.get("features")
        if not isinstance(features, list):
            raise ValueError("the zones collection's features must be a list")
        self.zones: dict[str, Zone] = {}
        geoms = []
        ids: list[str] = []
        for i, feature in enumerate(features):
            if not isinstance(feature, dict):
                raise ValueError(f"zone feature {i} is not a GeoJSON Feature object")
            geometry = feature.get("geometry") or {}
            if not isinstance(geometry, dict) or geometry.get("type") not in {"Polygon", "MultiPolygon"}:
                raise ValueError(f"zone feature {i} is not a Polygon or MultiPolygon")
            props = feature.get("properties") or {}
            if not isinstance(props, dict):
                raise ValueError(f"zone feature {i}'s properties must be an object")
            raw_id = feature.get("id") or props.get("code") or props.get("id") or props.get("name")
            if raw_id is None:
                raise ValueError(f"zone feature {i} has no id, code or name")
            zid = str(raw_id)
            if zid in self.zones:
                raise ValueError(f"zone id {zid!r} appears twice")
            shape = _shape(zid, geometry)
            c = shape.representative_point()
            self.zones[zid] = Zone(
                id=zid, name=str(props.get("name") or zid), geometry=geometry, centroid=(c.y, c.x)
            )
            geoms.append(shape)
            ids.append(zid)
        if not geoms:
            raise ValueError("the zones collection has no features")
        self._ids = ids
        self._tree = shapely.STRtree(geoms)

    def zone_of(self, lat: float, lon: float) -> str | None:
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        return self._ids[int(min(hits))] if len(hits) else None

    def zone(self, zone_id: str) -> Zone:
        return self.zones[zone_id]


def _shape(zid: str, geometry: dict[str, Any]) -> shapely.Geometry:
    """The zone's valid, non-empty polygon in longitude and latitude degrees."""
    if "coordinates" not in geometry:
        raise ValueError(f"zone {zid!r} has no coordinates")
    try:
        shape = shapely.geometry.shape(geometry)
        valid = shape.is_valid
    except (TypeError, ValueError, KeyError, IndexError, shapely.errors.ShapelyError) as exc:
        # shapely reads malformed coordinates (a number, a short or ragged ring) with these.
        raise ValueError(f"zone {zid!r} has malformed coordinates ({exc})") from exc
    if shape.is_empty or not valid:
        raise ValueError(f"zone {zid!r} has an invalid geometry")
    west, south, east, north = shape.bounds
    # Projected coordinates (metres, e.g. Lambert-93) would silently catch no trip at all.
    if not (west >= -180 and east <= 180 and south >= -90 and north <= 90):
        raise ValueError(f"zone {zid!r} is not in longitude and latitude degrees (WGS 84, as GeoJSON says)")
    return shape


Zones = GridZones | GeoJSONZones
