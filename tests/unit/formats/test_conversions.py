"""Shared readings: epoch units, ISO offsets, unit conversions, motion vocabularies."""

from __future__ import annotations

import pytest

from core.fixes import Activity
from ingest.formats.activity import from_android_code, from_name, most_specific
from ingest.formats.decoded import ItemError
from ingest.formats.times import from_epoch, from_iso, from_text
from ingest.formats.units import feet_to_m, kmh_to_mps, knots_to_mps, percent_to_fraction
from tests.unit.formats.support import utc


def test_epoch_above_1e11_is_milliseconds() -> None:
    assert from_epoch(1714557600) == from_epoch(1714557600000) == utc("2024-05-01T10:00:00")


def test_iso_offsets_with_and_without_colon_are_the_same_instant() -> None:
    assert (
        from_iso("2024-05-01T12:00:00+02:00")
        == from_iso("2024-05-01T12:00:00+0200")
        == utc("2024-05-01T10:00:00")
    )


def test_iso_without_offset_is_an_item_error_unless_the_format_says_utc() -> None:
    with pytest.raises(ItemError, match="no UTC offset"):
        from_iso("2024-05-01T10:00:00")
    assert from_iso("2024-05-01T10:00:00", assume_utc=True) == utc("2024-05-01T10:00:00")


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T10:00:00\x00Z",
        "2024-05-01X10:00:00Z",
        "2024-05-01T10:00:00Z junk",
        "2024-05-01T10:00:00ZZ",
    ],
)
def test_iso_with_a_stray_character_is_an_item_error(text: str) -> None:
    # Python 3.11's fromisoformat reads any character as the date's separator, and more: the fix was
    # stored at a time the text does not say.
    with pytest.raises(ItemError, match="not an ISO 8601 time"):
        from_iso(text)


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T10:00:00Z",
        "2024-05-01 12:00:00+02:00",
        "20240501T100000Z",
        "2024-05-01T10:00:00.123456789Z",
        "2024-05-01T10:00:00,5Z",
        "2024-05-01T10:00Z",
        "2024-05-01T12+02",
    ],
)
def test_iso_in_its_usual_forms_is_read(text: str) -> None:
    assert abs(from_iso(text).timestamp() - utc("2024-05-01T10:00:00").timestamp()) < 1


def test_a_number_in_text_is_an_epoch() -> None:
    assert from_text(" 1714557600.5 ").timestamp() == 1714557600.5


@pytest.mark.parametrize(
    ("convert", "value", "expected"),
    [
        (knots_to_mps, 1.0, 0.514444),
        (kmh_to_mps, 36.0, 10.0),
        (feet_to_m, 1000.0, 304.8),
        (percent_to_fraction, 64.0, 0.64),
    ],
)
def test_unit_conversions(convert: object, value: float, expected: float) -> None:
    assert callable(convert)
    assert convert(value) == pytest.approx(expected, rel=1e-6)


def test_conversions_keep_unknown_as_none() -> None:
    assert (knots_to_mps(None), kmh_to_mps(None), feet_to_m(None), percent_to_fraction(None)) == (
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("name", "activity"),
    [
        ("IN_VEHICLE", Activity.VEHICLE),
        ("on-bicycle", Activity.BIKE),
        ("on foot", Activity.WALK),
        ("stationary", Activity.STILL),
        ("running", Activity.RUN),
        ("hovering", None),
    ],
)
def test_motion_names_from_every_vocabulary(name: str, activity: Activity | None) -> None:
    assert from_name(name) is activity


def test_android_codes_follow_detected_activity() -> None:
    assert [from_android_code(c) for c in (0, 1, 3, 7, 8, 9, 42)] == [
        Activity.VEHICLE,
        Activity.BIKE,
        Activity.STILL,
        Activity.WALK,
        Activity.RUN,
        None,
        None,
    ]


def test_simultaneous_motions_keep_the_most_specific() -> None:
    assert most_specific(["stationary", "driving"]) is Activity.VEHICLE
    assert most_specific(["walking", "stationary"]) is Activity.WALK
    assert most_specific([]) is None
