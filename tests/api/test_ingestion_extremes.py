"""Values at the edges of what a number or a calendar can hold, large caches, compressed bodies and
keep-alives: each is a clear per-fix answer or a 4xx, never a 500 that loses the batch's good fixes
(a tracker resends a batch refused with 5xx for ever)."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from api.logs import JsonFormatter
from store.partition import as_user
from tests.support.testers import Enrolled, enrol

NOW = time.time()


async def stored(app_conn: asyncpg.Connection, t: Enrolled) -> list[asyncpg.Record]:
    async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
        return list(await app_conn.fetch("SELECT * FROM fixes ORDER BY ts"))


def fix(t: float | str, **extra: Any) -> dict[str, Any]:
    return {"ts": t, "lat": 46.16, "lon": -1.15, "accuracy_m": 10.0, **extra}


@pytest.mark.parametrize("fast_lane", [True, False], ids=["clean batch", "batch with a bad fix"])
async def test_values_too_large_to_store_refuse_or_drop_only_their_own_field(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection, fast_lane: bool
) -> None:
    t = await enrol(http, invite_code)
    fixes = [
        fix(NOW - 60),
        fix(NOW - 50, speed_mps=1e39),  # beyond a 4-byte float, and beyond any phone: dropped
        fix(NOW - 40, altitude_m=-1e39),
        fix(NOW - 30, speed_mps=2000.0),  # six times the speed of sound: dropped
    ]
    if not fast_lane:
        fixes.append(fix(NOW - 20, accuracy_m=1e39))  # an accuracy that cannot be stored: refused
    r = await http.post("/v1/fixes", json={"fixes": fixes}, headers=t.auth)
    assert r.status_code == 200, r.text
    statuses = [x["status"] for x in r.json()["results"]]
    assert statuses == ["stored"] * 4 + ([] if fast_lane else ["rejected"])
    if not fast_lane:
        assert r.json()["results"][4]["reason"] == "accuracy_m is too large"
    rows = await stored(app_conn, t)
    assert len(rows) == 4
    assert [r["speed_mps"] for r in rows[1:]] == [None, None, None]
    assert rows[2]["altitude_m"] is None


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
async def test_a_time_at_the_calendars_edge_is_refused_alone(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection, stamp: str
) -> None:
    t = await enrol(http, invite_code)
    r = await http.post("/v1/fixes", json={"fixes": [fix(stamp), fix(NOW - 30)]}, headers=t.auth)
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert (first["status"], second["status"]) == ("rejected", "stored")
    assert "out of range" in first["reason"]
    r = await http.get(
        f"/ingest/gpslogger?token={t.token}&lat=46.15&lon=-1.15&time={stamp.replace('+', '%2B')}"
    )
    assert r.status_code == 200  # GPSLogger would retry a 5xx for ever; the fix is refused
    assert len(await stored(app_conn, t)) == 1


async def test_owntracks_with_an_accuracy_too_large_keeps_the_other_messages(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    basic = base64.b64encode(f"alice:{t.token}".encode()).decode()
    good = {"_type": "location", "lat": 46.1591, "lon": -1.1520, "tst": int(NOW) - 30, "acc": 12}
    bad = {**good, "tst": int(NOW) - 20, "acc": 1e39}
    r = await http.post("/ingest/owntracks", json=[good, bad], headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200
    assert len(await stored(app_conn, t)) == 1


def emission_entries(n: int) -> list[dict[str, Any]]:
    """``n`` locations as OpenPATH's Android app caches them, each with its filtered copy."""
    return [
        {
            "metadata": {
                "key": key,
                "platform": "android",
                "write_ts": ts,
                "type": "sensor-data",
                "time_zone": "Europe/Paris",
            },
            "data": {
                "latitude": 46.15 + i * 1e-5,
                "longitude": -1.15,
                "ts": ts,
                "accuracy": 10.0,
                "altitude": 20.0,
                "bearing": 45.0,
                "sensed_speed": 1.3,
                "elapsedRealtimeNanos": 123456789012,
                "filter": "time",
                "fmt_time": "2026-11-30T10:00:00.000000+01:00",
                "vaccuracy": 0,
            },
        }
        for i in range(n)
        for ts in (NOW - 86_400 + 30 * i,)
        for key in ("background/location", "background/filtered_location")
    ]


async def test_an_openpath_cache_of_several_megabytes_is_taken_in_one_put(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    body = json.dumps({"user": t.token, "phone_to_server": emission_entries(2_500)}).encode()
    assert len(body) > 2 * 1024 * 1024  # over the API's 1 MiB for other requests, decoded off the loop
    r = await http.post("/usercache/put", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["stored"] == 2_500
    assert len(await stored(app_conn, t)) == 2_500


async def test_a_traccar_keep_alive_sent_as_a_form_is_ok(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    r = await http.post("/ingest/osmand", data={"id": t.token, "timestamp": str(int(NOW))})
    assert r.status_code == 200, r.text
    assert r.text == "OK"


async def test_a_compressed_body_is_refused_with_415_naming_the_coding(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    body = gzip.compress(json.dumps({"fixes": [fix(NOW - 30)]}).encode())
    r = await http.post(
        "/v1/fixes",
        content=body,
        headers={**t.auth, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 415
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "gzip" in r.json()["detail"]
    assert r.headers["accept-encoding"] == "identity"
    assert await stored(app_conn, t) == []


async def test_overland_motion_null_keeps_the_fix(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-1.152, 46.159]},
        "properties": {
            "timestamp": datetime.fromtimestamp(NOW - 60, UTC).isoformat(),
            "horizontal_accuracy": 5,
            "motion": None,
        },
    }
    r = await http.post("/ingest/overland", json={"locations": [feature]}, headers=t.auth)
    assert r.json() == {"result": "ok"}
    assert len(await stored(app_conn, t)) == 1


async def test_the_rejection_log_names_the_kind_of_reason_never_the_values_sent(
    http: httpx.AsyncClient, invite_code: str, caplog: pytest.LogCaptureFixture
) -> None:
    t = await enrol(http, invite_code)
    with caplog.at_level(logging.WARNING, logger="sillage.ingest"):
        when = datetime.fromtimestamp(NOW - 30, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        r = await http.get(f"/ingest/gpslogger?token={t.token}&lat=46,2173&lon=-1.15&time={when}")
    assert r.status_code == 200
    (record,) = [rec for rec in caplog.records if rec.name == "sillage.ingest"]
    line = json.loads(JsonFormatter().format(record))
    assert line["reasons"] == {"lat <value> is not a number": 1}  # a JSON object, not its repr
    assert "2173" not in json.dumps(line)
