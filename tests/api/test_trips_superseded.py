"""PATCH /v1/sections/{id} with an id a step has since replaced: the answer lands on its time."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from ingest.pipeline import Pipeline, PipelineParams
from models.heuristic import HeuristicClassifier
from store.partition import as_user
from store.pool import Database
from store.trips import SUPERSEDED_KEPT_DAYS
from tests.support.commute import DAY, DAY_RANGE, commute_fixes
from tests.support.testers import Enrolled, enrol, upload

# The phone lost its signal on the bus, 25 minutes after leaving home (15 at home, the walk, the
# wait, then some 7 minutes of the ride), and sent the rest of the commute later.
CUT = DAY + 1500
GAP_S = PipelineParams().segmentation.gap_s


def step_at(t_s: float) -> datetime:
    return datetime.fromtimestamp(t_s, UTC)


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(HeuristicClassifier(), PipelineParams())


async def trip_of(http: httpx.AsyncClient, t: Enrolled) -> dict[str, Any]:
    r = await http.get("/v1/trips", params=DAY_RANGE, headers=t.auth)
    assert r.status_code == 200, r.text
    (trip,) = r.json()
    assert isinstance(trip, dict)
    return trip


async def bus_ride_superseded(
    http: httpx.AsyncClient, t: Enrolled, db: Database, pipeline: Pipeline
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``t`` commutes; the signal gap closes the trip mid-ride and the app shows it, then the rest of
    the ride arrives and the step rebuilds it: the bus ride as first shown, and the trip after."""
    fixes = commute_fixes()
    await upload(http, t, [f for f in fixes if f["ts"] < CUT])
    await pipeline.run_due(db, as_of=step_at(CUT + GAP_S + 5))
    shown = await trip_of(http, t)
    ride = max(shown["sections"], key=lambda s: s["distance_m"])
    await upload(http, t, [f for f in fixes if f["ts"] >= CUT])
    await pipeline.run_due(db, as_of=step_at(fixes[-1]["ts"] + 3600))
    return ride, await trip_of(http, t)


async def labels(app_conn: asyncpg.Connection, t: Enrolled) -> list[asyncpg.Record]:
    async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
        return await app_conn.fetch("SELECT started_at, ended_at, mode, section_id FROM labels")


async def superseded(app_conn: asyncpg.Connection, t: Enrolled) -> set[uuid.UUID]:
    async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
        return {r["id"] for r in await app_conn.fetch("SELECT id FROM superseded_sections")}


async def test_an_answer_sent_with_a_superseded_id_confirms_the_section_it_became(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    ride, trip = await bus_ride_superseded(http, t, db, pipeline)
    now = next(s for s in trip["sections"] if s["started_at"] == ride["started_at"])
    assert now["id"] != ride["id"]  # the ride's end moved: a new id
    assert now["ended_at"] > ride["ended_at"]
    r = await http.patch(f"/v1/sections/{ride['id']}", json={"mode": "tram"}, headers=t.auth)
    assert r.status_code == 200, r.text
    # The answer names the section the tester's answer now confirms, by its current id.
    assert r.json()["id"] == now["id"]
    assert r.json()["trip_id"] == trip["id"]
    assert (r.json()["mode"], r.json()["mode_source"]) == ("tram", "user")
    listed = next(s for s in (await trip_of(http, t))["sections"] if s["id"] == now["id"])
    assert (listed["mode"], listed["mode_source"]) == ("tram", "user")
    assert listed["co2_kg"] == r.json()["co2_kg"] < now["co2_kg"]  # a tram emits less than a bus
    # Kept over the ride as it now is (which covers the time answered about): the step the answer
    # queued decides the same.
    (label,) = await labels(app_conn, t)
    assert (label["started_at"].isoformat(), label["ended_at"].isoformat()) == (
        datetime.fromisoformat(now["started_at"]).isoformat(),
        datetime.fromisoformat(now["ended_at"]).isoformat(),
    )
    assert label["section_id"] == uuid.UUID(now["id"])
    await pipeline.run_due(db, as_of=step_at(DAY + 86400))
    again = next(s for s in (await trip_of(http, t))["sections"] if s["id"] == now["id"])
    assert (again["mode"], again["mode_source"]) == ("tram", "user")


async def test_an_id_never_had_is_still_404(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    other = await enrol(http, invite_code)
    ride, _ = await bus_ride_superseded(http, t, db, pipeline)
    r = await http.patch(f"/v1/sections/{uuid.uuid4()}", json={"mode": "tram"}, headers=t.auth)
    assert r.status_code == 404, r.text
    # Another tester's superseded id is not the caller's.
    r = await http.patch(f"/v1/sections/{ride['id']}", json={"mode": "tram"}, headers=other.auth)
    assert r.status_code == 404, r.text
    assert all(s["mode_source"] != "user" for s in (await trip_of(http, t))["sections"])


async def test_a_superseded_id_is_forgotten_after_the_days_it_is_kept(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    ride, _ = await bus_ride_superseded(http, t, db, pipeline)
    assert await superseded(app_conn, t) == {uuid.UUID(ride["id"])}
    async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
        await app_conn.execute(
            "UPDATE superseded_sections SET replaced_at = now() - make_interval(days => $1 + 1)",
            SUPERSEDED_KEPT_DAYS,
        )
    # The next step, whatever it rebuilds, forgets it.
    nextday = commute_fixes(DAY + 86400)
    await upload(http, t, nextday)
    await pipeline.run_due(db, as_of=step_at(nextday[-1]["ts"] + 3600))
    assert await superseded(app_conn, t) == set()
    r = await http.patch(f"/v1/sections/{ride['id']}", json={"mode": "tram"}, headers=t.auth)
    assert r.status_code == 404, r.text


async def test_superseded_ids_are_exported_and_deleted_with_the_trips(
    http: httpx.AsyncClient,
    invite_code: str,
    db: Database,
    pipeline: Pipeline,
    app_conn: asyncpg.Connection,
    admin_conn: asyncpg.Connection,
) -> None:
    t = await enrol(http, invite_code)
    ride, trip = await bus_ride_superseded(http, t, db, pipeline)
    r = await http.get("/v1/me/export", params={"format": "zip"}, headers=t.auth)
    assert r.status_code == 200, r.text
    exported = zipfile.ZipFile(io.BytesIO(r.content)).read("data/superseded_sections.csv").decode()
    assert ride["id"] in exported
    # Deleting the trip deletes the ids its sections had, and their times.
    r = await http.delete(f"/v1/me/trips/{trip['id']}", headers=t.auth)
    assert r.status_code == 200, r.text
    assert await superseded(app_conn, t) == set()
    r = await http.patch(f"/v1/sections/{ride['id']}", json={"mode": "tram"}, headers=t.auth)
    assert r.status_code == 404, r.text
    # Erasure drops the table with the partition.
    other = await enrol(http, invite_code)
    await bus_ride_superseded(http, other, db, pipeline)
    assert await superseded(app_conn, other)
    assert (await http.delete("/v1/me", headers=other.auth)).status_code == 200
    table = f"sillage_u_{other.user_id.hex}.superseded_sections"
    assert await admin_conn.fetchval("SELECT to_regclass($1)", table) is None
