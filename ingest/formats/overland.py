"""Overland (iOS and Android): ``POST`` of ``{"locations": [GeoJSON Feature, ...]}``.

Each location is a Point feature, ``coordinates`` ``[lon, lat]``, with properties ``timestamp``
(ISO 8601), ``speed`` (m/s, negative when unknown), ``horizontal_accuracy`` (m, negative when the
position is invalid), ``altitude`` (m), ``course`` (degrees, negative when unknown), ``motion``
(list of ``driving``, ``walking``, ``running``, ``cycling``, ``stationary``) and ``battery_level``
(0..1). Trip summaries (``properties.type == "trip"``), features with an ``action`` and anything
that is not a Point are skipped. Reference: the Overland-iOS README, "API" section.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core.fixes import RawFix, Rejection
from ingest.formats.activity import most_specific
from ingest.formats.decoded import Decoded, DecodedBuilder, ItemError
from ingest.formats.jsonbody import convert, convert_item, loads
from ingest.formats.times import from_iso


class OverlandProperties(msgspec.Struct, frozen=True, kw_only=True):
    timestamp: str | None = None
    speed: float | None = None
    horizontal_accuracy: float | None = None
    altitude: float | None = None
    course: float | None = None
    motion: list[Any] | None = None  # strings; anything else (null too) is ignored, not losing the fix
    battery_level: float | None = None


class PointGeometry(msgspec.Struct, frozen=True, kw_only=True):
    coordinates: list[float]


class _Batch(msgspec.Struct, frozen=True, kw_only=True):
    locations: list[Any]


def is_location(feature: object) -> bool:
    """A Point feature that is not a trip summary or an action."""
    if not isinstance(feature, dict) or "action" in feature:
        return False
    properties = feature.get("properties")
    if isinstance(properties, dict) and (properties.get("type") == "trip" or "action" in properties):
        return False
    geometry = feature.get("geometry")
    return isinstance(geometry, dict) and geometry.get("type") == "Point"


def location_fix(feature: dict[str, Any]) -> RawFix:
    """One Overland Point feature (already checked by :func:`is_location`) as a fix."""
    point = convert_item(feature["geometry"], PointGeometry)
    if len(point.coordinates) < 2:
        raise ItemError("Point coordinates need [longitude, latitude]")
    properties = convert_item(feature.get("properties") or {}, OverlandProperties)
    return RawFix(
        ts=None if properties.timestamp is None else from_iso(properties.timestamp, name="timestamp"),
        lat=point.coordinates[1],
        lon=point.coordinates[0],
        accuracy_m=properties.horizontal_accuracy,
        altitude_m=properties.altitude,
        speed_mps=properties.speed,
        bearing_deg=properties.course,
        activity=most_specific(m for m in properties.motion or () if isinstance(m, str)),
        battery=properties.battery_level,
    )


def decode_features(features: list[Any]) -> Decoded:
    out = DecodedBuilder()
    for position, feature in enumerate(features):
        if not is_location(feature):
            out.skip()
            continue
        try:
            out.add(position, location_fix(feature))
        except ItemError as exc:
            out.add(position, Rejection(reason=str(exc)))
    return out.build()


def decode_overland(body: bytes) -> Decoded:
    """Decode an Overland batch; other top-level keys (``current``, ``trip``) are ignored."""
    batch = convert(loads(body), _Batch, shape='an object {"locations": [GeoJSON Feature, ...]}')
    return decode_features(batch.locations)
