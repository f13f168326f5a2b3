"""A deployment's calibration of the probability shown, served through the pipeline and the API,
and the audit draw the database and Python must make alike."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import numpy as np
import pytest

import ingest.pipeline as pipeline_module
from api.app import create_app
from core import calibration
from core.calibration import ConfidenceCalibration
from core.errors import DatabaseUnavailable
from core.history import ASK_BELOW, audited
from core.settings import Settings
from ingest.calibration import recalibrate, recalibrate_if_changed
from ingest.pipeline import Pipeline, PipelineParams, PipelineWorker
from models.heuristic import HeuristicClassifier
from store import pipeline as pipeline_db
from store.partition import as_user
from store.pool import Database
from tests.integration.test_pipeline import DAY, after, commute, fixes_json, trips_of
from tests.support.cli import sillage
from tests.support.database import ScratchDatabase
from tests.support.server import serve
from tests.support.testers import Enrolled, enrol, upload


async def test_the_database_draws_the_same_sections_for_audit_as_python(app_conn: asyncpg.Connection) -> None:
    ids = [uuid.uuid5(uuid.NAMESPACE_URL, f"section-{k}") for k in range(3000)]
    for share in (0.0, 0.05, 0.5, 1.0):
        drawn = await app_conn.fetch(
            "SELECT id, sillage.section_audited(id, $2) AS drawn FROM unnest($1::uuid[]) id", ids, share
        )
        assert [r["drawn"] for r in drawn] == [audited(i, share) for i in ids]
    rate = np.mean([audited(i, 0.05) for i in ids])
    assert 0.035 < rate < 0.065  # about the share asked for


async def test_to_confirm_asks_sure_sections_only_when_drawn_and_never_when_asking_is_off(
    app_conn: asyncpg.Connection,
) -> None:
    sql = "SELECT sillage.section_to_confirm($1, $2, $3::jsonb, 'car', $4, $5)"
    drawn = next(i for i in (uuid.uuid4() for _ in range(10_000)) if audited(i, 0.05))
    kept = next(i for i in (uuid.uuid4() for _ in range(10_000)) if not audited(i, 0.05))
    sure, unsure = '{"car": 0.95, "bus": 0.05}', '{"car": 0.6, "bus": 0.4}'
    assert await app_conn.fetchval(sql, kept, "model", unsure, ASK_BELOW, 0.05)
    assert not await app_conn.fetchval(sql, kept, "model", sure, ASK_BELOW, 0.05)
    assert await app_conn.fetchval(sql, drawn, "model", sure, ASK_BELOW, 0.05)
    assert not await app_conn.fetchval(sql, drawn, "model", sure, ASK_BELOW, 0.0)  # no audit
    assert not await app_conn.fetchval(sql, drawn, "model", unsure, 0.0, 0.05)  # asking off
    assert not await app_conn.fetchval(sql, drawn, "model", sure, None, 0.05)
    assert not await app_conn.fetchval(sql, drawn, "user", unsure, ASK_BELOW, 0.05)  # answered


async def test_a_calibrated_deployment_shows_calibrated_probabilities_and_keeps_what_the_model_gave(
    http: httpx.AsyncClient, invite_code: str, db: Database, app_conn: asyncpg.Connection
) -> None:
    """Two testers make the same commute; one is served by a pipeline with a calibration (a map
    much less sure than the model). Same modes, probabilities mapped, the model's own kept for the
    next fit, and an answer keeps both."""
    classifier = HeuristicClassifier()
    fitted = ConfidenceCalibration(model_version=classifier.version, slope=0.3, intercept=-0.2)
    plain, calibrated = await enrol(http, invite_code), await enrol(http, invite_code)
    track = commute()
    await upload(http, plain, fixes_json(track))
    await Pipeline(classifier, PipelineParams()).run_due(db, as_of=after(track, 60))
    await upload(http, calibrated, fixes_json(track))
    await Pipeline(classifier, PipelineParams(calibration=fitted)).run_due(db, as_of=after(track, 60))
    (before,) = await trips_of(http, plain)
    (after_,) = await trips_of(http, calibrated)
    assert [s["mode"] for s in after_["sections"]] == [s["mode"] for s in before["sections"]]
    names = list(before["sections"][0]["probabilities"])
    raw = np.asarray([[s["probabilities"][n] for n in names] for s in before["sections"]])
    shown = np.asarray([[s["probabilities"][n] for n in names] for s in after_["sections"]])
    assert shown == pytest.approx(calibration.calibrate(raw, 0.3, -0.2), abs=2e-3)
    assert (shown.max(axis=1) < raw.max(axis=1)).all()  # less sure: more of them asked about
    # Less sure: more of them asked about (counted without the audit draw, which differs between
    # the two testers' section ids).
    unsure = [
        sum(max(s["probabilities"].values()) < ASK_BELOW for s in t["sections"]) for t in (before, after_)
    ]
    assert unsure[1] >= unsure[0]
    for s in after_["sections"]:
        drawn = audited(uuid.UUID(s["id"]))
        assert s["to_confirm"] == (max(s["probabilities"].values()) < ASK_BELOW or drawn)
    section = after_["sections"][1]
    role = f"sillage_u_{calibrated.user_id.hex}"
    async with as_user(app_conn, role):
        kept = await app_conn.fetch("SELECT uncalibrated FROM sections ORDER BY seq")
    assert [r["uncalibrated"] for r in kept] == pytest.approx(raw.max(axis=1).tolist(), abs=2e-4)
    r = await http.patch(f"/v1/sections/{section['id']}", json={"mode": "tram"}, headers=calibrated.auth)
    assert r.status_code == 200
    async with as_user(app_conn, role):
        label = await app_conn.fetchrow(
            "SELECT shown_probability, shown_uncalibrated, shown_model_version, asked FROM labels"
        )
    assert label is not None
    assert label["shown_probability"] == pytest.approx(max(section["probabilities"].values()), abs=1e-4)
    assert label["shown_uncalibrated"] == pytest.approx(raw[1].max(), abs=2e-4)
    assert label["shown_model_version"] == classifier.version
    why = "audit" if audited(uuid.UUID(section["id"])) else None
    assert label["asked"] == ("unsure" if label["shown_probability"] < ASK_BELOW else why)


def test_a_calibration_for_another_model_is_set_aside_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    other = ConfidenceCalibration(model_version="1.0.0", slope=0.3, intercept=0.0)
    with caplog.at_level(logging.WARNING, logger="sillage.pipeline"):
        pipeline = Pipeline(HeuristicClassifier(), PipelineParams(calibration=other))
    assert pipeline.params.calibration is None
    assert "fitted for model 1.0.0" in caplog.text
    mine = ConfidenceCalibration(model_version=HeuristicClassifier().version, slope=0.3, intercept=0.0)
    assert Pipeline(HeuristicClassifier(), PipelineParams(calibration=mine)).params.calibration == mine


async def commuted(
    http: httpx.AsyncClient, invite_code: str, db: Database, day: float
) -> tuple[Enrolled, dict[str, Any]]:
    """A new tester's commute on ``day`` (seconds), built by the pipeline without calibration."""
    t = await enrol(http, invite_code)
    track = commute(day)
    await upload(http, t, fixes_json(track))
    await Pipeline(HeuristicClassifier(), PipelineParams()).run_due(db, as_of=after(track, 60))
    (trip,) = await trips_of(http, t, day)
    return t, trip


