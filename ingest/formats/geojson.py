"""GeoJSON uploads (RFC 7946): Point features with a time, or lines with per-coordinate times.

- ``Point`` features: ``coordinates`` ``[lon, lat(, altitude m)]``; time from the first of the
  properties ``time``, ``timestamp``, ``ts``, ``datetime`` (ISO 8601 with offset, or epoch seconds
  or milliseconds); optional ``accuracy``, ``altitude``/``ele``, ``speed`` (m/s), ``bearing``/
  ``course``/``heading``.
- ``LineString``, ``MultiLineString`` and ``MultiPoint``: one fix per coordinate, times from
  ``properties.coordTimes`` (the convention of Mapbox's togeojson for GPX/KML tracks; a list of lists
  for MultiLineString) or ``properties.coordinateProperties.times`` (newer togeojson).
- An Overland dump (``{"locations": [...]}``) is read as Overland.

Other geometries and features without geometry are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from core.errors import Unprocessable
from core.fixes import RawFix, Rejection
from ingest.formats.decoded import ACCEPTED_UPLOADS, Decoded, DecodedBuilder, ItemError
from ingest.formats.overland import decode_features
from ingest.formats.params import number
from ingest.formats.times import from_value

TIME_KEYS = ("time", "timestamp", "ts", "datetime")
_ACCURACY_KEYS = ("accuracy", "accuracy_m", "horizontal_accuracy", "acc")
_ALTITUDE_KEYS = ("altitude", "altitude_m", "ele", "elevation")
_SPEED_KEYS = ("speed", "speed_mps")
_BEARING_KEYS = ("bearing", "bearing_deg", "course", "heading")
_LINES = frozenset({"LineString", "MultiLineString", "MultiPoint"})


def _float(value: int | float, *, name: str) -> float:
    """A JSON number as a float; an integer beyond float range (the parsers keep any size) is unusable."""
    try:
        return float(value)
    except OverflowError as exc:
        raise ItemError(f"{name} is a number out of range") from exc


def _property_number(properties: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        value = properties.get(key)
        if value is None:
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _float(value, name=f"property {key}")
        if isinstance(value, str):
            return number(value, name=key)
        raise ItemError(f"property {key} is not a number")
    return None


def _position(coordinates: object) -> tuple[float, float, float | None]:
    """A GeoJSON position ``[lon, lat(, alt)]``."""
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        raise ItemError("a position needs [longitude, latitude]")
    values: list[float] = []
    for value in coordinates[:3]:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ItemError("a position holds a value that is not a number")
        values.append(_float(value, name="a position coordinate"))
    return values[0], values[1], values[2] if len(values) > 2 else None


def _point_fix(geometry: dict[str, Any], properties: dict[str, Any]) -> RawFix:
    lon, lat, altitude = _position(geometry.get("coordinates"))
    stamp = next((properties[key] for key in TIME_KEYS if properties.get(key) is not None), None)
    elevation = _property_number(properties, _ALTITUDE_KEYS)
    return RawFix(
        ts=from_value(stamp, name="time"),
        lat=lat,
        lon=lon,
        accuracy_m=_property_number(properties, _ACCURACY_KEYS),
        altitude_m=elevation if elevation is not None else altitude,
        speed_mps=_property_number(properties, _SPEED_KEYS),
        bearing_deg=_property_number(properties, _BEARING_KEYS),
    )


def _line_times(properties: dict[str, Any]) -> object:
    times = properties.get("coordTimes")
    if times is None:
        nested = properties.get("coordinateProperties")
        times = nested.get("times") if isinstance(nested, dict) else None
    return times


def _line_positions(geometry: dict[str, Any], times: object) -> Iterator[tuple[object, object]]:
    """Pairs (position, time) of a line-like geometry, flattening MultiLineString parts."""
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list):
        return
    if geometry.get("type") == "MultiLineString":
        for index, part in enumerate(coordinates):
            part_times = times[index] if isinstance(times, list) and index < len(times) else None
            yield from _pairs(part, part_times)
    else:
        yield from _pairs(coordinates, times)


def _pairs(coordinates: object, times: object) -> Iterator[tuple[object, object]]:
    if not isinstance(coordinates, list):
        return
    for index, position in enumerate(coordinates):
        yield position, times[index] if isinstance(times, list) and index < len(times) else None


def _line_fix(position: object, stamp: object) -> RawFix:
    lon, lat, altitude = _position(position)
    if stamp is None:
        raise ItemError("no time for this coordinate (coordTimes missing or shorter than the line)")
    return RawFix(ts=from_value(stamp, name="time"), lat=lat, lon=lon, altitude_m=altitude)


def _features(document: object) -> list[Any]:
    if isinstance(document, dict) and isinstance(document.get("type"), str):
        kind = document["type"]
        if kind == "FeatureCollection" and isinstance(document.get("features"), list):
            features: list[Any] = document["features"]
            return features
        if kind == "Feature":
            return [document]
        if kind in _LINES or kind == "Point":
            return [{"type": "Feature", "geometry": document, "properties": {}}]
    raise Unprocessable(
        f"JSON upload is not a GeoJSON FeatureCollection or Feature; accepted uploads: {ACCEPTED_UPLOADS}"
    )


def _attempt(out: DecodedBuilder, position: int, read: Callable[..., RawFix], *args: Any) -> None:
    try:
        out.add(position, read(*args))
    except ItemError as exc:
        out.add(position, Rejection(reason=str(exc)))


def decode_geojson(document: object) -> Decoded:
    """Decode an already-parsed GeoJSON (or Overland) document into fixes."""
    if isinstance(document, dict) and isinstance(document.get("locations"), list):
        return decode_features(document["locations"])
    out = DecodedBuilder()
    position = 0
    for feature in _features(document):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict):
            properties = {}
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        kind = kind if isinstance(kind, str) else None
        if kind == "Point" and isinstance(geometry, dict):
            _attempt(out, position, _point_fix, geometry, properties)
            position += 1
        elif kind in _LINES and isinstance(geometry, dict):
            for point, stamp in _line_positions(geometry, _line_times(properties)):
                _attempt(out, position, _line_fix, point, stamp)
                position += 1
        else:
            out.skip()
            position += 1
    return out.build()
