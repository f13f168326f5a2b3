"""OpenPATH / e-mission phones: ``POST /usercache/put`` with ``{"user": token, "phone_to_server": [...]}``.

Each entry is ``{"metadata": {"key", "write_ts", "platform", ...}, "data": {...}}``. Location keys
(``background/location``, ``background/filtered_location``) become fixes; motion activity entries
label the location fixes that follow them within ``activity_window_s``; every other key
(``statemachine/transition``, ``stats/...``, surveys, anything new) is counted as skipped and never
fails the batch. (The e-mission server itself stores every entry as is, in
``emission/net/api/usercache.py``; Sillage keeps only what its pipeline uses.)

Field names follow the e-mission data model (``emission/core/wrapper/location.py``,
``motionactivity.py``); timestamps above 1e11 are milliseconds (older Android clients).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

import msgspec

from core.errors import BadRequest, Unprocessable
from core.fixes import Activity, RawFix, Rejection
from ingest.formats.activity import ANDROID_CODES, most_specific
from ingest.formats.decoded import Decoded, DecodedBuilder, ItemError
from ingest.formats.jsonbody import convert, convert_item, loads
from ingest.formats.times import from_epoch

LOCATION_KEYS = frozenset({"background/location", "background/filtered_location"})
MOTION_KEY = "background/motion_activity"

# Android type fields, newest first: current clients send ``type``; older Play-services releases
# were obfuscated (the e-mission server's android motion_activity formatter lists the same names).
_ANDROID_TYPE_FIELDS = ("type", "agb", "zzaEg", "zzbjA", "ajO", "zzaKM", "zzbhB")
_IOS_FLAGS = ("automotive", "cycling", "running", "walking", "stationary", "unknown")


class EmissionParams(msgspec.Struct, frozen=True, kw_only=True):
    """How long a motion activity reading labels the location fixes after it."""

    activity_window_s: float = 120.0


class EmissionLocation(msgspec.Struct, frozen=True, kw_only=True):
    latitude: float | None = None
    longitude: float | None = None
    ts: float | None = None  # epoch seconds, or milliseconds from older Android clients
    accuracy: float | None = None  # metres
    altitude: float | None = None  # metres
    bearing: float | None = None  # degrees
    sensed_speed: float | None = None  # m/s


class _Put(msgspec.Struct, frozen=True, kw_only=True):
    phone_to_server: list[Any]
    user: Any = None


def _location(data: object) -> RawFix:
    wire = convert_item(data, EmissionLocation)
    return RawFix(
        ts=None if wire.ts is None else from_epoch(wire.ts),
        lat=wire.latitude,
        lon=wire.longitude,
        accuracy_m=wire.accuracy,
        altitude_m=wire.altitude,
        speed_mps=wire.sensed_speed,
        bearing_deg=wire.bearing,
    )


def motion_activity(data: dict[str, Any]) -> Activity | None:
    """Android ``type`` codes or iOS ``CMMotionActivity`` booleans (see ``ingest.formats.activity``)."""
    for field in _ANDROID_TYPE_FIELDS:
        code = data.get(field)
        if isinstance(code, int) and not isinstance(code, bool):
            return ANDROID_CODES.get(code)
    return most_specific(flag for flag in _IOS_FLAGS if data.get(flag) is True)


def _activity_time_s(data: dict[str, Any], metadata: dict[str, Any]) -> float | None:
    """When the activity was sensed: ``data.ts``, else the entry's ``write_ts`` (seconds).

    The first of the two that is a number decides; out of range (an integer too large for a float
    too), the reading is left out and the entry is only counted as skipped, never failing the put.
    """
    for value in (data.get("ts"), metadata.get("write_ts")):
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return from_epoch(value).timestamp()
            except ItemError:
                return None
    return None


class _Labeller:
    """Latest motion activity at or before a time, within a window; O(log n) per lookup."""

    def __init__(self, readings: list[tuple[float, Activity | None]], window_s: float) -> None:
        readings.sort(key=lambda reading: reading[0])
        self._times = [t for t, _ in readings]
        self._activities = [a for _, a in readings]
        self._window_s = window_s

    def at(self, t_s: float) -> Activity | None:
        index = bisect_right(self._times, t_s) - 1
        if index < 0 or t_s - self._times[index] > self._window_s:
            return None
        return self._activities[index]


def _token(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Unprocessable('"user" must be a string token')
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise BadRequest('"user" is not valid Unicode text') from exc
    return value


class _Entries(msgspec.Struct, kw_only=True):
    """The entries of one upload, sorted into what the decoder uses."""

    located: list[tuple[int, RawFix | Rejection]]
    readings: list[tuple[float, Activity | None]]
    skipped: int


def _sort_entries(entries: list[Any]) -> _Entries:
    sorted_ = _Entries(located=[], readings=[], skipped=0)
    for position, entry in enumerate(entries):
        metadata = entry.get("metadata") if isinstance(entry, dict) else None
        key = metadata.get("key") if isinstance(metadata, dict) else None
        data = entry.get("data") if isinstance(entry, dict) else None
        if isinstance(key, str) and key in LOCATION_KEYS:
            try:
                sorted_.located.append((position, _location(data)))
            except ItemError as exc:
                sorted_.located.append((position, Rejection(reason=str(exc))))
            continue
        if key == MOTION_KEY and isinstance(data, dict) and isinstance(metadata, dict):
            t_s = _activity_time_s(data, metadata)
            if t_s is not None:
                sorted_.readings.append((t_s, motion_activity(data)))
        sorted_.skipped += 1
    return sorted_


class _UserOnly(msgspec.Struct, frozen=True, kw_only=True):
    user: Any = None


def decode_user(body: bytes) -> str | None:
    """The ``user`` token of the protocol's other requests (``usercache/get``,
    ``pipeline/get_complete_ts``; an empty body has none), read as :func:`decode_emission` reads it:
    malformed JSON is a 400, a body of another shape or a ``user`` that is not a string a 422."""
    only = convert(loads(body or b"{}"), _UserOnly, shape='an object {"user": ...}')
    return _token(only.user)


def decode_emission(body: bytes, *, params: EmissionParams | None = None) -> tuple[str | None, Decoded]:
    """Decode a usercache upload; returns the ``user`` token (or None) and the location fixes.

    Exact duplicates (same time and coordinates, typically a ``background/location`` and its
    ``background/filtered_location`` copy) are kept once; the dropped copies count as skipped.
    """
    put = convert(loads(body), _Put, shape='an object {"user": ..., "phone_to_server": [...]}')
    token = _token(put.user)
    entries = _sort_entries(put.phone_to_server)
    labeller = _Labeller(entries.readings, (params or EmissionParams()).activity_window_s)
    out = DecodedBuilder()
    out.skip(entries.skipped)
    seen: set[tuple[float, float | None, float | None]] = set()
    for position, item in entries.located:
        if isinstance(item, RawFix) and item.ts is not None:
            identity = (item.ts.timestamp(), item.lat, item.lon)
            if identity in seen:
                out.skip()
                continue
            seen.add(identity)
            out.add(position, msgspec.structs.replace(item, activity=labeller.at(identity[0])))
        else:
            out.add(position, item)
    return token, out.build()
