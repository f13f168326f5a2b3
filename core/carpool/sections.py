"""Which of a tester's car sections are a confirmed carpool (occupancy 2 or more).

Once both testers of a match said yes, their car trips on the shared corridor, on the shared
weekdays, around the shared departure time and since the day they agreed, are counted as carpools:
the car's footprint is then divided by its occupants (:func:`core.co2.footprint_kg`). A tester who
drove alone that day can correct it; the default follows their stated intention.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from core.co2.modes import Mode
from core.coaching.geo import haversine_m
from core.coaching.periods import DEFAULT_TIME_ZONE
from core.coaching.records import LatLon, SectionRecord


class SharedCommute(msgspec.Struct, frozen=True, kw_only=True):
    """One confirmed leg, from the tester's own side: their own (snapped) offer ends."""

    origin: LatLon
    destination: LatLon
    weekdays: int
    depart_from_min: int
    depart_to_min: int
    since: datetime


class CarpoolSectionParams(msgspec.Struct, frozen=True, kw_only=True):
    """``radius_m``: how far a trip's ends may be from the offer's (recurring-trip radius 250 m plus
    the offer's 100 m snapping, doubled for GPS drift); ``tolerance_min``: around the window."""

    radius_m: float = 700.0
    tolerance_min: float = 20.0
    occupants: int = 2
    time_zone: str = DEFAULT_TIME_ZONE


DEFAULT_CARPOOL_SECTION_PARAMS = CarpoolSectionParams()


def _on_commute(s: SectionRecord, c: SharedCommute, tz: ZoneInfo, p: CarpoolSectionParams) -> bool:
    local = s.start.astimezone(tz)
    minute = local.hour * 60 + local.minute
    return (
        s.start >= c.since
        and bool(c.weekdays >> local.weekday() & 1)
        and c.depart_from_min - p.tolerance_min <= minute <= c.depart_to_min + p.tolerance_min
        and haversine_m(s.origin, c.origin) <= p.radius_m
        and haversine_m(s.destination, c.destination) <= p.radius_m
    )


def carpool_sections(
    sections: Sequence[SectionRecord],
    commutes: Sequence[SharedCommute],
    params: CarpoolSectionParams = DEFAULT_CARPOOL_SECTION_PARAMS,
) -> list[SectionRecord]:
    """The car sections on a shared commute that are not yet counted as carpools, with their
    ``occupants`` raised to ``params.occupants`` (their footprint still to be recomputed).

    A section's ``origin``/``destination`` are those of its trip (door to door)."""
    tz = ZoneInfo(params.time_zone)
    return [
        msgspec.structs.replace(s, occupants=params.occupants)
        for s in sections
        if s.mode is Mode.CAR
        and s.occupants < params.occupants
        and any(_on_commute(s, c, tz, params) for c in commutes)
    ]
