"""Two trackers of one tester logging at once: cleaning keeps one where both log (``one_tracker``)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np

from core.fixes import Fix
from core.geometry import path_length_m
from core.segmentation import SegmentationParams, segment
from core.segmentation.cleaning import one_tracker
from core.track import Track
from tests.support.tracks import two_trackers, walk_to_the_shop


def _walk_to_the_shop(*, every_s: float, seed: int, start_s: float = 1_700_000_000.0) -> Track:
    return walk_to_the_shop(every_s=every_s, seed=seed, start_s=start_s)


def _trip_length_m(track: Track) -> float:
    result = segment(track)
    (trip,) = result.trips
    part = result.cleaned.take(slice(trip.start, trip.end + 1))
    return path_length_m(part.lat, part.lon)


def test_a_second_tracker_on_the_same_walk_does_not_lengthen_it() -> None:
    # The app every 2 s, and a logger every 3 s, half a second apart, each with its own noise.
    app = _walk_to_the_shop(every_s=2.0, seed=1)
    logger = _walk_to_the_shop(every_s=3.0, seed=2, start_s=1_700_000_000.5)
    alone = _trip_length_m(app)
    both = two_trackers(app, logger)
    assert _trip_length_m(both) < alone * 1.03
    # Read as one tracker, the zigzag between the two adds far more (the rule is what helps).
    assert _trip_length_m(dataclasses.replace(both, source=None)) > alone * 1.10


def test_the_denser_tracker_is_kept_where_both_log() -> None:
    t = np.concatenate((np.arange(0.0, 600.0, 1.0), np.arange(0.5, 600.0, 10.0)))
    source = np.concatenate((np.zeros(600, np.int8), np.ones(60, np.int8)))
    order = np.argsort(t)
    keep = one_tracker(t[order] + 1_700_000_000.0, source[order], 120.0)
    assert bool(np.all(keep[source[order] == 0]))
    assert not bool(np.any(keep[source[order] == 1]))


def test_a_tracker_logging_alone_is_kept() -> None:
    # The app logs the first 10 minutes, then only the logger (the app paused, or was switched off).
    t = np.concatenate((np.arange(0.0, 600.0, 1.0), np.arange(0.5, 1800.0, 10.0)))
    source = np.concatenate((np.zeros(600, np.int8), np.ones(180, np.int8)))
    order = np.argsort(t)
    t, source = t[order] + 1_700_000_000.0, source[order]
    keep = one_tracker(t, source, 120.0)
    app_last = t[source == 0].max()
    logger = source == 1
    # While the app logs, the logger's fixes are dropped; from a minute after its last fix, all are kept.
    assert not bool(np.any(keep[logger & (t < app_last)]))
    assert bool(np.all(keep[logger & (t > app_last + 60.0)]))


def test_the_choice_does_not_depend_on_where_a_step_starts_reading() -> None:
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0.0, 3600.0, 2000)) + 1_700_000_000.0
    source = rng.integers(0, 2, t.size).astype(np.int8)
    whole = one_tracker(t, source, 120.0)
    # A step reading from the 700th fix on decides alike for every fix after the next window edge.
    later = one_tracker(t[700:], source[700:], 120.0)
    edge = (np.floor(t[700] / 120.0) + 1) * 120.0
    after = t[700:] >= edge + 60.0
    assert np.array_equal(whole[700:][after], later[after])


def test_fixes_from_one_tracker_carry_no_source() -> None:
    fixes = [Fix(ts=datetime(2024, 5, 1, 12, 0, s, tzinfo=UTC), lat=46.5, lon=6.6) for s in range(3)]
    assert Track.from_fixes(fixes, ["owntracks"] * 3).source is None
    mixed = Track.from_fixes(fixes[::-1], ["upload", "owntracks", "native"])
    # Sorted by time, and numbered by name: native 0, owntracks 1, upload 2.
    assert mixed.source is not None
    assert mixed.source.tolist() == [0, 1, 2]


def test_single_tracker_tracks_segment_as_before() -> None:
    app = _walk_to_the_shop(every_s=2.0, seed=1)
    marked = dataclasses.replace(app, source=np.zeros(len(app), np.int8))
    params = SegmentationParams()
    assert np.array_equal(segment(app, params).kept, segment(marked, params).kept)
