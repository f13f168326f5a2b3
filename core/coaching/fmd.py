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
if ``count_walk_only_days`` is set. A day qualifies when all its sections (by local start date)
are eligible or neutral and at least one is eligible.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

import msgspec

from core.co2.modes import Mode
from core.coaching.periods import DEFAULT_TIME_ZONE, local_date
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
    """The sustainable-mobility days of ``year`` (local dates), with counts per month."""
    tz = ZoneInfo(params.time_zone)
    by_day: dict[date, list[SectionRecord]] = {}
    for section in sections:
        day = local_date(section.start, tz)
        if day.year == year:
            by_day.setdefault(day, []).append(section)
    days = sorted(day for day, legs in by_day.items() if day_eligible(legs, params))
    by_month: dict[int, int] = {}
    for day in days:
        by_month[day.month] = by_month.get(day.month, 0) + 1
    return FmdDays(year=year, days=days, total=len(days), by_month=by_month)
