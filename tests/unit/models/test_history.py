"""A tester's own confirmations on the same route inform their new sections (core.history)."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from core.features import FEATURE_NAMES
from core.geodesy import EARTH_RADIUS_M
from core.geometry import line_positions, simplified_linestring
from core.history import (
    ASK_BELOW,
    KINEMATIC_FEATURES,
    Confirmation,
    HistoryParams,
    answer_weighing,
    answer_weights,
    assist,
    kinematic_votes,
    kinematics,
    own_mix,
    unsure,
    usual_modes,
)

CLASSES = ("walk", "bike", "bus", "car")
LAT, LON = 46.16, -1.15  # La Rochelle
M_PER_DEG = np.pi * EARTH_RADIUS_M / 180.0


def at(east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    return LAT + north_m / M_PER_DEG, LON + east_m / (M_PER_DEG * np.cos(np.radians(LAT)))


def confirmed(mode: str, start_east_m: float = 0.0, end_east_m: float = 5000.0) -> Confirmation:
    (a_lat, a_lon), (b_lat, b_lon) = at(start_east_m), at(end_east_m)
    return Confirmation(start_lat=a_lat, start_lon=a_lon, end_lat=b_lat, end_lon=b_lon, mode=mode)


def confirmed_path(mode: str, *corners: tuple[float, float]) -> Confirmation:
    """A confirmation with its path through ``corners`` (east, north metres), as stored: straight
    stretches are one segment each, with no point in between."""
    points = [at(e, n) for e, n in corners]
    return Confirmation(
        start_lat=points[0][0],
        start_lon=points[0][1],
        end_lat=points[-1][0],
        end_lon=points[-1][1],
        mode=mode,
        path_lonlat=tuple((lon, lat) for lat, lon in points),
    )


def between(*pairs: tuple[tuple[float, float], tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Sections from and to (east, north) metres."""
    return np.asarray([at(*a) for a, _ in pairs]), np.asarray([at(*b) for _, b in pairs])


