"""Evaluation on labelled data, and the artifact shipped in the repository."""

from __future__ import annotations

import numpy as np

from core.features import FEATURE_NAMES
from models.classifier import SklearnModeClassifier, load_classifier
from models.dataset import Dataset
from models.evaluate import evaluate_classifier, evaluate_end_to_end, evaluate_with_history
from models.heuristic import HeuristicClassifier
from tests.unit.models.builders import simulated_user, twice


def test_the_shipped_artifact_verifies_and_loads() -> None:
    model = load_classifier()
    assert isinstance(model, SklearnModeClassifier)
    assert {"walk", "bike", "bus", "car", "metro", "train"} <= set(model.classes)


def test_classifier_report_scores_geolife_modes_and_reports_others_apart() -> None:
    x = np.vstack([np.full(len(FEATURE_NAMES), 1.0), np.full(len(FEATURE_NAMES), 30.0)])
    data = Dataset(X=x, y=np.asarray(["walk", "plane"]), groups=np.asarray(["u", "u"]))
    report = evaluate_classifier(HeuristicClassifier(), data)
    assert report["open_set"]["n"] == 1
    assert set(report["other_labels_predicted_as"]) == {"plane"}


def test_end_to_end_scores_labelled_time_and_its_coverage() -> None:
    result = evaluate_end_to_end(HeuristicClassifier(), [simulated_user()])
    assert result["available"] is True
    assert 0.0 < result["coverage"] <= 1.0
    assert 0.0 <= result["time_accuracy"] <= 1.0


def test_classifier_report_gives_each_users_figures() -> None:
    x = np.vstack([np.full(len(FEATURE_NAMES), 1.0), np.full(len(FEATURE_NAMES), 30.0)])
    data = Dataset(X=x, y=np.asarray(["walk", "train"]), groups=np.asarray(["u1", "u2"]))
    report = evaluate_classifier(HeuristicClassifier(), data)
    assert set(report["per_user_open_set"]) == {"u1", "u2"}
    assert report["per_user_open_set"]["u1"]["sections"] == 1


class AlwaysCar:
    """A model that answers car whatever the section: whatever it gets right, history brought."""

    classes = ("walk", "bike", "bus", "car")
    version = "always-car"

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.tile([0.0, 0.0, 0.0, 1.0], (len(x), 1))


def test_personal_history_uses_only_the_users_earlier_labels() -> None:
    (once,) = evaluate_with_history(AlwaysCar(), [simulated_user()])
    (repeated,) = evaluate_with_history(AlwaysCar(), [twice(simulated_user())])
    sections = repeated["classifier"]
    assert sections["sections"] == 2 * once["classifier"]["sections"]
    # Every section of the second day has its twin the day before; the first day has only itself.
    assert sections["matched_share"] >= 0.5 > once["classifier"]["matched_share"]
    assert sections["with_history"]["accuracy"] >= sections["without_history"]["accuracy"] + 0.4
    bins = sections["by_earlier_confirmations"]
    assert [b["earlier_confirmations"] for b in bins] == ["0", "1-4", "5-19", "20-99", "100+"]
    assert sum(b["sections"] for b in bins) == sections["sections"]
    assert bins[0]["sections"] > 0  # the first section of all, with nothing before it
    assert bins[0]["accuracy_with_history"] == bins[0]["accuracy_without_history"]
    alone = evaluate_end_to_end(AlwaysCar(), [twice(simulated_user())])
    assert repeated["end_to_end"]["time_accuracy"] > alone["time_accuracy"] + 0.1
    assert once["end_to_end"]["time_accuracy"] < repeated["end_to_end"]["time_accuracy"]


def test_personal_history_with_no_confirmed_trip_is_the_model_alone() -> None:
    (result,) = evaluate_with_history(AlwaysCar(), [twice(simulated_user())], shares=(0.0,))
    assert result["classifier"]["matched_share"] == 0.0
    assert (
        result["classifier"]["with_history"]["accuracy"]
        == result["classifier"]["without_history"]["accuracy"]
    )
    alone = evaluate_end_to_end(AlwaysCar(), [twice(simulated_user())])
    assert result["end_to_end"]["time_accuracy"] == alone["time_accuracy"]
