"""GPSLogger for Android, "Log to custom URL": one fix per request, from a URL template.

The template we document is
``?lat=%LAT&lon=%LON&time=%TIME&s=%SPD&acc=%ACC&alt=%ALT&dir=%DIR&batt=%BATT``. ``%TIME`` is ISO
8601 UTC; ``%TIMESTAMP`` (epoch seconds) may be sent as ``timestamp`` instead. Units: ``s`` m/s,
``acc``/``alt`` metres, ``dir`` degrees, ``batt`` percent. Reference: the placeholder list of the
"Log to custom URL" screen of GPSLogger (mendhak/gpslogger).

A time with a ``+hh:mm`` offset that the app did not percent-encode arrives with the ``+`` decoded
as a space (``application/x-www-form-urlencoded``); it is put back before parsing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from core.fixes import RawFix, Rejection
from ingest.formats.activity import from_name
from ingest.formats.decoded import Decoded, DecodedBuilder, ItemError
from ingest.formats.params import first, number_param
from ingest.formats.times import from_iso, from_text
from ingest.formats.units import percent_to_fraction

# "...12:00:00.000 02:00": a clock time, a space, then an offset whose "+" became a space.
_LOST_PLUS = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (\d{2}(?::?\d{2})?)$")


def repair_lost_plus(text: str) -> str:
    """Restore a ``+`` UTC offset that form decoding turned into a space."""
    return _LOST_PLUS.sub(r"\1+\2", text.strip())


def _time(params: Mapping[str, str]) -> datetime | None:
    found = first(params, "time")
    if found is not None:
        return from_iso(repair_lost_plus(found[1]), name="time")
    found = first(params, "timestamp")
    return None if found is None else from_text(found[1], name="timestamp")


def gpslogger_fix(params: Mapping[str, str]) -> RawFix:
    activity = first(params, "act", "activity")
    return RawFix(
        ts=_time(params),
        lat=number_param(params, "lat", "latitude"),
        lon=number_param(params, "lon", "longitude"),
        accuracy_m=number_param(params, "acc", "accuracy"),
        altitude_m=number_param(params, "alt", "altitude"),
        speed_mps=number_param(params, "s", "spd", "speed"),
        bearing_deg=number_param(params, "dir", "bearing"),
        activity=None if activity is None else from_name(activity[1]),
        battery=percent_to_fraction(number_param(params, "batt", "battery")),
    )


def decode_gpslogger(params: Mapping[str, str]) -> Decoded:
    """Decode one GPSLogger request (query or form parameters, already URL-decoded)."""
    out = DecodedBuilder()
    try:
        out.add(0, gpslogger_fix(params))
    except ItemError as exc:
        out.add(0, Rejection(reason=str(exc)))
    return out.build()
