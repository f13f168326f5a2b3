"""The incremental pipeline: uploads become trips with modes, per tester and time range."""

from __future__ import annotations

import asyncio
import base64
import csv
import dataclasses
import io
import re
import threading
import time
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import numpy as np
import pytest

import ingest.pipeline as pipeline_module
from api.app import create_app
from core.geodesy import haversine_m
from core.history import ASK_BELOW, AUDIT_SHARE, DEFAULT_HISTORY, KINEMATIC_FEATURES, answer_weighing, audited
from core.segmentation.rides import RIDE_CIRCUITY
from core.settings import Settings
from core.track import Track
from ingest.labels import export_labels
from ingest.pipeline import Pipeline, PipelineParams
from models.heuristic import HeuristicClassifier
from store import fixes as fixes_module
from store import trips as trips_db
from store.partition import as_user
from store.pool import Database
from store.rights import Actor
from tests.support.cli import sillage
from tests.support.database import ScratchDatabase
from tests.support.queue import queue_put_back
from tests.support.server import serve
from tests.support.testers import Enrolled, enrol, upload
from tests.support.tracks import Leg, Place, bus, gap, place, ride, stay, track_from, walk, walk_to_the_shop

HOME = place(0.0, 0.0)
STOP_A = place(300.0, 0.0)
STOP_B = place(4300.0, 0.0)
WORK = place(4600.0, 0.0)
DAY = datetime(2026, 9, 14, 7, 0, tzinfo=UTC).timestamp()


def commute(
    start_s: float = DAY, *, north_m: float = 0.0, board_m: float = 300.0, alight_m: float = 4300.0
) -> Track:
    """Home, a walk of 300 m, a bus ride east (4 km), a walk of 300 m, work; ``north_m`` moves all
    of it north, ``board_m`` and ``alight_m`` say where on the line the ride starts and ends."""
    home, stop_a, stop_b, work = (
        place(east, north_m) for east in (board_m - 300.0, board_m, alight_m, alight_m + 300.0)
    )
    return track_from(
        stay(900, at=home, every_s=5),
        walk(to=stop_a, every_s=5),
        stay(120, every_s=5),
        bus(to=stop_b, every_s=5),
        walk(to=work, every_s=5),
        stay(900, every_s=5),
        start_s=start_s,
    )


def fixes_json(track: Track, mask: np.ndarray | None = None) -> list[dict[str, Any]]:
    idx = np.arange(len(track)) if mask is None else np.flatnonzero(mask)
    return [
        {"ts": float(track.t_s[i]), "lat": float(track.lat[i]), "lon": float(track.lon[i]), "accuracy_m": 6.0}
        for i in idx
    ]


@pytest.fixture(scope="session")
def pipeline() -> Pipeline:
    return Pipeline(HeuristicClassifier(), PipelineParams())


def after(track: Track, seconds: float) -> datetime:
    return datetime.fromtimestamp(float(track.t_s[-1]) + seconds, UTC)


async def trips_of(
    http: httpx.AsyncClient, t: Enrolled, day: float = DAY, days_before: int = 1
) -> list[dict[str, Any]]:
    start = datetime.fromtimestamp(day - days_before * 86400, UTC).isoformat()
    end = datetime.fromtimestamp(day + 86400, UTC).isoformat()
    r = await http.get("/v1/trips", params={"from": start, "to": end}, headers=t.auth)
    assert r.status_code == 200, r.text
    trips: list[dict[str, Any]] = r.json()
    return trips


async def test_a_commute_becomes_one_trip_of_walk_bus_walk(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    track = commute()
    await upload(http, t, fixes_json(track))
    outcomes = await pipeline.run_due(db, as_of=after(track, 60))
    assert t.user_id in {o.user_id for o in outcomes}
    (trip,) = await trips_of(http, t)
    assert [s["mode"] for s in trip["sections"]] == ["walk", "bus", "walk"]
    assert 4000 < trip["distance_m"] < 5500
    for s in trip["sections"]:
        assert abs(sum(s["probabilities"].values()) - 1.0) < 1e-3
        assert s["geometry"]["type"] == "LineString"
        assert len(s["geometry"]["coordinates"]) >= 2
    assert trip["sections"][1]["co2_kg"] > 0  # a bus emits; walking does not
    assert trip["sections"][0]["co2_kg"] == 0
    one = await http.get(f"/v1/trips/{trip['id']}", headers=t.auth)
    assert one.json()["id"] == trip["id"]


async def one_walk_seen_by_two_trackers(
    http: httpx.AsyncClient, invite_code: str
) -> tuple[Track, Track, Enrolled, Enrolled]:
    """A walk as a first tracker logs it (every 2 s) and as a second one does (every 3 s, whole
    seconds, its own noise), and two testers who both sent the first: one alone, one to whom the
    test sends the second too."""
    first = walk_to_the_shop(every_s=2.0, seed=1, start_s=DAY + 0.5, stay_s=900)
    second = walk_to_the_shop(every_s=3.0, seed=2, start_s=DAY, stay_s=900)
    alone, both = await enrol(http, invite_code), await enrol(http, invite_code)
    for t in (alone, both):
        await upload(http, t, fixes_json(first))
    return first, second, alone, both


async def test_a_second_tracker_logging_the_same_walk_does_not_lengthen_the_trip(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    # The app every 2 s; OwnTracks on the same phone every 3 s (whole seconds), with its own noise.
    app, owntracks, alone, both = await one_walk_seen_by_two_trackers(http, invite_code)
    basic = base64.b64encode(f"me:{both.token}".encode()).decode()
    messages = [
        {"_type": "location", "lat": float(la), "lon": float(lo), "tst": int(ts), "acc": 8}
        for ts, la, lo in zip(owntracks.t_s, owntracks.lat, owntracks.lon, strict=True)
    ]
    r = await http.post("/ingest/owntracks", json=messages, headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200, r.text
    await pipeline.run_due(db, as_of=after(app, 60))
    (one,) = await trips_of(http, alone)
    (two,) = await trips_of(http, both)
    # Interleaved, the two trackers' noise zigzags: read as one track the walk is half as long again.
    assert two["distance_m"] < one["distance_m"] * 1.05
    assert [s["mode"] for s in two["sections"]] == [s["mode"] for s in one["sections"]]


def bike_commutes(
    sunday_evening: float, homes: list[Place], *, rides_s: float, every_s: tuple[float, float]
) -> Track:
    """Sunday 20:00 (Paris) at the first home, then a day of bike commutes per home in ``homes``
    (to work 4.6 km east of the first home, 9 hours there, back to that day's home); ``rides_s``
    is the day's time on the bike, ``every_s`` the sampling riding and still."""
    work = place(4600.0, 0.0)
    riding, still = every_s
    legs = [stay(12 * 3600, at=homes[0], every_s=still)]
    for home in homes:
        legs += [
            ride(to=work, speed_mps=5.0, every_s=riding),
            stay(9 * 3600, every_s=still),
            ride(to=home, speed_mps=5.0, every_s=riding),
            stay(15 * 3600 - rides_s, every_s=still),
        ]
    return track_from(*legs, start_s=sunday_evening)


def four_days_of_commutes() -> Track:
    """Sunday evening at home, then four days of bike commutes (9 hours at work, nights at home)."""
    sunday_evening = datetime(2026, 9, 13, 18, 0, tzinfo=UTC).timestamp()
    return bike_commutes(sunday_evening, [place(0.0, 0.0)] * 4, rides_s=2 * 4600 / 5.0, every_s=(5, 60))


async def purposes_and_footprint(http: httpx.AsyncClient, t: Enrolled) -> tuple[list[str | None], set[str]]:
    monday = datetime(2026, 9, 14, tzinfo=UTC)
    r = await http.get(
        "/v1/trips",
        params={"from": monday.isoformat(), "to": (monday + timedelta(days=4)).isoformat()},
        headers=t.auth,
    )
    assert r.status_code == 200, r.text
    r2 = await http.get(
        "/v1/coach/footprint", params={"period": "week", "at": monday.isoformat()}, headers=t.auth
    )
    assert r2.status_code == 200, r2.text
    return [trip["purpose"] for trip in r.json()], set(r2.json()["current"]["by_purpose_kg"])


async def test_two_phones_running_the_app_on_the_same_walk_do_not_lengthen_it(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    # The old phone and the new one, both with the app, during the move from one to the other.
    old_phone, new_phone, alone, both = await one_walk_seen_by_two_trackers(http, invite_code)
    r = await http.post("/v1/me/devices", json={"label": "new phone"}, headers=both.auth)
    assert r.status_code == 201, r.text
    second = Enrolled(
        user_id=both.user_id, device_id=uuid.UUID(r.json()["device_id"]), token=r.json()["token"]
    )
    await upload(http, second, fixes_json(new_phone))
    await pipeline.run_due(db, as_of=after(old_phone, 60))
    (one,) = await trips_of(http, alone)
    (two,) = await trips_of(http, both)
    assert two["distance_m"] < one["distance_m"] * 1.05


async def test_two_trackers_processed_in_steps_give_the_trips_of_one_pass(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, app_conn: asyncpg.Connection
) -> None:
    # The app (every 2 s moving, every minute still) and Overland (every 15 s moving, 10 s still)
    # over one day. A step restarting at a stay mid-window used to choose between them otherwise.
    start = 1_700_000_211.653687

    def day(every_move: float, every_stay: float, offset: float, seed: int) -> Track:
        return track_from(
            stay(1472.7, at=place(0, 0), every_s=every_stay),
            walk(to=place(2804.9, 0), every_s=every_move),
            stay(1037.8, every_s=every_stay),
            ride(to=place(4375.7, 0), speed_mps=25.57, every_s=every_move),
            stay(1354.0, every_s=every_stay),
            walk(to=place(7460.5, 0), every_s=every_move),
            stay(1143.7, every_s=every_stay),
            start_s=start + offset,
            seed=seed,
        )

    app, logger = day(2.0, 60.0, 0.0, 620510), day(15.0, 10.0, 0.5, 570879)

    async def send(t: Enrolled, lo: float, hi: float) -> None:
        await upload(http, t, fixes_json(app, (app.t_s >= lo) & (app.t_s < hi)))
        points = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(logger.lon[i]), float(logger.lat[i])]},
                "properties": {
                    "timestamp": datetime.fromtimestamp(float(logger.t_s[i]), UTC).isoformat(),
                    "horizontal_accuracy": 6.0,
                },
            }
            for i in np.flatnonzero((logger.t_s >= lo) & (logger.t_s < hi))
        ]
        for k in range(0, len(points), 500):
            r = await http.post("/ingest/overland", json={"locations": points[k : k + 500]}, headers=t.auth)
            assert r.status_code == 200, r.text

    async def rows(t: Enrolled) -> list[list[tuple[datetime, datetime]]]:
        async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
            return [
                [
                    (r[0], r[1])
                    for r in await app_conn.fetch(f"SELECT started_at, ended_at FROM {table} ORDER BY 1")
                ]
                for table in ("trips", "stays")
            ]

    end = float(max(app.t_s[-1], logger.t_s[-1]))
    whole, parts = await enrol(http, invite_code), await enrol(http, invite_code)
    await send(whole, -np.inf, np.inf)
    await pipeline.run_due(db, as_of=datetime.fromtimestamp(end + 60, UTC))
    cut = start + 8680.0  # inside the last stay
    await send(parts, -np.inf, cut)
    await pipeline.run_due(db, as_of=datetime.fromtimestamp(cut + 1, UTC))
    await send(parts, cut, np.inf)
    await pipeline.run_due(db, as_of=datetime.fromtimestamp(end + 60, UTC))
    assert await rows(parts) == await rows(whole)


