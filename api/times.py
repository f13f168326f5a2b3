"""Times an app sends in a query (``from``, ``to``, ``at``): one reading for every route.

A time with a UTC offset (``Z``, ``+02:00``) is that instant. A time without one
(``2026-01-13T08:00:00``) is a time on the deployment's local clock: the zone in which coaching
counts its days, weeks and months (``CoachingParams.summary.time_zone``, by default
:data:`core.coaching.periods.DEFAULT_TIME_ZONE`, Europe/Paris). That is what a tester's app means
by it: the app shows the tester's own calendar, so "my trips from 08:00 to 09:00" and "my footprint
on the 15th" are times on that clock, and reading them so makes the trips of a day and the coach's
day the same trips. The trips list and the deletion of a range used to read such a time as UTC while
the coach read it locally: the same text was two instants, one or two hours apart.

A local time that happens twice (the autumn hour) is its first occurrence, and one that never
happens (the spring hour) is read with the offset before the change (``fold=0``, PEP 495). A date
alone (``2026-01-13``) or a time without seconds is not read (RFC 3339, as msgspec parses it): a 400
problem, as is any time that cannot be read.

Positions are another matter: a tracker's fix without an offset is refused
(:mod:`ingest.formats.times`), as the phone's clock may be set to any zone and a guess would move a
trip by hours; GPX and GeoLife define theirs as UTC. The API's own JSON bodies take no time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.fixes import EARLIEST, LATEST
from ingest.coaching import DEFAULT_COACHING_PARAMS

_ZONE_NAME = DEFAULT_COACHING_PARAMS.summary.time_zone
WITHOUT_OFFSET = (
    f"without a UTC offset (`2026-01-13T08:00:00`), a time on the deployment's local clock ({_ZONE_NAME}, "
    "the coach's calendar), on every route of the API"
)
"""The rule above, for the OpenAPI description of every query parameter that takes a time."""


def local_zone() -> ZoneInfo:
    """The deployment's zone: the coach's calendar, and the clock of a time sent without offset."""
    return DEFAULT_COACHING_PARAMS.tz


def aware(d: datetime) -> datetime:
    """``d`` as sent when it has an offset; without one, the same clock time in :func:`local_zone`."""
    return d if d.tzinfo is not None else d.replace(tzinfo=local_zone())


def range_bound(d: datetime) -> datetime:
    """A ``from``/``to`` query bound in UTC (read by :func:`aware`), clamped to the times fixes can
    have (:data:`core.fixes.EARLIEST`, :data:`core.fixes.LATEST`): a bound beyond is the same range
    ("delete everything up to 9999"), and ``0001-01-01T00:00:00+01:00`` (or that midnight in Paris)
    is before the calendar's first day in UTC, which neither Python nor PostgreSQL can hold."""
    d = aware(d)
    try:
        utc = d.astimezone(UTC)
    except OverflowError:
        return EARLIEST if d.year < EARLIEST.year else LATEST
    return min(max(utc, EARLIEST), LATEST)


def sent_inverted(start: datetime | None, end: datetime | None) -> bool:
    """Whether the client sent both bounds with ``to`` not after ``from``, as sent (bounds beyond
    the times fixes can have are clamped to one instant by :func:`range_bound`: not inverted)."""
    if start is None or end is None:
        return False
    return aware(end) <= aware(start)
