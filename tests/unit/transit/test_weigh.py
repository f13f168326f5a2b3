"""core.transit: the stops at a section's ends weigh its transit modes; a crossing is a ferry."""

from __future__ import annotations

import numpy as np
import pytest

from core.geodesy import EARTH_RADIUS_M
from core.transit import DEFAULT_TRANSIT, TransitParams, TransitStop, TransitStops, weigh

CLASSES = ("walk", "bike", "bus", "car", "metro")
M_PER_DEG = np.pi * EARTH_RADIUS_M / 180.0
LAT0 = 46.16  # La Rochelle


def at(east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    """(lat, lon) of a point metres east and north of the reference."""
    return LAT0 + north_m / M_PER_DEG, -1.15 + east_m / (M_PER_DEG * np.cos(np.radians(LAT0)))


def stop(east_m: float, north_m: float = 0.0, *routes: tuple[str, str]) -> TransitStop:
    lat, lon = at(east_m, north_m)
    return TransitStop(lat=lat, lon=lon, routes=routes)


BUS_1 = ("f:1", "bus")
BUS_2 = ("f:2", "bus")
METRO_A = ("f:A", "metro")
FERRY = ("f:bateau", "ferry")
NETWORK_STOPS = (
    stop(0.0, 0.0, BUS_1),
    stop(4000.0, 0.0, BUS_1),
    stop(0.0, 1000.0, BUS_2),
    stop(0.0, 3000.0, METRO_A),
    stop(4000.0, 3000.0, METRO_A),
)
NETWORK = TransitStops.of(NETWORK_STOPS)
CLOSE_CALL = np.array([[0.05, 0.05, 0.4, 0.45, 0.05]])  # the model finds it slightly more car


def weighed(
    start: tuple[float, float],
    end: tuple[float, float],
    stops: TransitStops | None = NETWORK,
    proba: np.ndarray = CLOSE_CALL,
    *,
    distance_m: float | None = None,
    duration_s: float = 600.0,
    params: TransitParams = DEFAULT_TRANSIT,
) -> tuple[np.ndarray, tuple[str, ...]]:
    starts, ends = np.array([at(*start)]), np.array([at(*end)])
    length = distance_m if distance_m is not None else float(np.hypot(end[0] - start[0], end[1] - start[1]))
    out = weigh(
        proba,
        CLASSES,
        stops,
        starts=starts,
        ends=ends,
        distance_m=np.array([length]),
        duration_s=np.array([duration_s]),
        params=params,
    )
    return out.proba, out.classes


def bayes(proba: np.ndarray, factors: dict[str, float]) -> np.ndarray:
    out = proba.copy()
    for mode, f in factors.items():
        out[:, CLASSES.index(mode)] *= f
    return np.asarray(out / out.sum(axis=1, keepdims=True), dtype=np.float64)


def test_a_ride_between_two_stops_of_one_bus_route_weighs_bus_by_the_served_factor() -> None:
    # 40 m and 60 m off the stops, as a phone at the shelter would be; no metro station near either
    # end although the network has some within 10 km: metro halves.
    proba, classes = weighed((40.0, 0.0), (4000.0, 60.0))
    assert classes == CLASSES
    np.testing.assert_allclose(proba, bayes(CLOSE_CALL, {"bus": 3.0, "metro": 0.5}))
    assert classes[int(np.argmax(proba))] == "bus"


def test_stops_of_two_different_routes_or_one_end_only_do_not_serve_a_ride() -> None:
    # From route 2's stop to route 1's far stop: no route joins them (a transfer was not seen).
    two_routes, _ = weighed((0.0, 1000.0), (4000.0, 0.0))
    one_end, _ = weighed((0.0, 0.0), (2000.0, 0.0))
    for proba in (two_routes, one_end):
        np.testing.assert_allclose(proba, bayes(CLOSE_CALL, {"metro": 0.5}))


def test_a_ride_far_from_every_bus_stop_of_a_covered_area_weighs_bus_down() -> None:
    proba, classes = weighed((2000.0, -2000.0), (6000.0, -2000.0))
    np.testing.assert_allclose(proba, bayes(CLOSE_CALL, {"bus": 0.5, "metro": 0.5}))
    assert classes[int(np.argmax(proba))] == "car"


def test_where_the_network_has_no_stop_nothing_changes() -> None:
    proba, classes = weighed((100_000.0, 0.0), (104_000.0, 0.0))  # 100 km away: not covered
    np.testing.assert_array_equal(proba, CLOSE_CALL)
    assert classes == CLASSES


def test_stations_are_reached_from_further_away_than_bus_stops() -> None:
    # 250 m off two metro stations: the first fix after a tunnel is often at an exit.
    proba, _ = weighed((250.0, 3000.0), (4000.0, 3250.0))
    np.testing.assert_allclose(proba, bayes(CLOSE_CALL, {"metro": 3.0, "bus": 0.5}))
    # 250 m off two bus stops is near no bus stop at all, in an area the network covers: bus halves.
    proba, _ = weighed((0.0, -250.0), (4000.0, -250.0))
    np.testing.assert_allclose(proba, bayes(CLOSE_CALL, {"bus": 0.5, "metro": 0.5}))


def test_a_ride_that_starts_and_ends_at_the_same_stop_is_not_served() -> None:
    proba, _ = weighed((20.0, 0.0), (-40.0, 30.0))
    np.testing.assert_allclose(proba, bayes(CLOSE_CALL, {"metro": 0.5}))


FERRY_NETWORK = TransitStops.of([stop(0.0, 0.0, FERRY), stop(2000.0, 0.0, FERRY), stop(0.0, 500.0, BUS_1)])


def test_a_straight_crossing_between_two_piers_of_a_ferry_route_is_a_ferry() -> None:
    # 2 km in 8 minutes (4.2 m/s), 5 % longer than the straight line.
    proba, classes = weighed((30.0, 0.0), (1980.0, 20.0), FERRY_NETWORK, distance_m=2050.0, duration_s=480.0)
    assert classes == (*CLASSES, "ferry")
    np.testing.assert_array_equal(proba, [[0.0, 0.0, 0.0, 0.0, 0.0, 1.0]])


@pytest.mark.parametrize(
    ("distance_m", "duration_s", "why"),
    [
        (2050.0, 1500.0, "1.4 m/s: a walk along the quay"),
        (3200.0, 720.0, "1.6 times the straight line: round the harbour by road"),
    ],
)
def test_a_trip_between_the_piers_that_is_no_crossing_is_not_a_ferry(
    distance_m: float, duration_s: float, why: str
) -> None:
    proba, classes = weighed(
        (30.0, 0.0), (1980.0, 20.0), FERRY_NETWORK, distance_m=distance_m, duration_s=duration_s
    )
    assert classes == (*CLASSES, "ferry")  # the same columns for every section of this network
    assert proba[0, -1] == 0.0, why
    np.testing.assert_allclose(proba[0, :-1], bayes(CLOSE_CALL, {"bus": 0.5})[0], err_msg=why)


def test_without_a_network_or_when_disabled_nothing_changes() -> None:
    for stops, params in (
        (None, TransitParams()),
        (TransitStops.of([]), TransitParams()),
        (NETWORK, TransitParams(enabled=False)),
    ):
        proba, classes = weighed((40.0, 0.0), (4000.0, 60.0), stops, params=params)
        np.testing.assert_array_equal(proba, CLOSE_CALL)
        assert classes == CLASSES


def test_the_network_finds_the_routes_near_a_point_by_their_modes_radius() -> None:
    params = TransitParams()
    assert NETWORK.routes_near(*at(0.0, 60.0), params) == {NETWORK.route_modes.index("bus")}
    assert NETWORK.routes_near(*at(0.0, 200.0), params) == set()
    assert NETWORK.routes_near(*at(0.0, 3290.0), params) == {NETWORK.route_modes.index("metro")}
    assert NETWORK.covers("metro", *at(5000.0, 5000.0))
    assert not NETWORK.covers("ferry", *at(0.0, 0.0))


def complete(stops: list[TransitStop]) -> list[TransitStop]:
    return [TransitStop(lat=s.lat, lon=s.lon, routes=s.routes, complete=True) for s in stops]


BUSES_ONLY = [stop(0.0, 0.0, BUS_1), stop(4000.0, 0.0, BUS_1), stop(0.0, 1000.0, BUS_2)]


def without_metro(proba: np.ndarray) -> np.ndarray:
    """``proba`` with metro's probability shared out between the other vehicles (bus, car)."""
    out = proba.copy()
    metro = out[:, CLASSES.index("metro")].copy()
    out[:, CLASSES.index("metro")] = 0.0
    for mode in ("bus", "car"):
        out[:, CLASSES.index(mode)] += metro / 2.0
    return out


def test_where_the_feeds_are_declared_complete_a_mode_without_stops_there_is_absent() -> None:
    # La Rochelle: buses, no metro. Declared complete, a road ride the model half reads as metro
    # loses metro to the vehicles the city has; not declared, the feed says nothing about metro.
    metro_or_car = np.array([[0.02, 0.02, 0.06, 0.4, 0.5]])
    declared, classes = weighed(
        (2000.0, -2000.0), (6000.0, -2000.0), TransitStops.of(complete(BUSES_ONLY)), metro_or_car
    )
    np.testing.assert_allclose(declared, without_metro(bayes(metro_or_car, {"bus": 0.5})))
    assert classes[int(np.argmax(declared))] == "car"
    # Sure of a metro the city lacks: a vehicle, but which one the model cannot say. Unsure.
    sure_metro = np.array([[0.0, 0.0, 0.0001, 0.0001, 0.9998]])
    vehicle, _ = weighed(
        (2000.0, -2000.0), (6000.0, -2000.0), TransitStops.of(complete(BUSES_ONLY)), sure_metro
    )
    np.testing.assert_allclose(vehicle[0, [2, 3, 4]], [0.5, 0.5, 0.0], atol=1e-3)
    silent, _ = weighed((40.0, 0.0), (4000.0, 60.0), TransitStops.of(BUSES_ONLY), metro_or_car)
    np.testing.assert_allclose(silent, bayes(metro_or_car, {"bus": 3.0}))
    # Far from every bus stop but in the area: bus is only unserved (the city has buses).
    far, _ = weighed((2000.0, -2000.0), (6000.0, -2000.0), TransitStops.of(complete(BUSES_ONLY)))
    np.testing.assert_allclose(far, without_metro(bayes(CLOSE_CALL, {"bus": 0.5})))


def test_a_mode_is_absent_only_where_both_ends_lie_in_the_declared_area_and_no_stop_of_it_is_near() -> None:
    stops = TransitStops.of(complete(BUSES_ONLY))
    # To a place 100 km away, where no complete feed has a stop: a metro there is not ruled out.
    away, _ = weighed((2000.0, -2000.0), (100_000.0, 0.0), stops)
    np.testing.assert_allclose(away, bayes(CLOSE_CALL, {"bus": 0.5}))
    # A complete network with metro stations nearby: metro is unserved, not absent.
    with_metro, _ = weighed(
        (2000.0, -2000.0), (6000.0, -2000.0), TransitStops.of(complete(list(NETWORK_STOPS)))
    )
    np.testing.assert_allclose(with_metro, bayes(CLOSE_CALL, {"bus": 0.5, "metro": 0.5}))
    # Its metro 60 km away, in no neighbouring cell of the ride's: absent in this city.
    far_metro = complete([*BUSES_ONLY, stop(60_000.0, 0.0, METRO_A), stop(64_000.0, 0.0, METRO_A)])
    elsewhere, _ = weighed((2000.0, -2000.0), (6000.0, -2000.0), TransitStops.of(far_metro))
    np.testing.assert_allclose(elsewhere, without_metro(bayes(CLOSE_CALL, {"bus": 0.5})))
    assert stops.lacks("metro", *at(0.0, 0.0))
    assert not stops.lacks("bus", *at(0.0, 0.0))
    assert not stops.lacks("metro", *at(100_000.0, 0.0))
