"""A signal gap that only an aeroplane can cross is a trip of its own (core.segmentation.flights)."""

from __future__ import annotations

import dataclasses

from core.segmentation import SegmentationParams, segment
from core.track import Track
from tests.support.tracks import gap, place, ride, stay, track_from, walk

AWAY = place(700_000.0, 100_000.0)  # 707 km from home


def test_a_flight_is_a_trip_between_the_departure_and_arrival_stays() -> None:
    track = track_from(
        stay(900, every_s=10),
        walk(to=place(300.0, 0.0), every_s=5),
        stay(1200, every_s=10),  # at the gate, then the phone goes to aeroplane mode
        gap(7200, to=AWAY),
        stay(600, every_s=10),
        walk(to=place(700_500.0, 100_000.0), every_s=5),
        stay(900, every_s=10),
    )
    seg = segment(track)
    assert len(seg.trips) == 3
    flight = seg.trips[1]
    assert flight.end - flight.start == 2
    assert flight.t_end_s - flight.t_start_s > 7200
    assert [(s.start, s.end) for s in flight.sections] == [(flight.start, flight.end)]
    assert (flight.origin_stay, flight.destination_stay) == (1, 2)
    assert flight.complete
    assert seg.trips[0].t_end_s <= flight.t_start_s < flight.t_end_s <= seg.trips[2].t_start_s


def test_a_gap_crossed_at_road_or_rail_speed_stays_a_cut() -> None:
    track = track_from(stay(900, every_s=10), gap(4 * 3600, to=AWAY), stay(900, every_s=10))  # 49 m/s
    assert segment(track).trips == ()


def test_a_fast_hop_shorter_than_the_minimum_distance_is_not_a_flight() -> None:
    near = place(90_000.0, 0.0)
    track = track_from(stay(900, every_s=10), gap(1000, to=near), stay(900, every_s=10))  # 90 m/s
    assert segment(track).trips == ()
    closer = SegmentationParams(flight_min_distance_m=50_000.0)
    assert len(segment(track, closer).trips) == 1


def test_a_flight_whose_landing_fix_may_still_be_dropped_is_final_only_once_more_fixes_follow() -> None:
    # 707 km in 4,000 s (177 m/s) is also a jump for cleaning: a lone fix after it may be an outlier.
    landed = track_from(stay(900, every_s=10), gap(4000, to=AWAY), stay(10, every_s=10))
    (flight,) = segment(landed).trips
    assert not flight.complete
    later = track_from(stay(900, every_s=10), gap(4000, to=AWAY), stay(600, every_s=10))
    (flight,) = segment(later).trips
    assert flight.complete


def _with_lone_fixes() -> Track:
    """Two fixes alone between three signal gaps, 900 km apart each, an hour apart."""
    return track_from(
        stay(1800, at=place(0.0, 0.0), every_s=30.0),
        gap(3600, to=place(900_000.0, 0.0)),
        stay(1, every_s=1.0),
        gap(3600, to=place(1_800_000.0, 0.0)),
        stay(1, every_s=1.0),
        gap(3600, to=place(2_700_000.0, 0.0)),
        stay(1800, every_s=30.0),
    )


def test_a_phone_waking_in_flight_leaves_one_flight_not_three() -> None:
    # The two fixes over the sea report cruising speed: three hops, one flight.
    track = _with_lone_fixes()
    speed = track.speed_mps.copy()
    speed[60:62] = 250.0  # the 60 fixes of the first stay, then the two in the air
    result = segment(dataclasses.replace(track, speed_mps=speed))
    (flight,) = result.trips
    assert flight.origin_stay == 0
    assert flight.destination_stay == 1
    assert len(flight.sections) == 1
    assert flight.t_end_s - flight.t_start_s > 3 * 3600


def test_a_lone_fix_at_a_connecting_airport_leaves_two_flights() -> None:
    # Paris - Madrid, one fix at Madrid (no speed: it may be on the ground), Madrid - Lisbon.
    track = track_from(
        stay(1800, at=place(0.0, 0.0), every_s=30.0),
        gap(7200, to=place(-300_000.0, -1_000_000.0)),
        stay(1, every_s=1.0),
        gap(5400, to=place(-800_000.0, -1_050_000.0)),
        stay(1800, every_s=30.0),
    )
    assert len(segment(track).trips) == 2
    assert len(segment(_with_lone_fixes()).trips) == 3


def test_a_run_of_fixes_in_the_air_belongs_to_the_flight() -> None:
    # The phone on for five minutes at cruise (a fix every 30 s at 250 m/s), between two gaps.
    track = track_from(
        stay(1800, at=place(0.0, 0.0), every_s=30.0),
        gap(3600, to=place(900_000.0, 0.0)),
        ride(to=place(975_000.0, 0.0), speed_mps=250.0, every_s=30.0),
        gap(3600, to=place(1_875_000.0, 0.0)),
        stay(1800, every_s=30.0),
    )
    result = segment(track)
    (flight,) = result.trips
    assert (flight.origin_stay, flight.destination_stay) == (0, 1)


def test_two_flights_with_a_layover_stay_apart() -> None:
    track = track_from(
        stay(1800, at=place(0.0, 0.0), every_s=30.0),
        gap(3600, to=place(900_000.0, 0.0)),
        stay(7200, every_s=30.0),  # two hours at the connecting airport
        gap(3600, to=place(1_800_000.0, 0.0)),
        stay(1800, every_s=30.0),
    )
    assert len(segment(track).trips) == 2
