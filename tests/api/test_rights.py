"""Deleting a trip or a time range, pausing, hiding a trip: over real HTTP, checked in the database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from ingest.pipeline import Pipeline, PipelineParams
from models.heuristic import HeuristicClassifier
from store.partition import as_user
from store.pool import Database
from tests.support.commute import DAY, DAY_RANGE, commute_fixes
from tests.support.testers import Enrolled, enrol, upload
from tests.support.tracks import gap, place, stay, track_from


async def process(db: Database, fixes: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Run the pipeline; the testers it processed."""
    done = await Pipeline(HeuristicClassifier(), PipelineParams()).run_due(
        db, as_of=datetime.fromtimestamp(fixes[-1]["ts"] + 3600, UTC)
    )
    return {o.user_id for o in done}


@pytest.fixture
async def commuter(http: httpx.AsyncClient, invite_code: str, db: Database) -> Enrolled:
    t = await enrol(http, invite_code)
    fixes = commute_fixes()
    await upload(http, t, fixes)
    await process(db, fixes)
    return t


async def trips(http: httpx.AsyncClient, t: Enrolled) -> list[dict[str, Any]]:
    r = await http.get("/v1/trips", params=DAY_RANGE, headers=t.auth)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()
    return found


async def scalar(app_conn: asyncpg.Connection, t: Enrolled, sql: str, *args: Any) -> Any:
    async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
        return await app_conn.fetchval(sql, *args)


async def dirty(app_conn: asyncpg.Connection, t: Enrolled) -> tuple[datetime, datetime] | None:
    row = await app_conn.fetchrow(
        "SELECT from_ts, to_ts FROM sillage.pipeline_dirty WHERE user_id = $1", t.user_id
    )
    return None if row is None else (row["from_ts"], row["to_ts"])


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


async def test_deleting_a_trip_deletes_it_and_the_fixes_it_was_made_of(
    http: httpx.AsyncClient, commuter: Enrolled, app_conn: asyncpg.Connection
) -> None:
    trip = (await trips(http, commuter))[0]
    start, end = at(trip["started_at"]), at(trip["ended_at"])
    before = await scalar(app_conn, commuter, "SELECT count(*) FROM fixes")
    r = await http.delete(f"/v1/me/trips/{trip['id']}", headers=commuter.auth)
    assert r.status_code == 200, r.text
    assert r.json()["trips"] == 1
    assert r.json()["fixes"] > 0
    assert (await http.get(f"/v1/trips/{trip['id']}", headers=commuter.auth)).status_code == 404
    inside = "SELECT count(*) FROM fixes WHERE ts BETWEEN $1 AND $2"
    assert await scalar(app_conn, commuter, inside, start, end) == 0
    assert await scalar(app_conn, commuter, "SELECT count(*) FROM fixes") == before - r.json()["fixes"]
    assert await scalar(app_conn, commuter, "SELECT count(*) FROM sections") == 0


async def test_a_deleted_trip_is_not_rebuilt_when_its_range_is_recomputed(
    http: httpx.AsyncClient, commuter: Enrolled, app_conn: asyncpg.Connection, db: Database
) -> None:
    trip = (await trips(http, commuter))[0]
    await http.delete(f"/v1/me/trips/{trip['id']}", headers=commuter.auth)
    marked = await dirty(app_conn, commuter)
    assert marked is not None
    assert marked[0] <= at(trip["started_at"])
    assert marked[1] >= at(trip["ended_at"])
    assert commuter.user_id in await process(db, commute_fixes())
    assert await trips(http, commuter) == []


async def test_a_trip_of_another_tester_cannot_be_deleted(
    http: httpx.AsyncClient, commuter: Enrolled, invite_code: str
) -> None:
    trip = (await trips(http, commuter))[0]
    intruder = await enrol(http, invite_code)
    r = await http.delete(f"/v1/me/trips/{trip['id']}", headers=intruder.auth)
    assert r.status_code == 404
    assert [t["id"] for t in await trips(http, commuter)] == [trip["id"]]


