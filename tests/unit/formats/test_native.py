"""Our app's batches, POST /v1/fixes: strict per fix, never failing the batch for one fix."""

from __future__ import annotations

import json
import math
from typing import Any

import msgspec
import pytest

from core.errors import BadRequest, PayloadTooLarge, Unprocessable
from core.fixes import Activity, Rejection, normalise
from ingest.formats import decode_native
from tests.unit.formats.support import fixes, only_fix, reasons, utc

NOW = utc("2024-05-02T00:00:00")


def fix(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"ts": 1714557600, "lat": 46.15901, "lon": -1.15275, "accuracy_m": 8.0}
    base.update(overrides)
    return base


def batch(*items: dict[str, Any]) -> bytes:
    return msgspec.json.encode({"fixes": list(items)})


def test_a_full_fix_keeps_every_field_in_our_units() -> None:
    body = batch(
        fix(altitude_m=12.5, speed_mps=4.2, bearing_deg=181.0, activity="bike", battery=0.64),
    )
    got = only_fix(decode_native(body, max_fixes=1000))
    assert got.ts == utc("2024-05-01T10:00:00")
    assert (got.lat, got.lon, got.accuracy_m, got.altitude_m) == (46.15901, -1.15275, 8.0, 12.5)
    assert (got.speed_mps, got.bearing_deg, got.battery) == (4.2, 181.0, 0.64)
    assert got.activity is Activity.BIKE


def test_iso_time_with_an_offset_is_converted_to_the_same_instant() -> None:
    got = only_fix(decode_native(batch(fix(ts="2024-05-01T12:00:00+02:00")), max_fixes=10))
    assert got.ts == utc("2024-05-01T10:00:00")


def test_iso_time_without_an_offset_rejects_that_fix_only() -> None:
    decoded = decode_native(batch(fix(), fix(ts="2024-05-01T12:00:00")), max_fixes=10)
    assert not isinstance(decoded.items[0], Rejection)
    assert reasons(decoded) == ["ts '2024-05-01T12:00:00' has no UTC offset"]


def test_a_string_latitude_rejects_that_fix_with_msgspecs_reason() -> None:
    decoded = decode_native(batch(fix(lat="46.1"), fix()), max_fixes=10)
    assert reasons(decoded) == ["Expected `float`, got `str` - at `$.lat`"]
    assert decoded.positions == [0, 1]


def test_an_unknown_field_in_a_fix_rejects_that_fix() -> None:
    decoded = decode_native(batch(fix(heading=3.0)), max_fixes=10)
    assert reasons(decoded) == ["Object contains unknown field `heading`"]


def test_a_missing_accuracy_rejects_that_fix() -> None:
    body = batch({"ts": 1714557600, "lat": 46.1, "lon": -1.1})
    assert reasons(decode_native(body, max_fixes=10)) == ["Object missing required field `accuracy_m`"]


def test_an_unknown_activity_rejects_that_fix() -> None:
    (reason,) = reasons(decode_native(batch(fix(activity="teleport")), max_fixes=10))
    assert "activity" in reason


def test_an_epoch_far_beyond_the_calendar_is_a_rejection_not_a_crash() -> None:
    (reason,) = reasons(decode_native(batch(fix(ts=1e300)), max_fixes=10))
    assert "out of range" in reason


def test_nan_literals_from_python_clients_reject_only_their_fix() -> None:
    body = json.dumps({"fixes": [fix(), fix(lat=math.nan), fix(battery=math.inf)]}).encode()
    decoded = decode_native(body, max_fixes=10)
    assert len(decoded.items) == 3
    assert math.isnan(fixes(decoded)[1].lat or 0.0)
    verdicts = [normalise(item, NOW) for item in fixes(decoded)]
    assert [getattr(v, "reason", None) for v in verdicts] == [
        None,
        "lat is not a finite number",
        "battery is not a finite number",
    ]


def test_a_nan_time_is_a_rejection() -> None:
    body = json.dumps({"fixes": [fix(ts=math.nan)]}).encode()
    assert reasons(decode_native(body, max_fixes=10)) == ["ts is not a finite number"]


def test_more_fixes_than_allowed_is_payload_too_large_with_the_numbers() -> None:
    with pytest.raises(PayloadTooLarge, match="3 fixes in one batch; at most 2"):
        decode_native(batch(fix(), fix(), fix()), max_fixes=2)


def test_exactly_max_fixes_is_accepted() -> None:
    assert len(decode_native(batch(fix(), fix()), max_fixes=2).items) == 2


def test_malformed_json_says_line_column_and_offset() -> None:
    body = b'{"fixes": [\n  {"ts": 1714557600, "lat": 46.1,, "lon": 1}\n]}'
    with pytest.raises(BadRequest) as caught:
        decode_native(body, max_fixes=10)
    assert caught.value.extra == {"line": 2, "column": 34, "offset": 45}
    assert "line 2, column 34 (char 45)" in caught.value.detail


def test_an_empty_body_is_malformed_json() -> None:
    with pytest.raises(BadRequest, match="line 1, column 1"):
        decode_native(b"", max_fixes=10)


def test_deep_nesting_is_a_bad_request_not_a_crash() -> None:
    with pytest.raises(BadRequest, match="nested too deeply"):
        decode_native(b'{"fixes": [' + b"[" * 200_000 + b"]" * 200_000 + b"]}", max_fixes=10)


def test_invalid_utf8_in_the_document_is_a_bad_request_with_its_offset() -> None:
    with pytest.raises(BadRequest, match="offset 15"):
        decode_native(b'{"fixes": [], "\xff": 1}', max_fixes=10)


def test_invalid_utf8_inside_one_fix_rejects_that_fix() -> None:
    decoded = decode_native(batch(fix()).replace(b'"lon"', b'"l\xffn"'), max_fixes=10)
    assert reasons(decoded) == ["Invalid UTF-8 encoded string"]


@pytest.mark.parametrize(
    "body",
    [b"[]", b'{"fix": []}', b'{"fixes": {}}', b'{"fixes": [], "user": 1}', b"42"],
)
def test_a_well_formed_document_of_another_shape_is_unprocessable(body: bytes) -> None:
    with pytest.raises(Unprocessable, match="fixes"):
        decode_native(body, max_fixes=10)


def test_the_wrong_shape_is_unprocessable_even_with_nan_inside() -> None:
    with pytest.raises(Unprocessable):
        decode_native(b'{"fixez": [NaN]}', max_fixes=10)


def test_good_fixes_decode_the_same_whether_or_not_a_neighbour_is_bad() -> None:
    good = [fix(ts=1714557600 + i, speed_mps=1.5, activity="walk") for i in range(3)]
    alone = decode_native(batch(*good), max_fixes=10)
    mixed = decode_native(batch(good[0], fix(lat=None), good[1], good[2]), max_fixes=10)
    assert [mixed.items[i] for i in (0, 2, 3)] == alone.items
    assert mixed.positions == [0, 1, 2, 3]
