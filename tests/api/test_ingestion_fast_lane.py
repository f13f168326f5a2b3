"""POST /v1/fixes fast lane: a device known to the process is checked by the database itself.

After a device has authenticated once, its later batches open their transaction with
``sillage.enter_device`` instead of a separate authentication query. These tests serve their own
app so they can see which devices it knows, and change devices and testers behind its back (as
another API process or an operator would) to show that nothing is cached but the device id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from api.app import create_app
from api.deps import KnownDevices
from core.settings import Settings
from store.partition import as_user
from tests.support.server import serve
from tests.support.testers import Enrolled, enrol

NOW = time.time()


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture(scope="module")
def own_url(app: Litestar) -> Iterator[str]:
    with serve(app) as url:
        yield url


@pytest.fixture
async def client(own_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=own_url, timeout=30) as c:
        yield c


def known(app: Litestar) -> KnownDevices:
    k: KnownDevices = app.state.known_devices
    return k


def batch(start: float, n: int = 5) -> dict[str, Any]:
    return {"fixes": [{"ts": start + i, "lat": 46.16, "lon": -1.15, "accuracy_m": 9.0} for i in range(n)]}


async def stored(app_conn: asyncpg.Connection, t: Enrolled) -> int:
    async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
        n: int = await app_conn.fetchval("SELECT count(*) FROM fixes")
    return n


async def known_tester(client: httpx.AsyncClient, app: Litestar, invite_code: str) -> Enrolled:
    t = await enrol(client, invite_code)
    assert known(app).key(t.token) is None
    r = await client.post("/v1/fixes", json=batch(NOW - 600), headers=t.auth)
    assert r.status_code == 200
    assert known(app).key(t.token) is not None  # the next batch takes the fast lane
    return t


def with_secret(t: Enrolled, secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t.device_id.hex}.{secret}"}


async def test_a_known_device_stores_through_the_fast_lane(
    client: httpx.AsyncClient, app: Litestar, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await known_tester(client, app, invite_code)
    r = await client.post("/v1/fixes", json=batch(NOW - 300), headers=t.auth)
    assert r.status_code == 200
    assert r.json()["stored"] == 5
    again = await client.post("/v1/fixes", json=batch(NOW - 300, n=7), headers=t.auth)
    assert (again.json()["stored"], again.json()["duplicates"]) == (2, 5)
    assert await stored(app_conn, t) == 12
    assert known(app).key(t.token) is not None


async def test_a_device_revoked_elsewhere_is_refused_at_once(
    client: httpx.AsyncClient,
    app: Litestar,
    invite_code: str,
    app_conn: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
) -> None:
    t = await known_tester(client, app, invite_code)
    await owner_conn.execute("UPDATE sillage.devices SET revoked_at = now() WHERE id = $1", t.device_id)
    r = await client.post("/v1/fixes", json=batch(NOW - 300), headers=t.auth)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await stored(app_conn, t) == 5
    assert known(app).key(t.token) is None


async def test_a_wrong_secret_for_a_known_device_stores_nothing(
    client: httpx.AsyncClient, app: Litestar, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await known_tester(client, app, invite_code)
    forged = with_secret(t, "A" * 43)
    assert (await client.post("/v1/fixes", json=batch(NOW - 300), headers=forged)).status_code == 401
    # A forged token says 401 before the body is even looked at, as on the ordinary path.
    bad_json = {**forged, "Content-Type": "application/json"}
    assert (await client.post("/v1/fixes", content=b'{"fixes": [', headers=bad_json)).status_code == 401
    all_rejected = {"fixes": [{"ts": NOW - 5, "lat": 95.0, "lon": 0.0, "accuracy_m": 5.0}]}
    assert (await client.post("/v1/fixes", json=all_rejected, headers=forged)).status_code == 401
    assert await stored(app_conn, t) == 5
    # The genuine token still works afterwards.
    assert (await client.post("/v1/fixes", json=batch(NOW - 300), headers=t.auth)).status_code == 200


async def test_a_known_device_with_a_bad_body_still_gets_its_400(
    client: httpx.AsyncClient, app: Litestar, invite_code: str
) -> None:
    t = await known_tester(client, app, invite_code)
    r = await client.post(
        "/v1/fixes", content=b'{"fixes": [', headers={**t.auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 400


async def test_pausing_elsewhere_turns_the_next_batch_into_a_paused_report(
    client: httpx.AsyncClient,
    app: Litestar,
    invite_code: str,
    app_conn: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
) -> None:
    t = await known_tester(client, app, invite_code)
    await owner_conn.execute("UPDATE sillage.users SET paused_at = now() WHERE id = $1", t.user_id)
    r = await client.post("/v1/fixes", json=batch(NOW - 300), headers=t.auth)
    assert r.status_code == 200
    assert {x["status"] for x in r.json()["results"]} == {"paused"}
    assert await stored(app_conn, t) == 5


async def test_the_fast_lane_records_when_the_device_was_last_seen(
    client: httpx.AsyncClient, app: Litestar, invite_code: str, owner_conn: asyncpg.Connection
) -> None:
    t = await known_tester(client, app, invite_code)
    await owner_conn.execute(
        "UPDATE sillage.devices SET last_seen_at = now() - interval '2 hours' WHERE id = $1", t.device_id
    )
    assert (await client.post("/v1/fixes", json=batch(NOW - 300), headers=t.auth)).status_code == 200
    age = await owner_conn.fetchval(
        "SELECT extract(epoch FROM now() - last_seen_at) FROM sillage.devices WHERE id = $1", t.device_id
    )
    assert age < 60


async def test_tracker_endpoints_share_the_lane_and_its_refusals(
    client: httpx.AsyncClient,
    app: Litestar,
    invite_code: str,
    app_conn: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
) -> None:
    t = await enrol(client, invite_code)

    async def gpslogger(ts: float) -> httpx.Response:
        return await client.get(
            f"/ingest/gpslogger?token={t.token}&lat=46.16&lon=-1.15&acc=8&timestamp={ts:.0f}"
        )

    assert (await gpslogger(NOW - 100)).status_code == 200
    assert known(app).key(t.token) is not None
    assert (await gpslogger(NOW - 90)).status_code == 200  # through the lane
    await owner_conn.execute("UPDATE sillage.devices SET revoked_at = now() WHERE id = $1", t.device_id)
    assert (await gpslogger(NOW - 80)).status_code == 401
    assert known(app).key(t.token) is None
    assert await stored(app_conn, t) == 2


async def test_overlapping_batches_sent_at_once_by_two_devices_are_all_stored(
    client: httpx.AsyncClient, app: Litestar, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    # Two trackers of one tester send the same fixes at the same moment, one in reverse order: a
    # batch through the COPY lane meets one whose COPY found a duplicate and that inserts. Both mark
    # the range to reprocess before they write a fix, so they wait for each other; when the insert
    # wrote first and marked after, PostgreSQL broke the deadlock by failing one batch (a 503).
    a = await known_tester(client, app, invite_code)
    r = await client.post("/v1/me/devices", json={"label": "tablet"}, headers=a.auth)
    assert r.status_code == 201, r.text
    b = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await client.post("/v1/fixes", json=batch(NOW - 900), headers=b)).status_code == 200
    sent = {NOW - 600 + i for i in range(5)} | {NOW - 900 + i for i in range(5)}

    async def send(headers: dict[str, str], times: list[float]) -> int | str:
        fixes = [{"ts": t, "lat": 46.16 + (t % 7) * 1e-4, "lon": -1.15, "accuracy_m": 9.0} for t in times]
        r = await client.post("/v1/fixes", json={"fixes": fixes}, headers=headers)
        return r.status_code if r.status_code == 200 else r.text

    for wave in range(6):  # 8 overlapping groups of 3 batches at once, fewer than the pool's connections
        jobs = []
        for group in range(8):
            times = [NOW - 8000 + (wave * 8 + group) * 50 + i for i in range(80)]
            sent.update(times)
            jobs += [send(a.auth, times), send(b, times[::-1]), send(a.auth, times[10:])]
        statuses = await asyncio.gather(*jobs)
        assert statuses == [200] * len(jobs)
    assert await stored(app_conn, a) == len(sent)