async def test_a_new_testers_first_commutes_are_named_once_home_and_work_are_known(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    # Home and work are guessed after three nights and three half working days: until then the
    # trips are made without a purpose. Before, they kept none for good (and their bike commutes
    # never counted as FMD days), while the footprint named them afresh: two answers.
    t = await enrol(http, invite_code)
    track = four_days_of_commutes()
    for day in range(4):  # uploaded and processed each evening
        evening = track.t_s[0] + (day + 1) * 86400 + 3600
        today = (track.t_s >= evening - 86400) & (track.t_s < evening)
        await upload(http, t, fixes_json(track, today))
        await pipeline.run_due(db, as_of=datetime.fromtimestamp(evening + 60, UTC))
    purposes, footprint = await purposes_and_footprint(http, t)
    assert purposes == ["commute"] * 8
    assert footprint == {"commute"}


async def test_a_tester_who_moves_keeps_the_commutes_made_from_the_old_home(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    # Three weeks of bike commutes from one home, then six from another 3 km away, processed each
    # week. Once the new home is guessed, the old commutes must not become "work" trips (they
    # would leave the FMD days).
    old_home, new_home = place(0.0, 0.0), place(0.0, 3000.0)
    sunday = datetime(2026, 5, 31, 18, 0, tzinfo=UTC).timestamp()
    track = bike_commutes(sunday, [old_home] * 21 + [new_home] * 42, rides_s=2 * 1100, every_s=(10, 120))
    t = await enrol(http, invite_code)
    for week in range(9):
        evening = sunday + (week + 1) * 7 * 86400 + 3600
        this_week = (track.t_s >= evening - 7 * 86400) & (track.t_s < evening)
        await upload(http, t, fixes_json(track, this_week))
        await pipeline.run_due(db, as_of=datetime.fromtimestamp(evening + 60, UTC))
    r = await http.get(
        "/v1/trips",
        params={
            "from": datetime.fromtimestamp(sunday, UTC).isoformat(),
            "to": datetime.fromtimestamp(sunday + 21.5 * 86400, UTC).isoformat(),
            "limit": 500,
        },
        headers=t.auth,
    )
    assert r.status_code == 200, r.text
    purposes = [trip["purpose"] for trip in r.json()]
    assert len(purposes) == 43  # 21 days there and back, and the last morning from the old home
    # The first commutes, before three nights at home were seen, are named too.
    assert purposes == ["commute"] * 43


async def test_an_imported_history_is_named_with_the_places_of_its_own_time(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    # Imported half a year later: home and work as of the day it is processed are unknown (no stay
    # in the 120 days before), those of the history's own days are not.
    t = await enrol(http, invite_code)
    track = four_days_of_commutes()
    await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 200 * 86400))
    purposes, footprint = await purposes_and_footprint(http, t)
    assert purposes == ["commute"] * 8
    assert footprint == {"commute"}


async def test_an_open_trip_waits_and_completes_when_the_rest_arrives(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    track = commute()
    half = track.t_s < track.t_s[0] + 1500  # home, the walk and part of the bus ride
    await upload(http, t, fixes_json(track, half))
    await pipeline.run_due(db, as_of=datetime.fromtimestamp(track.t_s[0] + 1510, UTC))
    assert await trips_of(http, t) == []
    pending = await app_conn.fetchrow(
        "SELECT due_at FROM sillage.pipeline_dirty WHERE user_id = $1", t.user_id
    )
    assert pending is not None  # deferred until the gap elapses or more fixes arrive
    await upload(http, t, fixes_json(track, ~half))
    await pipeline.run_due(db, as_of=after(track, 60))
    (trip,) = await trips_of(http, t)
    assert len(trip["sections"]) == 3
    # What stays pending is only the stay at work, still going on after the trip
    tail = await app_conn.fetchrow("SELECT from_ts FROM sillage.pipeline_dirty WHERE user_id = $1", t.user_id)
    assert tail is not None
    assert tail["from_ts"] >= datetime.fromisoformat(trip["ended_at"])


async def test_incremental_processing_gives_the_same_trip_as_one_pass(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    track = commute()
    whole = await enrol(http, invite_code)
    await upload(http, whole, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    parts = await enrol(http, invite_code)
    cuts = track.t_s[0] + np.array([300, 1000, 1400, 1800, 99999])
    lo = -np.inf
    for c in cuts:
        mask = (track.t_s >= lo) & (track.t_s < c)
        lo = c
        await upload(http, parts, fixes_json(track, mask))
        await pipeline.run_due(db, as_of=datetime.fromtimestamp(min(c, track.t_s[-1] + 60), UTC))
    (a,) = await trips_of(http, whole)
    (b,) = await trips_of(http, parts)
    assert (a["started_at"], a["ended_at"]) == (b["started_at"], b["ended_at"])
    assert [s["mode"] for s in a["sections"]] == [s["mode"] for s in b["sections"]]


async def test_late_fixes_for_an_earlier_day_are_processed_in_their_range(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    today = commute()
    await upload(http, t, fixes_json(today))
    await pipeline.run_due(db, as_of=after(today, 60))
    (today_trip,) = await trips_of(http, t)
    yesterday = commute(DAY - 86400)
    await upload(http, t, fixes_json(yesterday))  # days late
    await pipeline.run_due(db, as_of=after(today, 120))
    both = await trips_of(http, t)
    assert len(both) == 2
    assert today_trip["id"] in {x["id"] for x in both}  # the untouched trip kept its id


async def test_a_crash_mid_way_loses_and_duplicates_nothing(
    http: httpx.AsyncClient,
    invite_code: str,
    db: Database,
    pipeline: Pipeline,
    monkeypatch: pytest.MonkeyPatch,
    app_conn: asyncpg.Connection,
) -> None:
    t = await enrol(http, invite_code)
    track = commute()
    await upload(http, t, fixes_json(track))
    real = trips_db.replace_from

    async def crash(conn: Any, start: datetime, built: Any, **window: Any) -> None:
        await real(conn, start, built, **window)  # rows written...
        raise RuntimeError("power cut")  # ...then the process dies before commit

    monkeypatch.setattr(trips_db, "replace_from", crash)
    assert await pipeline.run_due(db, as_of=after(track, 60)) == []
    assert await trips_of(http, t) == []
    assert (
        await app_conn.fetchval("SELECT count(*) FROM sillage.pipeline_dirty WHERE user_id = $1", t.user_id)
        == 1
    )
    monkeypatch.setattr(trips_db, "replace_from", real)
    retry = datetime.now(UTC) + timedelta(seconds=PipelineParams().retry_after_s + 1)  # put off
    await pipeline.run_due(db, retry, as_of=after(track, 60))
    await pipeline.run_due(db, retry, as_of=after(track, 61))  # nothing more to do, nothing duplicated
    assert len(await trips_of(http, t)) == 1


async def test_a_trip_without_a_following_stay_is_closed_by_the_signal_gap(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    track = track_from(
        stay(900, at=HOME, every_s=5), walk(to=STOP_A, every_s=5), bus(to=STOP_B, every_s=5), start_s=DAY
    )  # the phone stops sending on arrival
    await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    assert await trips_of(http, t) == []
    later = PipelineParams().segmentation.gap_s + 5
    await pipeline.run_due(db, datetime.now(UTC) + timedelta(seconds=later), as_of=after(track, later))
    assert len(await trips_of(http, t)) == 1


@pytest.mark.parametrize("last_accuracy_m", [6.0, 500.0], ids=["kept", "dropped by cleaning"])
async def test_once_the_phone_has_gone_quiet_the_tester_leaves_the_queue(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, last_accuracy_m: float
) -> None:
    t = await enrol(http, invite_code)
    track = commute()
    fixes = fixes_json(track)
    fixes[-1]["accuracy_m"] = last_accuracy_m
    await upload(http, t, fixes)
    later = PipelineParams().segmentation.gap_s + 5
    when = datetime.now(UTC) + timedelta(seconds=later)
    async with db.connection() as conn:
        done = await pipeline.process_user(
            conn, t.user_id, f"sillage_u_{t.user_id.hex}", when, as_of=after(track, later)
        )
        assert done is not None
        assert done.trips == 1
        queued = await conn.fetchrow("SELECT * FROM sillage.pipeline_dirty WHERE user_id = $1", t.user_id)
    # Everything is final: nothing is left to look at again (not at every poll, for ever).
    assert queued is None


class Broken(HeuristicClassifier):
    """A model that fails on every step (a bug met by some data, say)."""

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        raise RuntimeError("the model broke")


async def test_a_tester_whose_step_fails_is_retried_later_and_never_holds_up_the_others(
    http: httpx.AsyncClient, invite_code: str, db: Database, app_conn: asyncpg.Connection
) -> None:
    a, b = await enrol(http, invite_code), await enrol(http, invite_code)
    track = commute()
    as_of = after(track, 60)

    async def queued() -> dict[Any, asyncpg.Record]:
        rows = await app_conn.fetch("SELECT user_id, failures, due_at FROM sillage.pipeline_dirty")
        return {r["user_id"]: r for r in rows}

    async with queue_put_back(app_conn, cleared=True):
        await upload(http, a, fixes_json(track))
        await upload(http, b, fixes_json(track))
        broken = Pipeline(Broken(), PipelineParams(testers_per_round=1))
        now = datetime.now(UTC) + timedelta(seconds=1)
        assert await broken.run_due(db, now, as_of=as_of) == []  # a (due first) fails
        assert await broken.run_due(db, now, as_of=as_of) == []  # then b has its turn, and fails
        first = await queued()
        assert (first[a.user_id]["failures"], first[b.user_id]["failures"]) == (1, 1)
        assert first[a.user_id]["due_at"] == now + timedelta(seconds=60)
        later = now + timedelta(seconds=61)
        await broken.run_due(db, later, as_of=as_of)  # a again: twice the delay
        assert (await queued())[a.user_id]["failures"] == 2
        assert (await queued())[a.user_id]["due_at"] == later + timedelta(seconds=120)
        # Nothing was lost: once the model works, both trips are built, and the count starts again
        # (both stay queued for the stay at the end of the track, open until a signal gap).
        done = await Pipeline(HeuristicClassifier()).run_due(db, now + timedelta(hours=2), as_of=as_of)
        assert {o.user_id for o in done} == {a.user_id, b.user_id}
        assert len(await trips_of(http, a)) == len(await trips_of(http, b)) == 1
        assert [r["failures"] for r in (await queued()).values()] == [0, 0]


class Counting(Pipeline):
    """The pipeline, counting the testers' steps in progress at the same moment (each made to
    last at least ``pause_s`` longer)."""

    def __init__(self, *args: Any, pause_s: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.running = self.most = 0
        self.pause_s = pause_s

    async def process_user(self, *args: Any, **kwargs: Any) -> Any:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(self.pause_s)
            return await super().process_user(*args, **kwargs)
        finally:
            self.running -= 1


async def test_the_testers_of_a_round_are_processed_several_at_once_each_once(
    http: httpx.AsyncClient, invite_code: str, settings: Settings, app_conn: asyncpg.Connection
) -> None:
    testers = [await enrol(http, invite_code) for _ in range(6)]
    track = commute()
    database = Database(settings.database_url or "", min_size=1, max_size=4)
    try:
        async with queue_put_back(app_conn, cleared=True):
            for t in testers:
                await upload(http, t, fixes_json(track))
            counting = Counting(HeuristicClassifier(), PipelineParams(concurrent_testers=4))
            done = await counting.run_due(database, as_of=after(track, 60))
    finally:
        await database.close()
    assert counting.most == 4  # four steps were in progress together
    # Each tester once, in the order they became due (their uploads' order), each with their trip.
    assert [o.user_id for o in done] == [t.user_id for t in testers]
    for t in testers:
        assert len(await trips_of(http, t)) == 1


async def test_a_round_goes_on_when_some_of_its_lanes_get_no_connection(
    http: httpx.AsyncClient,
    invite_code: str,
    settings: Settings,
    app_conn: asyncpg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    testers = [await enrol(http, invite_code) for _ in range(3)]
    track = commute()
    database = Database(settings.database_url or "", min_size=1, max_size=4, connect_timeout_s=0.3)
    pool = await database.pool()
    held = [await pool.acquire() for _ in range(3)]  # one connection of four is left for the round
    try:
        async with queue_put_back(app_conn, cleared=True):
            for t in testers:
                await upload(http, t, fixes_json(track))
            # Each step outlasts the pool's wait, so the lanes that found it empty give up.
            counting = Counting(HeuristicClassifier(), PipelineParams(concurrent_testers=4), pause_s=0.5)
            with caplog.at_level("WARNING", logger="sillage.pipeline"):
                done = await counting.run_due(database, as_of=after(track, 60))
    finally:
        for conn in held:
            await pool.release(conn)
        await database.close()
    assert [o.user_id for o in done] == [t.user_id for t in testers]  # one lane took them all
    assert counting.most == 1
    stopped = [r for r in caplog.records if r.getMessage() == "pipeline lane stopped"]
    assert len(stopped) == 2  # the two lanes that found the pool empty
    assert all(r.error == "DatabaseBusy" for r in stopped)  # type: ignore[attr-defined]


async def test_a_confirmed_mode_is_kept_through_reprocessing(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    track = commute()
    await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    (trip,) = await trips_of(http, t)
    ride = trip["sections"][1]
    r = await http.patch(f"/v1/sections/{ride['id']}", json={"mode": "tram"}, headers=t.auth)
    assert r.status_code == 200
    assert r.json()["mode"] == "tram"
    (trip,) = await trips_of(http, t)
    assert trip["sections"][1]["mode_source"] == "user"
    assert trip["sections"][1]["co2_kg"] < ride["co2_kg"]  # a tram emits less than a bus
    # The probabilities say what the tester confirmed, not what the model thought.
    assert trip["sections"][1]["probabilities"]["tram"] == 1.0
    assert sum(trip["sections"][1]["probabilities"].values()) == 1.0
    await upload(http, t, fixes_json(commute(DAY - 86400)))  # forces reprocessing of everything
    await pipeline.run_due(db, as_of=after(track, 120))
    today = [x for x in await trips_of(http, t) if x["id"] == trip["id"]]
    assert today[0]["sections"][1]["mode"] == "tram"
    assert today[0]["sections"][1]["probabilities"]["tram"] == 1.0  # through reprocessing too
    bad = await http.patch(f"/v1/sections/{ride['id']}", json={"mode": "teleport"}, headers=t.auth)
    assert bad.status_code == 422
    assert "'teleport'" in bad.json()["detail"]
    # A long unknown mode is not echoed back whole.
    bad = await http.patch(f"/v1/sections/{ride['id']}", json={"mode": "x" * 100_000}, headers=t.auth)
    assert bad.status_code == 422
    assert len(bad.text) < 1000


async def test_a_plane_tapped_on_a_bus_ride_stays_on_that_ride(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    # The tester's answer stands for the section they gave it (with a plane's footprint), but the
    # history no longer carries it to the same ride on other days (it made each a "plane").
    t = await enrol(http, invite_code)
    track, trip = await processed_commute(http, t, db, pipeline)
    ride = trip["sections"][1]
    r = await http.patch(f"/v1/sections/{ride['id']}", json={"mode": "plane"}, headers=t.auth)
    assert r.status_code == 200, r.text
    await upload(http, t, fixes_json(commute(DAY - 86400)))  # the same ride the day before
    await pipeline.run_due(db, as_of=after(track, 120))
    today, before = await trips_of(http, t)  # newest first
    assert today["sections"][1]["mode"] == "plane"
    assert before["sections"][1]["mode"] == ride["mode"] != "plane"
    assert before["sections"][1]["probabilities"].get("plane", 0.0) == 0.0


async def test_a_ride_across_the_antimeridian_is_cut_there_and_can_be_confirmed(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, app_conn: asyncpg.Connection
) -> None:
    # On Taveuni (Fiji) the 180th meridian crosses the island: a ride from 179.99 E to 179.99 W.
    t = await enrol(http, invite_code)
    base = commute()
    lon = (base.lon - base.lon[0]) * 0.72 + 179.99  # as many metres east (cos 46.5° / cos 16.8°)
    track = dataclasses.replace(base, lat=base.lat - 46.5197 - 16.8, lon=(lon + 180.0) % 360.0 - 180.0)
    await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    (trip,) = await trips_of(http, t)
    ride = trip["sections"][1]
    geometry = ride["geometry"]
    assert geometry["type"] == "MultiLineString"  # RFC 7946 3.1.9
    east, west = geometry["coordinates"]
    assert east[-1][0] == 180.0
    assert west[0][0] == -180.0
    assert east[-1][1] == west[0][1]
    assert 4000 < trip["distance_m"] < 6500  # the short way, not round the globe
    r = await http.patch(f"/v1/sections/{ride['id']}", json={"mode": "tram"}, headers=t.auth)
    assert r.status_code == 200, r.text
    async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
        label = await app_conn.fetchrow("SELECT start_lon, end_lon, path FROM labels")
    assert label is not None
    assert label["start_lon"] > 179.0
    assert label["end_lon"] < -179.0
    # The confirmation's path is the parts end to end, and the history reads it at the next step.
    await upload(http, t, fixes_json(commute(DAY - 86400)))
    await pipeline.run_due(db, as_of=after(track, 120))
    today = [x for x in await trips_of(http, t) if x["id"] == trip["id"]]
    assert today[0]["sections"][1]["mode"] == "tram"


async def test_two_neighbouring_confirmed_sections_export_each_fix_under_one_mode(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, app_conn: asyncpg.Connection
) -> None:
    # Sections tile their trip: the walk ends where the bus begins, at the bus's first fix, which
    # the research export must give to the bus only.
    t = await enrol(http, invite_code, "coaching", "research_labels")
    track = commute()
    await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    (trip,) = await trips_of(http, t)
    walk_section, bus_section, _ = trip["sections"]
    assert walk_section["ended_at"] == bus_section["started_at"]
    for section, mode in ((walk_section, "walk"), (bus_section, "bus")):
        r = await http.patch(f"/v1/sections/{section['id']}", json={"mode": mode}, headers=t.auth)
        assert r.status_code == 200, r.text
    out = io.StringIO()
    await export_labels(app_conn, out, actor=Actor.operator("test"))
    # Per tester: other tests' consenting testers have labels at the same instants.
    modes_at: dict[tuple[str, str], set[str]] = {}
    for row in csv.DictReader(io.StringIO(out.getvalue())):
        modes_at.setdefault((row["user"], row["ts"]), set()).add(row["mode"])
    assert modes_at
    assert all(len(modes) == 1 for modes in modes_at.values())


async def test_a_second_answer_about_a_section_replaces_the_first_through_reprocessing(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    ride = await ride_confirmed_as(http, t, db, pipeline, "car", "ebike")  # a slip, then the answer
    await pipeline.run_due(db, as_of=after(commute(), 120))  # the confirmations' revisit
    (trip,) = await trips_of(http, t)
    assert (trip["sections"][1]["mode"], trip["sections"][1]["mode_source"]) == ("ebike", "user")
    async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
        labels = await app_conn.fetch("SELECT mode, section_id FROM labels")
    assert [(r["mode"], r["section_id"]) for r in labels] == [("ebike", uuid.UUID(ride["id"]))]


@pytest.mark.parametrize("change", ["confirm", "delete"])
async def test_a_change_made_while_the_testers_step_runs_waits_for_it_instead_of_deadlocking(
    http: httpx.AsyncClient,
    invite_code: str,
    db: Database,
    pipeline: Pipeline,
    monkeypatch: pytest.MonkeyPatch,
    change: str,
) -> None:
    t = await enrol(http, invite_code)
    track = commute()
    await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    (trip,) = await trips_of(http, t)
    await upload(http, t, fixes_json(commute(DAY - 86400)))  # the day before: everything again
    real = pipeline_module._compute
    computing = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow(*args: Any, **kwargs: Any) -> Any:  # the step holds the tester's range meanwhile
        loop.call_soon_threadsafe(computing.set)
        time.sleep(1.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, "_compute", slow)
    step = asyncio.create_task(pipeline.run_due(db, as_of=after(track, 120)))
    await computing.wait()
    if change == "confirm":
        r = await http.patch(
            f"/v1/sections/{trip['sections'][1]['id']}", json={"mode": "tram"}, headers=t.auth
        )
    else:
        r = await http.delete(f"/v1/me/trips/{trip['id']}", headers=t.auth)
    done = await step
    monkeypatch.setattr(pipeline_module, "_compute", real)
    assert r.status_code == 200, r.text  # it waited for the step (a deadlock gave 500)
    assert t.user_id in {o.user_id for o in done}  # and the step went through
    await pipeline.run_due(db, as_of=after(track, 180))  # what the change queued
    today = [x for x in await trips_of(http, t) if x["started_at"] == trip["started_at"]]
    if change == "confirm":
        assert today[0]["sections"][1]["mode"] == "tram"
    else:
        assert today == []


async def test_an_answer_begun_while_nothing_is_pending_is_never_deadlocked_with_a_step(
    http: httpx.AsyncClient,
    invite_code: str,
    db: Database,
    pipeline: Pipeline,
    owner_conn: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The tester answers while nothing of theirs is pending (no queue row to hold). Before the
    # answer queues its revisit, an upload queues a range and a step claims it, then waits for the
    # trip the answer holds; the answer then waits for the step's claim. PostgreSQL broke the
    # cycle: the answer failed (503) or the step did (put off as failed). A step now leaves a
    # tester whose change is under way for its next round, and the answer goes through.
    t = await enrol(http, invite_code)
    _, trip = await processed_commute(http, t, db, pipeline)
    later = datetime.now(UTC) + timedelta(hours=1)
    await pipeline.run_due(db, later, as_of=after(commute(), 3600))  # the trip's end is known
    pending = "SELECT failures FROM sillage.pipeline_dirty WHERE user_id = $1"
    assert await owner_conn.fetchval(pending, t.user_id) is None
    real = fixes_module.mark_my_dirty
    reached, release = threading.Event(), threading.Event()

    async def paused(conn: Any, start: datetime, end: datetime) -> None:
        if not reached.is_set():  # the answer, the trip held, about to queue its revisit
            reached.set()
            await asyncio.to_thread(release.wait, 10)
        await real(conn, start, end)

    monkeypatch.setattr(fixes_module, "mark_my_dirty", paused)
    ride = trip["sections"][1]
    answer = asyncio.create_task(
        http.patch(f"/v1/sections/{ride['id']}", json={"mode": "tram"}, headers=t.auth)
    )
    assert await asyncio.to_thread(reached.wait, 10)
    await upload(http, t, fixes_json(commute(DAY + 2.5)))  # between its fixes: the trip is rebuilt
    step = asyncio.create_task(pipeline.run_due(db, as_of=after(commute(), 3600)))
    await asyncio.wait({step}, timeout=3)  # it claims the range, then would wait for the trip
    release.set()
    r = await answer
    skipped = await step
    assert r.status_code == 200, r.text
    assert t.user_id not in {o.user_id for o in skipped}
    assert await owner_conn.fetchval(pending, t.user_id) == 0  # not put off as a failed step
    done = await pipeline.run_due(db, as_of=after(commute(), 3600))
    assert t.user_id in {o.user_id for o in done}
    (today,) = [x for x in await trips_of(http, t) if x["started_at"] == trip["started_at"]]
    assert (today["sections"][1]["mode"], today["sections"][1]["mode_source"]) == ("tram", "user")


async def test_an_answer_sent_as_text_is_refused_and_keeps_nothing(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, app_conn: asyncpg.Connection
) -> None:
    # The answer's JSON was read whatever the Content-Type said; now a type that is not JSON is
    # refused (415) with the one the route reads (Accept-Patch), and nothing is kept.
    t = await enrol(http, invite_code)
    _, trip = await processed_commute(http, t, db, pipeline)
    ride = trip["sections"][1]
    r = await http.patch(
        f"/v1/sections/{ride['id']}",
        content='{"mode": "tram"}',
        headers={**t.auth, "Content-Type": "text/plain"},
    )
    assert r.status_code == 415, r.text
    assert r.headers["accept-patch"] == "application/json"
    async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
        assert await app_conn.fetchval("SELECT count(*) FROM labels") == 0
    r = await http.patch(
        f"/v1/sections/{ride['id']}",
        content='{"mode": "tram"}',
        headers={**t.auth, "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text


async def test_a_section_id_never_names_another_section_after_late_fixes(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    # Walk, bike, walk, car; the phone sent the middle later. The car's id was its trip's and its
    # position: once the bike ride was there, the same id named the bike ride, and the app's
    # answer "car" about what it showed was kept as the tester's word for the bike ride. An id
    # now goes with the section's time span: the old one confirms the section that now covers
    # most of that span, the car ride (migration 0034), and nothing else.
    t = await enrol(http, invite_code)
    track = track_from(
        stay(900, at=place(0.0, 0.0), every_s=5),
        walk(to=place(800.0, 0.0), every_s=5),
        ride(to=place(2000.0, 0.0), speed_mps=5.0, every_s=5),
        walk(to=place(2150.0, 0.0), every_s=5),
        ride(to=place(10150.0, 0.0), speed_mps=14.0, every_s=5),
        stay(900, every_s=5),
        start_s=DAY,
    )
    sent = fixes_json(track)
    offline = DAY + 900 + 800 / 1.4
    first = [f for f in sent if not (offline + 20 < f["ts"] < offline + 330)]
    await upload(http, t, first)
    await pipeline.run_due(db, as_of=after(track, 3600))
    (before,) = await trips_of(http, t)
    await upload(http, t, [f for f in sent if f not in first])
    await pipeline.run_due(db, as_of=after(track, 3600))
    (now,) = await trips_of(http, t)
    spans = {s["id"]: (s["started_at"], s["ended_at"]) for s in now["sections"]}
    for shown in before["sections"]:
        assert spans.get(shown["id"], (shown["started_at"], shown["ended_at"])) == (
            shown["started_at"],
            shown["ended_at"],
        )
    gone = [s for s in before["sections"] if s["id"] not in spans]
    assert gone  # the late fixes moved sections: their old ids are no longer there
    car = gone[-1]
    r = await http.patch(f"/v1/sections/{car['id']}", json={"mode": car["mode"]}, headers=t.auth)
    assert r.status_code == 200, r.text
    now_car = now["sections"][-1]
    assert (now_car["mode"], r.json()["id"]) == (car["mode"], now_car["id"])
    await pipeline.run_due(db, as_of=after(track, 7200))  # what the answer queued
    (after_answer,) = await trips_of(http, t)
    confirmed = [s["id"] for s in after_answer["sections"] if s["mode_source"] == "user"]
    assert confirmed == [now_car["id"]]


async def test_an_answer_says_the_footprint_it_recomputed(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    # The answer gave the mode, not the new footprint: the app listed the trip again to show it.
    t = await enrol(http, invite_code)
    _, trip = await processed_commute(http, t, db, pipeline)
    ride = trip["sections"][1]
    by_car = await http.patch(f"/v1/sections/{ride['id']}", json={"mode": "car"}, headers=t.auth)
    assert by_car.status_code == 200, by_car.text
    (listed,) = await trips_of(http, t)
    assert by_car.json()["co2_kg"] == listed["sections"][1]["co2_kg"] > 0
    by_bike = await http.patch(f"/v1/sections/{ride['id']}", json={"mode": "bike"}, headers=t.auth)
    (relisted,) = await trips_of(http, t)
    assert by_bike.json()["co2_kg"] == relisted["sections"][1]["co2_kg"] < by_car.json()["co2_kg"]


async def ride_confirmed_as(
    http: httpx.AsyncClient, t: Enrolled, db: Database, pipeline: Pipeline, *modes: str
) -> dict[str, Any]:
    """``t`` rides Monday's commute and confirms its bus ride as each of ``modes`` in turn; the ride
    as the model gave it."""
    monday = commute()
    await upload(http, t, fixes_json(monday))
    await pipeline.run_due(db, as_of=after(monday, 60))
    (trip,) = await trips_of(http, t)
    ride: dict[str, Any] = trip["sections"][1]
    for mode in modes:
        r = await http.patch(f"/v1/sections/{ride['id']}", json={"mode": mode}, headers=t.auth)
        assert r.status_code == 200
    return ride


async def sections_after(
    http: httpx.AsyncClient, testers: list[Enrolled], db: Database, pipeline: Pipeline, track: Track
) -> list[list[dict[str, Any]]]:
    """Every tester uploads ``track``; the sections of each one's trip (their latest that day)."""
    for who in testers:
        await upload(http, who, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    return [(await trips_of(http, who, day=float(track.t_s[0])))[0]["sections"] for who in testers]


async def test_a_confirmed_route_informs_the_testers_next_trips_and_nobody_elses(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t, other = await enrol(http, invite_code), await enrol(http, invite_code)
    # The tester changes their mind: only the last answer counts.
    ride = await ride_confirmed_as(http, t, db, pipeline, "bike", "tram")
    assert ride["mode"] == "bus"
    mine, theirs = await sections_after(http, [t, other], db, pipeline, commute(DAY + 86400))
    assert [(s["mode"], s["mode_source"]) for s in mine] == [
        ("walk", "heuristic"),
        ("tram", "history"),
        ("walk", "heuristic"),
    ]
    assert mine[1]["probabilities"]["tram"] >= 0.5
    assert mine[1]["probabilities"]["bike"] < 0.1
    assert (theirs[1]["mode"], theirs[1]["mode_source"]) == ("bus", "heuristic")


async def test_the_testers_usual_modes_decide_a_close_call_on_a_route_never_confirmed(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t, other = await enrol(http, invite_code), await enrol(http, invite_code)
    ride = await ride_confirmed_as(http, t, db, pipeline, "car")
    assert (ride["mode"], ride["probabilities"]["car"] > 0.5 * ride["probabilities"]["bus"]) == ("bus", True)
    elsewhere = commute(DAY + 86400, north_m=20_000.0)  # 20 km away: no confirmed route near
    mine, theirs = await sections_after(http, [t, other], db, pipeline, elsewhere)
    # One confirmation doubles the odds of car: the close call goes to car, the walks stay walks.
    assert [(s["mode"], s["mode_source"]) for s in mine] == [
        ("walk", "heuristic"),
        ("car", "history"),
        ("walk", "heuristic"),
    ]
    assert (theirs[1]["mode"], theirs[1]["mode_source"]) == ("bus", "heuristic")


async def test_a_ride_along_part_of_a_confirmed_route_takes_its_mode(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    await ride_confirmed_as(http, t, db, pipeline, "tram")  # Monday: from 300 m to 4.3 km east
    (mine,) = await sections_after(
        http, [t], db, pipeline, commute(DAY + 86400, board_m=1300.0, alight_m=3300.0)
    )
    # Neither end of Tuesday's ride is near an end of Monday's: the confirmed path tells.
    assert [(s["mode"], s["mode_source"]) for s in mine] == [
        ("walk", "heuristic"),
        ("tram", "history"),
        ("walk", "heuristic"),
    ]


def unsure_in(trip: dict[str, Any]) -> list[bool]:
    """Which sections of ``trip`` the rule says to ask about: not confirmed, and unsure or drawn
    for audit (:func:`core.history.audited`, which the database's rule must draw alike)."""
    return [
        s["mode_source"] != "user"
        and (max(s["probabilities"].values()) < ASK_BELOW or audited(uuid.UUID(s["id"]), AUDIT_SHARE))
        for s in trip["sections"]
    ]


async def test_a_confirmation_informs_a_later_section_that_moves_alike_on_another_route(
    http: httpx.AsyncClient, invite_code: str, db: Database, app_conn: asyncpg.Connection
) -> None:
    """Monday's bus-like ride is confirmed as a car, and the evening's fast drive as a bus: one of
    each, so the tester's usual modes favour neither. Tuesday's bus-like ride 20 km away, on no
    confirmed route, moves like the confirmed car: a car through the kinematic match; the same
    tester without it gets what the model says, bus."""
    shown: dict[int, Any] = {}
    for neighbours in (5, 0):
        history = msgspec.structs.replace(PipelineParams().history, kinematic_neighbours=neighbours)
        pipeline = Pipeline(HeuristicClassifier(), PipelineParams(history=history))
        t = await enrol(http, invite_code)
        monday, evening = commute(), drive(DAY + 8 * 3600)
        for track in (monday, evening):
            await upload(http, t, fixes_json(track))
        await pipeline.run_due(db, as_of=after(evening, 60))
        trips = sorted(await trips_of(http, t), key=lambda x: str(x["started_at"]))
        rides = [max(trip["sections"], key=lambda s: float(s["distance_m"])) for trip in trips]
        assert [x["mode"] for x in rides] == ["bus", "car"]
        for x, said in zip(rides, ("car", "bus"), strict=True):
            r = await http.patch(f"/v1/sections/{x['id']}", json={"mode": said}, headers=t.auth)
            assert r.status_code == 200
        ride_id = uuid.UUID(rides[0]["id"])
        async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
            stored = await app_conn.fetchrow(
                "SELECT (SELECT kinematics FROM sections WHERE id = $1) AS s, "
                "(SELECT kinematics FROM labels WHERE section_id = $1) AS l",
                ride_id,
            )
        assert stored is not None
        assert len(stored["s"]) == len(KINEMATIC_FEATURES)
        assert stored["l"] == stored["s"]  # the confirmation keeps its section's kinematics
        (tuesday,) = await sections_after(http, [t], db, pipeline, commute(DAY + 86400, north_m=20_000.0))
        shown[neighbours] = tuesday[1]
    assert (shown[0]["mode"], shown[5]["mode"]) == ("bus", "car")
    assert shown[5]["mode_source"] == "history"


async def test_the_app_is_asked_about_unsure_sections_until_the_tester_answers(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    monday, tuesday = commute(), commute(DAY + 86400)
    for track in (monday, tuesday):
        await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(tuesday, 60))
    week: dict[str, str | int] = {"from": datetime.fromtimestamp(DAY - 86400, UTC).isoformat(), "limit": 100}
    r = await http.get("/v1/trips", params=week, headers=t.auth)
    second, first = r.json()
    for trip in (first, second):
        assert [s["to_confirm"] for s in trip["sections"]] == unsure_in(trip)
    assert first["sections"][1]["to_confirm"]  # the bus ride is a close call for the model
    r = await http.get("/v1/trips", params={**week, "to_confirm": "true", "limit": 1}, headers=t.auth)
    assert [x["id"] for x in r.json()] == [second["id"]]
    assert "to_confirm=true" in r.headers["link"]  # the next page keeps the filter
    # The tester answers every question about Monday's trip.
    truth = ["walk", "bus", "walk"]
    for s, mode in zip(first["sections"], truth, strict=True):
        if s["to_confirm"]:
            r = await http.patch(f"/v1/sections/{s['id']}", json={"mode": mode}, headers=t.auth)
            assert r.status_code == 200
    await pipeline.run_due(db, as_of=after(tuesday, 120))
    asked = await http.get("/v1/trips", params={**week, "to_confirm": "true"}, headers=t.auth)
    everything = await http.get("/v1/trips", params=week, headers=t.auth)
    second_now, first_now = everything.json()
    assert [s["to_confirm"] for s in first_now["sections"]] == [False, False, False]
    assert first["id"] not in [x["id"] for x in asked.json()]
    assert [s["to_confirm"] for s in second_now["sections"]] == unsure_in(second_now)
    # Monday's answer about the bus makes Tuesday's same ride surer (one answer weighs as much as the
    # model: not yet sure enough to stop asking).
    assert second_now["sections"][1]["probabilities"]["bus"] > second["sections"][1]["probabilities"]["bus"]


async def test_a_deployment_sets_how_unsure_a_section_must_be_to_be_asked_about(
    http: httpx.AsyncClient, settings: Settings, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    track = commute()
    await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    (default,) = await trips_of(http, t)
    asked = {}
    for ask_below in (0.0, 1.0):
        deployment = msgspec.structs.replace(settings, ask_below=ask_below)
        with serve(create_app(deployment, classifier=HeuristicClassifier())) as base:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                (trip,) = await trips_of(client, t)
                one = await client.get(f"/v1/trips/{trip['id']}", headers=t.auth)
                listed = await client.get(
                    "/v1/trips", params={"from": trip["started_at"], "to_confirm": "true"}, headers=t.auth
                )
        assert one.json()["sections"] == trip["sections"]
        asked[ask_below] = ([s["to_confirm"] for s in trip["sections"]], len(listed.json()))
    assert asked[0.0] == ([False, False, False], 0)  # never ask
    assert asked[1.0] == ([True, True, True], 1)  # ask about every section not certain
    assert [s["to_confirm"] for s in default["sections"]] == unsure_in(default)


async def processed_commute(
    http: httpx.AsyncClient, t: Enrolled, db: Database, pipeline: Pipeline
) -> tuple[Track, dict[str, Any]]:
    """Today's commute uploaded for ``t`` and processed a minute after it ends: the track and its
    one trip as the API gives it."""
    track = commute()
    await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    (trip,) = await trips_of(http, t)
    return track, trip


async def answer(http: httpx.AsyncClient, t: Enrolled, trip: dict[str, Any], how: str) -> httpx.Response:
    """The tester's "looks right" on ``trip`` (``how`` 'confirm'), or their answer about its first
    section (``how`` 'patch': the mode it shows)."""
    if how == "confirm":
        return await http.post(f"/v1/trips/{trip['id']}/confirm", headers=t.auth)
    first = trip["sections"][0]
    return await http.patch(f"/v1/sections/{first['id']}", json={"mode": first["mode"]}, headers=t.auth)


@pytest.mark.parametrize("how", ["confirm", "patch"])
async def test_a_hidden_trip_is_not_confirmed_until_it_is_shown_again(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, how: str
) -> None:
    # "Looks right" on a trip the tester hid, or an answer about one of its sections, answers as
    # GET /v1/trips/{id} does (404), keeps no label, and works once the trip is shown again. (A
    # section's answer was kept: 200.)
    t = await enrol(http, invite_code)
    _, trip = await processed_commute(http, t, db, pipeline)
    assert (await http.post(f"/v1/me/trips/{trip['id']}/hide", headers=t.auth)).status_code == 204
    r = await answer(http, t, trip, how)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await http.get("/v1/me/answers", headers=t.auth)).json()["answers"] == 0
    assert (await http.post(f"/v1/me/trips/{trip['id']}/unhide", headers=t.auth)).status_code == 204
    r = await answer(http, t, trip, how)
    assert r.status_code == 200, r.text
    answered = len(trip["sections"]) if how == "confirm" else 1
    assert (await http.get("/v1/me/answers", headers=t.auth)).json()["answers"] == answered


async def waiting(request: Coroutine[Any, Any, httpx.Response]) -> asyncio.Task[httpx.Response]:
    """``request`` sent, and given half a second to reach the lock it must wait for: still waiting
    (the test then lets go of the lock). On a machine too slow to reach it by then, the request
    finds the lock released and the test still checks its answer."""
    sent = asyncio.create_task(request)
    await asyncio.sleep(0.5)
    assert not sent.done()
    return sent


@pytest.mark.parametrize("how", ["confirm", "patch"])
async def test_an_answer_sent_while_the_trip_is_being_hidden_waits_and_keeps_nothing(
    http: httpx.AsyncClient,
    invite_code: str,
    db: Database,
    pipeline: Pipeline,
    app_conn: asyncpg.Connection,
    how: str,
) -> None:
    # The tester hides a trip and answers about it at once. The answer read the trip before the
    # hide committed and kept its labels; "looks right" then found the trip gone when it read it
    # back (a 500 for answers that were kept, on a trip now hidden). The answer now waits for the
    # hide under way, then finds no such trip.
    t = await enrol(http, invite_code)
    _, trip = await processed_commute(http, t, db, pipeline)
    async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
        assert await app_conn.fetchval(
            "UPDATE trips SET hidden = true WHERE id = $1 RETURNING true", uuid.UUID(trip["id"])
        )
        answering = await waiting(answer(http, t, trip, how))  # for the trip's row, held by the hide
    r = await answering
    assert r.status_code == 404, r.text
    assert (await http.get("/v1/me/answers", headers=t.auth)).json()["answers"] == 0


@pytest.mark.parametrize("hide", [True, False])
async def test_a_trip_hidden_or_shown_while_a_step_rebuilds_it_waits_for_the_step(
    http: httpx.AsyncClient,
    invite_code: str,
    db: Database,
    pipeline: Pipeline,
    app_conn: asyncpg.Connection,
    hide: bool,
) -> None:
    # A step rebuilding the tester's trips deletes each row and writes it again under the same id.
    # A hide (or unhide) sent meanwhile waited for the deleted row, found it gone, and answered 404
    # for a trip that is there; the change was lost. It now waits for the step, as a delete does.
    t = await enrol(http, invite_code)
    track, trip = await processed_commute(http, t, db, pipeline)
    if not hide:
        assert (await http.post(f"/v1/me/trips/{trip['id']}/hide", headers=t.auth)).status_code == 204
    k = int(np.searchsorted(track.t_s, datetime.fromisoformat(trip["started_at"]).timestamp())) + 100
    late = {**fixes_json(track)[k], "ts": float(track.t_s[k]) + 0.5}  # a late fix inside the trip
    await upload(http, t, [late])
    async with app_conn.transaction():  # the step's transaction nests in this one, held open
        stepped = await pipeline.process_user(
            app_conn, t.user_id, f"sillage_u_{t.user_id.hex}", datetime.now(UTC), as_of=after(track, 60)
        )
        assert stepped is not None
        assert stepped.trips == 1
        # Waiting for the tester's queue row, held by the step.
        changing = await waiting(
            http.post(f"/v1/me/trips/{trip['id']}/{'hide' if hide else 'unhide'}", headers=t.auth)
        )
    r = await changing
    assert r.status_code == 204, r.text
    r = await http.get(f"/v1/trips/{trip['id']}", headers=t.auth)
    assert r.status_code == (404 if hide else 200)


async def test_a_trip_confirmed_as_shown_keeps_its_modes_as_labels_and_asks_nothing_more(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, app_conn: asyncpg.Connection
) -> None:
    t, other = await enrol(http, invite_code), await enrol(http, invite_code)
    track, trip = await processed_commute(http, t, db, pipeline)
    assert any(s["to_confirm"] for s in trip["sections"])
    r = await http.patch(f"/v1/sections/{trip['sections'][1]['id']}", json={"mode": "tram"}, headers=t.auth)
    assert r.status_code == 200
    assert (await http.post(f"/v1/trips/{trip['id']}/confirm", headers=other.auth)).status_code == 404
    r = await http.post(f"/v1/trips/{trip['id']}/confirm", headers=t.auth)
    assert r.status_code == 200, r.text
    confirmed = r.json()
    # The tester's correction stands; the other sections keep the modes they showed, now as labels.
    assert [s["mode"] for s in confirmed["sections"]] == ["walk", "tram", "walk"]
    assert [s["mode_source"] for s in confirmed["sections"]] == ["user"] * 3
    assert not any(s["to_confirm"] for s in confirmed["sections"])
    # As for a PATCH, the tester's trips from 14 days before the first section confirmed are queued.
    queued = await app_conn.fetchval(
        "SELECT from_ts FROM sillage.pipeline_dirty WHERE user_id = $1", t.user_id
    )
    assert queued <= datetime.fromisoformat(trip["sections"][0]["started_at"]) - timedelta(days=14)
    for before, now in zip(trip["sections"], confirmed["sections"], strict=True):
        if before["mode"] == now["mode"]:
            assert now["co2_kg"] == before["co2_kg"]
    # Each label keeps the mode its section showed when the tester answered, and its probability:
    # the correction what the model said, the others what they confirmed. Without calibration, the
    # probability before it is the one shown; and each keeps the model, and why the app asked
    # (the sure walks confirmed with the trip were not asked about, unless drawn for audit).
    role = f"sillage_u_{t.user_id.hex}"
    labels_sql = (
        "SELECT mode, shown_mode, shown_probability, shown_uncalibrated, shown_model_version, asked,"
        " audit_share FROM labels WHERE section_id = $1"
    )
    async with as_user(app_conn, role):
        for before in trip["sections"]:
            label = await app_conn.fetchrow(labels_sql, uuid.UUID(before["id"]))
            assert label is not None
            assert label["shown_mode"] == before["mode"]
            shown_p = before["probabilities"][before["mode"]]
            assert label["shown_probability"] == pytest.approx(shown_p, abs=1e-6)
            assert label["shown_uncalibrated"] == label["shown_probability"]
            assert label["shown_model_version"] == HeuristicClassifier().version
            drawn = audited(uuid.UUID(before["id"]), AUDIT_SHARE)
            why = "unsure" if shown_p < ASK_BELOW else "audit" if drawn else None
            assert (label["asked"], label["audit_share"]) == (
                why,
                pytest.approx(AUDIT_SHARE) if why == "audit" else None,
            )
        assert max(trip["sections"][1]["probabilities"].values()) < ASK_BELOW  # asked: "unsure"
        # The pipeline reads them back with the confirmations, for answer_weights.
        evidence = await trips_db.confirmations(app_conn, 10, 0)
    assert sorted((c.mode, c.shown_mode) for c in evidence) == sorted(
        (now["mode"], before["mode"])
        for before, now in zip(trip["sections"], confirmed["sections"], strict=True)
    )
    # The tester sees what those answers count for in their history, as the pipeline weighs them.
    r = await http.get("/v1/me/answers", headers=t.auth)
    assert r.status_code == 200, r.text
    assert r.json() == msgspec.to_builtins(answer_weighing(evidence, DEFAULT_HISTORY.agreement_pseudocount))
    corrected = sum(
        b["mode"] != c["mode"] for b, c in zip(trip["sections"], confirmed["sections"], strict=True)
    )
    assert (r.json()["answers"], r.json()["with_shown_mode"], r.json()["corrected"]) == (3, 3, corrected)
    assert corrected == 1
    nothing = (await http.get("/v1/me/answers", headers=other.auth)).json()
    assert (nothing["answers"], nothing["mean_probability_shown"], nothing["agreement_weight"]) == (
        0,
        None,
        1.0,
    )
    assert (await http.get("/v1/me/answers")).status_code == 401
    assert (await http.post(f"/v1/trips/{trip['id']}/confirm", headers=t.auth)).json() == confirmed
    await upload(http, t, fixes_json(commute(DAY - 86400)))  # reprocesses this day too
    await pipeline.run_due(db, as_of=after(track, 120))
    (again,) = [x for x in await trips_of(http, t) if x["id"] == trip["id"]]
    assert [(s["mode"], s["mode_source"]) for s in again["sections"]] == [
        ("walk", "user"),
        ("tram", "user"),
        ("walk", "user"),
    ]
    r = await http.post(f"/v1/trips/{uuid.uuid4()}/confirm", headers=t.auth)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    # Answering again about a confirmed section agrees or not with the tester, not with the model.
    r = await http.patch(f"/v1/sections/{trip['sections'][1]['id']}", json={"mode": "tram"}, headers=t.auth)
    assert r.status_code == 200
    async with as_user(app_conn, role):
        again_label = await app_conn.fetch(labels_sql, uuid.UUID(trip["sections"][1]["id"]))
    assert [tuple(x) for x in again_label] == [("tram", None, None, None, None, None, None)]


def drive(start_s: float) -> Track:
    """Home, a short walk to the car, 4 km at 18 m/s, a short walk, work."""
    return track_from(
        stay(900, at=place(0.0, 0.0), every_s=5),
        walk(to=place(100.0, 0.0), every_s=5),
        ride(to=place(4100.0, 0.0), speed_mps=18.0, every_s=5),
        walk(to=place(4200.0, 0.0), every_s=5),
        stay(900, every_s=5),
        start_s=start_s,
    )


async def test_a_daily_driver_gets_car_for_a_close_call_without_confirming_anything(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    for day in range(3):
        track = drive(DAY + day * 86400)
        await upload(http, t, fixes_json(track))
        await pipeline.run_due(db, as_of=after(track, 60))
    (mine,) = await sections_after(http, [t], db, pipeline, commute(DAY + 3 * 86400))
    # The bus ride a new tester gets as bus (see the tests above) is, for someone the model has seen
    # drive every day, a car: the model weighed by its own view of their sections, not a history.
    assert [(s["mode"], s["mode_source"]) for s in mine] == [
        ("walk", "heuristic"),
        ("car", "heuristic"),
        ("walk", "heuristic"),
    ]


async def test_a_flight_is_found_when_the_landing_arrives_after_the_departure_was_processed(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    track = flight_day()
    boarding = track.t_s[0] + 900 + 300 / 1.4 + 1300  # the last fix at the gate, roughly
    departure = track.t_s < boarding
    await upload(http, t, fixes_json(track, departure))
    # The worker runs in flight: the gate stay is closed by the signal gap, without a flight yet.
    await pipeline.run_due(db, as_of=datetime.fromtimestamp(boarding + 3600, UTC))
    assert len(await trips_of(http, t)) == 1
    await upload(http, t, fixes_json(track, ~departure))  # the phone is back on after landing
    await pipeline.run_due(db, as_of=after(track, 60))
    trips = await trips_of(http, t)
    assert [s["mode"] for s in trips[1]["sections"]] == ["plane"]
    assert len(trips) == 3


def day_across_a_gap(crossing_s: float, far: Place, *, waiting: bool = False) -> Track:
    """Home, a walk to a station, ``crossing_s`` without a fix to ``far``, a walk on and a stay.
    With ``waiting``, a stay on either side of the gap (at the gate and on arrival); without it,
    the first fix after the gap starts the walk after it."""
    return track_from(
        stay(900, at=HOME, every_s=10),
        walk(to=STOP_A, every_s=5),
        *([stay(1200, every_s=10)] if waiting else []),
        gap(crossing_s, to=far),
        *([stay(600, every_s=10)] if waiting else []),
        walk(to=Place(far.east_m + 400.0, far.north_m), every_s=5),
        stay(900, every_s=10),
        start_s=DAY,
    )


def metro_day() -> Track:
    """25 minutes underground without a fix, 8 km on."""
    return day_across_a_gap(1500, place(8300.0, 0.0))


def flight_day(*, waiting: bool = True) -> Track:
    """A flight of 707 km, boarding to landing with no fix."""
    return day_across_a_gap(7200, place(700_000.0, 100_000.0), waiting=waiting)


async def test_a_ride_underground_is_a_trip_once_the_phone_is_out_of_the_tunnel(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    track = metro_day()
    (last_fix,) = np.flatnonzero(np.diff(track.t_s) > 900)
    underground = np.arange(len(track)) <= last_fix
    await upload(http, t, fixes_json(track, underground))
    # The worker runs during the ride: the signal gap ends the walk to the station, nothing more.
    await pipeline.run_due(db, as_of=datetime.fromtimestamp(float(track.t_s[last_fix]) + 1200, UTC))
    (walk_to_station,) = await trips_of(http, t)
    await upload(http, t, fixes_json(track, ~underground))  # out of the tunnel
    await pipeline.run_due(db, as_of=after(track, 60))
    walk_from_station, ride, again = await trips_of(http, t)  # newest first
    assert again == walk_to_station
    (section,) = ride["sections"]
    assert section["n_fixes"] == 2  # its two ends: the client can tell the line was not observed
    assert all(s["n_fixes"] > 10 for s in walk_to_station["sections"] + walk_from_station["sections"])
    # Its distance is the straight line (8 km) times the circuity of urban networks, and so its CO2.
    (lon0, lat0), (lon1, lat1) = section["geometry"]["coordinates"]
    crow_m = float(haversine_m(lat0, lon0, lat1, lon1))
    assert 7900 < crow_m < 8100
    assert ride["distance_m"] == pytest.approx(RIDE_CIRCUITY * crow_m, rel=0.01)
    assert section["distance_m"] == ride["distance_m"]
    assert ride["started_at"] == walk_to_station["ended_at"]
    assert ride["ended_at"] == walk_from_station["started_at"]
    assert ride["duration_s"] > 1500
    assert section["mode"] != "walk"
    assert abs(sum(section["probabilities"].values()) - 1.0) < 1e-3


async def test_a_confirmation_revisits_the_same_route_earlier_that_week(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    monday, tuesday = commute(), commute(DAY + 86400)
    for day in (monday, tuesday):
        await upload(http, t, fixes_json(day))
        await pipeline.run_due(db, as_of=after(day, 60))
    latest, earlier = await trips_of(http, t, day=DAY + 86400)
    assert earlier["sections"][1]["mode"] == "bus"
    r = await http.patch(f"/v1/sections/{latest['sections'][1]['id']}", json={"mode": "tram"}, headers=t.auth)
    assert r.status_code == 200
    await pipeline.run_due(db, as_of=after(tuesday, 120))
    latest, earlier = await trips_of(http, t, day=DAY + 86400)
    assert (latest["sections"][1]["mode"], latest["sections"][1]["mode_source"]) == ("tram", "user")
    assert (earlier["sections"][1]["mode"], earlier["sections"][1]["mode_source"]) == ("tram", "history")


async def test_a_flight_with_the_phone_in_aeroplane_mode_is_a_plane_trip_with_its_footprint(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    track = flight_day()
    await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    trips = await trips_of(http, t)
    assert len(trips) == 3
    flight = trips[1]  # newest first: the walk at the destination, the flight, the walk at home
    (section,) = flight["sections"]
    assert section["mode"] == "plane"
    assert 700_000 < flight["distance_m"] < 720_000
    assert section["co2_kg"] > 50  # a 700 km flight: of the order of 100 kgCO2e
    assert all(s["mode"] != "plane" for trip in (trips[0], trips[2]) for s in trip["sections"])
    at = datetime.fromtimestamp(DAY + 3600, UTC).isoformat()
    r = await http.get("/v1/coach/footprint", params={"period": "day", "at": at}, headers=t.auth)
    assert r.status_code == 200, r.text
    assert r.json()["current"]["by_mode_kg"]["plane"] == pytest.approx(section["co2_kg"])


async def test_a_deleted_flight_is_not_rebuilt_from_the_fixes_around_its_gap(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    track = flight_day()
    await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    _, flight, walk_back = await trips_of(http, t)
    assert flight["sections"][0]["mode"] == "plane"
    r = await http.delete(f"/v1/me/trips/{flight['id']}", headers=t.auth)
    assert r.status_code == 200, r.text
    assert t.user_id in {o.user_id for o in await pipeline.run_due(db, as_of=after(track, 120))}
    left = await trips_of(http, t)
    assert len(left) == 2  # no flight came back
    assert all(s["mode"] != "plane" for trip in left for s in trip["sections"])
    assert left[1]["id"] == walk_back["id"]  # the walk before the flight is as it was
    # Later fixes are processed as usual: the deleted interval drops only trips across it.
    end = float(track.t_s[-1])
    later = [  # an hour on, still where the day ended
        {
            "ts": end + 3600 + 30 * i,
            "lat": float(track.lat[-1]),
            "lon": float(track.lon[-1]),
            "accuracy_m": 6.0,
        }
        for i in range(20)
    ]
    await upload(http, t, later)
    await pipeline.run_due(db, as_of=datetime.fromtimestamp(later[-1]["ts"] + 60, UTC))
    assert [trip["id"] for trip in await trips_of(http, t)] == [trip["id"] for trip in left]


async def test_deleting_or_hiding_a_trip_leaves_the_flight_that_shares_its_end_fix(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    track = flight_day(waiting=False)
    await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    walk_away, flight, walk_there = await trips_of(http, t)
    assert flight["sections"][0]["mode"] == "plane"
    assert walk_there["ended_at"] == flight["started_at"]  # one fix, in both trips
    # Hiding the flight hides it alone, through reprocessing too (a late fix that morning).
    assert (await http.post(f"/v1/me/trips/{flight['id']}/hide", headers=t.auth)).status_code == 204
    late = float(track.t_s[0]) + 35  # between two fixes of the stay at home
    await upload(
        http, t, [{"ts": late, "lat": float(track.lat[0]), "lon": float(track.lon[0]), "accuracy_m": 6.0}]
    )
    await pipeline.run_due(db, as_of=after(track, 120))
    assert [x["id"] for x in await trips_of(http, t)] == [walk_away["id"], walk_there["id"]]
    assert (await http.post(f"/v1/me/trips/{flight['id']}/unhide", headers=t.auth)).status_code == 204
    # Deleting the walk to the plane deletes it alone: the flight stays, then and after reprocessing.
    r = await http.delete(f"/v1/me/trips/{walk_there['id']}", headers=t.auth)
    assert r.json()["trips"] == 1
    await pipeline.run_due(db, as_of=after(track, 180))
    left = await trips_of(http, t)
    assert [x["id"] for x in left] == [walk_away["id"], flight["id"]]


async def test_a_tester_never_reads_another_testers_trip(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    a = await enrol(http, invite_code)
    b = await enrol(http, invite_code)
    track = commute()
    await upload(http, a, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    (trip,) = await trips_of(http, a)
    assert (await http.get(f"/v1/trips/{trip['id']}", headers=b.auth)).status_code == 404
    section = trip["sections"][0]["id"]
    assert (
        await http.patch(f"/v1/sections/{section}", json={"mode": "car"}, headers=b.auth)
    ).status_code == 404
    assert await trips_of(http, b) == []


async def trips_with_fixes(app_conn: asyncpg.Connection, t: Enrolled) -> list[tuple[datetime, datetime, int]]:
    """The tester's trips as stored: start, end and how many fixes their sections were built from."""
    async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
        rows = await app_conn.fetch(
            "SELECT t.started_at, t.ended_at, sum(s.n_fixes) AS n FROM trips t"
            " JOIN sections s ON s.trip_id = t.id GROUP BY t.id ORDER BY t.started_at"
        )
    return [(r[0], r[1], r[2]) for r in rows]


def with_a_long_stay_at_work(*then: Leg) -> Track:
    """A commute, 1,200 fixes at work (more than a step of 700 reads), the ride home, then ``then``."""
    return track_from(
        stay(900, at=HOME, every_s=5),
        walk(to=STOP_A, every_s=5),
        bus(to=STOP_B, every_s=5),
        walk(to=WORK, every_s=5),
        stay(6000, every_s=5),
        walk(to=STOP_B, every_s=5),
        bus(to=STOP_A, every_s=5),
        walk(to=HOME, every_s=5),
        stay(900, every_s=5),
        *then,
        start_s=DAY,
    )


async def in_steps_of_700(db: Database, track: Track, *, max_rounds: int = 20) -> int:
    """Process what is pending in steps of at most 700 fixes, a minute after ``track`` ends, until
    nothing is; how many rounds it took (failing after ``max_rounds``)."""
    small = Pipeline(HeuristicClassifier(), PipelineParams(max_fixes_per_step=700))
    for rounds in range(max_rounds):
        if not await small.run_due(db, as_of=after(track, 60)):
            return rounds
    raise AssertionError(f"still pending after {max_rounds} rounds")


async def in_one_pass_and_in_steps(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, track: Track
) -> tuple[Enrolled, Enrolled]:
    """Two testers with the fixes of ``track``: one processed in one pass, one in steps of 700."""
    whole, stepped = await enrol(http, invite_code), await enrol(http, invite_code)
    await upload(http, whole, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    await upload(http, stepped, fixes_json(track))
    await in_steps_of_700(db, track)
    return whole, stepped


async def test_a_stay_longer_than_a_step_does_not_stop_the_history(
    http: httpx.AsyncClient, invite_code: str, db: Database
) -> None:
    t = await enrol(http, invite_code)
    track = with_a_long_stay_at_work()
    await upload(http, t, fixes_json(track))
    await in_steps_of_700(db, track)
    # Both commutes, each with its bus ride (read thinned, a fix a minute: walks may merge into it).
    modes = [[s["mode"] for s in trip["sections"]] for trip in await trips_of(http, t)]
    assert len(modes) == 2
    assert all("bus" in m for m in modes)


async def test_a_long_stay_processed_in_steps_leaves_the_trip_before_it_as_one_pass_built_it(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, app_conn: asyncpg.Connection
) -> None:
    # A stay longer than a step reads, between two commutes: the ride before it was rebuilt from
    # the thinned read (13 fixes of 144).
    track = with_a_long_stay_at_work()
    whole, stepped = await in_one_pass_and_in_steps(http, invite_code, db, pipeline, track)
    (morning, evening), (morning_whole, evening_whole) = (
        await trips_with_fixes(app_conn, stepped),
        await trips_with_fixes(app_conn, whole),
    )
    assert morning == morning_whole
    # The first trip after the long stay is what the thinned read got past it with (a fix a
    # minute here): the trade made to get past it at all.
    assert evening[2] < evening_whole[2]


async def test_a_long_stay_at_the_end_of_the_data_leaves_the_trip_before_it_as_one_pass_built_it(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, app_conn: asyncpg.Connection
) -> None:
    # Still at work when the data ends: no thinned read gets past the stay, and the ride there was
    # replaced by the one built from a fix a minute (13 fixes of 144), for good.
    track = track_from(
        stay(900, at=HOME, every_s=5),
        walk(to=STOP_A, every_s=5),
        bus(to=STOP_B, every_s=5),
        walk(to=WORK, every_s=5),
        stay(9000, every_s=5),
        start_s=DAY,
    )
    whole, stepped = await in_one_pass_and_in_steps(http, invite_code, db, pipeline, track)
    assert await trips_with_fixes(app_conn, stepped) == await trips_with_fixes(app_conn, whole)


async def test_deleting_the_trip_after_a_long_stay_leaves_no_fragment_of_it(
    http: httpx.AsyncClient, invite_code: str, db: Database
) -> None:
    # The ride home after the long stay is built from thinned fixes, so its ends are those of the
    # thinned fixes: deleting it left the last half-minute of the ride, which came back as a trip.
    t = await enrol(http, invite_code)
    track = with_a_long_stay_at_work(walk(to=STOP_A, every_s=5), stay(1200, every_s=5))
    await upload(http, t, fixes_json(track))
    await in_steps_of_700(db, track)
    trips = await trips_of(http, t)
    ride_home = sorted(trips, key=lambda x: x["started_at"])[1]
    r = await http.delete(f"/v1/me/trips/{ride_home['id']}", headers=t.auth)
    assert r.status_code == 200, r.text
    await in_steps_of_700(db, track)
    after_deletion = await trips_of(http, t)
    assert ride_home["id"] not in {x["id"] for x in after_deletion}
    assert len(after_deletion) == len(trips) - 1


async def test_after_a_thinned_read_the_trips_that_follow_are_built_from_every_fix(
    http: httpx.AsyncClient, invite_code: str, db: Database, app_conn: asyncpg.Connection
) -> None:
    # To get past the stay at work (longer than a step reads) a step reads one fix in ten: it keeps
    # only the ride home, so that the next day's ride is built at full resolution.
    t = await enrol(http, invite_code)
    track = with_a_long_stay_at_work(
        walk(to=STOP_A, every_s=5), bus(to=STOP_B, every_s=5), walk(to=WORK, every_s=5), stay(900, every_s=5)
    )
    await upload(http, t, fixes_json(track))
    await in_steps_of_700(db, track)
    assert len(await trips_of(http, t)) == 3
    async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
        fixes = await app_conn.fetch(
            "SELECT sum(s.n_fixes) AS n FROM trips t JOIN sections s ON s.trip_id = t.id "
            "GROUP BY t.id ORDER BY min(t.started_at)"
        )
    # The last ride's fixes, every 5 s for 11 minutes: all of them, not one in ten (or in sixty).
    assert fixes[-1]["n"] > 120


async def test_the_pipeline_command_processes_what_is_pending_and_returns(
    http: httpx.AsyncClient, invite_code: str, test_db: ScratchDatabase, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    async with queue_put_back(app_conn, cleared=True):
        await upload(http, t, fixes_json(commute()))  # in September: the phone has been quiet since
        done = sillage(test_db, "pipeline", "run", timeout_s=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1] == "processed 1 pending ranges"
        assert await app_conn.fetchval("SELECT count(*) FROM sillage.pipeline_dirty") == 0
    assert len(await trips_of(http, t)) == 1


async def test_a_long_list_of_trips_comes_in_pages_each_linking_the_next(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    t = await enrol(http, invite_code)
    days = [commute(DAY - k * 86400) for k in range(3)]
    for d in days:
        await upload(http, t, fixes_json(d))
    await pipeline.run_due(db, as_of=after(days[0], 60))
    span = {
        "from": datetime.fromtimestamp(DAY - 3 * 86400, UTC).isoformat(),
        "to": datetime.fromtimestamp(DAY + 86400, UTC).isoformat(),
    }
    first = await http.get("/v1/trips", params={**span, "limit": 2}, headers=t.auth)
    assert first.status_code == 200, first.text
    assert len(first.json()) == 2
    link = re.fullmatch(r'<(/v1/trips\?[^>]+)>; rel="next"', first.headers["link"])
    assert link is not None
    second = await http.get(link.group(1), headers=t.auth)
    assert second.status_code == 200, second.text
    assert len(second.json()) == 1
    assert "link" not in second.headers  # the last page
    everything = await http.get("/v1/trips", params=span, headers=t.auth)
    assert "link" not in everything.headers
    assert [x["id"] for x in first.json() + second.json()] == [x["id"] for x in everything.json()]
    # With `from` inside the oldest trip, that trip is listed and the pages end with it: the next
    # page's `to` was its start, before `from`, and following the link gave a 422.
    oldest = everything.json()[-1]
    inside = datetime.fromisoformat(oldest["started_at"]) + timedelta(minutes=1)
    pages: list[dict[str, Any]] = []
    url = str(httpx.URL("/v1/trips", params={**span, "from": inside.isoformat(), "limit": 1}))
    for _ in range(10):
        r = await http.get(url, headers=t.auth)
        assert r.status_code == 200, r.text
        pages += r.json()
        if "link" not in r.headers:
            break
        link = re.fullmatch(r'<(/v1/trips\?[^>]+)>; rel="next"', r.headers["link"])
        assert link is not None
        url = link.group(1)
    assert [x["id"] for x in pages] == [x["id"] for x in everything.json()]
    # A trip that ends exactly at `from` does not overlap the range.
    r = await http.get("/v1/trips", params={**span, "from": oldest["ended_at"]}, headers=t.auth)
    assert [x["id"] for x in r.json()] == [x["id"] for x in everything.json()[:-1]]


async def test_one_bound_alone_gives_the_other_from_it(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline
) -> None:
    # `to` alone is the week before it; `from` alone runs until tomorrow, or the day after it. Both
    # came from the clock alone: a `to` over a week back, or a `from` after tomorrow, was a 422 about
    # a `to` the client never sent.
    t = await enrol(http, invite_code)
    _, trip = await processed_commute(http, t, db, pipeline)
    ended = datetime.fromisoformat(trip["ended_at"])
    assert ended < datetime.now(UTC) - timedelta(days=8)

    async def listed(**bound: datetime) -> list[str]:
        r = await http.get("/v1/trips", params={k: v.isoformat() for k, v in bound.items()}, headers=t.auth)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()]

    assert await listed(to=ended + timedelta(days=1)) == [trip["id"]]
    assert await listed(to=ended + timedelta(days=8)) == []
    assert await listed(**{"from": ended - timedelta(days=1)}) == [trip["id"]]
    assert await listed(**{"from": datetime.now(UTC) + timedelta(days=30)}) == []
    # Bounds past the times fixes can have are clamped to them (2000, 2200): both at one end was a
    # 422 "'to' must be after 'from'", even for a `to` never sent. Nothing is there: an empty list.
    far, long_ago = datetime(9999, 12, 31, tzinfo=UTC), datetime(1900, 1, 1, tzinfo=UTC)
    assert await listed(**{"from": far}) == []
    assert await listed(to=long_ago) == []
    assert await listed(**{"from": datetime(3000, 1, 1, tzinfo=UTC), "to": far}) == []
    inverted = {"from": far.isoformat(), "to": datetime(3000, 1, 1, tzinfo=UTC).isoformat()}
    assert (await http.get("/v1/trips", params=inverted, headers=t.auth)).status_code == 422  # as sent


async def test_with_the_worker_on_a_trip_appears_without_anyone_asking(
    settings: Settings, invite_code: str
) -> None:
    live = Settings(database_url=settings.database_url, pipeline_enabled=True, pipeline_poll_s=0.2)
    with serve(create_app(live, classifier=HeuristicClassifier())) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            t = await enrol(client, invite_code)
            now = datetime.now(UTC).timestamp()
            track = commute(now - 3300)  # ended a few minutes ago
            await upload(client, t, fixes_json(track))
            for _ in range(100):  # bounded wait for the background worker
                if await trips_of(client, t, day=now):
                    break
                await __import__("asyncio").sleep(0.1)
            (trip,) = await trips_of(client, t, day=now)
            assert len(trip["sections"]) == 3


async def test_trips_after_a_step_s_window_stay_visible_while_a_history_is_processed_again(
    http: httpx.AsyncClient, invite_code: str, db: Database, app_conn: asyncpg.Connection
) -> None:
    days = [commute(DAY - k * 86400) for k in range(4, 0, -1)]
    t = await enrol(http, invite_code)
    small = Pipeline(HeuristicClassifier(), PipelineParams(max_fixes_per_step=700))
    async with queue_put_back(app_conn, cleared=True):  # this tester's steps alone
        for d in days:
            await upload(http, t, fixes_json(d))
        while await small.run_due(db, as_of=after(days[-1], 60)):
            pass
        before = await trips_of(http, t, days_before=5)
        assert len(before) == 4
        # A late fix in the first morning: the whole history is processed again, window by window.
        first = days[0]
        late = {"ts": float(first.t_s[0]) + 7, "lat": float(first.lat[0]), "lon": float(first.lon[0])}
        await upload(http, t, [{**late, "accuracy_m": 6.0}])
        while await small.run_due(db, as_of=after(days[-1], 60)):
            # After every step, the later days' trips are still there, as they were.
            assert [x["id"] for x in await trips_of(http, t, days_before=5)] == [x["id"] for x in before]


async def test_a_long_history_is_processed_in_bounded_steps_with_the_same_result(
    http: httpx.AsyncClient, invite_code: str, db: Database
) -> None:
    days = [commute(DAY - k * 86400) for k in range(4, 0, -1)]
    whole, stepped = await enrol(http, invite_code), await enrol(http, invite_code)
    for d in days:
        await upload(http, whole, fixes_json(d))
        await upload(http, stepped, fixes_json(d))
    rounds = await in_steps_of_700(db, days[-1], max_rounds=50)
    await Pipeline(HeuristicClassifier()).run_due(db, as_of=after(days[-1], 60))
    a = await trips_of(http, whole, days_before=5)
    b = await trips_of(http, stepped, days_before=5)
    assert rounds > 3  # it really took several steps
    assert len(b) == 4
    assert [(x["started_at"], [s["mode"] for s in x["sections"]]) for x in a] == [
        (x["started_at"], [s["mode"] for s in x["sections"]]) for x in b
    ]