def sections(*ends: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    starts = np.asarray([at(a) for a, _ in ends])
    stops = np.asarray([at(b) for _, b in ends])
    return starts, stops


ROUTE_ONLY = HistoryParams(prior_pseudocount=None)  # the route's confirmations alone


def model_says_car(n: int) -> np.ndarray:
    return np.tile([0.05, 0.05, 0.3, 0.6], (n, 1))


def test_a_section_on_a_confirmed_route_takes_the_confirmed_mode() -> None:
    starts, ends = sections((100.0, 5100.0))
    out = assist(model_says_car(1), CLASSES, starts, ends, [confirmed("bus")], params=ROUTE_ONLY)
    assert out.matched.tolist() == [True]
    assert out.from_history.tolist() == [True]
    assert out.classes[int(np.argmax(out.proba[0]))] == "bus"
    assert np.isclose(out.proba[0].sum(), 1.0)
    assert np.isclose(out.proba[0][CLASSES.index("bus")], 0.5 * 1.0 + 0.5 * 0.3)  # weight n/(n+1)


def test_more_confirmations_weigh_more_and_mixed_habits_stay_mixed() -> None:
    starts, ends = sections((0.0, 5000.0))
    one = assist(model_says_car(1), CLASSES, starts, ends, [confirmed("bike")])
    three = assist(model_says_car(1), CLASSES, starts, ends, [confirmed("bike")] * 3)
    bike = CLASSES.index("bike")
    assert three.proba[0][bike] > one.proba[0][bike]
    mixed = assist(model_says_car(1), CLASSES, starts, ends, [confirmed("bike"), confirmed("bus")])
    assert mixed.proba[0][bike] > 0.2
    assert mixed.proba[0][CLASSES.index("bus")] > 0.3


def test_both_ends_must_be_within_the_radius() -> None:
    starts, ends = sections((400.0, 5000.0), (0.0, 5400.0), (250.0, 5250.0))
    out = assist(
        model_says_car(3),
        CLASSES,
        starts,
        ends,
        [confirmed("bus")],
        params=HistoryParams(radius_m=300.0, prior_pseudocount=None),
    )
    assert out.matched.tolist() == [False, False, True]
    assert np.array_equal(out.proba[:2], model_says_car(2))


def test_the_way_back_counts_when_nothing_matches_in_the_same_direction() -> None:
    starts, ends = sections((5000.0, 0.0), (0.0, 5000.0))
    home = assist(model_says_car(2), CLASSES, starts, ends, [confirmed("bike")])
    assert home.matched.tolist() == [True, True]
    assert [home.classes[int(k)] for k in np.argmax(home.proba, axis=1)] == ["bike", "bike"]
    # With confirmations in its own direction, a section ignores those of the way back.
    both = assist(
        model_says_car(1),
        CLASSES,
        starts[:1],
        ends[:1],
        [confirmed("bike"), confirmed("bus", start_east_m=5000.0, end_east_m=0.0)],
        params=ROUTE_ONLY,
    )
    assert np.isclose(both.proba[0][CLASSES.index("bus")], 0.5 + 0.5 * 0.3)
    assert np.isclose(both.proba[0][CLASSES.index("bike")], 0.5 * 0.05)


def test_a_mode_the_model_does_not_know_is_added_to_the_classes() -> None:
    starts, ends = sections((0.0, 5000.0), (9000.0, 20000.0))
    out = assist(model_says_car(2), CLASSES, starts, ends, [confirmed("ferry")])
    assert out.classes == (*CLASSES, "ferry")
    assert out.proba.shape == (2, 5)
    assert out.classes[int(np.argmax(out.proba[0]))] == "ferry"
    assert out.proba[1][-1] == 0.0


def test_a_confirmed_plane_is_carried_to_no_other_section() -> None:
    # A flight is named by rule, never by the history. One "plane" tapped by mistake on a bus ride
    # made every ride on that route a plane ("history"), and a flyer's planes were a prior for the
    # rest; now the sections are as without it, beside the tester's other answers.
    starts, ends = sections((0.0, 5000.0), (20000.0, 30000.0))
    classes = (*CLASSES, "plane")
    model = np.hstack((model_says_car(2), np.zeros((2, 1))))
    alone = assist(model, classes, starts, ends, [confirmed("plane")] * 3)
    assert np.array_equal(alone.proba, model)
    assert not alone.from_history.any()
    bus = [confirmed("bus")] * 2
    mixed = assist(model, classes, starts, ends, [*bus, confirmed("plane")])
    assert np.array_equal(mixed.proba, assist(model, classes, starts, ends, bus).proba)
    assert mixed.classes[int(np.argmax(mixed.proba[0]))] == "bus"


def test_without_confirmations_nothing_changes() -> None:
    starts, ends = sections((0.0, 5000.0))
    out = assist(model_says_car(1), CLASSES, starts, ends, [])
    assert out.classes == CLASSES
    assert not out.matched.any()
    assert np.array_equal(out.proba, model_says_car(1))
    empty = assist(np.empty((0, 4)), CLASSES, np.empty((0, 2)), np.empty((0, 2)), [confirmed("ferry")])
    assert empty.proba.shape == (0, 5)


def test_only_the_most_recent_confirmations_are_read() -> None:
    starts, ends = sections((0.0, 5000.0))
    history = [confirmed("bus")] * 5 + [confirmed("bike")]
    out = assist(model_says_car(1), CLASSES, starts, ends, history, params=HistoryParams(max_confirmations=1))
    assert out.classes[int(np.argmax(out.proba[0]))] == "bike"


def test_the_testers_usual_modes_are_the_prior_of_sections_off_their_routes() -> None:
    starts, ends = sections((20000.0, 30000.0))  # far from every confirmed route
    bike_or_car = np.asarray([[0.05, 0.4, 0.1, 0.45]])
    cyclist = assist(bike_or_car, CLASSES, starts, ends, [confirmed("bike")] * 30)
    assert not cyclist.matched.any()
    assert cyclist.classes[int(np.argmax(cyclist.proba[0]))] == "bike"
    assert cyclist.from_history.tolist() == [True]
    # Bayes' rule with the tester's mix (30 bike of 30, one pseudo-count per class) as the prior.
    prior = (np.asarray([0.0, 30.0, 0.0, 0.0]) + 1.0) / (30.0 + 4.0)
    assert np.allclose(cyclist.proba[0], bike_or_car[0] * prior / (bike_or_car[0] * prior).sum())
    # One confirmation doubles its mode's odds against each other mode: a clear answer of the model
    # stands, and then owes nothing to the history.
    once = assist(model_says_car(1), CLASSES, starts, ends, [confirmed("bike")])
    bike, car = CLASSES.index("bike"), CLASSES.index("car")
    assert np.isclose(once.proba[0][bike] / once.proba[0][car], 2.0 * 0.05 / 0.6)
    assert once.classes[int(np.argmax(once.proba[0]))] == "car"
    assert once.from_history.tolist() == [False]
    assert np.isclose(once.proba[0].sum(), 1.0)


def test_usual_modes_count_only_modes_the_model_knows_and_can_be_turned_off() -> None:
    starts, ends = sections((20000.0, 30000.0))
    ferry = assist(model_says_car(1), CLASSES, starts, ends, [confirmed("ferry")] * 5)
    assert np.array_equal(ferry.proba[0][:4], model_says_car(1)[0])
    off = assist(model_says_car(1), CLASSES, starts, ends, [confirmed("bike")] * 30, params=ROUTE_ONLY)
    assert np.array_equal(off.proba, model_says_car(1))
    assert not off.from_history.any()


L_SHAPED = ((0.0, 0.0), (5000.0, 0.0), (5000.0, 3000.0))  # 5 km east, then 3 km north


def test_a_section_along_part_of_a_confirmed_path_takes_its_mode() -> None:
    starts, ends = between(
        ((1000.0, 100.0), (5000.0, 2000.0)),  # boards 1 km in, round the corner, off 2 km later
        ((5000.0, 2000.0), (1000.0, 100.0)),  # the same stretch the other way
        ((1000.0, 1500.0), (4000.0, 1500.0)),  # parallel, 1.5 km away
        ((1000.0, 0.0), (1500.0, 0.0)),  # on the path, but ends 500 m apart (< 2 x 300 m)
    )
    out = assist(
        model_says_car(4), CLASSES, starts, ends, [confirmed_path("bus", *L_SHAPED)], params=ROUTE_ONLY
    )
    assert out.matched.tolist() == [True, False, False, False]
    assert np.isclose(out.proba[0][CLASSES.index("bus")], 0.5 + 0.5 * 0.3)
    assert np.array_equal(out.proba[1:], model_says_car(3))
    # The ends alone match none of them, and a confirmation without a path matches nothing along it.
    assert not assist(
        model_says_car(4), CLASSES, starts, ends, [confirmed("bus")], params=ROUTE_ONLY
    ).matched.any()
    off = HistoryParams(prior_pseudocount=None, along_route=False)
    assert not assist(
        model_says_car(4), CLASSES, starts, ends, [confirmed_path("bus", *L_SHAPED)], params=off
    ).matched.any()


def test_along_a_path_only_modes_the_model_finds_plausible_count() -> None:
    starts, ends = between(((1000.0, 0.0), (4000.0, 0.0)))
    clear_walk = np.asarray([[0.97, 0.01, 0.01, 0.01]])  # a walk beside the confirmed bus line
    out = assist(clear_walk, CLASSES, starts, ends, [confirmed_path("bus", *L_SHAPED)], params=ROUTE_ONLY)
    assert not out.matched.any()
    assert np.array_equal(out.proba, clear_walk)
    # The model has no say on a mode it does not know (only the tester used it).
    tram = assist(clear_walk, CLASSES, starts, ends, [confirmed_path("tram", *L_SHAPED)], params=ROUTE_ONLY)
    assert tram.matched.tolist() == [True]
    # Matching by both ends is held back only across kinds (a clear walk is not made a bus ride,
    # test_a_confident_bike_ride_on_a_route_confirmed_by_car_stays_a_bike); a vehicle is.
    same_ends = between(((0.0, 0.0), (5000.0, 3000.0)))
    same = assist(clear_walk, CLASSES, *same_ends, [confirmed_path("bus", *L_SHAPED)], params=ROUTE_ONLY)
    assert same.matched.tolist() == [False]
    car = np.asarray([[0.01, 0.01, 0.01, 0.97]])
    same = assist(car, CLASSES, *same_ends, [confirmed_path("bus", *L_SHAPED)], params=ROUTE_ONLY)
    assert same.matched.tolist() == [True]


def test_ends_come_first_and_paths_only_fill_in() -> None:
    starts, ends = between(((0.0, 0.0), (5000.0, 0.0)))
    history = [confirmed("bike"), confirmed_path("bus", (-2000.0, 0.0), (8000.0, 0.0))]
    out = assist(model_says_car(1), CLASSES, starts, ends, history, params=ROUTE_ONLY)
    assert np.isclose(out.proba[0][CLASSES.index("bike")], 0.5 + 0.5 * 0.05)  # the bus along: not counted


def test_a_tester_who_confirmed_nothing_gets_their_own_mix_read_from_the_model() -> None:
    starts, ends = sections((20000.0, 30000.0))
    close_call = np.asarray([[0.05, 0.4, 0.45, 0.1]])  # bus, just
    cyclist = np.tile([0.05, 0.8, 0.1, 0.05], (50, 1))  # the model's own view of their last sections
    out = assist(close_call, CLASSES, starts, ends, [], pool=cyclist)
    assert out.classes[int(np.argmax(out.proba[0]))] == "bike"
    # The model, weighed by its own mix, says so: no confirmation decided it.
    assert out.from_history.tolist() == [False]
    assert not out.matched.any()
    seen = cyclist.sum(axis=0) + close_call[0]  # the section itself counts too
    prior = (seen + 1.0) / (51.0 + 4.0)
    assert np.allclose(out.proba[0], close_call[0] * prior / (close_call[0] * prior).sum())
    # Without a pool nothing changes.
    assert np.array_equal(assist(close_call, CLASSES, starts, ends, []).proba, close_call)


def test_only_the_most_recent_sections_make_the_mix_and_confirmations_replace_it() -> None:
    starts, ends = sections((20000.0, 30000.0))
    close_call = np.asarray([[0.05, 0.4, 0.45, 0.1]])
    driver_then_cyclist = np.vstack(
        (np.tile([0.05, 0.05, 0.1, 0.8], (300, 1)), np.tile([0.05, 0.8, 0.1, 0.05], (200, 1)))
    )
    recent = assist(close_call, CLASSES, starts, ends, [], pool=driver_then_cyclist)
    cycling = assist(close_call, CLASSES, starts, ends, [], pool=driver_then_cyclist[-200:])
    assert np.allclose(recent.proba, cycling.proba)
    # One confirmation, and the mix is the tester's answers alone: the model's view carries its
    # own confusions.
    answered = assist(close_call, CLASSES, starts, ends, [confirmed("bus")], pool=driver_then_cyclist)
    alone = usual_modes(close_call, CLASSES, [confirmed("bus")], 1.0)
    assert np.allclose(answered.proba, alone)


def test_within_a_step_each_section_counts_those_before_it_and_itself() -> None:
    rows = np.asarray([[0.1, 0.1, 0.1, 0.7], [0.1, 0.1, 0.7, 0.1]])
    out = own_mix(rows, HistoryParams(prior_pseudocount=1.0, own_sections=200), np.empty((0, 4)))
    first = (rows[0] + 1.0) / (1.0 + 4.0)
    second = (rows[0] + rows[1] + 1.0) / (2.0 + 4.0)
    assert np.allclose(out[0], rows[0] * first / (rows[0] * first).sum())
    assert np.allclose(out[1], rows[1] * second / (rows[1] * second).sum())


def test_a_confident_bike_ride_on_a_route_confirmed_by_car_stays_a_bike() -> None:
    # The tester drove this route four times, then cycled it: the switch the coach is there for.
    starts, ends = sections((0.0, 5000.0))
    cycled = np.asarray([[0.13, 0.86, 0.0003, 0.0097]])
    out = assist(cycled, CLASSES, starts, ends, [confirmed("car")] * 4, params=ROUTE_ONLY)
    assert out.matched.tolist() == [False]
    assert out.classes[int(np.argmax(out.proba[0]))] == "bike"
    # Within vehicles, where the model's confusions are, the confirmations still decide.
    bus_or_car = np.asarray([[0.001, 0.001, 0.018, 0.98]])
    out = assist(bus_or_car, CLASSES, starts, ends, [confirmed("bus")] * 4, params=ROUTE_ONLY)
    assert out.classes[int(np.argmax(out.proba[0]))] == "bus"
    # And a mode the model gives at least the floor (5 %) is taken across kinds too.
    unsure = np.asarray([[0.05, 0.55, 0.05, 0.35]])
    out = assist(unsure, CLASSES, starts, ends, [confirmed("car")] * 4, params=ROUTE_ONLY)
    assert out.classes[int(np.argmax(out.proba[0]))] == "car"


def test_a_confirmed_path_across_the_antimeridian_is_followed_the_short_way() -> None:
    # A ferry in Fiji from 179.8 E to 179.8 W along one parallel, stored as fixes (179.9 then
    # -179.9) or as the section geometry cut at the antimeridian, its parts one after the other.
    lat = -16.8
    lon = np.asarray([179.8, 179.9, -179.9, -179.8])
    fixes = tuple((float(x), lat) for x in lon)
    cut = tuple(line_positions(simplified_linestring(np.full(4, lat), lon)))
    assert (180.0, lat) in cut
    assert (-180.0, lat) in cut
    starts = np.asarray([[lat, 179.95], [lat, -179.85], [lat, 179.9985]])
    ends = np.asarray([[lat, -179.85], [lat, 179.95], [lat, -179.9985]])
    for path in (fixes, cut):
        ferry = Confirmation(
            start_lat=lat, start_lon=179.8, end_lat=lat, end_lon=-179.8, mode="bus", path_lonlat=path
        )
        out = assist(model_says_car(3), CLASSES, starts, ends, [ferry], params=ROUTE_ONLY)
        # Boarded 16 km in, off 11 km later across the line; the way back; 320 m across it (< 600 m).
        assert out.matched.tolist() == [True, False, False]


def test_the_app_asks_about_a_section_whose_most_likely_mode_is_below_the_threshold() -> None:
    proba = np.asarray([[0.05, 0.05, 0.1, 0.8], [0.0, 0.0, 0.21, 0.79], [0.25, 0.25, 0.25, 0.25]])
    assert unsure(proba).tolist() == [False, True, True]
    assert unsure(proba, 0.5).tolist() == [False, False, True]
    assert unsure(np.zeros((0, 4))).shape == (0,)
    assert 0.5 < ASK_BELOW < 1.0


def moving(mode: str, where_east_m: float, point: list[float]) -> Confirmation:
    """A confirmation far from every route of the tests, with its kinematics ``point``."""
    return msgspec.structs.replace(
        confirmed(mode, where_east_m, where_east_m + 3000.0), kinematics=tuple(point)
    )


WALK_LIKE, BUS_LIKE = [0.0, 0.0], [3.0, 3.0]  # two kinematic figures are enough to test the rule


def test_a_section_that_moves_like_the_testers_confirmed_walks_is_surer_walk_on_any_route() -> None:
    mine = [moving("walk", 50_000.0, WALK_LIKE), moving("bus", 60_000.0, BUS_LIKE)] * 3
    starts, ends = sections((0.0, 2000.0), (0.0, 2000.0))  # on a route nobody confirmed
    # The model leans the wrong way on both: bus for the walk, walk for the bus ride.
    unsure_proba = np.asarray([[0.43, 0.05, 0.47, 0.05], [0.47, 0.05, 0.43, 0.05]])
    points = np.asarray([[0.1, 0.0], [2.9, 3.1]])
    out = assist(unsure_proba, CLASSES, starts, ends, mine, points=points)
    assert not out.matched.any()  # no route match: the kinematics decided
    assert [out.classes[i] for i in np.argmax(out.proba, axis=1)] == ["walk", "bus"]
    assert out.from_history.tolist() == [True, True]
    # Without kinematics (confirmed before they were kept, or the match turned off): as the model.
    blind = assist(unsure_proba, CLASSES, starts, ends, [confirmed(c.mode, 50_000.0) for c in mine])
    assert [blind.classes[i] for i in np.argmax(blind.proba, axis=1)] == ["bus", "walk"]
    off = assist(
        unsure_proba, CLASSES, starts, ends, mine, points=points, params=HistoryParams(kinematic_neighbours=0)
    )
    np.testing.assert_allclose(off.proba, blind.proba)


def test_confirmations_all_of_one_mode_say_nothing_through_kinematics() -> None:
    # A tester who has confirmed only bus rides: a clear walk must not be pulled towards bus.
    mine = [moving("bus", 50_000.0, BUS_LIKE)]
    starts, ends = sections((0.0, 2000.0))
    walk = np.asarray([[0.9, 0.02, 0.06, 0.02]])
    with_points = assist(walk, CLASSES, starts, ends, mine, points=np.asarray([WALK_LIKE]))
    without = assist(walk, CLASSES, starts, ends, mine)
    np.testing.assert_allclose(with_points.proba, without.proba)


def test_the_nearest_confirmations_vote_by_closeness() -> None:
    mine = [moving("walk", 0.0, [0.0]), moving("bus", 0.0, [1.5]), moving("bus", 0.0, [9.0])]
    votes = kinematic_votes(np.asarray([[0.5]]), mine, CLASSES, k=2)
    # The two nearest: the walk 0.5 away (1 / 1.0) and the bus 1.0 away (1 / 1.5); not the far bus.
    np.testing.assert_allclose(votes, [[1.0, 0.0, 1.0 / 1.5, 0.0]])
    assert kinematic_votes(np.asarray([[0.5]]), [confirmed("bus")], CLASSES, k=2).sum() == 0.0


def test_kinematics_are_scaled_and_undefined_figures_count_as_zero() -> None:
    x = np.full((2, len(FEATURE_NAMES)), np.nan)
    x[0, FEATURE_NAMES.index("speed_p50_mps")] = np.e - 1.0  # log(1 + x) = 1
    points = kinematics(x)
    assert points.shape == (2, len(KINEMATIC_FEATURES))
    assert points[0, 0] == 1.0 / KINEMATIC_FEATURES[0][1]
    assert not points[1].any()


def answered(mode: str, shown: str, p: float, *, east_m: float = 0.0) -> Confirmation:
    """An answer ``mode`` about a section the app showed as ``shown`` at probability ``p``."""
    plain = confirmed(mode, east_m, east_m + 5000.0)
    return msgspec.structs.replace(plain, shown_mode=shown, shown_probability=p)


def test_agreements_count_as_much_as_the_testers_answers_show_attention() -> None:
    # Shown at 0.6, an attentive tester agrees about 60 % of the time: their agreements count in full.
    attentive = [answered("bus", "bus", 0.6)] * 6 + [answered("car", "bus", 0.6)] * 4
    weights = answer_weights(attentive, 5.0)
    np.testing.assert_allclose(weights, 1.0)
    # One who agrees with everything: q (1 - a) / ((1 - q) a), a = (20 + 5 q) / (20 + 5) = 0.92.
    blind = answer_weights([answered("bus", "bus", 0.6)] * 20, 5.0)
    np.testing.assert_allclose(blind, 0.6 * 0.08 / (0.4 * 0.92))
    # The more answers all agree, the less each counts; a correction always counts in full.
    five = answer_weights([answered("bus", "bus", 0.6)] * 5, 5.0)
    assert blind[0] < five[0] < 1.0
    mostly = answer_weights([answered("bus", "bus", 0.6)] * 18 + [answered("walk", "bus", 0.6)], 5.0)
    assert blind[0] < mostly[0] < 1.0
    assert mostly[-1] == 1.0


def test_answers_without_a_shown_mode_count_in_full_and_the_weighting_can_be_turned_off() -> None:
    mine = [answered("bus", "bus", 0.6)] * 20 + [confirmed("bike")]
    weights = answer_weights(mine, 5.0)
    assert weights[-1] == 1.0
    assert weights[0] < 0.2
    np.testing.assert_allclose(answer_weights(mine, None), 1.0)
    # A mode shown as certain (a rule, or the tester's own answer) makes agreeing no evidence.
    np.testing.assert_allclose(answer_weights([answered("bus", "bus", 1.0)] * 20, 5.0), 1.0)


def test_the_weighing_a_tester_sees_is_the_one_their_agreements_get() -> None:
    mine = [answered("bus", "bus", 0.6)] * 18 + [answered("walk", "bus", 0.7), confirmed("bike")]
    seen = answer_weighing(mine, 5.0)
    assert (seen.answers, seen.with_shown_mode, seen.agreed, seen.corrected) == (20, 19, 18, 1)
    q = (18 * 0.6 + 0.7) / 19
    assert seen.mean_probability_shown == pytest.approx(q)
    assert seen.agreement_rate == pytest.approx((18 + 5.0 * q) / (19 + 5.0))
    assert seen.agreement_weight == pytest.approx(answer_weights(mine, 5.0)[0])
    assert seen.agreement_weight < 1.0
    # Counted in full, the rate is the answers' own; nothing to weigh without a mode shown.
    whole = answer_weighing(mine, None)
    assert whole.agreement_rate == pytest.approx(18 / 19)
    assert whole.agreement_weight == 1.0
    none = answer_weighing([confirmed("bike")], 5.0)
    assert (none.mean_probability_shown, none.agreement_rate, none.agreement_weight) == (None, None, 1.0)


def test_however_often_a_tester_agrees_without_looking_it_weighs_as_a_few_answers() -> None:
    # The model says bus at 0.55 where it is really a car ride, and the tester always agrees.
    proba = np.asarray([[0.02, 0.03, 0.55, 0.40]])
    starts, ends = sections((0.0, 5000.0))  # on the confirmed route
    in_full = HistoryParams(prior_pseudocount=None, agreement_pseudocount=None)
    bus = CLASSES.index("bus")

    def shown_bus(times: int, params: HistoryParams) -> float:
        blind = [answered("bus", "bus", 0.55)] * times
        return float(assist(proba, CLASSES, starts, ends, blind, params=params).proba[0][bus])

    # Counted in full, agreements make the model's mistake certain; weighed, all of them together
    # count about as much as pseudocount * q = 5.5 answers (weight 5.5 / 6.5), however many there are.
    assert shown_bus(200, in_full) > 0.99
    bound = 5.5 / 6.5 + 0.55 / 6.5
    assert shown_bus(20, ROUTE_ONLY) < shown_bus(200, ROUTE_ONLY) < bound
    assert bound - shown_bus(20, ROUTE_ONLY) < 0.03
    # Their agreements weigh less in the kinematic vote too.
    mine = [msgspec.structs.replace(answered("bus", "bus", 0.55), kinematics=(0.0, 0.0))] * 20
    mine += [msgspec.structs.replace(answered("car", "bus", 0.55), kinematics=(3.0, 3.0))]
    points = np.asarray([[0.0, 0.0]])
    weights = answer_weights(mine, 5.0)
    weighed = kinematic_votes(points, mine, CLASSES, 5, weights)
    np.testing.assert_allclose(weighed, kinematic_votes(points, mine, CLASSES, 5) * weights[0])
