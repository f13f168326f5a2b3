"""Approximate zones: the only form in which a place is ever shown to another tester or the city."""

from __future__ import annotations

import math

from core.carpool.params import ZoneParams
from core.coaching.records import LatLon

_M_PER_DEG_LAT = 111_195.0


def zone_of(point: LatLon, params: ZoneParams) -> str:
    """The name of the ``cell_m`` square holding ``point``: ``"z2000:<row>:<column>"``."""
    dlat = params.cell_m / _M_PER_DEG_LAT
    dlon = dlat / math.cos(math.radians(params.reference_lat_deg))
    return f"z{params.cell_m:g}:{math.floor(point[0] / dlat)}:{math.floor(point[1] / dlon)}"


def zone_centre(zone: str, params: ZoneParams) -> LatLon:
    """The centre of a zone's cell (for drawing the corridor map; never a tester's own place)."""
    _, row, col = zone.split(":")
    dlat = params.cell_m / _M_PER_DEG_LAT
    dlon = dlat / math.cos(math.radians(params.reference_lat_deg))
    return ((int(row) + 0.5) * dlat, (int(col) + 0.5) * dlon)
