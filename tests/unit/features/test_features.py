"""Section features: one vector per section, in FEATURE_NAMES order, robust to sparse input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.features import FEATURE_NAMES, features_matrix, section_features
from core.fixes import Activity
from core.track import ACTIVITY_CODES, Track

M_PER_DEG_LAT = 111_195.0  # metres per degree of latitude on the IUGG sphere


def track(
    t_s: list[float],
    north_m: list[float],
    *,
    activity: list[Activity] | None = None,
    accuracy_m: float = float("nan"),
) -> Track:
    """Fixes moving north from (45, 5): times in seconds, positions in metres along the meridian."""
    n = len(t_s)
    codes = [ACTIVITY_CODES[a] for a in activity] if activity else [ACTIVITY_CODES[Activity.UNKNOWN]] * n
    return Track(
        t_s=np.asarray(t_s, dtype=np.float64),
        lat=45.0 + np.asarray(north_m, dtype=np.float64) / M_PER_DEG_LAT,
        lon=np.full(n, 5.0),
        accuracy_m=np.full(n, accuracy_m),
        speed_mps=np.full(n, np.nan),
        activity=np.asarray(codes, dtype=np.int8),
    )


def steady(speed_mps: float, n: int, interval_s: float = 1.0) -> Track:
    t = [i * interval_s for i in range(n)]
    return track(t, [speed_mps * x for x in t])


def feature(row: np.ndarray, name: str) -> float:
    return float(row[FEATURE_NAMES.index(name)])


def test_one_value_per_feature_name() -> None:
    assert section_features(steady(5.0, 30), 0, 30).shape == (len(FEATURE_NAMES),)
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)


def test_steady_straight_motion_has_its_speed_no_acceleration_and_full_straightness() -> None:
    row = section_features(steady(10.0, 120), 0, 120)
    assert feature(row, "speed_p50_mps") == pytest.approx(10.0, rel=0.01)
    assert feature(row, "speed_p95_mps") == pytest.approx(10.0, rel=0.01)
    assert feature(row, "accel_p95_mps2") == pytest.approx(0.0, abs=0.05)
    assert feature(row, "straightness") == pytest.approx(1.0, abs=0.01)
    assert feature(row, "distance_m") == pytest.approx(1190.0, rel=0.01)
    assert feature(row, "duration_s") == 119.0


def test_single_fix_section_has_duration_and_distance_zero_and_no_speed() -> None:
    row = section_features(steady(3.0, 10), 4, 5)
    assert feature(row, "duration_s") == 0.0
    assert feature(row, "distance_m") == 0.0
    assert math.isnan(feature(row, "speed_p50_mps"))


def test_two_fix_section_has_a_speed_but_no_acceleration() -> None:
    row = section_features(steady(3.0, 10), 0, 2)
    assert feature(row, "speed_p50_mps") == pytest.approx(3.0, rel=0.01)
    assert math.isnan(feature(row, "accel_p50_mps2"))


def test_empty_section_is_all_nan_except_the_activity_flags() -> None:
    row = section_features(steady(3.0, 10), 5, 5)
    assert math.isnan(feature(row, "duration_s"))
    assert feature(row, "activity_known_share") == 0.0


def test_accuracy_values_do_not_change_kinematic_features() -> None:
    t = [float(i) for i in range(20)]
    north = [2.0 * x for x in t]
    with_nan = section_features(track(t, north), 0, 20)
    with_accuracy = section_features(track(t, north, accuracy_m=8.0), 0, 20)
    np.testing.assert_array_equal(with_nan, with_accuracy)


def test_a_signal_gap_counts_as_gap_time_and_not_as_speed() -> None:
    t = [float(i) for i in range(60)] + [360.0 + i for i in range(60)]
    north = [1.0 * x for x in t[:60]] + [6000.0 + (x - 360.0) for x in t[60:]]  # ~20 m/s across the gap
    row = section_features(track(t, north), 0, 120)
    assert feature(row, "gap_time_share") == pytest.approx(301.0 / 419.0)
    assert feature(row, "max_gap_s") == 301.0
    assert feature(row, "speed_max_mps") == pytest.approx(1.0, rel=0.01)


def test_a_gap_is_counted_per_km_with_the_speed_it_implies() -> None:
    t = [float(i) for i in range(60)] + [360.0 + i for i in range(60)]
    north = [1.0 * x for x in t[:60]] + [6000.0 + (x - 360.0) for x in t[60:]]
    row = section_features(track(t, north), 0, 120)
    assert feature(row, "gaps_per_km") * feature(row, "distance_m") / 1000.0 == pytest.approx(1.0)
    assert feature(row, "gap_speed_mps") == pytest.approx((6000.0 - 59.0) / 301.0, rel=0.01)


def test_a_section_without_gaps_has_no_gap_speed() -> None:
    row = section_features(steady(5.0, 100), 0, 100)
    assert feature(row, "gaps_per_km") == 0.0
    assert math.isnan(feature(row, "gap_speed_mps"))


def test_speed_features_do_not_depend_on_the_sampling_rate_under_gps_noise() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(0.0, 600.0)
    north = 1.4 * t + rng.normal(0.0, 2.0, t.size)  # a 1.4 m/s walk with 2 m GPS jitter
    dense = section_features(track(t.tolist(), north.tolist()), 0, t.size)
    every = 10
    sparse = section_features(track(t[::every].tolist(), north[::every].tolist()), 0, t.size // every)
    assert feature(dense, "speed_p85_mps") == pytest.approx(feature(sparse, "speed_p85_mps"), rel=0.1)
    assert feature(dense, "speed_p85_mps") < 2.0


def test_slow_and_fast_time_shares_split_a_section_by_speed() -> None:
    t = [float(i) for i in range(0, 400, 5)]
    north = [min(x, 200.0) * 1.0 + max(x - 200.0, 0.0) * 20.0 for x in t]  # 200 s at 1 m/s, then 20 m/s
    row = section_features(track(t, north), 0, len(t))
    assert feature(row, "slow_time_share") == pytest.approx(0.5, abs=0.05)
    assert feature(row, "fast_time_share") == pytest.approx(0.5, abs=0.05)


def test_a_stop_between_two_moving_stretches_is_one_stop() -> None:
    t = [float(i) for i in range(0, 1000, 10)]
    north = [min(x, 400.0) * 8.0 + max(x - 700.0, 0.0) * 8.0 for x in t]  # moves, waits 300 s, moves
    row = section_features(track(t, north), 0, len(t))
    distance_km = feature(row, "distance_m") / 1000.0
    assert feature(row, "stops_per_km") * distance_km == pytest.approx(1.0)
    assert feature(row, "stop_mean_s") == pytest.approx(300.0, abs=1.0)


def test_activity_shares_count_only_fixes_that_carry_an_activity() -> None:
    acts = [Activity.WALK, Activity.WALK, Activity.STILL, Activity.UNKNOWN]
    row = section_features(track([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0], activity=acts), 0, 4)
    assert feature(row, "activity_known_share") == 0.75
    assert feature(row, "activity_walk_share") == pytest.approx(2.0 / 3.0)
    assert feature(row, "activity_still_share") == pytest.approx(1.0 / 3.0)


def test_features_matrix_stacks_sections_in_order() -> None:
    tr = steady(4.0, 50)
    matrix = features_matrix(tr, [(0, 20), (20, 50)])
    np.testing.assert_array_equal(matrix[1], section_features(tr, 20, 50))
    assert features_matrix(tr, []).shape == (0, len(FEATURE_NAMES))
