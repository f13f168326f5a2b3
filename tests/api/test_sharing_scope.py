"""The dashboard of a team scoped to one campaign, over real HTTP, and the operator's commands."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import msgspec
import pytest

from ingest.sharing.team import add_member
from tests.api.test_sharing_dashboard import _login
from tests.support.cli import sillage
from tests.support.database import ScratchDatabase
from tests.support.sharing import PASSWORD, City, seed_city

PARIS = ZoneInfo("Europe/Paris")
# Weeks older than every other test's release: the national dashboards of those tests show their newest.
WEEK = datetime(2023, 10, 2, tzinfo=PARIS)
CLI_WEEK = datetime(2023, 10, 9, tzinfo=PARIS)


class Scoped(msgspec.Struct, frozen=True, kw_only=True):
    a: City
    b: City
    national: str


@pytest.fixture(scope="module")
async def scoped(test_db: ScratchDatabase) -> AsyncIterator[Scoped]:
    conn = await asyncpg.connect(test_db.app_url)
    try:
        tag = uuid.uuid4().hex[:6]
        a, b = (
            await seed_city(conn, f"Angoulême {tag}", WEEK, CLI_WEEK),
            await seed_city(conn, f"Bayonne {tag}", WEEK, CLI_WEEK),
        )
        national = f"national-{tag}@programme.example"
        await add_member(conn, national, "analyst", PASSWORD)
        yield Scoped(a=a, b=b, national=national)
    finally:
        await conn.close()


async def test_a_citys_team_lists_and_opens_its_own_releases_only(
    http: httpx.AsyncClient, scoped: Scoped
) -> None:
    await _login(http, scoped.a.analyst, PASSWORD)
    listed = (await http.get("/dashboard/api/releases", params={"limit": 500})).json()
    assert [(r["id"], r["campaign"]) for r in listed] == [(str(scoped.a.release_id), scoped.a.name)]
    mine = await http.get(f"/dashboard/api/releases/{scoped.a.release_id}")
    assert mine.status_code == 200
    assert mine.json()["campaign"] == scoped.a.name
    theirs = scoped.b.release_id
    assert (await http.get(f"/dashboard/api/releases/{theirs}")).status_code == 404
    assert (await http.get(f"/dashboard/download/{theirs}/mode_trips.csv")).status_code == 404
    assert (await http.get(f"/dashboard/api/releases/{theirs}/flows.geojson")).status_code == 404
    # A download says whose it is: in its name and in its rows (found by a probe: one week's files of
    # two campaigns and the pooled release had the same name and content layout).
    r = await http.get(f"/dashboard/download/{scoped.a.release_id}/mode_trips.csv")
    slug = scoped.a.name.replace("Angoulême", "angouleme").replace(" ", "-")
    assert f'filename="sillage-mode_trips-week-2023-10-02-{slug}.csv"' in r.headers["content-disposition"]
    header, *rows = r.text.splitlines()
    assert header.split(",")[4] == "campaign"
    assert rows
    assert all(row.split(",")[4] == scoped.a.name for row in rows)
    flows = await http.get(f"/dashboard/download/{scoped.a.release_id}/od_flows.geojson")
    assert flows.json()["properties"]["campaign"] == scoped.a.name
    trend = (await http.get("/dashboard/api/co2-trend")).json()
    assert [p["first_day"] for p in trend] == ["2023-10-02"]


async def test_a_national_team_reads_every_campaigns_releases(
    http: httpx.AsyncClient, scoped: Scoped
) -> None:
    await _login(http, scoped.national, PASSWORD)
    listed = {r["id"]: r for r in (await http.get("/dashboard/api/releases", params={"limit": 500})).json()}
    assert {str(scoped.a.release_id), str(scoped.b.release_id)} <= set(listed)
    b = listed[str(scoped.b.release_id)]
    trend = await http.get("/dashboard/api/co2-trend", params={"campaign": b["campaign_id"]})
    assert [p["first_day"] for p in trend.json()] == ["2023-10-02"]


async def test_a_citys_admin_sees_its_own_campaign_only(http: httpx.AsyncClient, scoped: Scoped) -> None:
    await _login(http, scoped.a.admin, PASSWORD)
    page = (await http.get("/dashboard/campaigns")).text
    assert scoped.a.invite_code in page
    assert scoped.b.invite_code not in page


def test_the_operator_releases_one_campaign_and_scopes_an_account(
    test_db: ScratchDatabase, scoped: Scoped
) -> None:
    r = sillage(
        test_db,
        "share",
        "release",
        "--period",
        "week",
        "--at",
        "2023-10-10",
        "--k",
        "3",
        "--campaign",
        scoped.a.name,
    )
    assert r.returncode == 0, r.stderr
    assert f"testers of the campaign {scoped.a.name!r}" in r.stdout
    assert "participants" in r.stdout
    r = sillage(
        test_db,
        "team",
        "add",
        "z@city.example",
        "--role",
        "analyst",
        "--password-stdin",
        "--campaign",
        "Nowhere",
        stdin=PASSWORD + "\n",
    )
    assert r.returncode == 2
    assert "no campaign is named 'Nowhere'" in r.stderr
    # Said before the password is asked (twice, at a terminal): here, with nothing to read.
    r = sillage(test_db, "team", "add", "z@city.example", "--role", "analyst", "--campaign", "Nowhere")
    assert (r.returncode, r.stderr.splitlines()[-1].endswith("no campaign is named 'Nowhere'")) == (2, True)
    r = sillage(test_db, "team", "list")
    assert f"{scoped.a.analyst}\tanalyst\t{scoped.a.name}\t" in r.stdout
    assert f"{scoped.national}\tanalyst\tevery campaign\t" in r.stdout


def test_a_password_reset_keeps_a_citys_account_to_its_city(test_db: ScratchDatabase, scoped: Scoped) -> None:
    # Found by a probe: `team add` run again to reset a password, without --campaign, made a city's
    # account a national one.
    email = scoped.b.analyst
    reset = ("team", "add", email, "--role", "analyst", "--password-stdin")
    r = sillage(test_db, *reset, stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert f"reading the campaign {scoped.b.name!r}" in r.stdout
    assert f"{email}\tanalyst\t{scoped.b.name}\t" in sillage(test_db, "team", "list").stdout
    r = sillage(test_db, "team", "scope", email, "--every-campaign")
    assert (r.returncode, r.stdout.strip()) == (0, f"{email} now reads every campaign"), r.stderr
    assert f"{email}\tanalyst\tevery campaign\t" in sillage(test_db, "team", "list").stdout
    r = sillage(test_db, "team", "scope", email, "--campaign", scoped.b.name)
    assert r.returncode == 0, r.stderr
    assert f"{email}\tanalyst\t{scoped.b.name}\t" in sillage(test_db, "team", "list").stdout
    r = sillage(test_db, "team", "scope", "nobody@city.example", "--every-campaign")
    assert r.returncode == 2
    assert "no account nobody@city.example" in r.stderr