async def mapped_with(
    app_conn: asyncpg.Connection, wanted: tuple[str, float, float] | None, never: str
) -> None:
    """Wait until the stored sections are recorded as mapped with ``wanted`` (a background pass)."""
    deadline = time.monotonic() + 120  # a guard against hanging, not a measure
    while await pipeline_db.shown_calibration(app_conn) != wanted:
        assert time.monotonic() < deadline, never
        await asyncio.sleep(0.05)


async def test_recalibrating_maps_the_sections_built_before_and_can_take_them_back(
    http: httpx.AsyncClient,
    invite_code: str,
    db: Database,
    app_conn: asyncpg.Connection,
    test_db: ScratchDatabase,
    tmp_path: Path,
) -> None:
    """Sections built before a calibration was installed are shown calibrated by `sillage pipeline
    recalibrate` (those of the model it was fitted for; the tester's answers stay), and shown as the
    model gave them again without SILLAGE_CALIBRATION."""
    classifier = HeuristicClassifier()
    t, trip = await commuted(http, invite_code, db, DAY + 7 * 86400)
    first, bus, last = trip["sections"]
    assert (await http.patch(f"/v1/sections/{first['id']}", json={"mode": "walk"}, headers=t.auth)).is_success
    role = f"sillage_u_{t.user_id.hex}"
    async with as_user(app_conn, role):  # as if the last walk came from an earlier model
        await app_conn.execute(
            "UPDATE sections SET model_version = 'heuristic-0' WHERE id = $1", uuid.UUID(last["id"])
        )
    fitted = tmp_path / "calibration.json"
    fitted.write_text(json.dumps({"model_version": classifier.version, "slope": 0.3, "intercept": -0.2}))

    async def shown() -> dict[str, tuple[dict[str, float], float | None, str]]:
        async with as_user(app_conn, role):
            rows = await app_conn.fetch(
                "SELECT id, probabilities::text AS p, uncalibrated, mode FROM sections"
            )
        return {str(r["id"]): (json.loads(r["p"]), r["uncalibrated"], r["mode"]) for r in rows}

    before = await shown()
    done = sillage(test_db, "pipeline", "recalibrate", env={"SILLAGE_CALIBRATION": str(fitted)})
    assert done.returncode == 0, done.stderr
    assert f"shown calibrated for model {classifier.version}" in done.stdout
    # And what it does to the questions: a map less sure than the model asks about more sections.
    shares = r"below ask_below 0.8: ([\d.]+) % .* as their model gave them, ([\d.]+) % as now shown"
    below = re.search(shares, done.stdout)
    assert below is not None, done.stdout
    assert float(below[2]) > float(below[1])
    same = re.search(r"SILLAGE_ASK_BELOW=([\d.]+) would ask", done.stdout)
    assert same is not None
    assert float(same[1]) == pytest.approx(
        float(calibration.confidence(np.asarray([0.8]), 0.3, -0.2)[0]), abs=1e-3
    )
    # Recorded, so that an API process started with it has nothing left to do.
    assert await pipeline_db.shown_calibration(app_conn) == (classifier.version, 0.3, -0.2)
    now = await shown()
    names = list(before[bus["id"]][0])
    raw = np.asarray([[before[bus["id"]][0][n] for n in names]])
    assert [now[bus["id"]][0][n] for n in names] == pytest.approx(
        calibration.calibrate(raw, 0.3, -0.2)[0], abs=2e-4
    )
    assert now[bus["id"]][1] == pytest.approx(raw.max(), abs=1e-4)
    assert now[first["id"]] == before[first["id"]]  # the tester's answer
    assert now[last["id"]] == before[last["id"]]  # another model's: left uncalibrated
    assert {k: v[2] for k, v in now.items()} == {k: v[2] for k, v in before.items()}  # modes stay
    again = sillage(test_db, "pipeline", "recalibrate", env={"SILLAGE_CALIBRATION": str(fitted)})
    assert again.returncode == 0, again.stderr
    twice = await shown()
    assert twice.keys() == now.keys()
    for k, (p, u, _) in twice.items():
        assert p == pytest.approx(now[k][0], abs=1e-4)
        assert (u is None) == (now[k][1] is None)
    back = sillage(test_db, "pipeline", "recalibrate")
    assert back.returncode == 0, back.stderr
    assert "shown as the model gave them (no SILLAGE_CALIBRATION)" in back.stdout
    assert await pipeline_db.shown_calibration(app_conn) is None
    undone = await shown()
    assert undone[bus["id"]][0] == pytest.approx(before[bus["id"]][0], abs=2e-4)
    assert undone[bus["id"]][1] is None


