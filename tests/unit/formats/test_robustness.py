"""Hostile input: every decoder either decodes or raises a SillageError, never anything else."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable

import pytest

from core.errors import BadRequest, SillageError
from ingest.formats import (
    decode_emission,
    decode_native,
    decode_osmand,
    decode_overland,
    decode_owntracks,
    decode_upload,
)
from tests.unit.formats.support import DATA, fixes

DECODERS: dict[str, Callable[[bytes], object]] = {
    "native": lambda body: decode_native(body, max_fixes=1000),
    "emission": decode_emission,
    "owntracks": decode_owntracks,
    "overland": decode_overland,
    "osmand": lambda body: decode_osmand({}, body),
    "upload": lambda body: decode_upload(body, filename=None, content_type=None),
}
_SPLICES = (b'"', b"{", b"[", b"null", b"NaN", b"-1e400", b",", b"<", b"true", b'"x"', b"\xff", b"\r", b"[]")


def mutated(body: bytes, rng: random.Random) -> bytes:
    """Delete, splice in or overwrite a few bytes."""
    out = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(out) + 1)
        roll = rng.random()
        if roll < 0.4:
            del out[at : at + rng.randint(1, 8)]
        elif roll < 0.8:
            out[at:at] = rng.choice(_SPLICES)
        elif out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
    return bytes(out)


@pytest.mark.parametrize("name", sorted(path.name for path in DATA.iterdir()))
def test_mutated_samples_never_escape_the_error_vocabulary(name: str) -> None:
    rng = random.Random(name)  # deterministic per sample
    original = (DATA / name).read_bytes()
    for _ in range(60):
        body = mutated(original, rng)
        for decode in DECODERS.values():
            with contextlib.suppress(SillageError):  # anything else fails the test
                decode(body)


def test_a_non_string_entry_key_is_skipped() -> None:
    _, decoded = decode_emission(b'{"phone_to_server": [{"metadata": {"key": {"a": 1}}, "data": {}}]}')
    assert (decoded.items, decoded.skipped) == ([], 1)


def test_a_non_string_geojson_type_is_not_a_crash() -> None:
    body = b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": []}}]}'
    assert decode_upload(body, filename=None, content_type=None).skipped == 1


def test_an_xml_declaration_with_an_unknown_encoding_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="unknown encoding"):
        decode_upload(b'<?xml version="1.0" encoding="UTF-9"?><gpx/>', filename=None, content_type=None)


def test_a_carriage_return_inside_the_first_line_is_not_a_crash() -> None:
    body = b"time,lat\rlon\n2024-05-01T10:00:00Z,46.1,-1.1\n"
    with pytest.raises(SillageError):
        decode_upload(body, filename=None, content_type=None)


def test_windows_line_endings_are_fine_in_csv() -> None:
    body = b"time,lat,lon\r\n2024-05-01T10:00:00Z,46.1,-1.1\r\n"
    (got,) = fixes(decode_upload(body, filename=None, content_type=None))
    assert (got.lat, got.lon) == (46.1, -1.1)
