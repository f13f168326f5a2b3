"""Great-circle distance, the only geodesy coaching needs (clustering radii of a few hundred metres)."""

from __future__ import annotations

import math

from core.coaching.records import LatLon

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius


def haversine_m(a: LatLon, b: LatLon) -> float:
    """Distance in metres between two ``(lat, lon)`` points on a spherical Earth (error < 0.5 %)."""
    lat1, lon1 = math.radians(a[0]), math.radians(a[1])
    lat2, lon2 = math.radians(b[0]), math.radians(b[1])
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
