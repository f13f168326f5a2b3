"""The dashboard over real HTTP: login, CSRF, cookies, security headers, roles, downloads."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from tests.support.cli import sillage
from tests.support.database import ScratchDatabase
from tests.support.sharing import Seeded, seed_dashboard

MONDAY = datetime(2024, 1, 15, tzinfo=ZoneInfo("Europe/Paris"))
# Releases written straight into the released tables are dated here, after every real one of the
# session, and deleted at the end of their test.
FUTURE = datetime(2090, 1, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
async def seeded(test_db: ScratchDatabase, invite_code: str) -> AsyncIterator[Seeded]:
    conn = await asyncpg.connect(test_db.app_url)
    try:
        yield await seed_dashboard(conn, invite_code, MONDAY)
    finally:
        await conn.close()


def _csrf(page: str) -> str:
    m = re.search(r'name="_csrf" value="([^"]+)"', page)
    assert m is not None
    return m.group(1)


async def _login(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await http.get("/dashboard/login")
    return await http.post(
        "/dashboard/login", data={"email": email, "password": password, "_csrf": _csrf(form.text)}
    )


async def test_login_sets_a_strict_httponly_session_cookie(http: httpx.AsyncClient, seeded: Seeded) -> None:
    r = await _login(http, seeded.analyst_email, seeded.password)
    assert r.status_code == 303
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("sillage_team="))
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()


async def test_wrong_password_is_refused(http: httpx.AsyncClient, seeded: Seeded) -> None:
    r = await _login(http, seeded.analyst_email, "not the password")
    assert r.status_code == 401
    assert "sillage_team=" not in r.headers.get("set-cookie", "")


async def test_login_without_csrf_token_is_refused(http: httpx.AsyncClient, seeded: Seeded) -> None:
    await http.get("/dashboard/login")
    r = await http.post("/dashboard/login", data={"email": seeded.analyst_email, "password": seeded.password})
    assert r.status_code == 403


async def test_logout_without_csrf_token_is_refused(http: httpx.AsyncClient, seeded: Seeded) -> None:
    await _login(http, seeded.analyst_email, seeded.password)
    assert (await http.post("/dashboard/logout", data={})).status_code == 403
    assert (await http.get("/dashboard/api/releases")).status_code == 200


async def test_pages_carry_security_headers(http: httpx.AsyncClient) -> None:
    r = await http.get("/dashboard/login")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


async def test_data_needs_a_session(http: httpx.AsyncClient) -> None:
    assert (await http.get("/dashboard/api/releases")).status_code == 401


async def test_pages_redirect_to_login_without_a_session(http: httpx.AsyncClient) -> None:
    r = await http.get("/dashboard/")
    assert (r.status_code, r.headers["location"]) == (303, "/dashboard/login")


async def test_analyst_cannot_open_the_campaign_page(http: httpx.AsyncClient, seeded: Seeded) -> None:
    await _login(http, seeded.analyst_email, seeded.password)
    assert (await http.get("/dashboard/campaigns")).status_code == 403


async def test_admin_sees_campaigns_not_people(
    http: httpx.AsyncClient, seeded: Seeded, invite_code: str
) -> None:
    await _login(http, seeded.admin_email, seeded.password)
    r = await http.get("/dashboard/campaigns")
    assert r.status_code == 200
    assert invite_code in r.text
    assert "sillage_u_" not in r.text


async def test_csv_download_of_a_released_table(http: httpx.AsyncClient, seeded: Seeded) -> None:
    await _login(http, seeded.analyst_email, seeded.password)
    r = await http.get(f"/dashboard/download/{seeded.release_id}/mode_trips.csv")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    lines = r.text.splitlines()
    assert lines[0] == "period_start,period_end,epsilon,k,campaign,mode,trips"
    assert any(",car," in line for line in lines[1:])


async def test_a_release_is_dated_by_its_days_on_the_paris_calendar(
    http: httpx.AsyncClient, seeded: Seeded
) -> None:
    # Monday 15 January 2024 begins at 23:00 UTC on the Sunday: in UTC the week looked a day early.
    await _login(http, seeded.analyst_email, seeded.password)
    listed = (await http.get("/dashboard/api/releases")).json()
    (mine,) = [r for r in listed if r["id"] == str(seeded.release_id)]
    assert (mine["first_day"], mine["last_day"]) == ("2024-01-15", "2024-01-21")
    detail = (await http.get(f"/dashboard/api/releases/{seeded.release_id}")).json()
    assert (detail["first_day"], detail["last_day"]) == ("2024-01-15", "2024-01-21")
    r = await http.get(f"/dashboard/download/{seeded.release_id}/mode_trips.csv")
    assert "sillage-mode_trips-week-2024-01-15.csv" in r.headers["content-disposition"]


async def test_geojson_download_of_flows(http: httpx.AsyncClient, seeded: Seeded) -> None:
    await _login(http, seeded.analyst_email, seeded.password)
    r = await http.get(f"/dashboard/download/{seeded.release_id}/od_flows.geojson")
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert body["features"][0]["geometry"]["type"] == "LineString"
    assert body["properties"]["k"] == 10


async def test_corridors_are_lines_with_band_matches_and_co2(http: httpx.AsyncClient, seeded: Seeded) -> None:
    await _login(http, seeded.analyst_email, seeded.password)
    r = await http.get(f"/dashboard/api/releases/{seeded.release_id}/corridors.geojson")
    features = r.json()["corridors"]["features"]
    assert {f["properties"]["time_band"] for f in features} >= {"07:00", "17:00"}
    assert all(f["geometry"]["type"] == "LineString" for f in features)
    assert all({"potential_matches", "co2_kg_per_year"} <= set(f["properties"]) for f in features)


async def test_csv_download_of_carpool_corridors(http: httpx.AsyncClient, seeded: Seeded) -> None:
    await _login(http, seeded.analyst_email, seeded.password)
    r = await http.get(f"/dashboard/download/{seeded.release_id}/carpool_co2.csv")
    lines = r.text.splitlines()
    assert (
        lines[0]
        == "period_start,period_end,epsilon,k,campaign,origin_zone,destination_zone,time_band,co2_kg_per_year"
    )
    assert len(lines) >= 3


async def test_geojson_download_of_carpool_matches(http: httpx.AsyncClient, seeded: Seeded) -> None:
    await _login(http, seeded.analyst_email, seeded.password)
    r = await http.get(f"/dashboard/download/{seeded.release_id}/carpool_matches.geojson")
    feature = r.json()["features"][0]
    assert feature["geometry"]["type"] == "LineString"
    assert {"time_band", "potential_matches"} <= set(feature["properties"])


async def test_disabling_an_account_ends_its_session_and_its_logins(
    http: httpx.AsyncClient, test_db: ScratchDatabase
) -> None:
    email, password = "leaving@agglo.example", "a long enough secret"
    add = await _analyst_logged_in(http, test_db, email, password)
    listed = sillage(test_db, "team", "list").stdout
    assert re.search(
        rf"^{re.escape(email)}\tanalyst\tevery campaign\tcreated \S+\t1 open session\(s\)$", listed, re.M
    )

    r = sillage(test_db, "team", "disable", email)
    assert r.returncode == 0, r.stderr
    assert (await http.get("/dashboard/api/releases")).status_code == 401  # the open session is gone
    assert (await _login(http, email, password)).status_code != 303
    assert re.search(
        rf"^{re.escape(email)}\tanalyst\tevery campaign\tcreated \S+\tdisabled \S+$",
        sillage(test_db, "team", "list").stdout,
        re.M,
    )
    again = sillage(test_db, "team", "disable", email)
    assert (again.returncode, again.stderr.strip()) == (1, f"no active account {email}")

    # `team add` with the same address enables it again, with the new password
    assert sillage(test_db, *add, stdin="another long secret\n").returncode == 0
    assert (await _login(http, email, "another long secret")).status_code == 303


async def test_a_password_reset_ends_the_open_sessions(
    http: httpx.AsyncClient, test_db: ScratchDatabase
) -> None:
    email = "reset@agglo.example"
    add = await _analyst_logged_in(http, test_db, email, "a long enough secret")

    r = sillage(test_db, *add, stdin="a brand new long secret\n")
    assert r.returncode == 0, r.stderr
    assert (await http.get("/dashboard/api/releases")).status_code == 401  # the old session is over
    assert (await _login(http, email, "a brand new long secret")).status_code == 303
    assert (await http.get("/dashboard/api/releases")).status_code == 200


async def test_a_nul_character_in_the_email_is_a_refused_login(http: httpx.AsyncClient) -> None:
    r = await _login(http, "a\x00b@agglo.fr", "whatever it is")
    assert r.status_code == 401
    assert "Wrong e-mail address or password" in r.text


async def _analyst_logged_in(
    http: httpx.AsyncClient, test_db: ScratchDatabase, email: str, password: str
) -> tuple[str, ...]:
    """Add an analyst with the operator CLI and log in as them; the CLI arguments that add them
    (run again with another password on stdin, they reset it)."""
    add = ("team", "add", email, "--role", "analyst", "--password-stdin")
    assert sillage(test_db, *add, stdin=password + "\n").returncode == 0
    assert (await _login(http, email, password)).status_code == 303
    assert (await http.get("/dashboard/api/releases")).status_code == 200
    return add


async def _future_release(
    conn: asyncpg.Connection, week: int, cells: list[tuple[str, str, float]]
) -> uuid.UUID:
    start = FUTURE + timedelta(weeks=week)
    release_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO released.releases (period_kind, period_start, period_end, epsilon, k, participants,"
        " caps, tables, zones_source, mechanism)"
        " VALUES ('week', $1, $2, 1, 10, '10-19', '{}', '[]', 'geojson', 'test') RETURNING id",
        start,
        start + timedelta(weeks=1),
    )
    await conn.executemany(
        "INSERT INTO released.cells (release_id, table_name, dim_a, dim_b, value)"
        " VALUES ($1, $2, $3, $4, $5)",
        [(release_id, "od_flows" if dim_b else "mode_co2", dim_a, dim_b, v) for dim_a, dim_b, v in cells],
    )
    return release_id


@pytest.fixture
async def future_releases(owner_conn: asyncpg.Connection) -> AsyncIterator[list[uuid.UUID]]:
    """Ids of the releases a test adds with :func:`_future_release` (deleted afterwards)."""
    ids: list[uuid.UUID] = []
    try:
        yield ids
    finally:
        await owner_conn.execute("DELETE FROM released.releases WHERE id = ANY($1::uuid[])", ids)


async def test_the_co2_trend_shows_the_newest_periods_with_gaps_where_all_was_withheld(
    http: httpx.AsyncClient, seeded: Seeded, owner_conn: asyncpg.Connection, future_releases: list[uuid.UUID]
) -> None:
    weeks = 110
    withheld = weeks - 3  # every mode's CO2 withheld that week: no mode_co2 cell at all
    for w in range(weeks):
        cells = [] if w == withheld else [("car", "", float(w)), ("bike", "", 0.5)]
        future_releases.append(await _future_release(owner_conn, w, cells))
    await _login(http, seeded.analyst_email, seeded.password)

    trend = (await http.get("/dashboard/api/co2-trend", params={"period": "week"})).json()

    assert len(trend) == 104
    newest = range(weeks - 104, weeks)
    assert [p["period_start"] for p in trend] == [(FUTURE + timedelta(weeks=w)).isoformat() for w in newest]
    assert [p["co2_kg"] for p in trend] == [None if w == withheld else w + 0.5 for w in newest]


async def test_csv_downloads_defuse_spreadsheet_formulas(
    http: httpx.AsyncClient, seeded: Seeded, owner_conn: asyncpg.Connection, future_releases: list[uuid.UUID]
) -> None:
    # Zone ids come from the operator's zones file, which may hold anything.
    zones = [
        '=HYPERLINK("https://evil.example")',
        "+SUM(1)",
        "-2+3",
        "@cmd",
        "\tx",
        "\rx",
        " =1+1",
        "\n@x",
        "harbour",
    ]
    cells = [(zones[i], zones[i + 1], 12.0) for i in range(len(zones) - 1)]
    release_id = await _future_release(owner_conn, 0, cells)
    future_releases.append(release_id)
    await _login(http, seeded.analyst_email, seeded.password)

    r = await http.get(f"/dashboard/download/{release_id}/od_flows.csv")

    rows = list(csv.reader(io.StringIO(r.text, newline="")))
    assert rows[0][4:] == ["campaign", "origin_zone", "destination_zone", "trips"]
    pairs = {(row[5], row[6]) for row in rows[1:]}
    safe = ["'" + z for z in zones[:-1]] + ["harbour"]
    assert pairs == {(safe[i], safe[i + 1]) for i in range(len(safe) - 1)}
    assert all(row[7] == "12.0" for row in rows[1:])