async def test_an_api_process_started_with_another_calibration_maps_the_stored_sections_itself(
    http: httpx.AsyncClient, settings: Settings, invite_code: str, db: Database, app_conn: asyncpg.Connection
) -> None:
    """Installing a calibration and restarting is enough: the API process's pipeline worker maps the
    sections stored before (as `sillage pipeline recalibrate` would) and records it, and a process
    started with the same calibration leaves them be; started without, it takes them back."""
    classifier = HeuristicClassifier()
    t, before = await commuted(http, invite_code, db, DAY + 21 * 86400)
    fitted = ConfidenceCalibration(model_version=classifier.version, slope=0.3, intercept=-0.2)

    async def started_with(fitted: ConfidenceCalibration | None) -> dict[str, Any]:
        # The worker runs no pipeline round in the meantime (one an hour), only the mapping.
        deployment = msgspec.structs.replace(
            settings, calibration=fitted, pipeline_enabled=True, pipeline_poll_s=3600.0
        )
        wanted = None if fitted is None else (fitted.model_version, fitted.slope, fitted.intercept)
        with serve(create_app(deployment, classifier=classifier)) as base:
            await mapped_with(app_conn, wanted, "the stored sections were never mapped")
            async with httpx.AsyncClient(base_url=base) as client:
                health = (await client.get("/health")).json()
        # An operator sees which calibration is installed and that the stored sections show it.
        assert health["calibration"] == (None if fitted is None else fitted.model_version)
        assert health["sections_show_calibration"] is True
        (trip,) = await trips_of(http, t, DAY + 21 * 86400)
        return trip

    assert await pipeline_db.shown_calibration(app_conn) is None
    after_ = await started_with(fitted)
    names = list(before["sections"][0]["probabilities"])
    raw = np.asarray([[s["probabilities"][n] for n in names] for s in before["sections"]])
    shown = np.asarray([[s["probabilities"][n] for n in names] for s in after_["sections"]])
    assert shown == pytest.approx(calibration.calibrate(raw, 0.3, -0.2), abs=2e-4)
    assert [s["mode"] for s in after_["sections"]] == [s["mode"] for s in before["sections"]]
    # Already shown with it: nothing to do, whoever starts next.
    assert await recalibrate_if_changed(app_conn, fitted) is None
    back = await started_with(None)
    undone = np.asarray([[s["probabilities"][n] for n in names] for s in back["sections"]])
    assert undone == pytest.approx(raw, abs=2e-4)