async def test_deleting_a_range_deletes_its_fixes_and_the_trips_made_from_them(
    http: httpx.AsyncClient, commuter: Enrolled, app_conn: asyncpg.Connection
) -> None:
    trip = (await trips(http, commuter))[0]
    middle = at(trip["started_at"]) + (at(trip["ended_at"]) - at(trip["started_at"])) / 2
    start, end = middle - timedelta(minutes=1), middle + timedelta(minutes=1)
    r = await http.delete(
        "/v1/me/fixes", params={"from": start.isoformat(), "to": end.isoformat()}, headers=commuter.auth
    )
    assert r.status_code == 200, r.text
    assert r.json()["trips"] == 1
    assert r.json()["fixes"] == 24  # one fix every 5 s for 2 minutes
    assert (
        await scalar(app_conn, commuter, "SELECT count(*) FROM fixes WHERE ts >= $1 AND ts < $2", start, end)
        == 0
    )
    assert await scalar(app_conn, commuter, "SELECT count(*) FROM fixes WHERE ts < $1", start) > 0
    assert await trips(http, commuter) == []
    marked = await dirty(app_conn, commuter)
    assert marked is not None
    assert marked[0] <= start
    assert marked[1] >= end


async def test_a_confirmation_cut_by_a_deleted_range_goes_with_the_places_it_holds(
    http: httpx.AsyncClient, commuter: Enrolled, app_conn: asyncpg.Connection
) -> None:
    trip = (await trips(http, commuter))[0]
    section = trip["sections"][-1]
    r = await http.patch(f"/v1/sections/{section['id']}", json={"mode": "tram"}, headers=commuter.auth)
    assert r.status_code == 200, r.text
    assert await scalar(app_conn, commuter, "SELECT count(*) FROM labels") == 1
    # From before the trip to the middle of the section: where it began is deleted.
    middle = at(section["started_at"]) + (at(section["ended_at"]) - at(section["started_at"])) / 2
    r = await http.delete(
        "/v1/me/fixes",
        params={"from": DAY_RANGE["from"], "to": middle.isoformat()},
        headers=commuter.auth,
    )
    assert r.status_code == 200, r.text
    assert r.json()["labels"] == 1
    assert await scalar(app_conn, commuter, "SELECT count(*) FROM labels") == 0


async def test_what_remains_around_a_deleted_range_is_recomputed(
    http: httpx.AsyncClient, commuter: Enrolled, db: Database
) -> None:
    trip = (await trips(http, commuter))[0]
    start = at(trip["ended_at"]) - timedelta(minutes=2)
    await http.delete(
        "/v1/me/fixes", params={"from": start.isoformat(), "to": trip["ended_at"]}, headers=commuter.auth
    )
    assert commuter.user_id in await process(db, commute_fixes())
    rebuilt = await trips(http, commuter)
    assert len(rebuilt) == 1
    assert at(rebuilt[0]["ended_at"]) < start


