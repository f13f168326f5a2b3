"""OsmAnd / Traccar Client: query parameters (speed in knots) or Traccar Client's JSON body."""

from __future__ import annotations

import pytest

from core.errors import BadRequest, Unprocessable
from core.fixes import Activity, Fix, normalise
from ingest.formats import decode_osmand
from ingest.formats.units import KNOT_MPS
from tests.unit.formats.support import fixes, only_fix, reasons, sample, utc

PARAMS = {
    "id": "123456",
    "lat": "46.15901",
    "lon": "-1.15275",
    "timestamp": "1714557600",
    "speed": "10",
    "bearing": "92.4",
    "altitude": "11",
    "accuracy": "6.2",
    "batt": "73",
}


def test_query_parameters_convert_knots_and_percent() -> None:
    device, decoded = decode_osmand(PARAMS)
    got = only_fix(decoded)
    assert device == "123456"
    assert got.ts == utc("2024-05-01T10:00:00")
    assert got.speed_mps == pytest.approx(5.144, abs=1e-3)  # 10 kn
    assert (got.bearing_deg, got.altitude_m, got.accuracy_m) == (92.4, 11.0, 6.2)
    assert got.battery == pytest.approx(0.73)


@pytest.mark.parametrize("stamp", ["1714557600000", "2024-05-01T10:00:00Z", "2024-05-01T12:00:00+02:00"])
def test_timestamps_in_ms_or_iso_are_the_same_instant(stamp: str) -> None:
    assert only_fix(decode_osmand({**PARAMS, "timestamp": stamp})[1]).ts == utc("2024-05-01T10:00:00")


def test_osmands_hdop_parameter_is_its_accuracy_in_metres() -> None:
    params = {k: v for k, v in PARAMS.items() if k != "accuracy"} | {"hdop": "12"}
    assert only_fix(decode_osmand(params)[1]).accuracy_m == 12.0


def test_a_garbled_speed_rejects_the_fix() -> None:
    assert reasons(decode_osmand({**PARAMS, "speed": "fast"})[1]) == ["speed 'fast' is not a number"]


def test_traccar_client_json_is_read_in_metres_per_second() -> None:
    device, decoded = decode_osmand({}, sample("traccar_client.json"))
    got = only_fix(decoded)
    assert device == "123456"
    assert got.ts == utc("2024-05-01T10:00:00")
    assert (got.lat, got.lon, got.accuracy_m, got.altitude_m) == (46.15901, -1.15275, 6.2, 11.0)
    assert (got.speed_mps, got.bearing_deg, got.battery) == (3.5, 92.4, 0.73)
    assert got.activity is Activity.BIKE


def test_parameters_win_over_the_body_when_they_carry_lat() -> None:
    _, decoded = decode_osmand(PARAMS, sample("traccar_client.json"))
    assert only_fix(decoded).speed_mps == pytest.approx(10 * KNOT_MPS)


def test_the_id_parameter_wins_over_the_body_device_id() -> None:
    assert decode_osmand({"id": "phone-7"}, sample("traccar_client.json"))[0] == "phone-7"


def test_a_batch_of_traccar_locations_gives_one_item_each() -> None:
    body = b'{"device_id": 9, "location": [{"timestamp": 1714557600000, "coords": {"latitude": 46.1,'
    body += b' "longitude": -1.1}}, {"coords": {"latitude": "x"}}]}'
    device, decoded = decode_osmand({}, body)
    assert device == "9"
    assert len(decoded.items) == 2
    assert reasons(decoded) == ["Expected `float | null`, got `str` - at `$.coords.latitude`"]


def test_a_request_without_position_is_a_skipped_keep_alive() -> None:
    device, decoded = decode_osmand({"id": "123456"})
    assert (device, decoded.items, decoded.skipped) == ("123456", [], 1)


def test_a_json_body_without_location_is_unprocessable() -> None:
    with pytest.raises(Unprocessable, match="location"):
        decode_osmand({}, b'{"device_id": "1"}')


def test_a_malformed_json_body_is_a_bad_request() -> None:
    with pytest.raises(BadRequest):
        decode_osmand({}, b'{"location": ')


def test_traccar_unknown_minus_one_values_end_up_unknown_after_normalise() -> None:
    body = b'{"location": {"timestamp": "2024-05-01T10:00:00Z", "coords": {"latitude": 46.1,'
    body += b' "longitude": -1.1, "speed": -1, "heading": -1}, "battery": {"level": -1}}}'
    got = normalise(fixes(decode_osmand({}, body)[1])[0], utc("2024-05-02T00:00:00"))
    assert isinstance(got, Fix)
    assert (got.speed_mps, got.bearing_deg, got.battery) == (None, None, None)
