"""Our own app's batches: ``POST /v1/fixes`` with ``{"fixes": [...]}``.

The format is ours, so it is strict: an unknown field in a fix rejects that fix, an unknown key at
the top level rejects the document. A valid batch is decoded in one msgspec call (the common case,
about twice as fast); when that fails, each fix is decoded on its own from :class:`msgspec.Raw`
slices of the top level, so one bad fix never fails its batch.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from core.errors import PayloadTooLarge
from core.fixes import Activity, RawFix, Rejection
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


class NativeBatch(msgspec.Struct, Generic[E], frozen=True, kw_only=True, forbid_unknown_fields=True):
    fixes: list[E]


_TYPED: msgspec.json.Decoder[NativeBatch[NativeFix]] = msgspec.json.Decoder(NativeBatch[NativeFix])
_BATCH: msgspec.json.Decoder[NativeBatch[msgspec.Raw]] = msgspec.json.Decoder(NativeBatch[msgspec.Raw])
_FIX: msgspec.json.Decoder[NativeFix] = msgspec.json.Decoder(NativeFix)
_SHAPE = 'an object {"fixes": [fix, ...]}'


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
