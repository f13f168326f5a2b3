"""OwnTracks HTTP mode: location messages become fixes, every other message is skipped."""

from __future__ import annotations

import pytest

from core.errors import BadRequest, Unprocessable
from ingest.formats import decode_owntracks
from tests.unit.formats.support import fixes, only_fix, reasons, sample, utc


def test_a_location_message_converts_kmh_and_percent() -> None:
    got = only_fix(decode_owntracks(sample("owntracks_location.json")))
    assert got.ts == utc("2024-05-01T10:00:00")
    assert (got.lat, got.lon, got.accuracy_m, got.altitude_m, got.bearing_deg) == (
        46.15901,
        -1.15275,
        12.0,
        8.0,
        270.0,
    )
    assert got.speed_mps == pytest.approx(5.0)  # 18 km/h
    assert got.battery == pytest.approx(0.64)


def test_omitted_zero_values_are_unknown_not_invented() -> None:
    got = only_fix(decode_owntracks(b'{"_type":"location","lat":46.1,"lon":-1.1,"tst":1714557600}'))
    assert (got.speed_mps, got.accuracy_m, got.battery) == (None, None, None)


def test_an_array_of_messages_keeps_locations_and_skips_the_rest() -> None:
    decoded = decode_owntracks(sample("owntracks_mixed.json"))
    assert [f.ts for f in fixes(decoded)] == [utc("2024-05-01T10:00:00"), utc("2024-05-01T10:01:00")]
    assert decoded.skipped == 2
    assert decoded.positions == [1, 3]


@pytest.mark.parametrize(
    "body", [b"", b"  \n", b'{"_type":"lwt","tst":1}', b'{"_type":"encrypted","data":"x"}']
)
def test_empty_bodies_and_other_message_types_yield_no_fix(body: bytes) -> None:
    assert decode_owntracks(body).items == []


def test_a_string_latitude_is_a_rejection() -> None:
    decoded = decode_owntracks(b'{"_type":"location","lat":"46.1","lon":-1.1,"tst":1714557600}')
    assert reasons(decoded) == ["Expected `float | null`, got `str` - at `$.lat`"]


def test_malformed_json_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="line 1"):
        decode_owntracks(b'{"_type":"location",')


def test_a_json_scalar_is_unprocessable() -> None:
    with pytest.raises(Unprocessable):
        decode_owntracks(b'"location"')
