"""No trip moves faster than anything that travels: GPS jumps with nothing to judge them by are
not a trip (core.segmentation.impossible), and fast trains and flights are kept."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from core.geometry import path_length_m
from core.segmentation import Segmentation, segment
from core.track import Track
from tests.support.tracks import gap, place, ride, stay, track_from, until, walk

HOME = place(0.0, 0.0)
T0 = 1_700_000_000.0


def zigzag(*, every_s: float, n: int, jump_deg: float) -> Track:
    """A new tester's only fixes: latitude alternating between two places ``jump_deg`` apart."""
    lat = 46.16 + jump_deg * (np.arange(n) % 2)
    return Track(
        t_s=T0 + every_s * np.arange(n, dtype=np.float64),
        lat=lat.astype(np.float64),
        lon=np.full(n, -1.15),
        accuracy_m=np.full(n, 5.0),
        speed_mps=np.full(n, math.nan),
        activity=np.zeros(n, dtype=np.int8),
    )


def closed(track: Track) -> Segmentation:
    """The segmentation once the phone has been silent for an hour (the pipeline's view)."""
    return segment(track, now_s=float(track.t_s[-1]) + 3600.0)


def fastest_section_mps(seg: Segmentation) -> float:
    """The highest average speed of a section along its fixes (0 when there are none)."""
    c = seg.cleaned
    speeds = [0.0]
    for trip in seg.trips:
        for b, (t0, t1) in zip(trip.sections, trip.section_times(c.t_s), strict=True):
            hi = b.end if b.end < trip.end else b.end - 1
            if t1 > t0:
                speeds.append(path_length_m(c.lat[b.start : hi + 1], c.lon[b.start : hi + 1]) / (t1 - t0))
    return max(speeds)


def test_twenty_fixes_jumping_11_km_every_second_are_no_trip() -> None:
    # The probe's first repro: one trip of 211 km in 19 s, called walk.
    seg = closed(zigzag(every_s=1.0, n=20, jump_deg=0.1))
    assert seg.trips == ()


def test_ten_fixes_jumping_5_km_every_half_minute_are_no_car_trip() -> None:
    # The probe's second repro: one 50 km "car" section in 270 s (183 m/s), 7.1 kg of CO2.
    seg = closed(zigzag(every_s=30.0, n=10, jump_deg=0.05))
    assert seg.trips == ()


@pytest.mark.parametrize(
    ("every_s", "n", "jump_deg"),
    [
        (1.0, 4, 0.1),  # four fixes, 33 km in 3 s
        (10.0, 2, 0.5),  # two fixes 55 km apart, 10 s apart
        (30.0, 2, 0.05),  # two fixes 5.5 km apart at a plane's speed, but no flight's distance
        (30.0, 4, 0.081),  # out, back, out: 300 m/s along its fixes, 100 m/s as the crow flies
        (360.0, 4, 1.1),  # out, back, out by 122 km: a flight's speeds (340 and 113 m/s), not its path
    ],
)
def test_a_few_jumps_alone_are_no_trip_either(every_s: float, n: int, jump_deg: float) -> None:
    seg = closed(zigzag(every_s=every_s, n=n, jump_deg=jump_deg))
    assert seg.trips == ()


def test_a_zigzag_that_goes_on_never_makes_a_trip_at_any_point() -> None:
    track = zigzag(every_s=30.0, n=40, jump_deg=0.05)
    for k in range(2, len(track) + 1):
        assert segment(until(track, float(track.t_s[k - 1]) + 1)).trips == ()


@pytest.mark.parametrize("every_s", [1.0, 60.0])
def test_a_high_speed_train_sampled_every_second_or_minute_is_kept(every_s: float) -> None:
    # 90 m/s (324 km/h) over 300 km: every step a minute apart is a 5.4 km hop.
    track = track_from(
        stay(900, at=HOME, every_s=10.0),
        walk(to=place(300.0, 0.0), every_s=5.0),
        ride(to=place(300_300.0, 0.0), speed_mps=90.0, every_s=every_s),
        walk(to=place(300_600.0, 0.0), every_s=5.0),
        stay(900, every_s=10.0),
    )
    seg = segment(track)
    (trip,) = seg.trips
    t = seg.cleaned.t_s
    assert t[trip.end - 1] - t[trip.start] > 3000
    assert 80.0 < fastest_section_mps(seg) < 100.0


def test_a_flight_logged_from_the_air_is_kept() -> None:
    # A GPS logger on the whole way: 600 km at 250 m/s, a fix a minute (every step a jump).
    track = track_from(
        stay(900, at=HOME, every_s=10.0),
        ride(to=place(600_000.0, 0.0), speed_mps=250.0, every_s=60.0),
        stay(900, every_s=10.0),
    )
    seg = segment(track)
    (trip,) = seg.trips
    assert (trip.origin_stay, trip.destination_stay) == (0, 1)
    assert 200.0 < fastest_section_mps(seg) < 300.0


def test_a_flight_across_a_signal_gap_is_kept() -> None:
    track = track_from(
        stay(900, at=HOME, every_s=10.0),
        walk(to=place(300.0, 0.0), every_s=5.0),
        stay(1200, every_s=10.0),  # at the gate, then aeroplane mode
        gap(7200, to=place(700_000.0, 100_000.0)),
        stay(600, every_s=10.0),
        walk(to=place(700_500.0, 100_000.0), every_s=5.0),
        stay(900, every_s=10.0),
    )
    seg = closed(track)
    assert len(seg.trips) == 3
    flight = seg.trips[1]
    assert flight.across_gap
    assert flight.end - flight.start == 2


def test_a_zigzag_between_two_stays_is_still_cleaned_away_and_the_stays_kept() -> None:
    # With stays to judge by, cleaning drops the jumps (no trip either way).
    base = track_from(stay(900, at=HOME, every_s=10.0), stay(20, every_s=1.0), stay(900, every_s=10.0))
    lat = base.lat.copy()
    lat[90:110:2] += 0.1
    seg = closed(dataclasses.replace(base, lat=lat))
    assert seg.trips == ()
    assert not bool(seg.kept[90:110:2].any())
    (home,) = seg.stays
    assert home.t_end_s - home.t_start_s > 1800
