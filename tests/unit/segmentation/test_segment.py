"""Behaviour of ``segment``: stays, trips, sections, cleaning and the open tail."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from core.fixes import Activity
from core.segmentation import SegmentationParams, segment
from core.track import Track
from tests.support.tracks import (
    bus,
    gap,
    place,
    ride,
    since,
    stay,
    track_from,
    until,
    walk,
    with_fix,
)

HOME = place(0.0, 0.0)
STOP_A = place(300.0, 0.0)
STOP_B = place(4300.0, 0.0)
WORK = place(4600.0, 0.0)


def commute() -> Track:
    return track_from(
        stay(600, at=HOME), walk(to=STOP_A), stay(120), bus(to=STOP_B), walk(to=WORK), stay(900)
    )


def test_a_stay_trip_stay_day_gives_one_trip_between_the_two_stays() -> None:
    result = segment(track_from(stay(600, at=HOME), ride(to=WORK, speed_mps=12.0), stay(600)))
    assert len(result.stays) == 2
    (trip,) = result.trips
    assert (trip.origin_stay, trip.destination_stay) == (0, 1)
    assert trip.start == result.stays[0].end
    assert trip.end == result.stays[1].start
    start = result.cleaned.t_s[0]
    # The trip leaves within the time it takes to get out of the stay radius (100 m at 12 m/s).
    assert 600 <= trip.t_start_s - start <= 600 + 100 / 12 + 1


def test_stays_are_placed_at_the_mean_of_their_fixes() -> None:
    result = segment(track_from(stay(600, at=HOME), ride(to=WORK, speed_mps=12.0), stay(600)))
    home, work = result.stays
    assert abs(home.lat - 46.5197) < 1e-4
    assert abs(home.lon - 6.6323) < 1e-4
    assert work.lon > home.lon + 0.05


def test_a_walk_bus_walk_trip_has_three_sections() -> None:
    result = segment(commute())
    (trip,) = result.trips
    assert len(trip.sections) == 3
    t = result.cleaned.t_s - result.cleaned.t_s[0]
    walk_in, ride_leg, walk_out = trip.sections
    assert walk_in.start == trip.start
    assert walk_out.end == trip.end
    assert walk_in.end == ride_leg.start
    assert ride_leg.end == walk_out.start
    # The bus runs from 934 s to 1364 s; boundaries fall within the speed window of it.
    assert abs(t[ride_leg.start] - 934) <= 30
    assert abs(t[walk_out.start] - 1364) <= 30


@pytest.mark.parametrize("every_s", [10.0, 60.0])
def test_a_phone_logging_once_a_minute_still_gets_its_walks_apart_from_its_ride(every_s: float) -> None:
    # Battery saving, or a GPX without speeds: a fix a minute leaves each fix alone in the speed
    # window, and every fix looked still: one section of the whole trip, walks included.
    track = track_from(
        stay(1800, at=HOME, every_s=every_s),
        walk(to=place(0.0, 600.0), every_s=every_s),
        ride(to=place(12_000.0, 600.0), speed_mps=9.0, every_s=every_s),
        walk(to=place(12_000.0, 1200.0), every_s=every_s),
        stay(1800, every_s=every_s),
    )
    (trip,) = segment(track).trips
    assert len(trip.sections) == 3  # walk, ride, walk


def test_the_phone_activity_splits_legs_of_equal_speed() -> None:
    track = track_from(
        stay(600, at=HOME),
        ride(to=place(1800.0, 0.0), speed_mps=6.0, activity=Activity.BIKE),
        ride(to=place(3600.0, 0.0), speed_mps=6.0, activity=Activity.VEHICLE),
        stay(600),
    )
    (trip,) = segment(track).trips
    assert len(trip.sections) == 2
    unlabelled = track_from(stay(600, at=HOME), ride(to=place(3600.0, 0.0), speed_mps=6.0), stay(600))
    (plain,) = segment(unlabelled).trips
    assert len(plain.sections) == 1


def test_a_lasting_change_of_speed_regime_splits_without_a_walk() -> None:
    track = track_from(
        stay(600, at=HOME),
        ride(to=place(12_000.0, 0.0), speed_mps=12.0),
        ride(to=place(60_000.0, 0.0), speed_mps=45.0),
        stay(600),
    )
    (trip,) = segment(track).trips
    assert len(trip.sections) == 2


def _vehicle_slow_vehicle(slow_s: float, *, activity: Activity = Activity.UNKNOWN) -> Track:
    """Car at 12 m/s, ``slow_s`` seconds at walking pace, car again."""
    slow_end = 6000.0 + 1.4 * slow_s
    return track_from(
        stay(600, at=HOME),
        ride(to=place(6000.0, 0.0), speed_mps=12.0),
        ride(to=place(slow_end, 0.0), speed_mps=1.4, activity=activity),
        ride(to=place(slow_end + 6000.0, 0.0), speed_mps=12.0),
        stay(600),
    )


def test_a_vehicle_crawling_at_walking_pace_between_two_fast_runs_stays_one_section() -> None:
    (trip,) = segment(_vehicle_slow_vehicle(150.0)).trips
    assert len(trip.sections) == 1


def test_a_walk_long_enough_to_be_a_transfer_splits_two_vehicle_legs() -> None:
    (trip,) = segment(_vehicle_slow_vehicle(400.0)).trips
    assert len(trip.sections) == 3


def test_a_short_walk_the_phone_reports_as_walking_splits_two_vehicle_legs() -> None:
    (trip,) = segment(_vehicle_slow_vehicle(150.0, activity=Activity.WALK)).trips
    assert len(trip.sections) == 3


def test_a_short_change_of_speed_regime_does_not_split() -> None:
    # A car at 12 m/s slowed to a bike-like 6 m/s for four minutes (roadworks), then 12 m/s again.
    track = track_from(
        stay(600, at=HOME),
        ride(to=place(9000.0, 0.0), speed_mps=12.0),
        ride(to=place(10_500.0, 0.0), speed_mps=6.0),
        ride(to=place(19_500.0, 0.0), speed_mps=12.0),
        stay(600),
    )
    (trip,) = segment(track).trips
    assert len(trip.sections) == 1


def test_a_short_stop_in_a_vehicle_does_not_split_it() -> None:
    track = track_from(stay(600, at=HOME), bus(to=WORK, stops=((0.3, 60.0), (0.7, 60.0))), stay(600))
    (trip,) = segment(track).trips
    assert len(trip.sections) == 1


def test_an_hour_without_fixes_while_moving_splits_the_trip_around_the_ride_across_the_gap() -> None:
    track = track_from(
        stay(600, at=HOME),
        ride(to=place(6000.0, 0.0), speed_mps=12.0),
        gap(3600, to=place(30000.0, 0.0)),  # 24 km in an hour: ridden, not walked
        ride(to=place(36000.0, 0.0), speed_mps=12.0),
        stay(600),
    )
    result = segment(track)
    first, across, second = result.trips
    assert (first.origin_stay, first.destination_stay) == (0, None)
    assert (second.origin_stay, second.destination_stay) == (None, 1)
    assert (across.start, across.end) == (first.end - 1, second.start + 1)
    assert across.t_start_s == first.t_end_s
    assert across.t_end_s == second.t_start_s
    assert second.t_start_s - first.t_end_s >= 3600


def test_an_hour_without_fixes_at_the_same_place_is_one_stay() -> None:
    result = segment(
        track_from(stay(600, at=HOME), gap(3600), stay(600), ride(to=WORK, speed_mps=12.0), stay(600))
    )
    assert len(result.trips) == 1
    home = result.stays[0]
    assert home.t_end_s - home.t_start_s >= 600 + 3600 + 500


def test_fixes_with_poor_accuracy_are_dropped() -> None:
    base = track_from(stay(600, at=HOME), ride(to=WORK, speed_mps=12.0), stay(600))
    t_bad = float(base.t_s[300]) + 0.5
    track = with_fix(base, at_s=t_bad, east_m=0.0, north_m=0.0, accuracy_m=500.0)
    result = segment(track)
    assert not result.kept[301]
    assert int(result.kept.sum()) == len(base)


def test_two_indoor_fixes_thrown_off_by_walls_make_no_trip_inside_a_stay() -> None:
    # Two hours at home, a fix every 30 s; at 21:00 two fixes 150 m off (accuracy 65 m), 30 s apart.
    track = track_from(stay(7200, at=HOME, every_s=30, noise_m=5.0))
    t0 = float(track.t_s[0])
    for dt in (3615.0, 3645.0):
        track = with_fix(track, at_s=t0 + dt, east_m=150.0, north_m=0.0, accuracy_m=65.0)
    result = segment(track, now_s=float(track.t_s[-1]) + 3600)
    assert result.trips == ()
    # A real walk round the block and back, 400 m away, is kept.
    block = track_from(
        stay(1800, at=HOME, every_s=10),
        walk(to=place(400.0, 0.0), every_s=10),
        walk(to=HOME, every_s=10),
        stay(1800, every_s=10),
    )
    assert len(segment(block).trips) == 1


def test_a_speed_outlier_jump_is_dropped_and_the_stay_survives() -> None:
    base = track_from(stay(1200, at=HOME), ride(to=WORK, speed_mps=12.0), stay(600))
    track = with_fix(base, at_s=float(base.t_s[600]) + 0.5, east_m=5000.0, north_m=0.0)
    result = segment(track)
    assert not result.kept[601]
    assert len(result.stays) == 2
    assert result.stays[0].t_end_s - result.stays[0].t_start_s >= 1199


@pytest.mark.parametrize("slow_side", ["in", "out"])
def test_an_excursion_across_a_signal_gap_is_dropped(slow_side: str) -> None:
    # The phone wakes up 1.6 km off after two minutes without a fix (14 m/s: no jump) and jumps
    # back at once (800 m/s), or the other way round: three fixes, not a trip there and back.
    off = place(1600.0, 0.0)
    way_in, way_out = (
        (gap(112, to=off), gap(1, to=HOME)) if slow_side == "in" else (gap(1, to=off), gap(112, to=HOME))
    )
    track = track_from(stay(600, at=HOME), way_in, stay(3, at=off), way_out, stay(600, at=HOME))
    result = segment(track)
    assert int(np.count_nonzero(~result.kept)) == 3
    assert result.trips == ()


def test_a_real_ride_after_a_signal_gap_is_kept() -> None:
    # Off 1.6 km after two minutes without a fix, and the ride goes on from there: nothing to bridge.
    track = track_from(
        stay(600, at=HOME), gap(112, to=place(1600.0, 0.0)), ride(to=WORK, speed_mps=12.0), stay(600)
    )
    result = segment(track)
    assert bool(result.kept.all())
    assert len(result.trips) == 1


def test_sustained_fast_travel_is_not_an_outlier() -> None:
    # A plane at 250 m/s sampled every minute: every step is a jump, but it never comes back.
    track = track_from(
        stay(600, at=HOME), ride(to=place(600_000.0, 0.0), speed_mps=250.0, every_s=60.0), stay(600)
    )
    result = segment(track)
    assert bool(result.kept.all())
    assert len(result.trips) == 1


def test_a_track_ending_while_moving_reports_an_open_trip() -> None:
    full = commute()
    result = segment(until(full, full.t_s[0] + 1200))
    assert result.stays[0].complete
    trip = result.trips[-1]
    assert not trip.complete
    assert result.complete_until_s == trip.t_start_s
    assert result.open_tail


def test_a_track_ending_in_a_stay_completes_the_trip_before_it() -> None:
    result = segment(commute())
    *_, last_stay = result.stays
    assert not last_stay.complete
    assert result.trips[-1].complete
    assert result.complete_until_s == last_stay.t_start_s
    assert result.open_tail


def test_a_gap_observed_at_call_time_closes_the_open_trip() -> None:
    full = commute()
    head = until(full, full.t_s[0] + 1200)
    result = segment(head, now_s=float(head.t_s[-1]) + 3600)
    assert all(trip.complete for trip in result.trips)
    assert result.trips[-1].destination_stay is None
    assert result.complete_until_s > head.t_s[-1]
    assert not result.open_tail


def test_a_gap_closes_the_tail_even_when_cleaning_drops_the_last_fix() -> None:
    track = commute()
    accuracy = track.accuracy_m.copy()
    accuracy[-1] = 500.0
    poor_last = dataclasses.replace(track, accuracy_m=accuracy)
    result = segment(poor_last, now_s=float(track.t_s[-1]) + 3600)
    assert len(result.cleaned) == len(track) - 1
    assert not result.open_tail
    assert segment(poor_last, now_s=float(track.t_s[-1]) + 60).open_tail


def test_complete_items_do_not_change_when_more_fixes_arrive() -> None:
    full = track_from(
        stay(600, at=HOME),
        walk(to=STOP_A),
        stay(120),
        bus(to=STOP_B),
        walk(to=WORK),
        stay(1200),
        ride(to=HOME, speed_mps=12.0),
        stay(900),
    )
    final = segment(full)
    for cut in range(300, int(full.t_s[-1] - full.t_s[0]), 97):
        partial = segment(until(full, full.t_s[0] + cut))
        for mine in (s for s in partial.stays if s.complete):
            assert any(s.t_start_s == mine.t_start_s and s.t_end_s == mine.t_end_s for s in final.stays)
        for trip in (tr for tr in partial.trips if tr.complete):
            same = [tr for tr in final.trips if tr.t_start_s == trip.t_start_s]
            assert same
            assert same[0].t_end_s == trip.t_end_s
            assert len(same[0].sections) == len(trip.sections)
            assert trip.t_end_s < partial.complete_until_s


def test_the_open_tail_resegmented_alone_gives_the_same_trip() -> None:
    full = commute()
    head = until(full, full.t_s[0] + 1300)
    tail_start = segment(head).complete_until_s
    alone = segment(since(full, tail_start))
    whole = segment(full)
    assert [(t.t_start_s, t.t_end_s) for t in alone.trips] == [
        (t.t_start_s, t.t_end_s) for t in whole.trips if t.t_start_s >= tail_start
    ]


def test_an_empty_track_has_nothing_and_nothing_is_complete() -> None:
    empty = track_from()
    result = segment(empty)
    assert (result.stays, result.trips, len(result.cleaned)) == ((), (), 0)
    assert result.complete_until_s == -math.inf
    assert not result.open_tail


def test_a_single_fix_is_an_open_tail_without_trips() -> None:
    one = track_from(stay(1, at=HOME))
    result = segment(one)
    assert len(result.cleaned) == 1
    assert (result.stays, result.trips) == ((), ())
    assert result.complete_until_s == one.t_s[0]
    assert result.open_tail


def test_repeated_timestamps_keep_the_first_fix() -> None:
    base = track_from(stay(600, at=HOME))
    track = with_fix(base, at_s=float(base.t_s[10]), east_m=50.0, north_m=0.0)
    result = segment(track)
    assert int(result.kept.sum()) == len(base)


def test_an_unsorted_track_is_refused() -> None:
    track = track_from(stay(60, at=HOME))
    shuffled = track.take(np.arange(len(track))[::-1])
    with pytest.raises(ValueError, match="sorted"):
        segment(shuffled)


def test_parameters_refuse_a_gap_shorter_than_the_dwell() -> None:
    with pytest.raises(ValueError, match="gap_s"):
        SegmentationParams(stay_dwell_s=600.0, gap_s=300.0)
