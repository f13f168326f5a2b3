"""Corridor contributions for the release, and which sections become carpools."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from core.carpool import (
    SharedCommute,
    carpool_sections,
    corridor_contributions,
    corridor_totals,
    match_offers,
)
from core.co2 import Mode
from core.coaching import SectionRecord
from tests.unit.carpool.builders import HOME, PARIS, WORK, moved, offer


def _grid(lat: float, lon: float) -> str:
    return f"g{round(lat, 1)}_{round(lon, 1)}"  # 0.1 degree cells: the test places share one


def test_corridor_rows_count_each_side_of_a_pair_and_only_sharing_testers() -> None:
    a, b, c = offer(), offer(origin=moved(HOME, north_m=200)), offer(origin=moved(HOME, east_m=200))
    proposals = match_offers([a, b, c])
    ends = {(o.user_id, o.seq): (o.origin, o.destination) for o in (a, b, c)}
    rows = corridor_contributions(proposals, ends, _grid, {a.user_id, b.user_id})
    assert {r.user_id for r in rows} == {a.user_id, b.user_id}
    [total] = corridor_totals(rows)
    assert total.contributors == 2
    assert total.matches == 2  # a and b count each other, not c, who does not share aggregates
    assert total.time_band == "07:00"


def test_a_partner_who_does_not_share_changes_no_released_row() -> None:
    a, b = offer(), offer(origin=moved(HOME, north_m=200))
    ends = {(o.user_id, o.seq): (o.origin, o.destination) for o in (a, b)}
    sharing = {a.user_id, b.user_id}
    alone = corridor_contributions(match_offers([a, b]), ends, _grid, sharing)
    for c in (offer(origin=moved(HOME, east_m=200)), offer(origin=moved(HOME, north_m=-1300))):
        with_c = corridor_contributions(
            match_offers([a, b, c]), {**ends, (c.user_id, c.seq): (c.origin, c.destination)}, _grid, sharing
        )
        assert with_c == alone


def test_a_leg_whose_offer_is_gone_contributes_nothing() -> None:
    a, b = offer(), offer()
    proposals = match_offers([a, b])
    ends = {(a.user_id, 0): (a.origin, a.destination)}
    assert corridor_contributions(proposals, ends, _grid, {a.user_id, b.user_id}) == []


def _section(start: datetime, *, mode: Mode = Mode.CAR, origin: tuple[float, float] = HOME) -> SectionRecord:
    return SectionRecord(
        trip_id=str(uuid.uuid4()),
        section_id=str(uuid.uuid4()),
        start=start,
        end=start + timedelta(minutes=15),
        mode=mode,
        distance_m=7000,
        co2_kg=1.0,
        origin=origin,
        destination=WORK,
    )


COMMUTE = SharedCommute(
    origin=HOME,
    destination=WORK,
    weekdays=0b0011111,
    depart_from_min=7 * 60 + 40,
    depart_to_min=7 * 60 + 50,
    since=datetime(2026, 3, 1, tzinfo=UTC),
)
MONDAY_0745 = datetime(2026, 3, 2, 7, 45, tzinfo=PARIS)


def test_a_car_trip_on_the_shared_commute_becomes_a_carpool() -> None:
    [s] = carpool_sections([_section(MONDAY_0745)], [COMMUTE])
    assert s.occupants == 2


def test_trips_before_the_agreement_off_corridor_on_weekends_or_not_by_car_stay_as_they_are() -> None:
    sections = [
        _section(MONDAY_0745 - timedelta(days=7)),
        _section(MONDAY_0745, origin=moved(HOME, north_m=3000)),
        _section(MONDAY_0745 + timedelta(days=5)),
        _section(MONDAY_0745, mode=Mode.BUS),
        _section(MONDAY_0745 + timedelta(hours=2)),
    ]
    assert carpool_sections(sections, [COMMUTE]) == []
