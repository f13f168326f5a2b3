"""Our own app's batches: ``POST /v1/fixes`` with ``{"fixes": [...]}``.

The format is ours, so it is strict: an unknown field in a fix rejects that fix, an unknown key at
the top level rejects the document. A valid batch is decoded in one msgspec call (the common case,
about twice as fast); when that fails, each fix is decoded on its own from :class:`msgspec.Raw`
slices of the top level, so one bad fix never fails its batch.

:func:`decode_clean_native` is the fast lane in front of that: a batch whose every value already
satisfies the rules of :func:`core.fixes.normalise` (checked by msgspec constraints while decoding,
in C) becomes :class:`~core.fixes.Fix` objects directly, skipping the per-fix ``RawFix`` and
``normalise`` work (about four times less CPU for a 200-fix batch). Anything else, including one
value ``normalise`` would drop or reject, returns None and goes through :func:`decode_native`, so
reports and stored values are the same either way (only the arrival-time window is left to check).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import msgspec

from core.errors import PayloadTooLarge
from core.fixes import (
    AccuracyM,
    Activity,
    AltitudeM,
    Battery,
    BearingDeg,
    Fix,
    Latitude,
    Longitude,
    RawFix,
    Rejection,
    SpeedMps,
)
from ingest.formats.decoded import Decoded, DecodedBuilder, ItemError
from ingest.formats.jsonbody import convert_item, decode_document
from ingest.formats.times import from_epoch_s, from_iso

E = TypeVar("E")


class NativeFix(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One fix as our app sends it: ``ts`` is epoch seconds or ISO 8601 text with a UTC offset."""

    ts: float | str
    lat: float
    lon: float
    accuracy_m: float
    altitude_m: float | None = None
    speed_mps: float | None = None
    bearing_deg: float | None = None
    activity: Activity | None = None
    battery: float | None = None  # 0..1


class CleanNativeFix(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """:class:`NativeFix` with the value rules of ``normalise`` as constraints (the fast lane)."""

    ts: float | str
    lat: Latitude
    lon: Longitude
    accuracy_m: AccuracyM
    altitude_m: AltitudeM | None = None
    speed_mps: SpeedMps | None = None
    bearing_deg: BearingDeg | None = None
    activity: Activity | None = None
    battery: Battery | None = None


class NativeBatch(msgspec.Struct, Generic[E], frozen=True, kw_only=True, forbid_unknown_fields=True):
    fixes: list[E]


_TYPED: msgspec.json.Decoder[NativeBatch[NativeFix]] = msgspec.json.Decoder(NativeBatch[NativeFix])
_BATCH: msgspec.json.Decoder[NativeBatch[msgspec.Raw]] = msgspec.json.Decoder(NativeBatch[msgspec.Raw])
_FIX: msgspec.json.Decoder[NativeFix] = msgspec.json.Decoder(NativeFix)
_CLEAN: msgspec.json.Decoder[NativeBatch[CleanNativeFix]] = msgspec.json.Decoder(NativeBatch[CleanNativeFix])
_SHAPE = 'an object {"fixes": [fix, ...]}'
_from_epoch = datetime.fromtimestamp


def _check_count(count: int, max_fixes: int) -> None:
    if count > max_fixes:
        raise PayloadTooLarge(
            f"{count} fixes in one batch; at most {max_fixes} are accepted, send them in several batches",
            max_fixes=max_fixes,
            fixes=count,
        )


def _decode_fix(element: NativeFix | msgspec.Raw | Any) -> NativeFix:
    if isinstance(element, NativeFix):
        return element
    if isinstance(element, msgspec.Raw):
        try:
            return _FIX.decode(element)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
            raise ItemError(str(exc)) from exc
    return convert_item(element, NativeFix)


def to_raw_fix(wire: NativeFix) -> RawFix:
    """The wire fix with its time read; all other fields are already in our units."""
    ts = from_iso(wire.ts) if isinstance(wire.ts, str) else from_epoch_s(wire.ts)
    return RawFix(
        ts=ts,
        lat=wire.lat,
        lon=wire.lon,
        accuracy_m=wire.accuracy_m,
        altitude_m=wire.altitude_m,
        speed_mps=wire.speed_mps,
        bearing_deg=wire.bearing_deg,
        activity=wire.activity,
        battery=wire.battery,
    )


def decode_native(body: bytes, *, max_fixes: int) -> Decoded:
    """Decode a native batch; more than ``max_fixes`` fixes is :class:`PayloadTooLarge`."""
    try:
        valid = _TYPED.decode(body).fixes
    except (msgspec.DecodeError, RecursionError):
        valid = None  # the per-fix path below says precisely what is wrong, and where
    batch = (
        NativeBatch(fixes=valid)
        if valid is not None
        else decode_document(body, _BATCH, NativeBatch[Any], shape=_SHAPE)
    )
    _check_count(len(batch.fixes), max_fixes)
    out = DecodedBuilder()
    for position, element in enumerate(batch.fixes):
        item: RawFix | Rejection
        try:
            item = to_raw_fix(_decode_fix(element))
        except ItemError as exc:
            item = Rejection(reason=str(exc))
        out.add(position, item)
    return out.build()


def _clean_ts(ts: float | str) -> datetime:
    if isinstance(ts, str):
        return from_iso(ts)  # raises ItemError without an offset, as decode_native would report
    return from_epoch_s(ts)


def decode_clean_native(body: bytes, *, max_fixes: int) -> list[Fix] | None:
    """The batch as normalised fixes when every value passes ``normalise``'s rules, else None.

    None means "take :func:`decode_native`": a value out of range, a field it would drop (a
    negative speed), a malformed document, or a time that cannot be read. More than ``max_fixes``
    fixes is :class:`PayloadTooLarge` here too. The arrival-time window (``core.fixes.time_problem``)
    is the caller's to check, since it depends on the time of the request.
    """
    try:
        wire = _CLEAN.decode(body).fixes
    except (msgspec.DecodeError, RecursionError):
        return None
    _check_count(len(wire), max_fixes)
    try:
        # Epoch seconds, the common case, in one pass; fromtimestamp refuses text with TypeError.
        stamps = [_from_epoch(w.ts, UTC) for w in wire]  # type: ignore[arg-type]  # str: TypeError
    except TypeError:
        try:
            stamps = [_clean_ts(w.ts) for w in wire]  # ISO 8601 text among them
        except (ItemError, OverflowError):
            return None
    except (OverflowError, OSError, ValueError):
        return None  # an epoch value out of range or not finite: decode_native says which
    return [
        Fix(
            ts=ts,
            lat=w.lat,
            lon=w.lon,
            accuracy_m=w.accuracy_m,
            altitude_m=w.altitude_m,
            speed_mps=w.speed_mps,
            # normalise keeps bearings modulo 360, which also turns -0.0 into 0.0
            bearing_deg=None if w.bearing_deg is None else w.bearing_deg % 360.0,
            activity=w.activity,
            battery=w.battery,
        )
        for ts, w in zip(stamps, wire, strict=True)
    ]
