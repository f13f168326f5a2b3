"""A signal gap crossed faster than anyone walks is a trip of its own (core.segmentation.rides)."""

from __future__ import annotations

from core.segmentation import SegmentationParams, segment
from tests.support.tracks import gap, place, stay, track_from, walk

STATION_A = place(600.0, 0.0)
STATION_B = place(8600.0, 0.0)  # 8 km on, underground


def test_a_metro_ride_underground_is_a_trip_between_the_walks() -> None:
    track = track_from(
        stay(900, every_s=10),
        walk(to=STATION_A, every_s=5),
        gap(1500, to=STATION_B),  # no fix for 25 minutes: 5.3 m/s as the crow flies
        walk(to=place(9000.0, 0.0), every_s=5),
        stay(900, every_s=10),
    )
    seg = segment(track)
    to_station, ride, from_station = seg.trips
    assert (ride.start, ride.end) == (to_station.end - 1, from_station.start + 1)
    assert [(s.start, s.end) for s in ride.sections] == [(ride.start, ride.end)]
    assert ride.t_end_s - ride.t_start_s > 1500
    assert (ride.origin_stay, ride.destination_stay) == (None, None)
    assert (to_station.origin_stay, from_station.destination_stay) == (0, 1)
    assert ride.complete


def test_a_tracker_stopped_on_the_way_to_work_leaves_a_trip_from_home_to_work() -> None:
    track = track_from(stay(900, every_s=10), gap(2400, to=place(15_000.0, 0.0)), stay(900, every_s=10))
    (trip,) = segment(track).trips
    assert trip.end - trip.start == 2
    assert (trip.origin_stay, trip.destination_stay) == (0, 1)


def test_a_gap_that_could_have_been_walked_is_no_ride() -> None:
    track = track_from(stay(900, every_s=10), gap(1800, to=place(2000.0, 0.0)), stay(900, every_s=10))
    assert segment(track).trips == ()  # 1.1 m/s


def test_a_gap_of_hours_is_no_ride_whatever_the_distance() -> None:
    track = track_from(stay(900, every_s=10), gap(3 * 3600, to=place(40_000.0, 0.0)), stay(900, every_s=10))
    assert segment(track).trips == ()  # 3.7 m/s, but for three hours: stays the gap hides
    assert len(segment(track, SegmentationParams(gap_ride_max_s=4 * 3600)).trips) == 1


def test_a_ride_whose_arrival_fix_may_still_be_dropped_is_final_only_once_more_fixes_follow() -> None:
    # Out of the tunnel, a fix 3 km off two seconds later: one of the two is an outlier, not yet
    # known which; a few fixes back at the exit settle it.
    waking = [stay(900, every_s=10), gap(1500, to=STATION_B), stay(1, every_s=1)]
    off = [gap(3, to=place(8600.0, 3000.0)), stay(1, every_s=1)]
    (ride,) = segment(track_from(*waking, *off)).trips
    assert not ride.complete
    settled = track_from(*waking, *off, gap(3, to=STATION_B), stay(600, every_s=10))
    (ride,) = segment(settled).trips
    assert ride.complete
    assert (ride.origin_stay, ride.destination_stay) == (0, 1)
