"""The API's one reading of a query time without a UTC offset (api.times): the local clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from api.times import aware, local_zone, range_bound, sent_inverted
from core.fixes import EARLIEST, LATEST


def test_a_time_without_offset_is_on_the_coachs_calendar_winter_and_summer() -> None:
    assert local_zone().key == "Europe/Paris"
    assert range_bound(datetime(2026, 1, 13, 8, 0)) == datetime(2026, 1, 13, 7, 0, tzinfo=UTC)
    assert range_bound(datetime(2026, 7, 14, 8, 0)) == datetime(2026, 7, 14, 6, 0, tzinfo=UTC)


def test_a_time_with_an_offset_is_that_instant() -> None:
    sent = datetime(2026, 1, 13, 8, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert aware(sent) is sent
    assert range_bound(sent) == datetime(2026, 1, 13, 13, 0, tzinfo=UTC)


def test_the_autumn_hour_is_its_first_occurrence_and_the_spring_hour_the_offset_before() -> None:
    # 25 October 2026: 02:30 happens at 00:30 UTC (summer time) and again at 01:30 UTC.
    assert range_bound(datetime(2026, 10, 25, 2, 30)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # 29 March 2026: 02:30 never happens; read with winter's +01:00, it is 01:30 UTC (03:30 summer time).
    assert range_bound(datetime(2026, 3, 29, 2, 30)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_the_calendars_ends_without_offset_are_clamped() -> None:
    # Midnight of year 1 in Paris (local mean time, +00:09:21) is before UTC's first instant.
    assert range_bound(datetime(1, 1, 1)) == EARLIEST
    assert range_bound(datetime(9999, 12, 31, 23, 59, 59)) == LATEST


def test_a_range_is_inverted_as_sent_whichever_way_each_end_is_written() -> None:
    # From 08:30 in Paris (07:30 UTC) to 07:45 UTC: not inverted (read as UTC, it was).
    assert not sent_inverted(datetime(2026, 1, 13, 8, 30), datetime(2026, 1, 13, 7, 45, tzinfo=UTC))
    assert sent_inverted(datetime(2026, 1, 13, 9, 0), datetime(2026, 1, 13, 8, 30))
    assert not sent_inverted(None, datetime(2026, 1, 13, 8, 30))
