"""The ``simulate`` and ``models train`` commands as an operator runs them."""

from __future__ import annotations

import argparse
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import BadRequest, ConfigurationError
from core.simulate.days import simulate_leg_track
from ingest.labels import COLUMNS as LABEL_COLUMNS
from models.cli import ARTIFACTS_ROOT, register
from models.geolife import GeolifeUser
from tests.unit.models.builders import simulated_user, twice


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sillage")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args, None)
    return code


def test_simulate_writes_one_csv_per_user(tmp_path: Path) -> None:
    assert (
        run(["simulate", "--users", "2", "--days", "1", "--seed", "1", "--out", str(tmp_path / "sim.csv")])
        == 0
    )
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["sim-user0.csv", "sim-user1.csv"]
    assert (tmp_path / "sim-user0.csv").read_text().startswith("ts,lat,lon,accuracy_m,speed_mps,mode\n")


def test_simulate_writes_gpx_from_the_suffix(tmp_path: Path) -> None:
    assert run(["simulate", "--out", str(tmp_path / "day.gpx")]) == 0
    assert (tmp_path / "day.gpx").read_text().startswith("<?xml")


def test_train_writes_a_model_and_its_card(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "0.0.1"
    assert run(["models", "train", "--synthetic", "12", "--out", str(out)]) == 0
    card: dict[str, Any] = json.loads((out / "card.json").read_text())
    assert card["version"] == "0.0.1"
    assert "held_out_synthetic" in card["metrics"]
    assert json.loads(capsys.readouterr().out)["artifact"] == str(out)


def test_train_can_weigh_labels_that_only_agreed_with_the_mode_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for agreed in (False, True):
        out = tmp_path / f"agreed-{agreed}"
        labels = labels_csv(tmp_path / "labels.csv", t1_agreed=agreed)
        weigh = ["--weigh-agreements"] if agreed else []
        assert (
            run(["models", "train", "--synthetic", "12", "--labels", str(labels), *weigh, "--out", str(out)])
            == 0
        )
        card: dict[str, Any] = json.loads((out / "card.json").read_text())
        said = capsys.readouterr().err
        # t1's five answers all agreed at 0.5: a = (5 + 5) / 15, each counts 0.5.
        assert ("weighed by attention" in json.dumps(card)) == agreed
        assert ("3 labelled sections only agreed with the mode shown" in said) == agreed
        assert ("weigh 0.50 on average" in said) == agreed


def test_train_refuses_to_put_a_geolife_model_among_the_shipped_artifacts(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GeoLife"):
        run(
            [
                "models",
                "train",
                "--geolife",
                str(tmp_path / "g.zip"),
                "--out",
                str(ARTIFACTS_ROOT / "mode" / "x"),
            ]
        )


def test_evaluate_refuses_unknown_synthetic_cv_modes(tmp_path: Path) -> None:
    empty = tmp_path / "geolife"
    (empty / "Data").mkdir(parents=True)
    with pytest.raises(BadRequest, match="unknown modes"):
        run(
            [
                "models",
                "evaluate",
                "--geolife",
                str(empty),
                "--skip-end-to-end",
                "--cv-users",
                "2",
                "--cv-synthetic",
                "3",
                "--cv-synthetic-modes",
                "walk,hovercraft",
            ]
        )


def test_evaluate_refuses_a_folder_without_labelled_sections(tmp_path: Path) -> None:
    empty = tmp_path / "geolife"
    (empty / "Data").mkdir(parents=True)
    with pytest.raises(BadRequest, match="no labelled GeoLife section"):
        run(["models", "evaluate", "--geolife", str(empty), "--skip-end-to-end"])


def geolife_zip(path: Path, user: GeolifeUser) -> Path:
    """``user`` written in GeoLife's own format: one .plt of fixes and a labels.txt."""
    header = (
        "Geolife trajectory\nWGS 84\nAltitude is in Feet\nReserved 3\n0,2,255,My Track,0,0,2,8421376\n0\n"
    )
    tr = user.track
    rows = [
        f"{lat:.6f},{lon:.6f},0,0,{t / 86400.0 + 25569.0:.10f},"
        + datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d,%H:%M:%S")
        for t, lat, lon in zip(tr.t_s, tr.lat, tr.lon, strict=True)
    ]
    labels = ["Start Time\tEnd Time\tTransportation Mode"] + [
        f"{datetime.fromtimestamp(iv.start_s, UTC):%Y/%m/%d %H:%M:%S}\t"
        f"{datetime.fromtimestamp(iv.end_s, UTC):%Y/%m/%d %H:%M:%S}\t{iv.raw_mode}"
        for iv in user.labels
    ]
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Data/042/Trajectory/day.plt", header + "\n".join(rows) + "\n")
        zf.writestr("Data/042/labels.txt", "\n".join(labels) + "\n")
    return path


def test_evaluate_prints_the_classifier_end_to_end_and_personal_history_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = geolife_zip(tmp_path / "city.zip", twice(simulated_user()))
    assert run(["models", "evaluate", "--geolife", str(data)]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert result["classifier"]["open_set"]["n"] > 10
    assert result["calibration"]["available"] is False  # one user: nobody to hold out
    assert 0.0 < result["end_to_end"]["coverage"] <= 1.0
    every = result["personal_history"]["every_trip_confirmed"]
    assert every["classifier"]["sections"] == result["classifier"]["open_set"]["n"]
    assert every["classifier"]["matched_share"] >= 0.5  # the second day repeats the first
    some = result["personal_history"]["one_trip_in_four_confirmed"]
    assert some["classifier"]["matched_share"] < every["classifier"]["matched_share"]


def test_evaluate_scores_traces_thinned_to_a_sparser_tracker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = geolife_zip(tmp_path / "city.zip", simulated_user())
    assert run(["models", "evaluate", "--geolife", str(data), "--skip-end-to-end"]) == 0
    dense: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert run(["models", "evaluate", "--geolife", str(data), "--skip-end-to-end", "--every", "60"]) == 0
    sparse: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert (dense["every_s"], sparse["every_s"]) == (None, 60.0)
    assert sparse["classifier"]["open_set"]["n"] > 0
    assert sparse["classifier"]["open_set"] != dense["classifier"]["open_set"]  # other fixes, other scores
    with pytest.raises(BadRequest, match="--every"):
        run(["models", "evaluate", "--geolife", str(data), "--skip-end-to-end", "--every", "0"])


def labels_csv(path: Path, *, t1_agreed: bool = False) -> Path:
    """A labels export (``sillage labels export``'s columns): simulated legs of three modes for two
    testers, out of time order, one ferry crossing and one section of a mode Sillage does not know;
    with ``t1_agreed``, every answer of ``t1`` agreed with the mode shown, at 0.5."""
    rng = np.random.default_rng(3)
    lines = [",".join(LABEL_COLUMNS)]
    legs = [("t2", m) for m in ("bike", "car", "walk")] + [
        ("t1", m) for m in ("walk", "car", "bike", "ferry")
    ]
    legs.append(("t1", "hoverboard"))
    for k, (tester, mode) in enumerate(legs):
        track = simulate_leg_track("bus" if mode in ("ferry", "hoverboard") else mode, rng).track
        start = datetime(2026, 10, 1, 8, tzinfo=UTC).timestamp() + 3600.0 * (len(legs) - k)
        for t, lat, lon in zip(track.t_s - track.t_s[0] + start, track.lat, track.lon, strict=True):
            ts = datetime.fromtimestamp(t, UTC).isoformat()
            shown = f"{mode},0.5" if t1_agreed and tester == "t1" else ","
            lines.append(f"l{k},{tester},{ts},{lat:.6f},{lon:.6f},,,,{mode},{shown}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_evaluate_scores_the_model_on_sections_testers_confirmed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["models", "evaluate", "--labels", str(labels_csv(tmp_path / "labels.csv"))]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert (result["sections"], result["testers"]) == (7, 2)
    assert result["scored_modes"] == ["walk", "bike", "car"]
    assert result["skipped_unknown_modes"] == {"hoverboard": 1}
    classifier = result["classifier"]
    assert classifier["open_set"]["n"] == 6
    assert set(classifier["per_user_open_set"]) == {"labels-t1", "labels-t2"}
    assert sum(classifier["other_labels_predicted_as"]["ferry"].values()) == 1
    with pytest.raises(SystemExit):  # one source of sections, not both
        run(["models", "evaluate", "--labels", "a.csv", "--geolife", "b.zip"])
