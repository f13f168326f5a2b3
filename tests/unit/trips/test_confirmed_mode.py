"""A confirmation applies to the section it covers by half or more, and lapses beyond that."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.trips import Label, confirmed_mode

T0 = datetime(2026, 9, 14, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def label(start: float, end: float, mode: str) -> Label:
    return Label(started_at=at(start), ended_at=at(end), mode=mode)


def test_a_confirmation_applies_while_it_covers_half_the_section_and_lapses_beyond() -> None:
    tram = [label(0, 10, "tram")]
    assert confirmed_mode(tram, at(0), at(10)) == "tram"
    assert confirmed_mode(tram, at(0), at(20)) == "tram"  # late fixes doubled the section: still half
    # More than twice as long: the label no longer applies, and the section is the model's again
    # (asked about anew if the model is unsure of it, as sillage.section_to_confirm says).
    assert confirmed_mode(tram, at(0), at(20.5)) is None
    assert confirmed_mode(tram, at(-30), at(2)) is None
    # The label is kept: if the section shrinks back, it applies again.
    assert confirmed_mode(tram, at(1), at(9)) == "tram"


def test_of_two_answers_covering_as_much_the_later_one_wins_and_the_larger_overlap_first() -> None:
    assert confirmed_mode([label(0, 10, "tram"), label(0, 10, "bus")], at(0), at(10)) == "bus"
    assert confirmed_mode([label(0, 6, "tram"), label(6, 10, "bus")], at(0), at(10)) == "tram"
    assert confirmed_mode([], at(0), at(10)) is None
