"""A tester's commute, uploaded and processed: the set-up of the tests that read a tester's trips
through the API (exports, answers, erasure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from ingest.pipeline import Pipeline, PipelineParams
from models.heuristic import HeuristicClassifier
from store.pool import Database
from tests.support.testers import Enrolled, enrol, upload
from tests.support.tracks import bus, place, stay, track_from, walk

DAY = datetime(2026, 10, 5, 7, 0, tzinfo=UTC).timestamp()
# The commute's day, as the trips list takes it.
DAY_RANGE = {"from": datetime.fromtimestamp(DAY - 3600, UTC).isoformat(), "to": "2026-10-06T00:00:00Z"}


def commute_fixes(start_s: float = DAY) -> list[dict[str, Any]]:
    """Home, a walk, a wait, a bus ride, a walk, work: fixes every 5 s as the native API takes them."""
    track = track_from(
        stay(900, at=place(0.0, 0.0), every_s=5),
        walk(to=place(300.0, 0.0), every_s=5),
        stay(120, every_s=5),
        bus(to=place(4300.0, 0.0), every_s=5),
        walk(to=place(4600.0, 0.0), every_s=5),
        stay(900, every_s=5),
        start_s=start_s,
    )
    return [
        {
            "ts": float(track.t_s[i]),
            "lat": float(track.lat[i]),
            "lon": float(track.lon[i]),
            "accuracy_m": 6.5,
            "battery": 0.75,
            **({"altitude_m": 12.25, "activity": "walk"} if i % 2 else {}),
        }
        for i in range(len(track))
    ]


async def commuted(
    http: httpx.AsyncClient, invite_code: str, db: Database, *consents: str
) -> tuple[Enrolled, list[dict[str, Any]]]:
    """A new tester (with ``consents``) whose commute was uploaded and processed, and its trips as
    ``GET /v1/trips`` lists them."""
    t = await enrol(http, invite_code, *consents)
    fixes = commute_fixes()
    await upload(http, t, fixes)
    await Pipeline(HeuristicClassifier(), PipelineParams()).run_due(
        db, as_of=datetime.fromtimestamp(fixes[-1]["ts"] + 3600, UTC)
    )
    trips: list[dict[str, Any]] = (await http.get("/v1/trips", params=DAY_RANGE, headers=t.auth)).json()
    assert trips, "the commute should make a trip"
    return t, trips
