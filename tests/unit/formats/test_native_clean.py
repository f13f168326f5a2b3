"""The native fast lane: a clean batch becomes the same fixes as the general path, anything else None."""

from __future__ import annotations

import json
import math
from datetime import UTC
from typing import Any

import msgspec
import pytest

from core.errors import PayloadTooLarge
from core.fixes import Fix, normalise
from ingest.formats import decode_native
from ingest.formats.native import decode_clean_native
from tests.unit.formats.support import fixes, utc

NOW = utc("2024-05-02T00:00:00")


def fix(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"ts": 1714557600, "lat": 46.15901, "lon": -1.15275, "accuracy_m": 8.0}
    base.update(overrides)
    return base


def batch(*items: dict[str, Any]) -> bytes:
    return msgspec.json.encode({"fixes": list(items)})


def general_path(body: bytes) -> list[Fix]:
    """What decode_native + normalise make of the same body (every fix must be valid)."""
    out = [normalise(raw, NOW) for raw in fixes(decode_native(body, max_fixes=1000))]
    assert all(isinstance(f, Fix) for f in out), out
    return [f for f in out if isinstance(f, Fix)]


CLEAN = [
    fix(),
    fix(ts=1714557600.123456, altitude_m=-12.5, speed_mps=0.0, bearing_deg=0.0, battery=0.0),
    fix(ts="2024-05-01T12:00:00.5+02:00", speed_mps=33.3, bearing_deg=359.99, battery=1.0),
    fix(ts="2024-05-01T10:00:00Z", lat=-90.0, lon=180.0, accuracy_m=0.0, activity="vehicle"),
    fix(lat=90.0, lon=-180.0, bearing_deg=-0.0, altitude_m=None, activity=None),
]


def test_a_clean_batch_gives_exactly_the_fixes_of_the_general_path() -> None:
    body = batch(*CLEAN)
    assert decode_clean_native(body, max_fixes=1000) == general_path(body)


def test_a_clean_batch_keeps_times_aware_and_in_utc() -> None:
    got = decode_clean_native(batch(fix(ts="2024-05-01T12:00:00+02:00")), max_fixes=10)
    assert got is not None
    assert got[0].ts == utc("2024-05-01T10:00:00")
    assert got[0].ts.tzinfo is UTC


@pytest.mark.parametrize(
    "odd",
    [
        fix(speed_mps=-1.0),  # normalise would drop it: the general path decides
        fix(bearing_deg=360.0),  # normalise would take it modulo 360
        fix(bearing_deg=-5.0),
        fix(battery=1.5),
        fix(lat=90.5),
        fix(lon=-180.01),
        fix(accuracy_m=-1.0),
        fix(ts="2024-05-01T12:00:00"),  # no offset
        fix(ts=1e300),  # beyond the calendar
        fix(lat="46.1"),
        fix(heading=3.0),
        fix(activity="teleport"),
        {"ts": 1714557600, "lat": 46.1, "lon": -1.1},  # no accuracy
    ],
)
def test_one_value_the_general_path_would_change_or_refuse_sends_the_batch_there(odd: dict[str, Any]) -> None:
    assert decode_clean_native(batch(fix(), odd), max_fixes=10) is None


def test_non_finite_literals_send_the_batch_to_the_general_path() -> None:
    for bad in (
        fix(lat=math.nan),
        fix(altitude_m=math.inf),
        fix(speed_mps=math.inf),
        fix(accuracy_m=math.inf),
    ):
        body = json.dumps({"fixes": [fix(), bad]}).encode()
        assert decode_clean_native(body, max_fixes=10) is None


def test_a_document_of_another_shape_is_left_to_the_general_path() -> None:
    for body in (b"[]", b'{"fixes": [], "user": 1}', b"{", b""):
        assert decode_clean_native(body, max_fixes=10) is None


def test_more_fixes_than_allowed_is_payload_too_large_here_too() -> None:
    with pytest.raises(PayloadTooLarge, match="3 fixes in one batch; at most 2"):
        decode_clean_native(batch(fix(), fix(), fix()), max_fixes=2)
