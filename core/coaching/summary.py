"""Footprint per day, ISO week or month, by mode and by trip purpose, with the trend.

The trend compares the current period with the one before it and with the mean of the previous
``previous_periods`` periods: one previous week is noisy (a holiday, a trip away), a four-week mean
is steadier. Percentages are ``None`` when the reference is zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import msgspec

from core.coaching.periods import DEFAULT_TIME_ZONE, Period, local_date, period_start, shift
from core.coaching.records import SectionRecord

UNKNOWN_PURPOSE = "unknown"


class SummaryParams(msgspec.Struct, frozen=True, kw_only=True):
    time_zone: str = DEFAULT_TIME_ZONE
    previous_periods: int = 4


DEFAULT_SUMMARY_PARAMS = SummaryParams()


class PeriodFootprint(msgspec.Struct, frozen=True, kw_only=True):
    """One period's totals; ``end`` is the first date of the next period (exclusive)."""

    period: Period
    start: date
    end: date
    total_kg: float
    distance_m: float
    section_count: int
    by_mode_kg: dict[str, float]
    by_purpose_kg: dict[str, float]
    # Trips with a section to confirm (its mode unsure, not confirmed), and those sections' kgCO2e:
    # the part of the total the tester's answers may still change.
    to_confirm_trips: int = 0
    to_confirm_kg: float = 0.0


class Trend(msgspec.Struct, frozen=True, kw_only=True):
    """Current minus reference, in kg and in percent of the reference (None if it is zero)."""

    reference_kg: float
    delta_kg: float
    delta_pct: float | None


class FootprintReport(msgspec.Struct, frozen=True, kw_only=True):
    current: PeriodFootprint
    previous: list[PeriodFootprint]  # most recent first
    vs_previous: Trend
    vs_average: Trend


def trend(current_kg: float, reference_kg: float) -> Trend:
    """``current_kg`` against ``reference_kg``: the signed change in kg and in percent."""
    delta = current_kg - reference_kg
    pct = None if reference_kg == 0 else 100.0 * delta / reference_kg
    return Trend(reference_kg=reference_kg, delta_kg=delta, delta_pct=pct)


def period_footprint(
    sections: Sequence[SectionRecord], period: Period, start: date, tz: ZoneInfo
) -> PeriodFootprint:
    """Totals of the sections starting (local time) in the ``period`` beginning on ``start``."""
    end = shift(start, period, 1)
    by_mode: dict[str, float] = {}
    by_purpose: dict[str, float] = {}
    total = distance = unsure_kg = 0.0
    count = 0
    unsure_trips: set[str] = set()
    for section in sections:
        if not start <= local_date(section.start, tz) < end:
            continue
        if section.to_confirm:
            unsure_trips.add(section.trip_id)
            unsure_kg += section.co2_kg
        count += 1
        total += section.co2_kg
        distance += section.distance_m
        by_mode[section.mode.value] = by_mode.get(section.mode.value, 0.0) + section.co2_kg
        purpose = section.purpose or UNKNOWN_PURPOSE
        by_purpose[purpose] = by_purpose.get(purpose, 0.0) + section.co2_kg
    return PeriodFootprint(
        period=period,
        start=start,
        end=end,
        total_kg=total,
        distance_m=distance,
        section_count=count,
        by_mode_kg=dict(sorted(by_mode.items())),
        by_purpose_kg=dict(sorted(by_purpose.items())),
        to_confirm_trips=len(unsure_trips),
        to_confirm_kg=unsure_kg,
    )


def footprint_report(
    sections: Sequence[SectionRecord],
    period: Period,
    at: datetime,
    params: SummaryParams = DEFAULT_SUMMARY_PARAMS,
) -> FootprintReport:
    """The period containing ``at`` (local time) with its trend against the previous periods.

    Sections outside the compared window are ignored, so callers may pass a whole year.
    """
    tz = ZoneInfo(params.time_zone)
    current_start = period_start(local_date(at, tz), period)
    window_start = shift(current_start, period, -max(params.previous_periods, 1))
    window_end = shift(current_start, period, 1)
    in_window = [s for s in sections if window_start <= local_date(s.start, tz) < window_end]
    current = period_footprint(in_window, period, current_start, tz)
    previous = [
        period_footprint(in_window, period, shift(current_start, period, -k), tz)
        for k in range(1, max(params.previous_periods, 1) + 1)
    ]
    average = sum(p.total_kg for p in previous) / len(previous)
    return FootprintReport(
        current=current,
        previous=previous,
        vs_previous=trend(current.total_kg, previous[0].total_kg),
        vs_average=trend(current.total_kg, average),
    )
