"""The vectorised features equal the per-section code the shipped model was trained with.

``features_matrix`` computes all the sections of a track in one pass; ``reference.py`` is the
original one-section-at-a-time implementation, frozen. On tracks built to hit every branch (every
sampling rate phones use, irregular and duplicated times, signal gaps, one-fix spikes and position
outliers, stops with repeated identical coordinates, phone activity present, partial or absent,
NaN accuracy and speed, sections of 0, 1, 2 and 3 fixes, overlapping and out-of-range bounds)
every feature of every section is equal to within 1e-9 relative, with NaN in the same places.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.features import FEATURE_NAMES, features_matrix, section_features
from core.fixes import Activity
from core.track import ACTIVITY_CODES, Track
from tests.unit.features.reference import section_features as reference_features

M_PER_DEG = 111_195.0
UNKNOWN = ACTIVITY_CODES[Activity.UNKNOWN]

# (seconds between fixes, metres per second) of the regimes a varied track goes through.
REGIMES = (("stay", 0.0), ("walk", 1.4), ("bike", 5.0), ("bus", 9.0), ("car", 15.0), ("train", 35.0))


def varied_track(seed: int, *, every_s: float, activity: str, epoch: bool = True) -> Track:
    """A seeded track through every regime, with the irregularities real phones produce.

    ``activity`` is "none" (never sent), "some" (sent on part of the fixes) or "all".
    """
    rng = np.random.default_rng(seed)
    t0 = 1_700_000_000.123 if epoch else 0.0
    times: list[float] = []
    east: list[float] = []
    north: list[float] = []
    now, x, y = t0, 0.0, 0.0
    for _ in range(12):
        _, speed = REGIMES[int(rng.integers(len(REGIMES)))]
        heading = rng.uniform(0.0, 2.0 * math.pi)
        noise_m = (
            0.0 if speed == 0.0 and rng.random() < 0.5 else rng.uniform(2.0, 8.0)
        )  # 0: repeated coordinates
        for _ in range(int(rng.integers(20, 200))):
            step = every_s * float(rng.choice([1.0, 1.0, 1.0, 2.0, 0.5, 3.7]))  # duty-cycled, irregular
            if rng.random() < 0.02:
                step = 0.0  # duplicated timestamp
            if rng.random() < 0.01:
                step = float(rng.uniform(61.0, 900.0))  # signal gap (tunnel, phone asleep)
            stopped = speed > 0 and rng.random() < 0.05  # at a light or a station
            step_m = 0.0 if stopped else speed * step
            now += step
            x += step_m * math.cos(heading) + rng.normal(0.0, 0.3 * speed)
            y += step_m * math.sin(heading)
            times.append(now)
            east.append(x + rng.normal(0.0, noise_m))
            north.append(y + rng.normal(0.0, noise_m))
            if rng.random() < 0.01:
                east[-1] += float(rng.uniform(500.0, 5000.0))  # one-fix multipath spike
    n = len(times)
    t = np.asarray(times)
    if rng.random() < 0.5 and n > 10:
        t[n // 2] = t[n // 2 - 1] - 1.0  # one fix out of order
    lat = 46.5 + np.asarray(north) / M_PER_DEG
    lon = 6.6 + np.asarray(east) / (M_PER_DEG * math.cos(math.radians(46.5)))
    codes = rng.integers(0, len(ACTIVITY_CODES), n).astype(np.int8)
    if activity == "none":
        codes[:] = UNKNOWN
    elif activity == "some":
        codes[rng.random(n) < 0.6] = UNKNOWN
    return Track(
        t_s=t,
        lat=lat,
        lon=lon,
        accuracy_m=np.where(rng.random(n) < 0.3, np.nan, rng.uniform(3.0, 300.0, n)),
        speed_mps=np.full(n, np.nan),
        activity=codes,
    )


def cuts(n: int, seed: int) -> list[tuple[int, int]]:
    """Consecutive sections of every size from 0 fixes up, then a few odd bounds."""
    rng = np.random.default_rng(seed)
    bounds: list[tuple[int, int]] = []
    start = 0
    while start < n:
        size = int(rng.choice([0, 1, 2, 3, 4, 5, 8, 13, 40, 120, 400]))
        bounds.append((start, min(start + size, n)))
        start += size
    return [*bounds, (0, n), (n // 3, 2 * n // 3), (n - 2, n + 10), (n + 5, n + 9), (7, 3)]


def assert_same_features(track: Track, bounds: list[tuple[int, int]]) -> None:
    fast = features_matrix(track, bounds)
    slow = np.vstack([reference_features(track, s, e) for s, e in bounds])
    assert fast.shape == slow.shape == (len(bounds), len(FEATURE_NAMES))
    for row, (s, e) in enumerate(bounds):
        for col, name in enumerate(FEATURE_NAMES):
            a, b = fast[row, col], slow[row, col]
            assert math.isnan(a) == math.isnan(b), f"section {s}:{e} {name}: {a} vs {b}"
            if not math.isnan(b):
                assert a == pytest.approx(b, rel=1e-9, abs=0.0), f"section {s}:{e} {name}: {a} vs {b}"


@pytest.mark.parametrize("every_s", [1.0, 2.0, 5.0, 10.0, 30.0])
@pytest.mark.parametrize("activity", ["none", "some", "all"])
def test_every_feature_of_every_section_equals_the_per_section_reference(
    every_s: float, activity: str
) -> None:
    seed = int(every_s * 10) + len(activity)
    track = varied_track(seed, every_s=every_s, activity=activity)
    assert_same_features(track, cuts(len(track), seed))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_times_counted_from_zero_with_fractional_steps_give_the_same_features(seed: int) -> None:
    track = varied_track(seed, every_s=1.3, activity="some", epoch=False)
    assert_same_features(track, cuts(len(track), seed))


def test_stops_with_repeated_coordinates_and_uneven_intervals_give_the_same_quantiles() -> None:
    # Equal (zero) speeds of different durations: the weighted quantiles depend on their order.
    t = np.cumsum(np.tile([1.0, 3.0, 2.0, 7.0, 1.0], 40)) + 1_700_000_000.0
    north = np.where(np.arange(t.size) % 50 < 30, 0.0, (np.arange(t.size) % 50) * 12.0)
    n = t.size
    track = Track(
        t_s=t,
        lat=45.0 + north / M_PER_DEG,
        lon=np.full(n, 5.0),
        accuracy_m=np.full(n, np.nan),
        speed_mps=np.full(n, np.nan),
        activity=np.full(n, UNKNOWN, dtype=np.int8),
    )
    assert_same_features(track, [(0, n), (0, 60), (20, 140), (100, 200)])


def test_one_section_is_one_row_of_the_matrix() -> None:
    track = varied_track(5, every_s=2.0, activity="all")
    bounds = cuts(len(track), 5)
    matrix = features_matrix(track, bounds)
    for row, (s, e) in enumerate(bounds):
        np.testing.assert_array_equal(section_features(track, s, e), matrix[row])
