"""POST /v1/fixes: every fix taken in once, bad ones refused one by one, limits enforced."""

from __future__ import annotations

import math
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from api.app import create_app
from core.settings import Settings
from store.partition import as_user
from tests.support.server import serve
from tests.support.testers import Enrolled, enrol

NOW = time.time()


def fix(t: float, lat: float = 46.16, lon: float = -1.15, **extra: Any) -> dict[str, Any]:
    return {"ts": t, "lat": lat, "lon": lon, "accuracy_m": 10.0, **extra}


async def post(http: httpx.AsyncClient, t: Enrolled, fixes: list[dict[str, Any]]) -> httpx.Response:
    return await http.post("/v1/fixes", json={"fixes": fixes}, headers=t.auth)


async def count(app_conn: asyncpg.Connection, t: Enrolled) -> int:
    role = f"sillage_u_{t.user_id.hex}"
    async with as_user(app_conn, role):
        n: int = await app_conn.fetchval("SELECT count(*) FROM fixes")
    return n


async def test_a_batch_is_stored_with_a_per_fix_report(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    r = await post(http, t, [fix(NOW - 60 + i) for i in range(5)])
    assert r.status_code == 200
    body = r.json()
    assert (body["stored"], body["duplicates"], body["rejected"]) == (5, 0, 0)
    assert [x["status"] for x in body["results"]] == ["stored"] * 5
    assert await count(app_conn, t) == 5


async def test_a_retried_batch_stores_nothing_twice_and_still_succeeds(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    batch = [fix(NOW - 120 + i) for i in range(10)]
    await post(http, t, batch)
    r = await post(http, t, batch)
    assert r.status_code == 200
    assert (r.json()["stored"], r.json()["duplicates"]) == (0, 10)
    assert await count(app_conn, t) == 10


async def test_invalid_fixes_are_rejected_one_by_one_and_the_rest_stored(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    fixes = [
        fix(NOW - 10),  # fine
        fix(NOW + 3600),  # an hour in the future
        fix(datetime(1999, 12, 31, tzinfo=UTC).timestamp()),  # before 2000
        fix(NOW - 9, lat=91.0),  # impossible latitude
        fix(NOW - 8, lon=-181.0),
        fix(NOW - 7, speed_mps=math.inf),
        fix(NOW - 6),  # fine
    ]
    r = await http.post(
        "/v1/fixes",
        headers={**t.auth, "Content-Type": "application/json"},
        content=_json_with_nan({"fixes": fixes}),
    )
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["status"] for x in results] == [
        "stored",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "stored",
    ]
    reasons = [x.get("reason", "") for x in results]
    assert "future" in reasons[1]
    assert "2000" in reasons[2]
    assert "latitude" in reasons[3]
    assert "longitude" in reasons[4]
    assert "finite" in reasons[5]
    assert await count(app_conn, t) == 2


def _json_with_nan(doc: dict[str, Any]) -> bytes:
    import json

    return json.dumps(doc).encode()  # Python's json writes Infinity/NaN literals, as some clients do


async def test_nan_coordinates_are_a_per_fix_rejection(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    body = _json_with_nan({"fixes": [fix(NOW - 5, lat=math.nan), fix(NOW - 4)]})
    r = await http.post("/v1/fixes", headers={**t.auth, "Content-Type": "application/json"}, content=body)
    assert r.status_code == 200
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "stored"]


async def test_late_and_out_of_order_fixes_are_accepted_and_mark_their_range(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    await post(http, t, [fix(NOW - 100), fix(NOW - 200)])
    three_days_ago = NOW - 3 * 86400
    r = await post(http, t, [fix(three_days_ago + 5), fix(three_days_ago)])
    assert r.json()["stored"] == 2
    row = await app_conn.fetchrow(
        "SELECT from_ts, to_ts FROM sillage.pipeline_dirty WHERE user_id = $1", t.user_id
    )
    assert row is not None
    assert abs(row["from_ts"].timestamp() - three_days_ago) < 1e-3
    assert abs(row["to_ts"].timestamp() - (NOW - 100)) < 1e-3


async def test_iso_timestamps_need_an_offset(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    r = await post(
        http,
        t,
        [
            {"ts": "2026-06-01T08:00:00+02:00", "lat": 46.1, "lon": -1.1, "accuracy_m": 5},
            {"ts": "2026-06-01T08:00:05", "lat": 46.1, "lon": -1.1, "accuracy_m": 5},
        ],
    )
    assert [x["status"] for x in r.json()["results"]] == ["stored", "rejected"]


async def test_malformed_json_is_a_400_saying_where_it_broke(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    t = await enrol(http, invite_code)
    r = await http.post(
        "/v1/fixes",
        headers={**t.auth, "Content-Type": "application/json"},
        content=b'{"fixes": [\n{"ts": 1, "lat": }]}',
    )
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "line 2" in r.json()["detail"]


async def test_more_than_1000_fixes_is_refused_with_a_clear_message(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    r = await post(http, t, [{"ts": NOW - 2000 + i, "lat": 46.0, "lon": -1.0} for i in range(1001)])
    assert r.status_code in (413, 422)
    assert "1000" in r.json()["detail"]
    assert await count(app_conn, t) == 0


async def test_a_body_over_one_mebibyte_is_413(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    r = await http.post(
        "/v1/fixes",
        headers={**t.auth, "Content-Type": "application/json"},
        content=b'{"fixes": [' + b" " * (1024 * 1024) + b"]}",
    )
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_too_many_requests_for_one_token_is_429_with_retry_after(
    settings: Settings, invite_code: str
) -> None:
    limited = Settings(database_url=settings.database_url, rate_limit_per_minute=3)
    with serve(create_app(limited)) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            t = await enrol(client, invite_code)
            codes = [(await post(client, t, [fix(NOW - 300 + i)])).status_code for i in range(5)]
            assert codes[:3] == [200, 200, 200]
            assert codes[3] == 429
            r = await post(client, t, [fix(NOW - 290)])
            assert r.status_code == 429
            assert int(r.headers["retry-after"]) >= 1
            assert r.json()["type"].endswith("/rate-limited")
            other = await enrol(client, invite_code)  # another tester is not affected
            assert (await post(client, other, [fix(NOW - 1)])).status_code == 200


async def test_a_batch_overlapping_a_stored_one_stores_only_the_new_fixes(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    await post(http, t, [fix(NOW - 300 + i) for i in range(5)])
    r = await post(http, t, [fix(NOW - 300 + i) for i in range(3, 8)])
    assert (r.json()["stored"], r.json()["duplicates"]) == (3, 2)
    assert [x["status"] for x in r.json()["results"]] == ["duplicate"] * 2 + ["stored"] * 3
    assert await count(app_conn, t) == 8


async def test_the_same_time_twice_in_one_batch_is_stored_once(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    r = await post(http, t, [fix(NOW - 50), fix(NOW - 49), fix(NOW - 50, lat=46.2)])
    assert [x["status"] for x in r.json()["results"]] == ["stored", "stored", "duplicate"]
    assert await count(app_conn, t) == 2


async def test_a_clean_batch_with_a_future_fix_rejects_only_that_fix(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    r = await post(http, t, [fix(NOW - 20), fix(NOW + 3600), fix(NOW - 19)])
    assert [x["status"] for x in r.json()["results"]] == ["stored", "rejected", "stored"]
    assert r.json()["results"][1]["reason"] == "timestamp is more than 5 minutes in the future"
    assert await count(app_conn, t) == 2


async def test_without_a_token_the_batch_is_refused_and_nothing_stored(http: httpx.AsyncClient) -> None:
    r = await http.post("/v1/fixes", json={"fixes": [fix(NOW - 5)]})
    assert r.status_code == 401


async def test_one_fix_per_instant_whichever_tracker_uploads_first(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    # Two phones of one tester log the same instants 0.001 degrees apart. The fix whose source
    # ("native:<device>") sorts first is kept at each instant, whichever phone uploads first; a
    # time repeated within one batch keeps that batch's first fix.
    stamps = [NOW - 300 + i for i in range(4)]
    kept: list[list[tuple[float, str]]] = []
    for lower_first in (True, False):
        t = await enrol(http, invite_code)
        r = await http.post("/v1/me/devices", json={"label": "second"}, headers=t.auth)
        assert r.status_code == 201, r.text
        other = Enrolled(
            user_id=t.user_id, device_id=uuid.UUID(r.json()["device_id"]), token=r.json()["token"]
        )
        lower, higher = sorted([t, other], key=lambda d: d.device_id.hex)
        lat = {lower.device_id: 46.160, higher.device_id: 46.161}
        first, second = (lower, higher) if lower_first else (higher, lower)
        a = await post(http, first, [fix(s, lat=lat[first.device_id]) for s in stamps])
        b = await post(
            http, second, [fix(s, lat=lat[second.device_id]) for s in stamps] + [fix(stamps[0], lat=45.0)]
        )
        assert (a.json()["stored"], b.json()["stored"]) == (4, 0 if lower_first else 4)
        assert b.json()["duplicates"] == (5 if lower_first else 1)
        async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
            rows = await app_conn.fetch("SELECT lat, source FROM fixes ORDER BY ts")
        assert {r["source"] for r in rows} == {f"native:{lower.device_id.hex[:8]}"}
        kept.append([(r["lat"], r["source"].split(":")[0]) for r in rows])
    assert kept[0] == kept[1] == [(46.160, "native")] * 4
