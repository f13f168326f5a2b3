"""Sustainable-mobility days for the French Forfait Mobilités Durables (FMD).

Eligible means, per article L. 3261-3-1 of the Code du travail (loi d'orientation des mobilités,
2019) and décret n° 2020-541 du 9 mai 2020 (which defines the shared mobility services):
a personal cycle or pedal-assisted cycle, carpooling as driver or passenger, public transport of
persons, and shared (rented or free-floating) non-thermal two-wheelers and personal devices.

Mapping of Sillage's modes: bike and e-bike are eligible; a car is eligible only with at least
``min_carpool_occupants`` people aboard (carpooling); bus, tram, metro and train are public
transport; ferry is counted as public transport, since urban networks run passenger boats as
lines of their own (La Rochelle's Yélo network has its "bus de mer" and "passeur"). Motorbikes
(personal and usually thermal) and planes are not eligible. Walking is not in the list: it is
neutral, so the walk to a bus stop does not spoil a day, but a day of walking alone only counts
if ``count_walk_only_days`` is set.

Only home-work trips count: the FMD pays for "les trajets entre leur résidence habituelle et leur
lieu de travail" (L. 3261-3-1), and the attestation swears to those trips alone. A trip is a
home-work trip when its purpose is ``commute`` (named from the tester's home and work places,
:mod:`core.coaching.purpose`). A day qualifies when all the sections of its home-work trips (by
local start date) are eligible or neutral and at least one is eligible; its other trips (a
Saturday bike ride, a car trip to the shops after work) neither qualify it nor spoil it. Days made
only by eligible means but with no trip known as home-work are counted apart
(``other_sustainable_days``), so that a tester whose workplace is not known yet sees why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

import msgspec

from core.co2.modes import Mode
from core.coaching.periods import DEFAULT_TIME_ZONE, local_date
from core.coaching.purpose import Purpose
from core.coaching.records import SectionRecord

_ELIGIBLE = frozenset({Mode.BIKE, Mode.E_BIKE, Mode.BUS, Mode.TRAM, Mode.METRO, Mode.TRAIN, Mode.FERRY})
_NEUTRAL = frozenset({Mode.WALK})


class FmdParams(msgspec.Struct, frozen=True, kw_only=True):
    min_carpool_occupants: int = 2
    count_walk_only_days: bool = False
    time_zone: str = DEFAULT_TIME_ZONE


DEFAULT_FMD_PARAMS = FmdParams()


class FmdDays(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    days: list[date]
    total: int
    by_month: dict[int, int]  # month number (1-12) -> days; months without any are left out
    # Days whose travel would qualify but where no trip is known as home-work (not counted).
    other_sustainable_days: int = 0


def section_eligible(section: SectionRecord, params: FmdParams = DEFAULT_FMD_PARAMS) -> bool:
    """Whether this section is made with an FMD-eligible means of transport."""
    if section.mode is Mode.CAR:
        return section.occupants >= params.min_carpool_occupants
    return section.mode in _ELIGIBLE


def day_eligible(sections: Sequence[SectionRecord], params: FmdParams = DEFAULT_FMD_PARAMS) -> bool:
    """Whether a day with these sections is a sustainable-mobility day (rule in the module docstring)."""
    if not sections:
        return False
    eligible = [section_eligible(s, params) for s in sections]
    if not all(ok or s.mode in _NEUTRAL for ok, s in zip(eligible, sections, strict=True)):
        return False
    return any(eligible) or params.count_walk_only_days


def fmd_days(sections: Sequence[SectionRecord], year: int, params: FmdParams = DEFAULT_FMD_PARAMS) -> FmdDays:
    """The sustainable-mobility days of ``year`` (local dates) made by home-work trips, with counts
    per month (rule in the module docstring)."""
    tz = ZoneInfo(params.time_zone)
    by_day: dict[date, list[SectionRecord]] = {}
    for section in sections:
        day = local_date(section.start, tz)
        if day.year == year:
            by_day.setdefault(day, []).append(section)
    days: list[date] = []
    others = 0
    for day in sorted(by_day):
        commutes = [s for s in by_day[day] if s.purpose == Purpose.COMMUTE]
        if commutes:
            if day_eligible(commutes, params):
                days.append(day)
        elif day_eligible(by_day[day], params):
            others += 1
    by_month: dict[int, int] = {}
    for day in days:
        by_month[day.month] = by_month.get(day.month, 0) + 1
    return FmdDays(year=year, days=days, total=len(days), by_month=by_month, other_sustainable_days=others)
