"""JSON bodies: msgspec first, the standard library when msgspec refuses, and errors that say where.

msgspec is strict JSON (RFC 8259), so it refuses the ``NaN``/``Infinity`` literals that Python
clients emit (``json.dumps`` writes them by default). Such a body is well-formed enough to read:
we re-parse it with :mod:`json`, which accepts them, so the fix holding the NaN is rejected alone by
``core.fixes.normalise`` instead of the batch failing. When both parsers refuse, the standard
library's error gives the line, column and character offset reported to the client.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import msgspec

from core.errors import BadRequest, Unprocessable
from ingest.formats.decoded import ItemError

T = TypeVar("T")
U = TypeVar("U")


def _too_deep() -> BadRequest:
    return BadRequest("malformed JSON: nested too deeply")


_ANY: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


def lenient_loads(body: bytes) -> Any:
    """Parse with the standard library (accepts NaN and Infinity) or raise a positioned BadRequest."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"malformed JSON at line {exc.lineno}, column {exc.colno} (char {exc.pos}): {exc.msg}",
            line=exc.lineno,
            column=exc.colno,
            offset=exc.pos,
        ) from exc
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"body is not UTF-8 text: invalid byte at offset {exc.start}", offset=exc.start
        ) from exc
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError as exc:  # e.g. an integer longer than the interpreter's digit limit
        raise BadRequest(f"malformed JSON: {exc}") from exc


def loads(body: bytes) -> Any:
    """Parse a JSON document into Python values (dicts, lists, str, int, float, bool, None)."""
    try:
        return _ANY.decode(body)
    except msgspec.DecodeError:
        return lenient_loads(body)
    except RecursionError as exc:
        raise _too_deep() from exc


def decode_document(body: bytes, decoder: msgspec.json.Decoder[T], lenient: type[U], *, shape: str) -> T | U:
    """Decode the top level of a document with ``decoder``; fall back to ``lenient`` over stdlib values.

    ``lenient`` mirrors the decoder's type with :class:`msgspec.Raw` replaced by ``Any``, since a raw
    slice cannot be cut from already-parsed values. A well-formed document of another shape is
    :class:`Unprocessable`, naming the expected ``shape``.
    """
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise Unprocessable(f"expected {shape}: {exc}") from exc
    except msgspec.DecodeError:
        parsed = lenient_loads(body)
    except RecursionError as exc:
        raise _too_deep() from exc
    return convert(parsed, lenient, shape=shape)


# The standard library's parser keeps a lone UTF-16 surrogate ("\ud800", which msgspec refuses) as
# it is; msgspec then fails with UnicodeEncodeError on such a text: when it writes its own error
# message about the value, and when it reads an object's key (``{"\ud800": 1}``): a 500 before.
_NOT_UNICODE = "a text holds a lone UTF-16 surrogate (not Unicode)"


def not_unicode() -> BadRequest:
    """The 400 for a JSON body holding a lone UTF-16 surrogate, the same at every JSON body."""
    return BadRequest(f"malformed JSON: {_NOT_UNICODE}")


def convert(value: object, type_: type[T], *, shape: str) -> T:
    """Convert a parsed JSON document (:func:`loads`) into the wire type of its format with msgspec.

    A well-formed document of another shape is :class:`Unprocessable`, naming the expected ``shape``;
    one holding a lone UTF-16 surrogate, in a key or a value, the 400 of :func:`not_unicode`. Every
    decoder converts its document's top level here (an element that may fail alone:
    :func:`convert_item`).
    """
    try:
        return msgspec.convert(value, type_)
    except msgspec.ValidationError as exc:
        raise Unprocessable(f"expected {shape}: {exc}") from exc
    except UnicodeEncodeError as exc:
        raise not_unicode() from exc


def unreadable(body: bytes, exc: msgspec.DecodeError) -> BadRequest:
    """The 400 for a ``body`` that msgspec could not read (``exc``), saying why as the other JSON
    bodies do: where the standard library stops reading it too (line, column, offset); else the lone
    UTF-16 surrogate that msgspec reports as "Input data was truncated" (``"\\ud800"``), or msgspec's
    own reason (``NaN``, which JSON has not)."""
    try:
        parsed = lenient_loads(body)
    except BadRequest as malformed:
        return malformed
    try:
        msgspec.json.encode(parsed)
    except UnicodeEncodeError:
        return not_unicode()
    return BadRequest(f"malformed JSON: {exc}")


def convert_item(value: object, type_: type[T]) -> T:
    """Convert one parsed element into a wire Struct, or raise :class:`ItemError` with msgspec's reason."""
    try:
        return msgspec.convert(value, type_)
    except msgspec.ValidationError as exc:
        raise ItemError(str(exc)) from exc
    except UnicodeEncodeError as exc:
        raise ItemError(_NOT_UNICODE) from exc
