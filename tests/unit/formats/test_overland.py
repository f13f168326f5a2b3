"""Overland batches: Point features become fixes; trips, actions and non-points are skipped."""

from __future__ import annotations

import pytest

from core.errors import Unprocessable
from core.fixes import Activity
from ingest.formats import decode_overland
from tests.unit.formats.support import fixes, reasons, sample, utc


def test_the_sample_batch_keeps_two_points_and_skips_the_trip_and_the_action() -> None:
    decoded = decode_overland(sample("overland_batch.json"))
    first, second = fixes(decoded)
    assert decoded.skipped == 2
    assert decoded.positions == [0, 1]
    assert first.ts == utc("2024-05-01T10:00:00")  # "+0200" offset without a colon
    assert (first.lat, first.lon) == (46.15901, -1.15275)  # GeoJSON order is [lon, lat]
    assert (first.accuracy_m, first.altitude_m, first.speed_mps, first.bearing_deg) == (10.0, 8.0, 4.2, 93.5)
    assert first.battery == 0.89
    assert second.speed_mps == -1.0  # "unknown": normalise drops it


def test_driving_with_stationary_is_a_vehicle_at_rest() -> None:
    assert fixes(decode_overland(sample("overland_batch.json")))[0].activity is Activity.VEHICLE


def test_a_single_motion_maps_directly() -> None:
    assert fixes(decode_overland(sample("overland_batch.json")))[1].activity is Activity.WALK


def test_a_point_with_a_bad_timestamp_is_rejected_alone() -> None:
    body = (
        b'{"locations": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-1.1, 46.1]},'
        b' "properties": {"timestamp": "yesterday"}}]}'
    )
    assert reasons(decode_overland(body)) == ["timestamp 'yesterday' is not an ISO 8601 time"]


def test_a_point_with_one_coordinate_is_rejected() -> None:
    body = b'{"locations": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-1.1]}}]}'
    assert reasons(decode_overland(body)) == ["Point coordinates need [longitude, latitude]"]


def test_a_body_without_locations_is_unprocessable() -> None:
    with pytest.raises(Unprocessable, match="locations"):
        decode_overland(b'{"features": []}')
