"""The transit network an operator imports weighs testers' sections; a crossing is a ferry."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core.errors import BadRequest, NotFound
from core.geodesy import EARTH_RADIUS_M
from core.track import Track
from ingest.pipeline import Pipeline, PipelineParams
from ingest.testers import create_campaign
from ingest.transit import import_feed
from models.classifier import load_classifier
from models.heuristic import HeuristicClassifier
from store import transit as transit_db
from store.pool import Database
from store.rights import Actor
from tests.integration.test_pipeline import DAY, after, commute, fixes_json, trips_of
from tests.support.cli import sillage
from tests.support.database import ScratchDatabase
from tests.support.gtfs import FeedFiles, Line, Stop
from tests.support.queue import queue_put_back
from tests.support.testers import Enrolled, enrol, upload
from tests.support.tracks import REF_LAT, REF_LON, Place, gap, place, ride, stay, track_from, walk

PIER_A = place(0.0, 20_000.0)
PIER_B = place(2000.0, 20_000.0)


def stop(stop_id: str, at: Place) -> Stop:
    lat = REF_LAT + math.degrees(at.north_m / EARTH_RADIUS_M)
    lon = REF_LON + math.degrees(at.east_m / (EARTH_RADIUS_M * math.cos(math.radians(REF_LAT))))
    return Stop(stop_id, lat, lon)


def feed() -> FeedFiles:
    """Bus line 1 calls where the commute boards and alights (300 m and 4.3 km east); the boat
    crosses 20 km north."""
    stops = [stop("a", place(300.0, 0.0)), stop("b", place(4300.0, 0.0))]
    stops += [stop("pier-a", PIER_A), stop("pier-b", PIER_B)]
    return FeedFiles.of(stops, [Line("1", 3, ("a", "b")), Line("boat", 4, ("pier-a", "pier-b"))])


@pytest.fixture
async def network(app_conn: asyncpg.Connection, tmp_path: Path) -> AsyncIterator[None]:
    """The feed imported for one test, then removed: other tests run without a network."""
    await import_feed(app_conn, feed().zip(tmp_path / "yelo.zip"), "test-network")
    try:
        yield
    finally:
        await transit_db.remove_feed(app_conn, "test-network")


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline(HeuristicClassifier(), PipelineParams())


@pytest.fixture
async def queue_kept(app_conn: asyncpg.Connection) -> AsyncIterator[None]:
    """A revisit queues every tester of the database, which other tests share."""
    async with queue_put_back(app_conn):
        yield


async def ride_of(
    http: httpx.AsyncClient, t: Enrolled, db: Database, pipeline: Pipeline, north_m: float = 0.0
) -> Any:
    track = commute(DAY, north_m=north_m)
    await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    (trip,) = await trips_of(http, t)
    return trip["sections"][1]


async def test_a_ride_between_two_stops_of_one_bus_line_is_surer_bus_once_the_feed_is_imported(
    http: httpx.AsyncClient,
    invite_code: str,
    db: Database,
    pipeline: Pipeline,
    app_conn: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    before = await ride_of(http, await enrol(http, invite_code), db, pipeline)
    await import_feed(app_conn, feed().zip(tmp_path / "yelo.zip"), "test-network")
    try:
        after_import = await ride_of(http, await enrol(http, invite_code), db, pipeline)
    finally:
        await transit_db.remove_feed(app_conn, "test-network")
    again = await ride_of(http, await enrol(http, invite_code), db, pipeline)
    assert (before["mode"], after_import["mode"]) == ("bus", "bus")
    assert after_import["probabilities"]["bus"] > before["probabilities"]["bus"] + 0.05
    assert after_import["mode_source"] == "heuristic"  # no confirmation decided it
    # Removing the feed is seen by the same pipeline at its next step.
    assert again["probabilities"] == pytest.approx(before["probabilities"])


async def test_an_import_can_revisit_the_last_days_of_a_campaigns_testers_with_the_new_network(
    http: httpx.AsyncClient,
    db: Database,
    pipeline: Pipeline,
    app_conn: asyncpg.Connection,
    tmp_path: Path,
    queue_kept: None,
) -> None:
    city = await create_campaign(app_conn, f"Transit revisit {uuid.uuid4()}", actor=Actor.operator("tests"))
    t = await enrol(http, city.invite_code)
    before = await ride_of(http, t, db, pipeline)
    monday_evening = datetime.fromtimestamp(DAY + 12 * 3600, UTC)
    path = feed().zip(tmp_path / "yelo.zip")
    with pytest.raises(BadRequest, match="give the revisit days too"):
        await import_feed(app_conn, path, "test-network", campaigns=[city.name])
    with pytest.raises(NotFound, match="no campaign named 'Nowhere'"):
        await import_feed(app_conn, path, "test-network", revisit_days=1, campaigns=[city.name, "Nowhere"])
    assert not [f for f in await transit_db.feeds(app_conn) if f.feed == "test-network"]  # nothing stored
    done = await import_feed(  # more days than since 2000 is everything (10**8 days overflowed)
        app_conn, path, "test-network", revisit_days=100_000_000, campaigns=[city.name], now=monday_evening
    )
    try:
        assert done.revisited == 1  # the campaign's one tester, nobody else
        await pipeline.run_due(db, as_of=after(commute(DAY), 60))
        (trip,) = await trips_of(http, t)
    finally:
        await transit_db.remove_feed(app_conn, "test-network")
    assert trip["sections"][1]["probabilities"]["bus"] > before["probabilities"]["bus"] + 0.05


async def test_a_close_call_far_from_every_bus_stop_of_the_network_goes_to_car(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, network: None
) -> None:
    # The same ride 2 km north: no bus stop near either end, in an area the feed covers.
    section = await ride_of(http, await enrol(http, invite_code), db, pipeline, north_m=2000.0)
    assert (section["mode"], section["mode_source"]) == ("car", "heuristic")


async def test_a_crossing_between_two_piers_of_a_ferry_line_is_a_ferry_trip_with_its_footprint(
    http: httpx.AsyncClient, invite_code: str, db: Database, pipeline: Pipeline, network: None
) -> None:
    t = await enrol(http, invite_code)
    track = track_from(
        stay(900, at=place(0.0, 19_700.0), every_s=5),
        walk(to=PIER_A, every_s=5),
        stay(120, every_s=5),  # boarding (five minutes would be a stay, the crossing a trip of its own)
        ride(to=PIER_B, speed_mps=4.0, every_s=5),
        walk(to=place(2000.0, 20_300.0), every_s=5),
        stay(900, every_s=5),
        start_s=DAY,
    )
    await upload(http, t, fixes_json(track))
    await pipeline.run_due(db, as_of=after(track, 60))
    (trip,) = await trips_of(http, t)
    assert [s["mode"] for s in trip["sections"]] == ["walk", "ferry", "walk"]
    crossing = trip["sections"][1]
    assert crossing["probabilities"]["ferry"] == 1.0
    assert crossing["co2_kg"] > 0


def tracker_off_on_the_road(north_m: float) -> Track:
    """A walk, 7 km by road in 13 minutes with no fix (the phone stopped logging), a walk: the
    ride across the signal gap, seen at its two ends only, the shipped model takes for a metro."""
    return track_from(
        stay(900, at=place(0.0, north_m), every_s=5),
        walk(to=place(400.0, north_m), every_s=5),
        gap(780, to=place(7400.0, north_m)),
        walk(to=place(7800.0, north_m), every_s=5),
        stay(900, every_s=5),
        start_s=DAY,
    )


async def test_where_the_feeds_are_declared_complete_a_ride_is_not_called_a_mode_the_city_lacks(
    http: httpx.AsyncClient, invite_code: str, db: Database, app_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    shipped = Pipeline(load_classifier(), PipelineParams())  # the shipped model, not the fallback

    async def ride_across_the_gap() -> Any:
        t = await enrol(http, invite_code)
        track = tracker_off_on_the_road(north_m=-2000.0)  # in the feed's area, near none of its stops
        await upload(http, t, fixes_json(track))
        await shipped.run_due(db, as_of=after(track, 60))
        (trip,) = await trips_of(http, t)
        assert [s["mode"] for s in trip["sections"]][::2] == ["walk", "walk"]
        return trip["sections"][1]

    # A bus line with stops in both 0.1° cells the ride's ends lie in (the area the feed covers),
    # 2 km from either end.
    buses_only = FeedFiles.of(
        [stop("a", place(300.0, 0.0)), stop("b", place(8000.0, 0.0))], [Line("1", 3, ("a", "b"))]
    )
    await import_feed(app_conn, buses_only.zip(tmp_path / "yelo.zip"), "test-network")
    try:
        silent = await ride_across_the_gap()
        await import_feed(app_conn, buses_only.zip(tmp_path / "yelo.zip"), "test-network", complete=True)
        # (A new import is a new network: the pipeline reads it again at its next step.)
        declared = await ride_across_the_gap()
    finally:
        await transit_db.remove_feed(app_conn, "test-network")
    # A feed that says nothing about metro leaves the ride to the kinematics: a metro.
    assert silent["mode"] in ("metro", "train"), silent
    # Declared complete, the feeds have no metro, tram or train stop in the area: the ride is a
    # road vehicle's, and so is its footprint. (Which one, two ends cannot tell: the trip context,
    # walks on both sides, makes it a bus here.)
    assert declared["mode"] in ("car", "bus", "motorbike"), declared
    for mode in ("metro", "tram", "train"):
        assert declared["probabilities"].get(mode, 0.0) < 0.05
    assert declared["co2_kg"] > silent["co2_kg"]


def test_an_operator_imports_lists_replaces_and_removes_a_feed(
    test_db: ScratchDatabase, tmp_path: Path, queue_kept: None
) -> None:
    files = feed()
    done = sillage(test_db, "transit", "import", str(files.zip(tmp_path / "Yélo GTFS.zip")))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported yelo-gtfs: 4 stops served by 2 routes"
    listed = sillage(test_db, "transit", "list")
    assert listed.stdout.startswith("yelo-gtfs\t4 stops\t2 routes\t")
    assert listed.stdout.endswith("\tYélo GTFS.zip\t-\n")
    again = sillage(
        test_db, "transit", "import", "--revisit-days", "3", "--complete", str(tmp_path / "Yélo GTFS.zip")
    )
    assert again.returncode == 0, again.stderr
    assert "imported yelo-gtfs: 4 stops served by 2 routes, complete for its area\n" in again.stdout
    assert re.search(r"queued the last 3 days of [1-9][0-9]* testers for reprocessing", again.stdout)
    listed = sillage(test_db, "transit", "list")
    assert listed.stdout.endswith("\tYélo GTFS.zip\tcomplete\n")
    # A broken feed is refused with its file and line, and the imported one stays whole.
    files.files["stops.txt"][1]["stop_lon"] = "east"
    refused = sillage(
        test_db, "transit", "import", "--feed", "yelo-gtfs", str(files.write(tmp_path / "broken"))
    )
    assert refused.returncode == 2
    assert "stops.txt line 3: stop_lon 'east' is not a number" in refused.stderr
    assert sillage(test_db, "transit", "list").stdout == listed.stdout
    assert sillage(test_db, "transit", "remove", "yelo-gtfs").returncode == 0
    assert sillage(test_db, "transit", "list").stdout == ""
    scoped = ("--revisit-days", "3", "--campaign", "Nowhere")
    unknown = sillage(test_db, "transit", "import", *scoped, str(tmp_path / "Yélo GTFS.zip"))
    assert (unknown.returncode, "no campaign named 'Nowhere'" in unknown.stderr) == (2, True)
    assert sillage(test_db, "transit", "list").stdout == ""  # refused before anything was stored
    gone = sillage(test_db, "transit", "remove", "yelo-gtfs")
    assert (gone.returncode, "no transit feed named 'yelo-gtfs'" in gone.stderr) == (2, True)


async def test_tester_roles_cannot_read_or_change_the_network(
    app_conn: asyncpg.Connection, network: None
) -> None:
    role = await app_conn.fetchval("SELECT role_name FROM sillage.users ORDER BY created_at LIMIT 1")
    async with app_conn.transaction():
        await app_conn.execute(f'SET LOCAL ROLE "{role}"')
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_conn.fetch("SELECT * FROM sillage.transit_stops")
