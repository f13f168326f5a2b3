"""Consenting testers' confirmed modes become training data; nobody else's do."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from core.fixes import Fix
from ingest.labels import export_labels
from ingest.testers import ConsentChoice, enrol
from models.calibrate import read_answers
from models.dataset import labels_dataset
from store import fixes as fixes_db
from store.partition import as_user
from store.rights import Actor
from store.testers import device

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


async def _tester(
    conn: asyncpg.Connection,
    code: str,
    *purposes: str,
    lat: float,
    mode: str,
    shown: tuple[str, float] | None = None,
) -> str:
    e = await enrol(
        conn, code, [ConsentChoice(purpose=p) for p in ("coaching", *purposes)], device_label="t", now=T0
    )
    row = await device(conn, e.device_id)
    assert row is not None
    fixes = [
        Fix(ts=T0 + timedelta(seconds=10 * i), lat=lat + i * 1e-4, lon=-1.15, accuracy_m=5.0)
        for i in range(30)
    ]
    async with as_user(conn, row.role):
        await fixes_db.insert_fixes(conn, fixes, "test")
        await conn.execute(
            "INSERT INTO labels (started_at, ended_at, mode, shown_mode, shown_probability)"
            " VALUES ($1, $2, $3, $4, $5)",
            T0,
            T0 + timedelta(seconds=290),
            mode,
            *(shown or (None, None)),
        )
    return row.role


async def test_only_testers_consenting_to_research_labels_are_exported(
    app_conn: asyncpg.Connection, invite_code: str, tmp_path: Path
) -> None:
    await _tester(app_conn, invite_code, "research_labels", lat=44.0, mode="bike")
    await _tester(app_conn, invite_code, lat=45.0, mode="bus")  # no research consent
    revoked = await _tester(app_conn, invite_code, "research_labels", lat=43.0, mode="car")
    await app_conn.execute(
        "UPDATE sillage.consents SET revoked_at = now() WHERE purpose = 'research_labels'"
        " AND user_id = (SELECT id FROM sillage.users WHERE role_name = $1)",
        revoked,
    )
    out = io.StringIO()
    done = await export_labels(app_conn, out, actor=Actor.operator("tests"))
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    mine = [r for r in rows if 43.0 <= float(r["lat"]) < 46.0]  # other tests' testers live elsewhere
    assert len(mine) == 30
    assert {r["mode"] for r in mine} == {"bike"}  # not the bus (no consent), not the car (revoked)
    assert all(44.0 <= float(r["lat"]) < 44.01 for r in mine)
    assert done.fixes == len(rows)
    assert all(r["user"].startswith("t") and r["section_id"].startswith("l") for r in rows)
    path = tmp_path / "labels.csv"
    path.write_text(
        "".join(
            [out.getvalue().splitlines(keepends=True)[0]]
            + [line for line in out.getvalue().splitlines(keepends=True)[1:] if ",44.0" in line]
        )
    )
    data = labels_dataset(path, known_modes=("walk", "bike", "bus", "car"))
    assert list(data.y) == ["bike"]


async def test_the_labels_of_a_hidden_trip_are_not_exported(
    app_conn: asyncpg.Connection, invite_code: str
) -> None:
    kept = await _tester(app_conn, invite_code, "research_labels", lat=41.0, mode="bike")
    hidden = await _tester(app_conn, invite_code, "research_labels", lat=42.0, mode="tram")
    async with as_user(app_conn, hidden):  # as POST /v1/me/trips/{id}/hide remembers it
        await app_conn.execute(
            "INSERT INTO hidden_trips (started_at, ended_at) VALUES ($1, $2)",
            T0 - timedelta(minutes=1),
            T0 + timedelta(minutes=10),
        )
    out = io.StringIO()
    await export_labels(app_conn, out, actor=Actor.operator("tests"))
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len([r for r in rows if 41.0 <= float(r["lat"]) < 41.01]) == 30
    assert [r for r in rows if 42.0 <= float(r["lat"]) < 42.01] == []
    assert kept != hidden


async def test_each_label_says_what_its_section_showed_and_training_can_weigh_agreements(
    app_conn: asyncpg.Connection, invite_code: str, tmp_path: Path
) -> None:
    await _tester(app_conn, invite_code, "research_labels", lat=39.0, mode="bus", shown=("bus", 0.5))
    await _tester(app_conn, invite_code, "research_labels", lat=38.0, mode="car", shown=("bus", 0.5))
    out = io.StringIO()
    await export_labels(app_conn, out, actor=Actor.operator("tests"))
    lines = out.getvalue().splitlines(keepends=True)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    agreed = [r for r in rows if 39.0 <= float(r["lat"]) < 39.01]
    corrected = [r for r in rows if 38.0 <= float(r["lat"]) < 38.01]
    assert {(r["mode"], r["shown_mode"], r["shown_probability"]) for r in agreed} == {("bus", "bus", "0.5")}
    assert {(r["mode"], r["shown_mode"]) for r in corrected} == {("car", "bus")}
    path = tmp_path / "labels.csv"
    path.write_text("".join([lines[0], *(line for line in lines[1:] if ",39.0" in line or ",38.0" in line)]))
    data = labels_dataset(path, known_modes=("bus", "car"), weigh_agreements=True)
    assert data.weights is not None
    # One agreement at 0.5 (a = (1 + 5) / 11): it counts 0.5 x 0.4545 / (0.5 x 0.5455) = 0.83.
    assert dict(zip(data.y.tolist(), data.weights.tolist(), strict=True)) == {
        "bus": pytest.approx(5.0 / 6.0),
        "car": 1.0,
    }


async def test_each_label_says_what_the_model_gave_and_why_the_app_asked_for_calibration(
    app_conn: asyncpg.Connection, invite_code: str, tmp_path: Path
) -> None:
    role = await _tester(app_conn, invite_code, "research_labels", lat=37.0, mode="bus")
    async with as_user(app_conn, role):
        await app_conn.execute(
            "UPDATE labels SET shown_mode = 'bus', shown_probability = 0.62, shown_uncalibrated = 0.97,"
            " shown_model_version = '1.4.0', asked = 'audit', audit_share = 0.05"
        )
    out = io.StringIO()
    await export_labels(app_conn, out, actor=Actor.operator("tests"))
    lines = out.getvalue().splitlines(keepends=True)
    mine = [r for r in csv.DictReader(io.StringIO(out.getvalue())) if 37.0 <= float(r["lat"]) < 37.01]
    said = {(r["shown_uncalibrated"], r["shown_model_version"], r["asked"], r["audit_share"]) for r in mine}
    assert said == {("0.97", "1.4.0", "audit", "0.05")}
    path = tmp_path / "labels.csv"
    path.write_text("".join([lines[0], *(line for line in lines[1:] if ",37.0" in line)]))
    answers = read_answers(path, model_version="1.4.0")
    # Fitted on what the model gave; an audit answer stands for the 20 sure sections it was drawn
    # from, times its weight as an agreement (a = (1 + 10 x 0.62) / 11, as the history weighs it).
    assert answers.asked == ["audit"]
    assert answers.uncalibrated == pytest.approx([0.97])
    a = 7.2 / 11
    assert answers.weights == pytest.approx([20.0 * 0.62 * (1 - a) / (0.38 * a)])
