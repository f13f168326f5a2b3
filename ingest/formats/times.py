"""Reading timestamps as trackers send them: epoch seconds, epoch milliseconds, ISO 8601 text.

Everything is returned timezone-aware. A time without a UTC offset is ambiguous (the phone's local
time? UTC?) and guessing would silently shift a trip by hours, so it is an :class:`ItemError`,
unless the format itself defines the zone (GPX and GeoLife are UTC by specification).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from ingest.formats.decoded import ItemError

# Epoch values above 1e11 are read as milliseconds: 1e11 s is the year 5138, while 1e11 ms is
# March 1973, before any smartphone fix. e-mission and Traccar both send milliseconds at times.
EPOCH_MS_THRESHOLD = 1e11

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def from_epoch_s(value: float, *, name: str = "ts") -> datetime:
    """Epoch seconds to an aware UTC datetime; non-finite or out-of-calendar values are unusable."""
    if not math.isfinite(value):
        raise ItemError(f"{name} is not a finite number")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ItemError(f"{name} {value!r} is out of range for epoch seconds") from exc


def from_epoch(value: float, *, name: str = "ts") -> datetime:
    """Epoch seconds, or milliseconds when above :data:`EPOCH_MS_THRESHOLD`.

    ``value`` may be a parsed JSON integer of any size (both JSON parsers keep ``1`` followed by 400
    zeros exactly); one beyond float range is an :class:`ItemError`, not an ``OverflowError`` that
    would fail the whole batch.
    """
    try:
        value = float(value)
    except OverflowError as exc:
        raise ItemError(f"{name} is out of range for epoch seconds") from exc
    if math.isfinite(value) and abs(value) > EPOCH_MS_THRESHOLD:
        return from_epoch_s(value / 1000.0, name=name)
    return from_epoch_s(value, name=name)


# What ISO 8601 times look like (calendar or week date, basic or extended, T or space, a fraction
# with a point or a comma, Z or an offset): Python 3.11's fromisoformat reads a NUL or an "X" as
# the date's separator, and a fix was stored at a time its text did not say.
_ISO = re.compile(
    r"\d{4}-?(?:\d{2}-?\d{2}|W\d{2}-?\d)"
    r"(?:[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)


def from_iso(text: str, *, name: str = "ts", assume_utc: bool = False) -> datetime:
    """ISO 8601 text (``Z``, ``+02:00``, ``+0200``, space or ``T``); without offset only if ``assume_utc``."""
    try:
        if _ISO.fullmatch(text.strip()) is None:  # fromisoformat alone takes any separator, and more
            raise ValueError("not ISO 8601")
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ItemError(f"{name} {text[:40]!r} is not an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        if not assume_utc:
            raise ItemError(f"{name} {text[:40]!r} has no UTC offset")
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 is before the calendar's first day in UTC
        raise ItemError(f"{name} {text[:40]!r} is out of range") from exc


def from_text(text: str, *, name: str = "ts", assume_utc: bool = False) -> datetime:
    """A number in text is epoch seconds or milliseconds; anything else must be ISO 8601."""
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        return from_epoch(float(stripped), name=name)
    return from_iso(stripped, name=name, assume_utc=assume_utc)


def from_value(value: object, *, name: str = "ts", assume_utc: bool = False) -> datetime | None:
    """A JSON time value: number (epoch s or ms), text (ISO 8601 or a number), or null."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ItemError(f"{name} is a boolean, not a time")
    if isinstance(value, int | float):
        return from_epoch(value, name=name)
    if isinstance(value, str):
        return from_text(value, name=name, assume_utc=assume_utc)
    raise ItemError(f"{name} is a {type(value).__name__}, not a time")
