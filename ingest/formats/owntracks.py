"""OwnTracks in HTTP mode: ``POST`` of one JSON message (or an array of them).

Only ``_type: "location"`` carries a fix; ``transition``, ``waypoint(s)``, ``lwt``, ``status``,
``card``, ``cmd`` and ``encrypted`` (payload encryption is not supported) are skipped, and so is an
empty body, which the apps send to poll. Units per the OwnTracks JSON documentation
(https://owntracks.org/booklet/tech/json/): ``tst`` epoch seconds, ``acc``/``alt`` metres, ``vel``
km/h (integer), ``cog`` degrees, ``batt`` percent. The apps omit zero values, so an absent ``vel``
may mean 0; it is read as unknown rather than invented.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core.errors import Unprocessable
from core.fixes import RawFix, Rejection
from ingest.formats.decoded import Decoded, DecodedBuilder, ItemError
from ingest.formats.jsonbody import convert_item, loads
from ingest.formats.times import from_epoch_s
from ingest.formats.units import kmh_to_mps, percent_to_fraction


class OwnTracksLocation(msgspec.Struct, frozen=True, kw_only=True):
    lat: float | None = None
    lon: float | None = None
    tst: float | None = None  # epoch seconds
    acc: float | None = None  # metres
    alt: float | None = None  # metres
    vel: float | None = None  # km/h
    cog: float | None = None  # degrees
    batt: float | None = None  # percent


def _location(message: dict[str, Any]) -> RawFix:
    wire = convert_item(message, OwnTracksLocation)
    return RawFix(
        ts=None if wire.tst is None else from_epoch_s(wire.tst, name="tst"),
        lat=wire.lat,
        lon=wire.lon,
        accuracy_m=wire.acc,
        altitude_m=wire.alt,
        speed_mps=kmh_to_mps(wire.vel),
        bearing_deg=wire.cog,
        battery=percent_to_fraction(wire.batt),
    )


def decode_owntracks(body: bytes) -> Decoded:
    """Decode one OwnTracks message or an array of messages; non-location messages are skipped."""
    out = DecodedBuilder()
    if not body.strip():
        return out.build()
    document = loads(body)
    if isinstance(document, dict):
        messages: list[Any] = [document]
    elif isinstance(document, list):
        messages = document
    else:
        raise Unprocessable("expected an OwnTracks message (a JSON object) or an array of them")
    for position, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("_type") != "location":
            out.skip()
            continue
        try:
            out.add(position, _location(message))
        except ItemError as exc:
            out.add(position, Rejection(reason=str(exc)))
    return out.build()