class _FailsFirst(Database):
    """The API's database, unreachable the first time the worker asks for a connection."""

    failed = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        if not self.failed:
            self.failed = True
            raise DatabaseUnavailable("database connection failed: refused (on purpose)")
        async with super().connection() as conn:
            yield conn


async def test_a_pass_that_could_not_reach_the_database_is_tried_again(
    http: httpx.AsyncClient,
    settings: Settings,
    invite_code: str,
    db: Database,
    app_conn: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    classifier = HeuristicClassifier()
    await commuted(http, invite_code, db, DAY + 28 * 86400)
    fitted = ConfidenceCalibration(model_version=classifier.version, slope=0.5, intercept=0.1)
    monkeypatch.setattr(pipeline_module, "RECALIBRATE_RETRY_S", 0.01)
    assert settings.database_url is not None
    flaky = _FailsFirst(settings.database_url, min_size=1, max_size=2)
    worker = PipelineWorker(
        Pipeline(classifier, PipelineParams(poll_interval_s=3600.0)), flaky, calibration=fitted
    )
    with caplog.at_level(logging.INFO, logger="sillage.pipeline"):
        worker.start()
        try:
            await mapped_with(app_conn, (fitted.model_version, 0.5, 0.1), "the pass was never tried again")
        finally:
            await worker.stop()
            await flaky.close()
    assert flaky.failed
    assert "retrying in 0.01 s" in caplog.text
    assert "stored sections mapped again: " in caplog.text
    assert f"shown calibrated for model {fitted.model_version}" in caplog.text
    await recalibrate(app_conn, None)  # as the other tests found it
    assert await pipeline_db.shown_calibration(app_conn) is None
