"""OpenPATH / e-mission usercache uploads: locations become fixes, nothing else fails the batch."""

from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest

from core.errors import Unprocessable
from core.fixes import Activity
from ingest.formats import EmissionParams, decode_emission
from tests.unit.formats.support import fixes, reasons, sample, utc


def entry(key: str, data: Any, *, write_ts: float = 1714557600.0) -> dict[str, Any]:
    return {
        "metadata": {"key": key, "write_ts": write_ts, "platform": "ios", "time_zone": "Europe/Paris"},
        "data": data,
    }


def location(ts: float, lat: object = 46.15901, lon: object = -1.15275, **more: Any) -> dict[str, Any]:
    return entry("background/location", {"latitude": lat, "longitude": lon, "ts": ts, **more})


def put(*entries: object, user: str | None = "tok") -> bytes:
    return msgspec.json.encode({"user": user, "phone_to_server": list(entries)})


def test_the_sample_batch_keeps_two_locations_and_skips_the_rest() -> None:
    user, decoded = decode_emission(sample("emission_batch.json"))
    assert user == "tok_4f9d2c1e8b7a6f5e"
    first, second = fixes(decoded)
    assert first.ts == utc("2024-05-01T10:00:00")  # ms timestamp read as such
    assert (first.lat, first.lon, first.accuracy_m, first.altitude_m) == (46.15901, -1.15275, 8.0, 12.5)
    assert (first.speed_mps, first.bearing_deg) == (4.5, 181.0)
    assert second.ts == utc("2024-05-01T10:05:00")
    # transition, motion activity, client stats, battery, and the filtered copy of the first fix
    assert decoded.skipped == 5
    assert decoded.positions == [2, 4]


def test_a_motion_activity_labels_the_fixes_within_two_minutes_after_it() -> None:
    _, decoded = decode_emission(sample("emission_batch.json"))
    first, second = fixes(decoded)
    assert first.activity is Activity.BIKE  # android type 1, 5 s before
    assert second.activity is None  # 305 s after: too old


def test_the_activity_window_is_a_parameter() -> None:
    _, decoded = decode_emission(sample("emission_batch.json"), params=EmissionParams(activity_window_s=600))
    assert [f.activity for f in fixes(decoded)] == [Activity.BIKE, Activity.BIKE]


def test_ios_motion_flags_pick_the_most_specific_motion() -> None:
    ios = {"automotive": True, "stationary": True, "walking": False, "confidence": "high", "ts": 1714557590.0}
    _, decoded = decode_emission(put(location(1714557600.0), entry("background/motion_activity", ios)))
    assert fixes(decoded)[0].activity is Activity.VEHICLE


def test_an_activity_sensed_after_a_fix_does_not_label_it() -> None:
    walking = {"walking": True, "ts": 1714557610.0}
    _, decoded = decode_emission(put(location(1714557600.0), entry("background/motion_activity", walking)))
    assert fixes(decoded)[0].activity is None


def test_an_activity_without_its_own_time_uses_the_entry_write_time() -> None:
    legacy = entry("background/motion_activity", {"agb": 7, "agc": 100}, write_ts=1714557599000)
    _, decoded = decode_emission(put(legacy, location(1714557600.0)))
    assert fixes(decoded)[0].activity is Activity.WALK


def test_a_location_with_a_string_latitude_is_rejected_alone() -> None:
    _, decoded = decode_emission(put(location(1714557600.0, lat="46.1"), location(1714557601.0)))
    assert reasons(decoded) == ["Expected `float | null`, got `str` - at `$.latitude`"]
    assert len(decoded.items) == 2


def test_unknown_and_malformed_entries_are_skipped_not_errors() -> None:
    _, decoded = decode_emission(
        put(
            entry("manual/mode_confirm", {"label": "bike"}),
            {"metadata": "oops"},
            42,
            entry("background/location", None),
        )
    )
    assert decoded.skipped == 3
    assert reasons(decoded) == ["Expected `object`, got `null`"]


def test_nan_in_a_location_reaches_the_fix_for_normalise_to_reject() -> None:
    body = b'{"user": "t", "phone_to_server": [{"metadata": {"key": "background/location"},'
    body += b' "data": {"latitude": NaN, "longitude": 1.0, "ts": 1714557600}}]}'
    _, decoded = decode_emission(body)
    lat = fixes(decoded)[0].lat
    assert lat is not None
    assert math.isnan(lat)


def test_a_missing_user_is_none_and_a_non_string_user_is_unprocessable() -> None:
    assert decode_emission(put(user=None))[0] is None
    with pytest.raises(Unprocessable, match="user"):
        decode_emission(b'{"user": 3, "phone_to_server": []}')


def test_a_body_without_phone_to_server_is_unprocessable() -> None:
    with pytest.raises(Unprocessable, match="phone_to_server"):
        decode_emission(b'{"user": "t"}')
