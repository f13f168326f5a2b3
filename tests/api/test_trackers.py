"""The trackers people already use, each authenticated the way the app supports, over real HTTP."""

from __future__ import annotations

import base64
import logging
import time
from datetime import UTC, datetime, timedelta

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


async def test_owntracks_with_basic_auth_answers_an_empty_list(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    basic = base64.b64encode(f"alice:{t.token}".encode()).decode()
    msg = {
        "_type": "location",
        "lat": 46.1591,
        "lon": -1.1520,
        "tst": int(NOW) - 30,
        "acc": 12,
        "vel": 36,
        "batt": 80,
        "tid": "al",
    }
    r = await http.post("/ingest/owntracks", json=msg, headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200
    assert r.json() == []
    rows = await stored(app_conn, t)
    assert len(rows) == 1
    assert abs(rows[0]["speed_mps"] - 10.0) < 1e-4  # 36 km/h
    assert abs(rows[0]["battery"] - 0.8) < 1e-6
    r = await http.post(
        "/ingest/owntracks",
        json={"_type": "lwt", "tst": int(NOW)},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200
    assert r.json() == []
    assert (
        await http.post("/ingest/owntracks", content=b"", headers={"Authorization": f"Basic {basic}"})
    ).status_code == 200


async def test_fixes_a_tracker_sent_wrong_are_counted_in_the_log_without_identifiers(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    t = await enrol(http, invite_code)
    basic = base64.b64encode(f"alice:{t.token}".encode()).decode()
    good = {"_type": "location", "lat": 46.1591, "lon": -1.1520, "tst": int(NOW) - 30, "acc": 12}
    bad = {**good, "lat": 123.0, "tst": int(NOW) - 20}
    with caplog.at_level(logging.WARNING, logger="sillage.ingest"):
        r = await http.post(
            "/ingest/owntracks", json=[good, bad], headers={"Authorization": f"Basic {basic}"}
        )
    assert r.status_code == 200  # the app would retry a refused batch for ever: the good fix is kept
    assert len(await stored(app_conn, t)) == 1
    (record,) = [rec for rec in caplog.records if rec.name == "sillage.ingest"]
    assert (record.__dict__["source"], record.__dict__["stored"], record.__dict__["rejected"]) == (
        "owntracks",
        1,
        1,
    )
    (reason,) = record.__dict__["reasons"]
    assert "lat" in reason
    line = JsonFormatter().format(record)
    assert t.token not in line
    assert str(t.user_id) not in line
    assert str(t.device_id) not in line


async def test_overland_gets_ok_only_once_stored(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    ts = datetime.fromtimestamp(NOW - 60, UTC).isoformat()
    body = {
        "locations": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-1.152, 46.159]},
                "properties": {
                    "timestamp": ts,
                    "speed": -1,
                    "horizontal_accuracy": 5,
                    "altitude": 3,
                    "motion": ["walking"],
                    "battery_level": 0.5,
                },
            },
            {"type": "Feature", "geometry": None, "properties": {"type": "trip", "mode": "bicycle"}},
        ]
    }
    r = await http.post("/ingest/overland", json=body, headers=t.auth)
    assert r.status_code == 200
    assert r.json() == {"result": "ok"}
    rows = await stored(app_conn, t)
    assert len(rows) == 1
    assert rows[0]["speed_mps"] is None  # negative speed means unknown
    assert rows[0]["activity"] == "walk"
    bad = await http.post("/ingest/overland", json=body, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401  # anything but {"result":"ok"} makes the app resend


async def test_emission_usercache_put_takes_the_token_from_the_body(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    entry = {
        "metadata": {
            "key": "background/filtered_location",
            "write_ts": NOW,
            "platform": "android",
            "time_zone": "Europe/Paris",
            "type": "sensor-data",
        },
        "data": {
            "latitude": 46.16,
            "longitude": -1.15,
            "ts": (NOW - 90) * 1000,
            "accuracy": 9.0,
            "altitude": 4.0,
            "bearing": 90.0,
            "sensed_speed": 1.3,
        },
    }
    other = {
        "metadata": {
            "key": "statemachine/transition",
            "write_ts": NOW,
            "platform": "android",
            "time_zone": "Europe/Paris",
            "type": "message",
        },
        "data": {"transition": "T_TRIP_ENDED", "ts": NOW - 80},
    }
    r = await http.post("/usercache/put", json={"user": t.token, "phone_to_server": [entry, other]})
    assert r.status_code == 200
    rows = await stored(app_conn, t)
    assert len(rows) == 1
    assert abs(rows[0]["ts"].timestamp() - (NOW - 90)) < 1e-3  # milliseconds understood


async def test_gpslogger_get_with_token_in_the_query_and_an_encoded_offset(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    when = datetime.fromtimestamp(int(NOW) - 120, UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/Paris")
    )
    url = (
        f"/ingest/gpslogger?token={t.token}&lat=46.16&lon=-1.15&acc=8&s=2.5&alt=5&dir=180&batt=55"
        f"&time={when.isoformat().replace('+', '%2B')}"
    )
    r = await http.get(url)
    assert r.status_code == 200
    rows = await stored(app_conn, t)
    assert len(rows) == 1
    assert rows[0]["ts"] == when.astimezone(UTC)
    assert abs(rows[0]["speed_mps"] - 2.5) < 1e-6


async def test_gpslogger_post_with_a_json_body_of_its_parameters_is_stored(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    # GPSLogger's "HTTP Body" may be set to JSON ({"lat": %LAT, ...}): the body was ignored, no
    # fix stored, and the app was answered OK (the fix lost without a word).
    t = await enrol(http, invite_code)
    when = datetime.fromtimestamp(int(NOW) - 150, UTC).isoformat()
    body = {"lat": 46.16, "lon": -1.15, "acc": 8, "time": when, "batt": 55}
    r = await http.post(f"/ingest/gpslogger?token={t.token}", json=body)
    assert r.status_code == 200, r.text
    rows = await stored(app_conn, t)
    assert [(row["lat"], row["lon"], row["ts"].isoformat()) for row in rows] == [(46.16, -1.15, when)]


async def test_gpslogger_json_body_that_is_not_an_object_is_unprocessable(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    # Well-formed JSON of another shape than the format's: 422, as at every other tracker's endpoint.
    t = await enrol(http, invite_code)
    r = await http.post(f"/ingest/gpslogger?token={t.token}", json=[46.16, -1.15])
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/unprocessable")
    assert await stored(app_conn, t) == []
    responses = (await http.get("/schema/openapi.json")).json()["paths"]["/ingest/gpslogger"]["post"]
    assert "422" in responses["responses"]


async def test_osmand_protocol_converts_knots(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    r = await http.post(
        f"/ingest/osmand?id={t.token}&lat=46.16&lon=-1.15&timestamp={int(NOW) - 40}"
        "&speed=10&bearing=45&altitude=3&accuracy=6&batt=90"
    )
    assert r.status_code == 200
    rows = await stored(app_conn, t)
    assert len(rows) == 1
    assert abs(rows[0]["speed_mps"] - 5.14444) < 1e-3


async def test_an_osmand_get_is_read_from_its_query_and_never_from_a_body(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    """Traccar Client's JSON comes by POST; a GET's body means nothing, so it is not read: a GET with
    one is not refused (400, 422) as if it were a malformed Traccar body, which its document does
    not list."""
    t = await enrol(http, invite_code)
    for body in (b"{", b"[]", b'{"device_id": "x", "location": 5}'):
        r = await http.request("GET", "/ingest/osmand", params={"id": t.token}, content=body)
        assert (r.status_code, r.text) == (200, "OK")  # a keep-alive: nothing to store
    query = {"id": t.token, "lat": "46.16", "lon": "-1.15", "timestamp": str(int(NOW) - 50)}
    r = await http.request("GET", "/ingest/osmand", params=query, content=b"{")
    assert r.status_code == 200
    assert len(await stored(app_conn, t)) == 1
    r = await http.post("/ingest/osmand", params={"id": t.token}, content=b"{")
    assert r.status_code == 400  # a POST's body is Traccar's JSON


async def test_a_gpx_file_upload_imports_history(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    start = datetime(2019, 5, 4, 7, 0, tzinfo=UTC)
    pts = "".join(
        f'<trkpt lat="{46.15 + i * 1e-4:.5f}" lon="-1.15"><ele>3</ele>'
        f"<time>{(start + timedelta(seconds=5 * i)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for i in range(20)
    )
    gpx = (
        '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{pts}</trkseg></trk></gpx>"
    ).encode()
    r = await http.post(
        "/v1/uploads?filename=old.gpx", content=gpx, headers={**t.auth, "Content-Type": "application/gpx+xml"}
    )
    assert r.status_code == 200
    assert r.json()["stored"] == 20
    assert r.json()["results"] == []  # only the fixes not stored are listed
    rows = await stored(app_conn, t)
    assert rows[0]["ts"] == start
    dirty = await app_conn.fetchrow(
        "SELECT from_ts FROM sillage.pipeline_dirty WHERE user_id = $1", t.user_id
    )
    assert dirty is not None
    assert dirty["from_ts"] == start


async def test_an_upload_report_lists_only_the_fixes_not_stored(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    t = await enrol(http, invite_code)
    rows = ["time,lat,lon"] + [f"2019-05-04T07:00:{s:02d}Z,46.15,-1.15" for s in range(10)]
    rows[4] = "2019-05-04T07:00:03Z,95.0,-1.15"  # the fourth fix: a latitude off the globe
    r = await http.post(
        "/v1/uploads?filename=day.csv",
        content="\n".join(rows).encode(),
        headers={**t.auth, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["stored"], body["rejected"]) == (9, 1)
    assert [(x["index"], x["status"]) for x in body["results"]] == [(3, "rejected")]


async def test_an_unrecognised_upload_is_422(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    r = await http.post("/v1/uploads", content=b"\x00\x01garbage", headers=t.auth)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_an_emission_app_gets_its_start_up_answers(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    r = await http.post("/usercache/get", json={"user": t.token})
    assert r.status_code == 200
    assert r.json() == {"server_to_phone": []}
    r = await http.post("/pipeline/get_complete_ts", json={"user": t.token})
    assert r.status_code == 200
    assert r.json() == {"complete_ts": None}  # nothing processed yet
    assert (await http.post("/pipeline/get_complete_ts", json={"user": "nope"})).status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (b'{"user": 5}', 422, '"user" must be a string token'),  # as usercache/put answers it
        (b"[]", 422, 'expected an object {"user": ...}'),  # well-formed, of another shape
        (b'{"user": "\\ud800"}', 400, '"user" is not valid Unicode text'),
        (b'{"user": ', 400, "malformed JSON at line 1, column 10"),
    ],
)
async def test_an_emission_app_is_told_of_a_bad_body_as_usercache_put_tells_it(
    http: httpx.AsyncClient, body: bytes, status: int, detail: str
) -> None:
    # These were all 400 "malformed request body: ..." (a lone surrogate: "Input data was truncated").
    kind = {400: "/validation", 422: "/unprocessable"}[status]
    for path in ("/usercache/get", "/pipeline/get_complete_ts"):
        r = await http.post(path, content=body, headers={"Content-Type": "application/json"})
        assert (r.status_code, r.json()["type"].endswith(kind)) == (status, True), r.text
        assert r.json()["detail"].startswith(detail)
        assert "422" in (await http.get("/schema/openapi.json")).json()["paths"][path]["post"]["responses"]
