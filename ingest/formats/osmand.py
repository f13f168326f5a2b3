"""The OsmAnd protocol (OsmAnd, older Traccar Client) and Traccar Client's JSON body.

Query or form parameters, per Traccar's ``OsmAndProtocolDecoder``: ``id`` (or ``deviceid``),
``lat``, ``lon``, ``timestamp`` (epoch seconds, epoch milliseconds or ISO 8601), ``speed`` in
knots, ``bearing`` (or ``heading``) degrees, ``altitude`` metres, ``accuracy`` metres, ``batt``
percent. OsmAnd's own online tracking sends its horizontal accuracy in metres under the name
``hdop`` (``{3}`` in its URL template), so ``hdop`` is read as accuracy when ``accuracy`` is absent.

Traccar Client 9+ POSTs JSON instead (Transistorsoft background-geolocation's location object):
``{"device_id", "location": {"timestamp", "coords": {"latitude", "longitude", "accuracy", "speed"
(m/s), "heading", "altitude"}, "battery": {"level"}, "activity": {"type"}}}``; ``location`` may also
be a list when the app sends a batch. Parameters win when they carry ``lat``. A request with
neither (a keep-alive) yields no fix and counts one skipped element.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from core.errors import Unprocessable
from core.fixes import RawFix, Rejection
from ingest.formats.activity import from_name
from ingest.formats.decoded import Decoded, DecodedBuilder, ItemError
from ingest.formats.jsonbody import convert, convert_item, loads
from ingest.formats.params import first, number_param
from ingest.formats.times import from_text, from_value
from ingest.formats.units import knots_to_mps, percent_to_fraction


class TraccarCoords(msgspec.Struct, frozen=True, kw_only=True):
    latitude: float | None = None
    longitude: float | None = None
    accuracy: float | None = None  # metres
    speed: float | None = None  # m/s, -1 when unknown
    heading: float | None = None  # degrees, -1 when unknown
    altitude: float | None = None  # metres


class TraccarBattery(msgspec.Struct, frozen=True, kw_only=True):
    level: float | None = None  # 0..1, -1 when unknown


class TraccarActivity(msgspec.Struct, frozen=True, kw_only=True):
    type: str | None = None


class TraccarLocation(msgspec.Struct, frozen=True, kw_only=True):
    timestamp: str | float | None = None
    coords: TraccarCoords | None = None
    battery: TraccarBattery | None = None
    activity: TraccarActivity | None = None


class _Body(msgspec.Struct, frozen=True, kw_only=True):
    location: Any = None
    device_id: str | int | None = None


def osmand_fix(params: Mapping[str, str]) -> RawFix:
    stamp = first(params, "timestamp")
    return RawFix(
        ts=None if stamp is None else from_text(stamp[1], name="timestamp"),
        lat=number_param(params, "lat"),
        lon=number_param(params, "lon"),
        accuracy_m=number_param(params, "accuracy", "hdop"),
        altitude_m=number_param(params, "altitude"),
        speed_mps=knots_to_mps(number_param(params, "speed")),
        bearing_deg=number_param(params, "bearing", "heading"),
        battery=percent_to_fraction(number_param(params, "batt")),
    )


def traccar_fix(location: object) -> RawFix:
    wire = convert_item(location, TraccarLocation)
    coords = wire.coords or TraccarCoords()
    return RawFix(
        ts=from_value(wire.timestamp, name="timestamp"),
        lat=coords.latitude,
        lon=coords.longitude,
        accuracy_m=coords.accuracy,
        altitude_m=coords.altitude,
        speed_mps=coords.speed,
        bearing_deg=coords.heading,
        activity=None if wire.activity is None else from_name(wire.activity.type),
        battery=None if wire.battery is None else wire.battery.level,
    )


def _one(out: DecodedBuilder, position: int, read: Callable[[Any], RawFix], source: object) -> None:
    try:
        out.add(position, read(source))
    except ItemError as exc:
        out.add(position, Rejection(reason=str(exc)))


def decode_osmand(params: Mapping[str, str], body: bytes = b"") -> tuple[str | None, Decoded]:
    """Decode one OsmAnd request or a Traccar Client JSON body; returns the device ``id`` too."""
    found = first(params, "id", "deviceid")
    device = None if found is None else found[1]
    out = DecodedBuilder()
    if "lat" in params:
        _one(out, 0, osmand_fix, params)
        return device, out.build()
    if not body.strip():
        out.skip()
        return device, out.build()
    document = convert(loads(body), _Body, shape='{"device_id": ..., "location": {...}}')
    if device is None and document.device_id is not None:
        device = str(document.device_id)
    if document.location is None:
        raise Unprocessable('expected {"device_id": ..., "location": {...}}: "location" is missing')
    locations = document.location if isinstance(document.location, list) else [document.location]
    for position, location in enumerate(locations):
        _one(out, position, traccar_fix, location)
    return device, out.build()
