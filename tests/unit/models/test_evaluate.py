"""Evaluation on labelled data, and the artifact shipped in the repository."""

from __future__ import annotations

import numpy as np

from core.features import FEATURE_NAMES
from core.simulate import simulate_days
from models.classifier import SklearnModeClassifier, load_classifier
from models.dataset import Dataset
from models.evaluate import evaluate_classifier, evaluate_end_to_end
from models.geolife import GeolifeUser, LabelInterval
from models.heuristic import HeuristicClassifier


def simulated_user() -> GeolifeUser:
    """A simulated day seen as a GeoLife user: one labelled interval per leg."""
    sim = next(simulate_days(users=1, days=1, seed=11)).sim
    t = sim.track.t_s
    labels = tuple(
        LabelInterval(start_s=float(t[leg.start]), end_s=float(t[leg.end - 1]), raw_mode=leg.mode)
        for leg in sim.legs
    )
    return GeolifeUser(user="sim", track=sim.track, labels=labels)


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
