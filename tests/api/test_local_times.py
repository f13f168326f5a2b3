"""A time sent without a UTC offset means one thing on every route: the deployment's local time.

The trips list and the deletion of a range read such a time as UTC while the coach read it on its
Europe/Paris calendar, so the same ``2026-07-15T00:00:00`` was two instants two hours apart. Trips
are written straight into the tester's partition (as in ``test_coach``), fixes through the API.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from tests.api.test_coach import Leg, get_json, store_legs
from tests.support.testers import Enrolled, enrol, upload

WINTER = datetime(2026, 1, 13, 7, 30, tzinfo=UTC)  # 08:30 in Paris (UTC+1)
SUMMER = datetime(2026, 7, 14, 6, 30, tzinfo=UTC)  # 08:30 in Paris (UTC+2, daylight-saving time)


@pytest.fixture
async def tester(http: httpx.AsyncClient, invite_code: str) -> Enrolled:
    return await enrol(http, invite_code)


def local(day: datetime, clock: str) -> str:
    """``clock`` on ``day``'s date, without an offset: as an app shows its tester's calendar."""
    return f"{day.date().isoformat()}T{clock}"


async def trip_starts(http: httpx.AsyncClient, t: Enrolled, start: str, end: str) -> list[datetime]:
    trips = await get_json(http, t, "/v1/trips", **{"from": start, "to": end})
    return [datetime.fromisoformat(trip["started_at"]) for trip in trips]


@pytest.mark.parametrize(("trip_at", "offset"), [(WINTER, "+01:00"), (SUMMER, "+02:00")])
async def test_a_trips_range_without_offset_is_the_local_clock(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, tester: Enrolled, trip_at: datetime, offset: str
) -> None:
    # The trip starts at 08:30 on the tester's clock: "from 08:00 to 09:00" finds it, read as
    # Paris time (winter or summer) exactly as the same times sent with Paris's offset.
    await store_legs(app_conn, tester, [Leg(start=trip_at)])
    found = await trip_starts(http, tester, local(trip_at, "08:00:00"), local(trip_at, "09:00:00"))
    assert found == [trip_at]
    aware = await trip_starts(
        http, tester, local(trip_at, f"08:00:00{offset}"), local(trip_at, f"09:00:00{offset}")
    )
    assert found == aware


@pytest.mark.parametrize("trip_at", [WINTER, SUMMER])
async def test_a_trips_range_without_offset_is_not_utc(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, tester: Enrolled, trip_at: datetime
) -> None:
    # Read as UTC, "from 06:00 to 08:00" held the trip (06:30 or 07:30 UTC); on the tester's clock
    # the hours before 08:00 are before the trip.
    await store_legs(app_conn, tester, [Leg(start=trip_at)])
    assert await trip_starts(http, tester, local(trip_at, "06:00:00"), local(trip_at, "08:00:00")) == []


async def test_a_local_day_is_the_same_day_for_the_trips_and_for_the_coach(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, tester: Enrolled
) -> None:
    # 00:30 on 15 July in Paris is 22:30 UTC on the 14th: the coach's day of the 15th holds the
    # trip, and so must the trips list of that same day sent the same way.
    late = datetime(2026, 7, 14, 22, 30, tzinfo=UTC)
    await store_legs(app_conn, tester, [Leg(start=late)])
    day = await get_json(http, tester, "/v1/coach/footprint", period="day", at="2026-07-15T00:30:00")
    assert day["current"]["section_count"] == 1
    found = await trip_starts(http, tester, "2026-07-15T00:00:00", "2026-07-16T00:00:00")
    assert found == [late]


async def test_a_trips_range_sent_with_only_to_without_offset_is_the_local_week_before(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, tester: Enrolled
) -> None:
    # `to` alone: the 7 days before it, its end on the local clock (08:00 Paris is 07:00 UTC).
    await store_legs(app_conn, tester, [Leg(start=WINTER)])
    trips = await get_json(http, tester, "/v1/trips", to=local(WINTER, "08:00:00"))
    assert trips == []
    trips = await get_json(http, tester, "/v1/trips", to=local(WINTER, "09:00:00"))
    assert [datetime.fromisoformat(t["started_at"]) for t in trips] == [WINTER]


@pytest.mark.parametrize(("fixes_at", "offset"), [(WINTER, "+01:00"), (SUMMER, "+02:00")])
async def test_deleting_a_range_without_offset_deletes_on_the_local_clock(
    http: httpx.AsyncClient, tester: Enrolled, fixes_at: datetime, offset: str
) -> None:
    # Ten fixes from 08:30 on the tester's clock: "delete from 08:00 to 09:00" deletes them all,
    # and "from 06:00 to 08:00" (which held them when read as UTC) none.
    fixes = [
        {
            "ts": (fixes_at + timedelta(seconds=10 * i)).timestamp(),
            "lat": 46.16,
            "lon": -1.15,
            "accuracy_m": 8,
        }
        for i in range(10)
    ]
    await upload(http, tester, fixes)
    before = {"from": local(fixes_at, "06:00:00"), "to": local(fixes_at, "08:00:00")}
    r = await http.delete("/v1/me/fixes", params=before, headers=tester.auth)
    assert r.status_code == 200, r.text
    assert r.json()["fixes"] == 0
    hour = {"from": local(fixes_at, "08:00:00"), "to": local(fixes_at, "09:00:00")}
    r = await http.delete("/v1/me/fixes", params=hour, headers=tester.auth)
    assert r.status_code == 200, r.text
    assert r.json()["fixes"] == len(fixes)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/trips", {"from": "0001-01-01T00:00:00", "to": "9999-12-31T23:59:59"}),
        ("/v1/trips", {"from": "0001-01-01T00:00:00", "to": "2026-01-01T00:00:00Z"}),
        ("/v1/trips", {"to": "0001-01-01T00:00:00"}),
    ],
)
async def test_the_calendars_ends_without_offset_are_ranges_not_errors(
    http: httpx.AsyncClient, tester: Enrolled, path: str, params: dict[str, str]
) -> None:
    # Midnight of year 1 in Paris (UTC+00:09:21 then) is before the first instant UTC can hold.
    r = await http.get(path, params=params, headers=tester.auth)
    assert r.status_code == 200, r.text
    assert r.json() == []


async def test_deleting_everything_without_offset_is_a_range_not_an_error(
    http: httpx.AsyncClient, tester: Enrolled
) -> None:
    edges = {"from": "0001-01-01T00:00:00", "to": "9999-12-31T23:59:59"}
    r = await http.delete("/v1/me/fixes", params=edges, headers=tester.auth)
    assert r.status_code == 200, r.text
    assert r.json()["fixes"] == 0


@pytest.mark.parametrize(
    ("path", "params", "key"),
    [
        ("/v1/trips", {"from": "2026-01-13T08:00:00", "to": "tomorrow"}, "to"),
        ("/v1/me/fixes", {"from": "2026-01-13T25:00:00", "to": "2026-01-13T09:00:00"}, "from"),
        ("/v1/coach/footprint", {"at": "2026-01-13 noon"}, "at"),
    ],
)
async def test_a_time_that_cannot_be_read_is_still_a_400_problem(
    http: httpx.AsyncClient, tester: Enrolled, path: str, params: dict[str, str], key: str
) -> None:
    method = "DELETE" if path == "/v1/me/fixes" else "GET"
    r = await http.request(method, path, params=params, headers=tester.auth)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["key"] for e in r.json()["errors"]] == [key]


async def test_the_openapi_document_says_what_a_time_without_offset_means(http: httpx.AsyncClient) -> None:
    paths = (await http.get("/schema/openapi.json")).json()["paths"]
    operations = [
        (paths["/v1/trips"]["get"], ("from", "to")),
        (paths["/v1/me/fixes"]["delete"], ("from", "to")),
        (paths["/v1/coach/footprint"]["get"], ("at",)),
        (paths["/v1/coach/weekly"]["get"], ("at",)),
    ]
    for operation, names in operations:
        described = {p["name"]: p.get("description", "") for p in operation["parameters"]}
        for name in names:
            assert "without a UTC offset" in described[name], (name, described[name])
            assert "Europe/Paris" in described[name], (name, described[name])
