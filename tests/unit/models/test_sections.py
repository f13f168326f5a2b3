"""Section classification: a plane is a plane, and pieces of one vehicle leg (or one crossing) are
classified again as one."""

from __future__ import annotations

import math

import numpy as np

from core.features import FEATURE_NAMES, features_matrix
from core.segmentation import Segmentation, segment
from core.segmentation.result import SectionBounds, Trip
from core.track import Track
from core.transit import TransitStop, TransitStops
from models.classifier import load_classifier
from models.sections import Classified, Network, classify
from tests.support.tracks import Leg, gap, metro_without_signal, place, ride, stay, track_from, walk

SPEED = FEATURE_NAMES.index("avg_speed_mps")
DURATION = FEATURE_NAMES.index("duration_s")
LEGS = (
    walk(to=place(200.0, 0.0), every_s=5),
    ride(to=place(3200.0, 0.0), speed_mps=6.0, every_s=5),  # a car in a jam...
    ride(to=place(12200.0, 0.0), speed_mps=15.0, every_s=5),  # ...then on open road
    walk(to=place(12400.0, 0.0), every_s=5),
    ride(to=place(20400.0, 0.0), speed_mps=15.0, every_s=5),  # another car, after a walk
)


class BySpeed:
    """Walk below 2 m/s, car above, except that a section longer than ``long_s`` is a bike."""

    classes = ("walk", "bike", "car")
    version = "by-speed"

    def __init__(self, long_s: float = math.inf) -> None:
        self.long_s = long_s

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), 3))
        out[x[:, SPEED] < 2.0, 0] = 1.0
        out[(x[:, SPEED] >= 2.0) & (x[:, DURATION] > self.long_s), 1] = 1.0
        out[(x[:, SPEED] >= 2.0) & (x[:, DURATION] <= self.long_s), 2] = 1.0
        return out


def one_trip(legs: tuple[Leg, ...]) -> Segmentation:
    """``legs`` as one trip with a section per leg."""
    track: Track = track_from(*legs)
    starts = [len(track_from(*legs[:k])) if k else 0 for k in range(len(legs))]
    ends = [*starts[1:], len(track)]
    trip = Trip(
        start=0,
        end=len(track),
        t_start_s=float(track.t_s[0]),
        t_end_s=float(track.t_s[-1]),
        sections=tuple(SectionBounds(start=a, end=b) for a, b in zip(starts, ends, strict=True)),
        origin_stay=None,
        destination_stay=None,
    )
    return Segmentation(kept=np.ones(len(track), dtype=np.bool_), cleaned=track, stays=(), trips=(trip,))


def modes(out: Classified) -> list[str]:
    return [out.classes[int(k)] for k in np.argmax(out.proba, axis=1)]


def test_two_vehicle_pieces_without_a_walk_between_become_one_section() -> None:
    seg = one_trip(LEGS)
    out = classify(BySpeed(), seg)
    (trip,) = out.seg.trips
    assert len(trip.sections) == 4
    assert trip.sections[1] == SectionBounds(
        start=seg.trips[0].sections[1].start, end=seg.trips[0].sections[2].end
    )
    assert modes(out) == ["walk", "car", "walk", "car"]
    assert out.proba.shape == (4, 4)
    assert out.classes == ("walk", "bike", "car", "plane")
    # The feature rows come along, the joined section's its own, as one pass over the result gives.
    bounds = [(b.start, b.end) for b in trip.sections]
    assert out.x is not None
    np.testing.assert_array_equal(out.x, features_matrix(out.seg.cleaned, bounds))


def test_a_piece_the_tester_confirmed_is_not_joined() -> None:
    seg = one_trip(LEGS)
    piece = seg.trips[0].sections[2]
    confirmed = [(float(seg.cleaned.t_s[piece.start]) + 60.0, float(seg.cleaned.t_s[piece.start]) + 120.0)]
    out = classify(BySpeed(), seg, confirmed=confirmed)
    assert out.seg.trips[0].sections == seg.trips[0].sections


def test_a_joined_section_the_tester_confirmed_stays_joined() -> None:
    seg = one_trip(LEGS)
    first, second = seg.trips[0].sections[1:3]
    t = seg.cleaned.t_s
    confirmed = [(float(t[first.start]), float(t[second.end - 1]))]  # the joined section, as shown
    out = classify(BySpeed(), seg, confirmed=confirmed)
    assert out.seg.trips[0].sections[1] == SectionBounds(start=first.start, end=second.end)


