"""The ``simulate`` and ``models train`` commands as an operator runs them."""

from __future__ import annotations

import argparse
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.errors import BadRequest, ConfigurationError
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
