"""Matching rules, one behaviour per test, on hand-built offers."""

from __future__ import annotations

import uuid

import msgspec
import numpy as np

from core.carpool import DEFAULT_MATCH_PARAMS, Side, match_id, match_offers
from core.carpool.index import close_pairs, haversine_m
from core.co2 import Mode
from tests.unit.carpool.builders import HOME, WORK, moved, offer


def test_two_commutes_that_fit_are_matched() -> None:
    a = offer(depart="07:45")
    b = offer(origin=moved(HOME, north_m=400), destination=moved(WORK, east_m=-300), depart="07:50")
    [p] = match_offers([a, b])
    assert {p.user_low, p.user_high} == {a.user_id, b.user_id}
    assert p.match_id == match_id(b.user_id, a.user_id)
    assert len(p.legs) == 1


def test_a_departure_one_hour_later_is_not_matched() -> None:
    assert match_offers([offer(depart="07:45"), offer(depart="08:45")]) == []


def test_departures_twenty_minutes_apart_still_fit() -> None:
    assert len(match_offers([offer(depart="07:45"), offer(depart="08:15")])) == 1  # gap 20 min


def test_origins_farther_than_the_radius_are_not_matched() -> None:
    assert match_offers([offer(), offer(origin=moved(HOME, north_m=1700))]) == []


def test_no_shared_weekday_no_match() -> None:
    assert match_offers([offer(weekdays=0b0000011), offer(weekdays=0b0011100)]) == []


def test_someone_must_be_able_to_drive() -> None:
    assert match_offers([offer(mode=Mode.BUS), offer(mode=Mode.BUS)]) == []


def test_the_only_car_owner_drives() -> None:
    a, b = offer(mode=Mode.CAR), offer(mode=Mode.BUS, origin=moved(HOME, east_m=300))
    [p] = match_offers([a, b])
    driver = p.user_low if p.legs[0].driver is Side.LOW else p.user_high
    assert driver == a.user_id


def test_a_passenger_who_cycles_is_not_proposed_because_nothing_is_saved() -> None:
    assert match_offers([offer(mode=Mode.CAR), offer(mode=Mode.BIKE, can_drive=False)]) == []


def test_a_large_detour_is_refused() -> None:
    far_apart = msgspec.structs.replace(DEFAULT_MATCH_PARAMS, max_detour_m=200.0)
    a, b = offer(), offer(origin=moved(HOME, north_m=1000), destination=moved(WORK, north_m=-1000))
    assert match_offers([a, b], far_apart) == []
    assert len(match_offers([a, b])) == 1


def test_two_offers_of_the_same_tester_never_match() -> None:
    user = uuid.uuid4()
    assert match_offers([offer(user=user, seq=0), offer(user=user, seq=1)]) == []


def test_an_excluded_pair_never_comes_back() -> None:
    a, b = offer(), offer()
    assert match_offers([a, b], excluded={match_id(a.user_id, b.user_id)}) == []


def test_savings_split_the_car_between_driver_and_passenger() -> None:
    a, b = offer(distance_m=10_000), offer(distance_m=10_000)
    [p] = match_offers([a, b])
    leg = p.legs[0]
    per_year = 5 * DEFAULT_MATCH_PARAMS.savings.working_weeks_per_year
    # no detour: each saves half of a 10 km solo car trip, 0.5 x 1.4225 kg, every shared weekday
    assert abs(leg.low_co2_kg_per_year - 0.71125 * per_year) < 0.01
    assert abs(leg.high_co2_kg_per_year - 0.71125 * per_year) < 0.01
    assert abs(leg.low_eur_per_year - 3.18 * per_year) < 1.0  # half of 10 km at 0.636 EUR/km


def test_each_tester_gets_at_most_the_cap_of_partners() -> None:
    few = msgspec.structs.replace(DEFAULT_MATCH_PARAMS, max_proposals_per_tester=2)
    offers = [offer(origin=moved(HOME, north_m=10 * k)) for k in range(6)]
    proposals = match_offers(offers, few)
    for o in offers:
        assert sum(o.user_id in (p.user_low, p.user_high) for p in proposals) <= 2


def test_the_shown_window_is_the_overlap_of_both() -> None:
    [p] = match_offers([offer(depart="07:45", width_min=20), offer(depart="07:55", width_min=20)])
    assert (p.legs[0].depart_from_min, p.legs[0].depart_to_min) == (7 * 60 + 45, 7 * 60 + 55)


def test_legs_carry_zones_not_coordinates() -> None:
    [p] = match_offers([offer(), offer()])
    text = msgspec.json.encode(p).decode()
    assert "46.17" not in text
    assert "-1.1" not in text
    assert p.legs[0].origin_zone.startswith("z2000:")


def test_the_grid_index_finds_exactly_the_pairs_a_pairwise_loop_finds() -> None:
    rng = np.random.default_rng(7)
    n = 400
    o_lat, o_lon = 46.15 + rng.normal(0, 0.03, n), -1.12 + rng.normal(0, 0.04, n)
    d_lat, d_lon = 46.16 + rng.normal(0, 0.02, n), -1.15 + rng.normal(0, 0.03, n)
    i, j = close_pairs(o_lat, o_lon, d_lat, d_lon, origin_radius_m=1500, destination_radius_m=1500)
    found = set(zip(i.tolist(), j.tolist(), strict=True))
    a, b = np.triu_indices(n, k=1)
    near = (haversine_m(o_lat[a], o_lon[a], o_lat[b], o_lon[b]) <= 1500) & (
        haversine_m(d_lat[a], d_lon[a], d_lat[b], d_lon[b]) <= 1500
    )
    assert found == set(zip(a[near].tolist(), b[near].tolist(), strict=True))
    assert len(found) > 50