def test_pieces_stay_apart_when_the_whole_does_not_look_motorised() -> None:
    seg = one_trip(LEGS)
    first, second = seg.trips[0].sections[1:3]
    longest_piece = max(seg.cleaned.t_s[s.end - 1] - seg.cleaned.t_s[s.start] for s in (first, second))
    model = BySpeed(long_s=float(longest_piece) + 1.0)  # each piece is a car, the two together a bike
    out = classify(model, seg)
    assert out.seg.trips[0].sections == seg.trips[0].sections
    assert modes(out) == ["walk", "car", "car", "walk", "car"]


def test_a_segmentation_without_trips_gives_no_rows() -> None:
    track = track_from(walk(to=place(50.0, 0.0)))
    seg = Segmentation(kept=np.ones(len(track), dtype=np.bool_), cleaned=track, stays=(), trips=())
    out = classify(BySpeed(), seg)
    assert out.proba.shape == (0, 4)


def test_a_section_faster_and_longer_than_any_train_is_a_plane() -> None:
    before = stay(600, every_s=30)
    track = track_from(before, gap(7200, to=place(700_000.0, 0.0)), stay(600, every_s=30))
    last = len(track_from(before)) - 1  # the last fix before take-off, then the first after landing
    hop = Trip(
        start=last,
        end=last + 2,
        t_start_s=float(track.t_s[last]),
        t_end_s=float(track.t_s[last + 1]),
        sections=(SectionBounds(start=last, end=last + 2),),
        origin_stay=None,
        destination_stay=None,
    )
    seg = Segmentation(kept=np.ones(len(track), dtype=np.bool_), cleaned=track, stays=(), trips=(hop,))
    out = classify(BySpeed(), seg)
    assert modes(out) == ["plane"]
    assert out.proba[0].tolist() == [0.0, 0.0, 0.0, 1.0]


def test_a_high_speed_train_is_left_to_the_model() -> None:
    seg = one_trip((ride(to=place(300_000.0, 0.0), speed_mps=75.0, every_s=30),))
    assert modes(classify(BySpeed(), seg)) == ["car"]


def test_a_flight_logged_in_pieces_is_one_plane_section() -> None:
    climb = ride(to=place(60_000.0, 0.0), speed_mps=200.0, every_s=10)  # each piece under 100 km
    cruise = ride(to=place(120_000.0, 0.0), speed_mps=200.0, every_s=10)
    out = classify(BySpeed(), one_trip((climb, cruise)))
    assert len(out.seg.trips[0].sections) == 1
    assert modes(out) == ["plane"]


def test_a_crossing_logged_in_pieces_is_one_ferry_section() -> None:
    # Two pieces the model calls car (a speed change mid-crossing); only the whole joins the piers.
    crossing = (
        ride(to=place(1000.0, 0.0), speed_mps=4.0, every_s=5),
        ride(to=place(2000.0, 0.0), speed_mps=6.0, every_s=5),
    )
    seg = one_trip(crossing)
    boat = (("f:boat", "ferry"),)
    ends = (0, len(seg.cleaned) - 1)
    lat, lon = seg.cleaned.lat, seg.cleaned.lon
    piers = [TransitStop(lat=float(lat[k]), lon=float(lon[k]), routes=boat) for k in ends]
    out = classify(BySpeed(), seg, network=Network(TransitStops.of(piers)))
    assert len(out.seg.trips[0].sections) == 1
    assert modes(out) == ["ferry"]
    assert out.classes == ("walk", "bike", "car", "plane", "ferry")
    assert modes(classify(BySpeed(), seg)) == ["car"]  # without the network: one car section


def test_a_metro_ride_without_signal_between_two_walks_is_its_own_metro_section() -> None:
    # Underground the phone logs nothing: 13 minutes and 7 km between the last fix of one walk and
    # the first of the next. It was once read as a single walk at 34 km/h; the hop across the gap
    # is now a section of its own, and the shipped model calls it metro.
    track = metro_without_signal()
    out = classify(load_classifier(), segment(track))
    assert modes(out) == ["walk", "metro", "walk"]
