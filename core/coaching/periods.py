"""Calendar periods in the user's time zone: day, ISO week (Monday first) and month.

A section belongs to the period in which it starts, read in the user's local time (Europe/Paris by
default), so a trip at 23:30 local time on Sunday counts for that week even though it is Sunday
21:30 or 22:30 UTC. Period bounds are local midnights, so a day is 23 or 25 hours long across
daylight-saving changes.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

DEFAULT_TIME_ZONE = "Europe/Paris"


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def period_start(day: date, period: Period) -> date:
    """The first local date of the ``period`` containing ``day``."""
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def shift(start: date, period: Period, count: int) -> date:
    """The first date of the period ``count`` periods after (negative: before) the one at ``start``."""
    if period is Period.DAY:
        return start + timedelta(days=count)
    if period is Period.WEEK:
        return start + timedelta(weeks=count)
    months = start.year * 12 + (start.month - 1) + count
    return date(months // 12, months % 12 + 1, 1)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    """The calendar date of a timezone-aware ``instant`` in ``tz``."""
    if instant.tzinfo is None:
        raise ValueError("coaching needs timezone-aware datetimes")
    return instant.astimezone(tz).date()


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)