async def test_deleting_from_the_first_day_of_the_calendar_leaves_the_pipeline_working(
    http: httpx.AsyncClient, invite_code: str, db: Database, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    everything_before = {"from": "0001-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    r = await http.delete("/v1/me/fixes", params=everything_before, headers=t.auth)
    assert r.status_code == 200, r.text
    marked = await dirty(app_conn, t)
    assert marked is not None
    assert marked[0] == datetime(2000, 1, 1, tzinfo=UTC)  # not -infinity, which came back naive
    fixes = commute_fixes()
    await upload(http, t, fixes)
    assert t.user_id in await process(db, fixes)
    assert len(await trips(http, t)) == 1


async def test_a_range_queued_from_minus_infinity_is_still_processed(
    http: httpx.AsyncClient, invite_code: str, db: Database, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    fixes = commute_fixes()
    await upload(http, t, fixes)
    # As a deployment may hold it from before the bounds were clamped.
    await app_conn.execute(
        "UPDATE sillage.pipeline_dirty SET from_ts = '-infinity', to_ts = 'infinity' WHERE user_id = $1",
        t.user_id,
    )
    assert t.user_id in await process(db, fixes)
    assert len(await trips(http, t)) == 1


async def test_a_range_must_end_after_it_starts(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    r = await http.delete(
        "/v1/me/fixes", params={"from": "2026-10-05T10:00:00Z", "to": "2026-10-05T09:00:00Z"}, headers=t.auth
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


async def test_a_range_needs_both_ends(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    r = await http.delete("/v1/me/fixes", params={"from": "2026-10-05T10:00:00Z"}, headers=t.auth)
    assert r.status_code == 400


async def test_a_paused_tester_stores_nothing_until_resumed(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    fixes = commute_fixes()[:10]
    r = await http.post("/v1/me/pause", headers=t.auth)
    assert r.status_code == 200
    assert r.json() == {"paused": True}
    assert (await http.get("/v1/me", headers=t.auth)).json()["paused"] is True
    report = (await http.post("/v1/fixes", json={"fixes": fixes}, headers=t.auth)).json()
    assert report["stored"] == 0
    assert {x["status"] for x in report["results"]} == {"paused"}
    assert await scalar(app_conn, t, "SELECT count(*) FROM fixes") == 0
    assert (await http.post("/v1/me/resume", headers=t.auth)).json() == {"paused": False}
    report = (await http.post("/v1/fixes", json={"fixes": fixes}, headers=t.auth)).json()
    assert report["stored"] == 10


async def test_pausing_twice_is_harmless_and_audited_once(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    await http.post("/v1/me/pause", headers=t.auth)
    r = await http.post("/v1/me/pause", headers=t.auth)
    assert r.json() == {"paused": True}
    await http.post("/v1/me/resume", headers=t.auth)
    actions = [
        r["action"] for r in await app_conn.fetch("SELECT action FROM sillage.audit_about($1)", t.user_id)
    ]
    assert actions == ["account.enrol", "recording.pause", "recording.resume"]


async def test_hiding_twice_is_harmless_and_audited_once(
    http: httpx.AsyncClient, commuter: Enrolled, app_conn: asyncpg.Connection
) -> None:
    trip = (await trips(http, commuter))[0]
    for path in ("hide", "hide", "unhide", "unhide"):
        assert (
            await http.post(f"/v1/me/trips/{trip['id']}/{path}", headers=commuter.auth)
        ).status_code == 204
    actions = [
        r["action"]
        for r in await app_conn.fetch("SELECT action FROM sillage.audit_about($1)", commuter.user_id)
        if r["action"].startswith("trip.")
    ]
    assert actions == ["trip.hide", "trip.unhide"]


async def test_a_hidden_trip_is_left_out_until_unhidden(http: httpx.AsyncClient, commuter: Enrolled) -> None:
    trip = (await trips(http, commuter))[0]
    assert (await http.post(f"/v1/me/trips/{trip['id']}/hide", headers=commuter.auth)).status_code == 204
    assert await trips(http, commuter) == []
    assert (await http.post(f"/v1/me/trips/{trip['id']}/unhide", headers=commuter.auth)).status_code == 204
    assert [t["id"] for t in await trips(http, commuter)] == [trip["id"]]


async def test_a_hidden_trip_can_be_listed_to_be_found_and_unhidden(
    http: httpx.AsyncClient, commuter: Enrolled
) -> None:
    trip = (await trips(http, commuter))[0]
    assert trip["hidden"] is False
    await http.post(f"/v1/me/trips/{trip['id']}/hide", headers=commuter.auth)
    r = await http.get("/v1/trips", params={**DAY_RANGE, "hidden": "true"}, headers=commuter.auth)
    assert r.status_code == 200, r.text
    assert [(t["id"], t["hidden"]) for t in r.json()] == [(trip["id"], True)]
    r = await http.get("/v1/trips", params={**DAY_RANGE, "hidden": "true", "limit": 1}, headers=commuter.auth)
    assert "hidden=true" in r.headers["link"]  # the next page lists them too


async def test_a_hidden_trip_stays_hidden_when_recomputed(
    http: httpx.AsyncClient, commuter: Enrolled, app_conn: asyncpg.Connection, db: Database
) -> None:
    trip = (await trips(http, commuter))[0]
    await http.post(f"/v1/me/trips/{trip['id']}/hide", headers=commuter.auth)
    earliest = datetime(2000, 1, 1, tzinfo=UTC)
    async with as_user(app_conn, f"sillage_u_{commuter.user_id.hex}"):
        await app_conn.execute("SELECT sillage.mark_my_dirty($1, $2)", earliest, at(trip["ended_at"]))
        await app_conn.execute("UPDATE pipeline_state SET complete_until = $1", earliest)
    built_at = await scalar(app_conn, commuter, "SELECT processed_at FROM trips")
    assert commuter.user_id in await process(db, commute_fixes())
    assert await scalar(app_conn, commuter, "SELECT processed_at FROM trips") > built_at  # rebuilt
    assert await scalar(app_conn, commuter, "SELECT count(*) FROM trips WHERE hidden") == 1
    assert await trips(http, commuter) == []


async def test_hiding_an_unknown_trip_is_not_found(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    r = await http.post("/v1/me/trips/00000000-0000-0000-0000-000000000001/hide", headers=t.auth)
    assert r.status_code == 404


async def test_ranges_reaching_past_the_calendar_mean_everything(
    http: httpx.AsyncClient, commuter: Enrolled
) -> None:
    edges = {"from": "0001-01-01T00:00:00+01:00", "to": "9999-12-31T23:59:59-01:00"}
    r = await http.get("/v1/trips", params=edges, headers=commuter.auth)
    assert r.status_code == 200, r.text
    assert len(r.json()) == 1
    r = await http.delete("/v1/me/fixes", params=edges, headers=commuter.auth)  # "delete everything"
    assert r.status_code == 200, r.text
    assert r.json()["trips"] == 1
    assert await trips(http, commuter) == []


async def test_a_range_wholly_past_the_times_of_fixes_deletes_nothing(
    http: httpx.AsyncClient, commuter: Enrolled
) -> None:
    # Both bounds clamped to 2200: a 422 "'to' must be after 'from'" for a range sent the right
    # way round. Nothing can be there: nothing is deleted. The wrong way round is still a 422.
    future = {"from": "3000-01-01T00:00:00Z", "to": "4000-01-01T00:00:00Z"}
    r = await http.delete("/v1/me/fixes", params=future, headers=commuter.auth)
    assert r.status_code == 200, r.text
    assert r.json() == {"fixes": 0, "trips": 0, "stays": 0, "labels": 0, "hidden_trips": 0}
    assert len(await trips(http, commuter)) == 1
    inverted = {"from": future["to"], "to": future["from"]}
    assert (await http.delete("/v1/me/fixes", params=inverted, headers=commuter.auth)).status_code == 422


def flight_fixes() -> list[dict[str, Any]]:
    """A stay, an hour without signal and 700 km, a stay: a flight whose two ends are the fixes
    of the stays on either side (it shares them)."""
    track = track_from(
        stay(1200, at=place(0.0, 0.0), every_s=10),
        gap(3600, to=place(700_000.0, 0.0)),
        stay(1200, every_s=10),
        start_s=DAY,
    )
    return [
        {"ts": float(track.t_s[i]), "lat": float(track.lat[i]), "lon": float(track.lon[i]), "accuracy_m": 5.0}
        for i in range(len(track))
    ]


@pytest.mark.parametrize("fixes", [commute_fixes, flight_fixes], ids=["commute", "flight"])
async def test_deleting_a_hidden_trip_forgets_that_it_was_hidden(
    http: httpx.AsyncClient, invite_code: str, db: Database, app_conn: asyncpg.Connection, fixes: Any
) -> None:
    # A flight's range is cut short of the fixes it shares with the stays beside it, and the
    # hidden interval, not inside the range, was kept: in the export, with nothing to unhide.
    t = await enrol(http, invite_code)
    sent = fixes()
    await upload(http, t, sent)
    await process(db, sent)
    trip = (await trips(http, t))[0]
    assert (await http.post(f"/v1/me/trips/{trip['id']}/hide", headers=t.auth)).status_code == 204
    assert await scalar(app_conn, t, "SELECT count(*) FROM hidden_trips") == 1
    r = await http.delete(f"/v1/me/trips/{trip['id']}", headers=t.auth)
    assert r.status_code == 200, r.text
    assert r.json()["hidden_trips"] == 1
    assert await scalar(app_conn, t, "SELECT count(*) FROM hidden_trips") == 0
