"""The operator commands ``sillage team add`` and ``sillage share release``."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import httpx
import pytest

from store import sharing as db
from tests.support.cli import sillage
from tests.support.database import ScratchDatabase


async def test_team_add_stores_an_argon2_hash(test_db: ScratchDatabase, app_conn: asyncpg.Connection) -> None:
    r = sillage(
        test_db,
        "team",
        "add",
        "Mobilite@Agglo.example",
        "--role",
        "analyst",
        "--password-stdin",
        stdin="a long enough secret\n",
    )
    assert r.returncode == 0, r.stderr
    account = await db.team_account(app_conn, "mobilite@agglo.example")
    assert account is not None
    assert account.password_hash.startswith("$argon2id$")


def test_team_add_refuses_a_short_password(test_db: ScratchDatabase) -> None:
    r = sillage(
        test_db, "team", "add", "x@agglo.example", "--role", "admin", "--password-stdin", stdin="short\n"
    )
    assert r.returncode == 2
    assert "at least 12 characters" in r.stderr


def test_team_add_with_a_piped_password_but_no_flag_says_which_flag(test_db: ScratchDatabase) -> None:
    r = sillage(test_db, "team", "add", "y@agglo.example", "--role", "analyst", stdin="a long password\n")
    assert r.returncode == 2
    assert r.stderr.splitlines()[-1].endswith("no password was typed: to pipe one in, add --password-stdin")
    assert "Traceback" not in r.stderr


def test_release_without_enough_sharing_testers_is_refused(test_db: ScratchDatabase) -> None:
    r = sillage(test_db, "share", "release", "--period", "week", "--at", "2020-01-08")
    assert r.returncode == 2
    assert "fewer than k=10" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--grid-cell-m", "0"), "grid cell size must be from 1 to 1,000,000 m, got 0"),
        (("--grid-cell-m", "-5"), "grid cell size must be from 1 to 1,000,000 m, got -5"),
        (("--grid-cell-m", "nan"), "grid cell size must be from 1 to 1,000,000 m, got nan"),
        (("--epsilon", "1e-300"), "epsilon must be from 0.01 to 70, got 1e-300"),
        (("--epsilon", "nan"), "epsilon must be from 0.01 to 70, got nan"),
        (("--epsilon", "inf"), "epsilon must be from 0.01 to 70, got inf"),
        (("--at", "0001-01-01"), "the day must be 2000-01-01 or later (no fix is older), got 0001-01-01"),
        (("--at", "9999-12-31"), "the week containing 9999-12-31 is not over"),
    ],
)
def test_release_refuses_bad_arguments_in_one_line_before_touching_the_database(
    test_db: ScratchDatabase, args: tuple[str, ...], message: str
) -> None:
    r = sillage(test_db, "share", "release", "--period", "week", *args)
    assert (r.returncode, r.stderr.count("\n")) == (2, 1), r.stderr
    assert message in r.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ([1, 2], "zones must be a GeoJSON FeatureCollection"),
        ({"type": "FeatureCollection", "features": [1]}, "zone feature 0 is not a GeoJSON Feature object"),
        ({"type": "FeatureCollection", "features": {}}, "the zones collection's features must be a list"),
        (
            {"type": "FeatureCollection", "features": [{"id": "a", "geometry": {"type": "Polygon"}}]},
            "zone 'a' has no coordinates",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [{"id": "a", "geometry": {"type": "Polygon", "coordinates": [[1]]}}],
            },
            "zone 'a' has malformed coordinates",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "id": "lambert-93",
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[380e3, 6570e3], [381e3, 6570e3], [381e3, 6571e3], [380e3, 6570e3]]
                            ],
                        },
                    }
                ],
            },
            "zone 'lambert-93' is not in longitude and latitude degrees",
        ),
    ],
)
def test_release_refuses_zones_that_are_not_geojson_polygons(
    test_db: ScratchDatabase, tmp_path: Path, content: object, message: str
) -> None:
    zones = tmp_path / "zones.json"
    zones.write_text(json.dumps(content), encoding="utf-8")
    r = sillage(test_db, "share", "release", "--period", "week", "--zones", str(zones))
    assert (r.returncode, r.stderr.count("\n")) == (2, 1), r.stderr
    assert f"cannot use zones from {zones}: {message}" in r.stderr


async def test_static_assets_carry_security_headers(http: httpx.AsyncClient) -> None:
    r = await http.get("/dashboard/static/dashboard.js")
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
