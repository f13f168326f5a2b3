"""JSON integers too large for a float (both parsers keep them whole) cost their own element, never the batch.

``float()`` of such an int raises ``OverflowError``; unguarded, it was a 500 and nothing was stored. An
OpenPATH phone re-sends its whole cache at every sync, so one such entry would block it for good.
"""

from __future__ import annotations

import json
import time
from typing import Any

import asyncpg
import httpx
import pytest

from tests.api.test_trackers import stored
from tests.support.testers import enrol

NOW = int(time.time())
HUGE = "HUGE"  # stands for 1 followed by 400 zeros, beyond float range, in the documents below


def with_huge(document: object) -> bytes:
    """``document`` as JSON, each ``"HUGE"`` string written as the bare integer 10**400."""
    return json.dumps(document).replace('"HUGE"', "1" + "0" * 400).encode()


def motion(write_ts: object, **data: Any) -> dict[str, Any]:
    return {
        "metadata": {"key": "background/motion_activity", "write_ts": write_ts},
        "data": {"type": 1, **data},
    }


@pytest.mark.parametrize("activity", [motion(HUGE), motion(1, ts=HUGE)], ids=["metadata.write_ts", "data.ts"])
async def test_an_openpath_motion_entry_with_a_huge_time_is_skipped_and_the_location_stored(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection, activity: dict[str, Any]
) -> None:
    t = await enrol(http, invite_code)
    location = {
        "metadata": {"key": "background/location", "write_ts": NOW - 200},
        "data": {"latitude": 46.16, "longitude": -1.15, "ts": NOW - 200, "accuracy": 5.0},
    }
    body = with_huge({"user": t.token, "phone_to_server": [activity, location]})
    r = await http.post("/usercache/put", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json() == {"stored": 1, "duplicates": 0, "rejected": 0, "skipped": 1}
    assert len(await stored(app_conn, t)) == 1


def point(coordinates: list[object], **properties: object) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": coordinates},
        "properties": properties,
    }


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (point([HUGE, 46.16], time="2025-06-01T12:00:01Z"), "a position coordinate is a number out of range"),
        (point([-1.15, 46.16], time=HUGE), "time is out of range for epoch seconds"),
        (
            point([-1.15, 46.16], time="2025-06-01T12:00:02Z", accuracy=HUGE),
            "property accuracy is a number out of range",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[-1.15, 46.16]]},
                "properties": {"coordTimes": [HUGE]},
            },
            "time is out of range for epoch seconds",
        ),
    ],
    ids=["coordinates[0]", "properties.time", "properties.accuracy", "coordTimes[0]"],
)
async def test_a_geojson_feature_with_a_huge_number_is_rejected_alone(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection, bad: object, reason: str
) -> None:
    t = await enrol(http, invite_code)
    good = point([-1.15, 46.16], time="2025-06-01T12:00:00Z")
    body = with_huge({"type": "FeatureCollection", "features": [good, bad]})
    r = await http.post("/v1/uploads", content=body, params={"filename": "x.geojson"}, headers=t.auth)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["stored"], report["rejected"]) == (1, 1)
    assert report["results"] == [{"index": 1, "status": "rejected", "reason": reason}]
    assert len(await stored(app_conn, t)) == 1


@pytest.mark.parametrize(
    "bad",
    [
        '{"ts":1700000000,"lat":46,"lon":-1,"accuracy_m":5,"activity":"\\ud800"}',
        '{"ts":1700000000,"lat":"\\ud800","lon":-1}',
        '{"ts":1700000000,"lat":46,"lon":-1,"\\ud800":1}',
        '"\\ud800"',
    ],
    ids=["activity", "lat", "key", "element"],
)
async def test_a_lone_surrogate_rejects_its_own_fix_only(
    http: httpx.AsyncClient, invite_code: str, bad: str
) -> None:
    # The standard library's parser (the fallback for what msgspec refuses) keeps "\ud800"; msgspec
    # then failed while writing its message about it: a 500, and the batch's good fix was lost.
    t = await enrol(http, invite_code)
    good = json.dumps({"ts": NOW - 300, "lat": 46.16, "lon": -1.15, "accuracy_m": 5})
    body = '{"fixes":[' + good + "," + bad + "]}"
    r = await http.post(
        "/v1/fixes", content=body.encode(), headers={**t.auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["stored", "rejected"]
    assert "surrogate" in r.json()["results"][1]["reason"]


async def test_a_lone_surrogate_in_an_owntracks_fix_is_not_a_server_error(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    t = await enrol(http, invite_code)
    body = '{"_type":"location","lat":"\\ud800","lon":-1,"tst":' + str(NOW - 60) + "}"
    r = await http.post(
        "/ingest/owntracks", content=body.encode(), headers={**t.auth, "Content-Type": "application/json"}
    )
    assert r.status_code < 500, r.text
