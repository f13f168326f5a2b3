"""Trip records from a segmentation: distances measured between the stays, not only inside trips."""

from __future__ import annotations

import numpy as np
import pytest

from core.co2 import VehicleProfile, load_registry
from core.segmentation import segment
from core.trips import build
from tests.support.tracks import place, ride, stay, track_from


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
