"""Trip records from a segmentation: distances measured between the stays, not only inside trips."""

from __future__ import annotations

import numpy as np
import pytest

from core.co2 import VehicleProfile, load_registry
from core.segmentation import segment
from core.trips import build
from tests.support.tracks import metro_without_signal, place, ride, stay, track_from


@pytest.mark.parametrize("every_s", [5.0, 60.0, 300.0])
def test_a_drive_is_as_long_with_a_fix_every_five_minutes_as_with_one_every_five_seconds(
    every_s: float,
) -> None:
    # 27 km east at 15 m/s between two stays: at a fix every 5 min, the trip's own fixes start
    # minutes after leaving and end minutes before arriving.
    track = track_from(
        stay(3600, at=place(0.0, 0.0), every_s=every_s),
        ride(to=place(27_000.0, 0.0), speed_mps=15.0, every_s=every_s),
        stay(3600, every_s=every_s),
    )
    seg = segment(track)
    (trip,) = seg.trips
    n = len(trip.sections)
    built = build(
        "tester",
        seg,
        np.tile([0.0, 1.0], (n, 1)),
        ("walk", "car"),
        model_version="test",
        labels=[],
        profile=VehicleProfile(),
        registry=load_registry(),
    )
    (record,) = built.trips
    assert record.distance_m == pytest.approx(27_000.0, rel=0.05)
    assert sum(s.co2_kg or 0.0 for s in record.sections) == pytest.approx(27 * 0.14225, rel=0.06)


def test_sections_tile_their_trip_each_lasting_until_the_next_begins() -> None:
    # The hop between two sections belongs to the one before, in time as in distance: a section
    # made of the one fix before a signal gap (a GeoLife metro ride) showed 0 s for 900 m.
    track = metro_without_signal()
    seg = segment(track)
    (trip,) = seg.trips
    assert len(trip.sections) == 3
    built = build(
        "tester",
        seg,
        np.tile([1.0, 0.0, 0.0], (3, 1)),
        ("walk", "metro", "car"),
        model_version="test",
        labels=[],
        profile=VehicleProfile(),
        registry=load_registry(),
    )
    (record,) = built.trips
    walk_in, underground, walk_out = record.sections
    assert (underground.ended_at - underground.started_at).total_seconds() >= 780
    assert underground.distance_m > 6500
    # The sections tile the trip: each ends where the next begins, the last where the trip ends.
    assert walk_in.ended_at == underground.started_at
    assert underground.ended_at == walk_out.started_at
    assert walk_out.ended_at == record.ended_at
