"""The simulator: seeded, labelled, and calibrated against the published speeds it cites."""

from __future__ import annotations

from xml.dom import minidom

import numpy as np
import pytest

from core.simulate import PROFILES, REGIMES, STAY, simulate_days, simulate_leg_track
from core.simulate.formats import CSV_HEADER, to_csv, to_gpx
from core.simulate.motion import LegTruth, simulate_motion, stationary
from core.simulate.sensor import SamplingRegime, observe


def avg_speed_mps(mode: str, legs: int = 12, seed: int = 1) -> float:
    """Median over legs of the true door-to-door speed (distance / duration, stops included)."""
    rng = np.random.default_rng(seed)
    lo, hi = PROFILES[mode].leg_distance_m
    speeds = []
    for _ in range(legs):
        distance = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        speeds.append(distance / len(simulate_motion(PROFILES[mode], distance, rng)))
    return float(np.median(speeds))


def test_same_seed_same_days() -> None:
    a = [d.sim.track.lat for d in simulate_days(users=2, days=1, seed=7)]
    b = [d.sim.track.lat for d in simulate_days(users=2, days=1, seed=7)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_different_seeds_differ() -> None:
    a = next(simulate_days(users=1, days=1, seed=1)).sim.track
    b = next(simulate_days(users=1, days=1, seed=2)).sim.track
    assert len(a) != len(b) or not np.array_equal(a.lat, b.lat)


def test_every_fix_has_a_label_and_times_increase() -> None:
    for day in simulate_days(users=3, days=1, seed=3):
        assert day.sim.labels.shape[0] == len(day.sim.track)
        assert np.all(np.diff(day.sim.track.t_s) > 0)


def test_a_day_starts_at_a_stay_and_its_legs_carry_their_mode() -> None:
    day = next(simulate_days(users=1, days=1, seed=4)).sim
    assert day.labels[0] == STAY
    for leg in day.legs:
        assert set(day.labels[leg.start : leg.end].tolist()) == {leg.mode}


def test_public_transport_trips_walk_to_and_from_the_stop() -> None:
    modes: list[list[str]] = [
        [leg.mode for leg in d.sim.legs] for d in simulate_days(users=6, days=2, seed=5)
    ]
    transit = [(seq, i) for seq in modes for i, m in enumerate(seq) if m in {"bus", "tram", "metro", "train"}]
    assert transit
    assert all(seq[i - 1] in {"walk", "bus", "tram", "metro"} for seq, i in transit)


@pytest.mark.parametrize(
    ("mode", "low_mps", "high_mps"),
    [
        ("walk", 1.0, 1.7),  # Bohannon 1997: 1.27-1.46 m/s
        ("bike", 3.3, 5.5),  # urban cycling 15-18 km/h
        ("bus", 3.3, 6.1),  # CEREMA: 15-20 km/h commercial (12-22 accepted)
        ("tram", 4.4, 7.5),  # 18-20 km/h commercial (16-27 accepted)
        ("metro", 6.0, 11.5),  # 25-30 km/h commercial, newer lines faster
        ("train", 15.0, 27.0),  # TER 60-90 km/h commercial
    ],
)
def test_door_to_door_speed_matches_published_commercial_speeds(
    mode: str, low_mps: float, high_mps: float
) -> None:
    assert low_mps <= avg_speed_mps(mode) <= high_mps


def test_buses_stop_at_stops_roughly_every_400_m() -> None:
    truth = simulate_motion(PROFILES["bus"], 8000.0, np.random.default_rng(0))
    stopped = truth.speed_mps == 0.0
    starts = np.flatnonzero(stopped[1:] & ~stopped[:-1])
    assert 12 <= starts.size <= 45  # 8 km / 400 m = 20 stops plus red lights, minus skipped stops


def test_no_gps_fix_in_a_tunnel() -> None:
    truth = simulate_motion(PROFILES["metro"], 3000.0, np.random.default_rng(0), tunnel_share=1.0)
    seen = observe(truth, SamplingRegime(interval_s=1.0), np.random.default_rng(1))
    assert seen.index.size == 0


def test_regimes_without_speed_or_accuracy_report_nan() -> None:
    sim = simulate_leg_track("car", np.random.default_rng(2), regime=REGIMES["logger"], with_activity=False)
    assert np.isnan(sim.track.speed_mps).all()
    assert np.isnan(sim.track.accuracy_m).all()


def test_csv_has_the_upload_columns_and_one_line_per_fix() -> None:
    sim = simulate_leg_track("walk", np.random.default_rng(3), regime=REGIMES["5s"], with_activity=False)
    lines = to_csv(sim).splitlines()
    assert lines[0] == CSV_HEADER == "ts,lat,lon,accuracy_m,speed_mps,mode"
    assert len(lines) == len(sim.track) + 1
    assert lines[1].split(",")[0].endswith("Z")
    assert lines[1].split(",")[-1] == "walk"


def test_gpx_is_well_formed_with_one_point_per_fix() -> None:
    sim = simulate_leg_track("bike", np.random.default_rng(4), regime=REGIMES["5s"], with_activity=False)
    document = minidom.parseString(to_gpx(sim))  # noqa: S318 - our own output, not untrusted input
    points = document.getElementsByTagName("trkpt")
    assert len(points) == len(sim.track)


def test_a_receiver_that_holds_in_tunnels_logs_slow_drift_then_jumps() -> None:
    truth = simulate_motion(PROFILES["metro"], 3000.0, np.random.default_rng(0), tunnel_share=1.0)
    holding = SamplingRegime(interval_s=1.0, tunnel_hold_prob=1.0, outlier_prob=0.0)
    seen = observe(truth, holding, np.random.default_rng(1))
    assert seen.index.size > 0.9 * len(truth)
    hops = np.hypot(np.diff(seen.x_m), np.diff(seen.y_m))
    assert np.median(hops) < 5.0  # held position: metres of drift and jitter, not 10+ m per second


def test_a_receiver_that_pauses_when_still_logs_nothing_through_a_long_stop() -> None:
    moving = simulate_motion(PROFILES["car"], 1500.0, np.random.default_rng(0))
    stop = stationary(120.0)
    truth = LegTruth(
        x_m=np.concatenate((moving.x_m, stop.x_m + moving.x_m[-1], moving.x_m + moving.x_m[-1])),
        y_m=np.concatenate((moving.y_m, stop.y_m + moving.y_m[-1], moving.y_m + moving.y_m[-1])),
        speed_mps=np.concatenate((moving.speed_mps, stop.speed_mps, moving.speed_mps)),
        tunnel=np.zeros(2 * len(moving) + len(stop), dtype=np.bool_),
    )
    start, end = len(moving), len(moving) + len(stop)
    in_stop_late = (np.arange(len(truth)) >= start + 25) & (np.arange(len(truth)) < end)
    pausing = SamplingRegime(interval_s=1.0, still_pause_prob=1.0, still_pause_after_s=(5.0, 20.0))
    seen = observe(truth, pausing, np.random.default_rng(1))
    assert not in_stop_late[seen.index].any()  # silent from 20 s into the stop at the latest...
    assert seen.index.max() > end + 100  # ...and logging again once the car moves
    gaps = np.diff(seen.index)
    assert gaps.max() >= 100  # one gap of about the stop's length, crossed without moving
    always = observe(truth, SamplingRegime(interval_s=1.0), np.random.default_rng(1))
    assert in_stop_late[always.index].sum() > 90  # a receiver that does not pause keeps logging
