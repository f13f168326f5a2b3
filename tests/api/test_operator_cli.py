"""Operator commands refuse bad input with one line and exit 2 (argparse's usage line aside), before
the database sees it; a file that cannot be written is named as a file error, not a database one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import sillage
from tests.support.database import ScratchDatabase


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("",), "argument name: a campaign name must be 1 to 200 characters, not only blanks"),
        (("   ",), "argument name: a campaign name must be 1 to 200 characters, not only blanks"),
        (("x" * 201,), "argument name: a campaign name must be 1 to 200 characters, not only blanks"),
        (("Tab\tCity",), "argument name: a campaign name must hold no control character (tab, line break)"),
        (("Two\nlines",), "argument name: a campaign name must hold no control character (tab, line break)"),
        (
            ("Bad retention", "--fixes-retention-days", "0"),
            "argument --fixes-retention-days: must be a whole number of days from 1 to 36,500, got '0'",
        ),
        (
            ("Bad retention", "--fixes-retention-days", "-5"),
            "argument --fixes-retention-days: must be a whole number of days from 1 to 36,500, got '-5'",
        ),
        (
            ("Bad retention", "--trips-retention-days", "99999999999"),
            "argument --trips-retention-days: must be a whole number of days from 1 to 36,500, "
            "got '99999999999'",
        ),
        (
            ("Bad retention", "--trips-retention-days", "a year"),
            "argument --trips-retention-days: must be a whole number of days from 1 to 36,500, got 'a year'",
        ),
    ],
)
def test_campaign_create_refuses_a_bad_name_or_retention(
    test_db: ScratchDatabase, args: tuple[str, ...], message: str
) -> None:
    r = sillage(test_db, "campaign", "create", *args)
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines()[-1].endswith(message)
    assert "database error" not in r.stderr


def test_campaign_create_takes_a_retention_within_bounds(test_db: ScratchDatabase) -> None:
    bounds = ("--fixes-retention-days", "1", "--trips-retention-days", "36500")
    r = sillage(test_db, "campaign", "create", "Retained a century", *bounds)
    assert r.returncode == 0, r.stderr
    assert "invite code: " in r.stdout


def test_labels_export_to_a_missing_directory_is_a_file_error(
    test_db: ScratchDatabase, tmp_path: Path
) -> None:
    out = tmp_path / "nonexistent" / "labels.csv"
    r = sillage(test_db, "labels", "export", "--out", str(out))
    assert (r.returncode, r.stderr) == (2, f"sillage: file error: {out}: No such file or directory\n")


def test_an_unreachable_database_is_still_a_database_error(tmp_path: Path) -> None:
    nowhere = ScratchDatabase(
        name="none", app_url="postgresql://sillage_app@127.0.0.1:1/none", admin_url="", superuser_url=""
    )
    earlier = tmp_path / "labels.csv"
    earlier.write_text("an earlier export\n")
    r = sillage(nowhere, "labels", "export", "--out", str(earlier))
    assert r.returncode == 1
    assert r.stderr.startswith("sillage: database error: ")
    assert earlier.read_text() == "an earlier export\n"  # not emptied by the failed run
    assert [p.name for p in tmp_path.iterdir()] == ["labels.csv"]  # no partial file left


@pytest.mark.parametrize("flag", ["--radius-m", "--departure-gap-min", "--max-detour-m"])
@pytest.mark.parametrize("value", ["nan", "-5", "0", "inf"])
def test_carpool_match_refuses_distances_and_gaps_that_match_nobody(
    test_db: ScratchDatabase, flag: str, value: str
) -> None:
    r = sillage(test_db, "carpool", "match", flag, value)
    assert r.returncode == 2
    assert r.stderr.splitlines()[-1].endswith(f"argument {flag}: must be a positive number, got {value!r}")
