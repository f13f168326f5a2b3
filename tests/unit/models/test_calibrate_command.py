"""A deployment's calibration: the settings that read it, the answers a labels export holds and
``sillage models calibrate``."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.calibration import ConfidenceCalibration
from core.errors import BadRequest, ConfigurationError
from core.settings import load_settings
from ingest.labels import COLUMNS
from models.calibrate import calibration_report, read_answers
from models.cli import register
from tests.unit.models.builders import answers_like


def test_settings_read_a_calibration_file_and_refuse_a_broken_one(tmp_path: Path) -> None:
    good = tmp_path / "calibration.json"
    good.write_text(json.dumps({"model_version": "1.4.0", "slope": 0.4, "intercept": -0.2, "answers": 300}))
    loaded = load_settings({"SILLAGE_CALIBRATION": str(good)}).calibration
    assert loaded == ConfidenceCalibration(model_version="1.4.0", slope=0.4, intercept=-0.2, answers=300)
    assert load_settings({}).calibration is None
    assert load_settings({}).audit_share == 0.05
    assert load_settings({"SILLAGE_AUDIT_SHARE": "0"}).audit_share == 0.0

    cases = {
        "missing.json": (None, "cannot read"),
        "text.json": ("not json", "is not JSON"),
        "shape.json": ('{"slope": 0.4}', "is not a calibration"),
        "down.json": ('{"model_version": "1", "slope": -1, "intercept": 0}', "increasing"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        with pytest.raises(ConfigurationError, match=message):
            load_settings({"SILLAGE_CALIBRATION": str(path)})
    with pytest.raises(ConfigurationError, match="SILLAGE_AUDIT_SHARE must be a number"):
        load_settings({"SILLAGE_AUDIT_SHARE": "1.5"})


def _answer(
    section: str, tester: str, mode: str, shown: tuple[str, float, float] | None, **extra: str
) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        section_id=section, user=tester, ts="2026-10-01T08:00:00+00:00", lat="46.1", lon="-1.1", mode=mode
    )
    if shown is not None:
        row.update(
            shown_mode=shown[0],
            shown_probability=repr(shown[1]),
            shown_uncalibrated=repr(shown[2]),
            shown_model_version="1.4.0",
            asked="unsure",
        )
    row.update(extra)
    return row


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_answers_are_those_the_app_asked_about_that_model_weighed_by_why(tmp_path: Path) -> None:
    rows = [
        _answer("l1", "t1", "bus", ("bus", 0.6, 0.7)),
        _answer("l2", "t1", "car", ("bus", 0.5, 0.55)),
        _answer("l3", "t2", "walk", ("walk", 0.8, 0.97), asked="audit", audit_share="0.05"),
        _answer("l4", "t2", "car", ("bus", 0.9, 0.99), asked=""),  # a correction nobody asked for
        _answer("l5", "t2", "bus", ("bus", 0.6, 0.7), shown_model_version="1.3.0"),
        _answer("l6", "t2", "bus", None),  # the section showed the tester's own answer
    ]
    answers = read_answers(_write(tmp_path / "labels.csv", rows), model_version="1.4.0")
    assert answers.modes == ["bus", "car", "walk"]
    assert answers.uncalibrated == [0.7, 0.55, 0.97]  # what the model gave, not what was shown
    assert answers.asked == ["unsure", "unsure", "audit"]
    assert answers.weights[2] == pytest.approx(20.0 * answers.weights[2] / 20.0)
    assert answers.weights[2] >= 10.0  # an audit answer stands for the sure sections not drawn
    assert answers.skipped == {"model 1.3.0": 1, "no shown mode": 1, "not asked": 1}
    broken = _write(tmp_path / "broken.csv", [_answer("l1", "t1", "bus", ("bus", 0.9, 0.9), asked="audit")])
    with pytest.raises(BadRequest, match="audit_share"):
        read_answers(broken, model_version="1.4.0")
    old = tmp_path / "old.csv"
    old.write_text("section_id,ts,lat,lon,mode,shown_mode,shown_probability\n")
    with pytest.raises(BadRequest, match="missing columns"):
        read_answers(old, model_version="1.4.0")


def test_a_fit_on_overconfident_answers_brings_the_figure_down_and_holds_on_testers_left_out(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(5)
    rows = []
    for k in range(600):
        shown, right = answers_like(rng, 1, 0.35, -0.2)
        p = float(shown[0])
        mode = "bus" if right[0] else "car"
        rows.append(_answer(f"l{k}", f"t{k % 6}", mode, ("bus", p, p)))
    answers = read_answers(_write(tmp_path / "labels.csv", rows), model_version="1.4.0")
    fitted, report = calibration_report(answers, "1.4.0")
    assert (fitted.answers, fitted.testers) == (600, 6)
    assert fitted.slope == pytest.approx(0.35, abs=0.15)
    assert report["in_sample"]["after"]["ece"] < report["in_sample"]["before"]["ece"] / 2
    assert report["held_out"]["folds"] == 5
    assert report["held_out"]["after"]["ece"] < report["held_out"]["before"]["ece"] / 2
    assert report["enough"] is True
    one = read_answers(_write(tmp_path / "one.csv", rows[:6:6]), model_version="1.4.0")
    alone = calibration_report(one, "1.4.0")[1]
    assert alone["held_out"]["available"] is False
    assert alone["enough"] is False
    with pytest.raises(BadRequest, match=r"no answer about a section model 2\.0\.0"):
        calibration_report(read_answers(tmp_path / "labels.csv", model_version="2.0.0"), "2.0.0")
    # Per mode shown: a train the model shows sure of itself and gets wrong every time stands out.
    trains = [_answer(f"r{k}", f"t{k % 6}", "metro", ("train", 0.9, 0.9)) for k in range(30)]
    both = read_answers(_write(tmp_path / "trains.csv", rows + trains), model_version="1.4.0")
    by_mode = calibration_report(both, "1.4.0")[1]["by_shown_mode"]
    train, bus = by_mode["train"], by_mode["bus"]
    assert (train["answers"], train["mean_shown_before"], train["right_share"]) == (30, 0.9, 0.0)
    assert train["mean_shown_after"] < 0.9
    assert bus["answers"] == 600
    before, after = (abs(bus[k] - bus["right_share"]) for k in ("mean_shown_before", "mean_shown_after"))
    assert after < before


def test_the_command_writes_the_calibration_the_settings_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(6)
    rows = []
    for k in range(200):
        shown, right = answers_like(rng, 1, 0.4, 0.0)
        p = float(shown[0])
        rows.append(_answer(f"l{k}", f"t{k % 3}", "bus" if right[0] else "tram", ("bus", p, p)))
    out = tmp_path / "calibration.json"
    parser = argparse.ArgumentParser(prog="sillage")
    register(parser.add_subparsers(dest="command", required=True))

    def calibrate(rows: list[dict[str, str]]) -> tuple[dict[str, Any], str]:
        labels = _write(tmp_path / "labels.csv", rows)
        argv = ["models", "calibrate", "--labels", str(labels), "--model-version", "1.4.0", "--out", str(out)]
        args = parser.parse_args(argv)
        assert args.func(args, None) == 0
        said = capsys.readouterr()
        return json.loads(said.out), said.err

    few, warned = calibrate(rows[:20])
    assert few["enough"] is False
    assert "warning: 20 answers from 3 testers: too few to trust the fit" in warned
    report, warned = calibrate(rows)
    assert "warning" not in warned
    served = load_settings({"SILLAGE_CALIBRATION": str(out)}).calibration
    assert served is not None
    assert (served.model_version, served.slope, served.intercept) == (
        "1.4.0",
        report["slope"],
        report["intercept"],
    )
    assert served.answers == report["answers"] == 200
