"""End to end: a new tester's track made only of GPS jumps stores no trip and no CO2
(core.segmentation.impossible)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from ingest.pipeline import Pipeline, PipelineParams
from models.heuristic import HeuristicClassifier
from store.pool import Database
from tests.integration.test_pipeline import DAY, trips_of
from tests.support.testers import enrol, upload


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(HeuristicClassifier(), PipelineParams())


@pytest.mark.parametrize(
    ("every_s", "n", "jump_deg"),
    [(1, 20, 0.1), (30, 10, 0.05)],
    ids=["211 km in 19 s", "50 km by car in 270 s"],
)
async def test_a_track_of_jumps_alone_stores_no_trip_and_no_footprint(
    http: httpx.AsyncClient,
    invite_code: str,
    db: Database,
    pipeline: Pipeline,
    every_s: int,
    n: int,
    jump_deg: float,
) -> None:
    t = await enrol(http, invite_code)
    fixes = [
        {"ts": DAY + every_s * i, "lat": 46.16 + jump_deg * (i % 2), "lon": -1.15, "accuracy_m": 5}
        for i in range(n)
    ]
    await upload(http, t, fixes)
    await pipeline.run_due(db, as_of=datetime.fromtimestamp(DAY + 3 * 3600, UTC))  # the phone went quiet
    assert await trips_of(http, t) == []
    at = datetime.fromtimestamp(DAY, UTC).isoformat()
    r = await http.get("/v1/coach/footprint", params={"period": "day", "at": at}, headers=t.auth)
    assert r.status_code == 200, r.text
    assert r.json()["current"]["total_kg"] == 0
