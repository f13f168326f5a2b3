"""Loading artifacts: verified skops models load; anything doubtful falls back to the heuristic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.features import FEATURE_NAMES
from models.classifier import SklearnModeClassifier, latest_artifact, load_classifier
from models.heuristic import HeuristicClassifier
from tests.unit.models.builders import artifact, tiny_synthetic


def test_a_verified_artifact_loads_with_its_card_classes(tmp_path: Path) -> None:
    card = artifact(tmp_path)
    model = load_classifier(tmp_path / "1.0.0")
    assert isinstance(model, SklearnModeClassifier)
    assert model.classes == card.classes == ("bike", "car", "walk")
    proba = model.predict_proba(tiny_synthetic(per_mode=2, seed=9).X)
    assert proba.shape == (6, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_the_highest_version_is_the_latest(tmp_path: Path) -> None:
    artifact(tmp_path, version="1.2.0")
    artifact(tmp_path, version="1.10.0")
    assert latest_artifact(tmp_path) == tmp_path / "1.10.0"


def test_a_tampered_model_file_falls_back_to_the_heuristic(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    artifact(tmp_path)
    with (tmp_path / "1.0.0" / "model.skops").open("ab") as fh:
        fh.write(b"\0")
    assert isinstance(load_classifier(tmp_path / "1.0.0"), HeuristicClassifier)
    assert "sha256 mismatch" in caplog.text


def test_a_card_with_other_feature_names_falls_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    artifact(tmp_path)
    card_path = tmp_path / "1.0.0" / "card.json"
    card = json.loads(card_path.read_text())
    card["feature_names"] = list(reversed(FEATURE_NAMES))
    card_path.write_text(json.dumps(card))
    assert isinstance(load_classifier(tmp_path / "1.0.0"), HeuristicClassifier)
    assert "feature names" in caplog.text


def test_another_scikit_learn_minor_version_falls_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    artifact(tmp_path)
    card_path = tmp_path / "1.0.0" / "card.json"
    card = json.loads(card_path.read_text())
    card["sklearn_version"] = "0.1.0"
    card_path.write_text(json.dumps(card))
    assert isinstance(load_classifier(tmp_path / "1.0.0"), HeuristicClassifier)
    assert "scikit-learn" in caplog.text


def test_a_missing_artifact_falls_back(tmp_path: Path) -> None:
    assert isinstance(load_classifier(tmp_path / "nothing"), HeuristicClassifier)


def test_the_card_records_the_training_matrix_hash(tmp_path: Path) -> None:
    card = artifact(tmp_path)
    assert card.training_data.matrix_sha256 == tiny_synthetic().sha256()
    assert card.feature_names == FEATURE_NAMES
