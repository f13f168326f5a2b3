"""GPSLogger custom URL: one fix per request from URL-decoded parameters."""

from __future__ import annotations

import pytest

from core.fixes import Activity
from ingest.formats import decode_gpslogger
from ingest.formats.gpslogger import repair_lost_plus
from tests.unit.formats.support import only_fix, reasons, utc

TEMPLATE = {
    "lat": "46.15901",
    "lon": "-1.15275",
    "time": "2024-05-01T10:00:00.000Z",
    "s": "4.4",
    "acc": "6.0",
    "alt": "8.5",
    "dir": "95.0",
    "batt": "64",
}


def test_the_documented_template_maps_every_value() -> None:
    got = only_fix(decode_gpslogger(TEMPLATE))
    assert got.ts == utc("2024-05-01T10:00:00")
    assert (got.lat, got.lon, got.speed_mps, got.accuracy_m, got.altitude_m, got.bearing_deg) == (
        46.15901,
        -1.15275,
        4.4,
        6.0,
        8.5,
        95.0,
    )
    assert got.battery == pytest.approx(0.64)


def test_epoch_timestamp_is_used_when_time_is_absent() -> None:
    params = {**TEMPLATE, "timestamp": "1714557600"}
    del params["time"]
    assert only_fix(decode_gpslogger(params)).ts == utc("2024-05-01T10:00:00")


def test_an_offset_whose_plus_became_a_space_is_repaired() -> None:
    params = {**TEMPLATE, "time": "2024-05-01T12:00:00.000 02:00"}
    assert only_fix(decode_gpslogger(params)).ts == utc("2024-05-01T10:00:00")


@pytest.mark.parametrize(
    ("text", "repaired"),
    [
        ("2024-05-01T12:00:00 0200", "2024-05-01T12:00:00+0200"),
        ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
        ("2024-05-01 10:00:00", "2024-05-01 10:00:00"),
        ("2024-05-01T08:00:00-02:00", "2024-05-01T08:00:00-02:00"),
    ],
)
def test_only_a_lost_plus_is_repaired(text: str, repaired: str) -> None:
    assert repair_lost_plus(text) == repaired


def test_a_garbled_number_rejects_the_fix_naming_the_parameter() -> None:
    assert reasons(decode_gpslogger({**TEMPLATE, "lat": "46,15.9"})) == ["lat '46,15.9' is not a number"]


def test_missing_coordinates_reach_normalise_as_none() -> None:
    got = only_fix(decode_gpslogger({"time": "2024-05-01T10:00:00Z"}))
    assert (got.lat, got.lon) == (None, None)


def test_an_activity_parameter_is_mapped() -> None:
    assert only_fix(decode_gpslogger({**TEMPLATE, "act": "IN_VEHICLE"})).activity is Activity.VEHICLE
