"""Where a pipeline step may restart after a signal gap, from the rows it stored (ingest.pipeline)."""

from datetime import UTC, datetime, timedelta

from ingest.pipeline import _after_a_gap

T0 = datetime(2026, 9, 14, 7, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# A trip from 0 to 20 min, the phone off for half an hour, a trip from 50 to 70, another from 71.
ROWS = [(at(0), at(20)), (at(50), at(70)), (at(71), at(80))]


def after_a_gap(
    rows: list[tuple[datetime, datetime]], changed_from: datetime, watermark: datetime | None = None
) -> tuple[datetime, datetime] | None:
    return _after_a_gap(
        rows, watermark=watermark, changed_from=changed_from, new_from=changed_from, gap_s=900
    )


def test_the_last_row_begun_more_than_a_gap_after_the_rows_before_it_is_the_point() -> None:
    assert after_a_gap(ROWS, at(90)) == (at(50), at(20))


def test_the_open_tail_after_a_gap_is_the_point() -> None:
    # The step's window ended in the trip after a gap: its open tail begins at the watermark.
    assert after_a_gap(ROWS, at(100), watermark=at(100)) == (at(100), at(80))


def test_a_row_spanning_the_gap_leaves_no_point_there() -> None:
    # A flight, from the last fix before the gap to the first after it.
    flown = [(at(0), at(20)), (at(20), at(50)), (at(50), at(70))]
    assert after_a_gap(flown, at(90)) is None


def test_a_row_begun_at_the_first_new_fix_is_no_point() -> None:
    # Another tracker's fix may have been stored at that instant since the row began there.
    assert _after_a_gap(ROWS, watermark=None, changed_from=at(50), new_from=at(50), gap_s=900) is None
    assert _after_a_gap(ROWS, watermark=at(50), changed_from=at(50), new_from=at(50), gap_s=900) == (
        at(50),
        at(20),
    )


def test_the_first_row_has_nothing_before_it_to_say_a_gap() -> None:
    assert after_a_gap(ROWS[1:], at(90)) is None
