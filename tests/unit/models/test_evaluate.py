"""Evaluation on labelled data, and the artifact shipped in the repository."""

from __future__ import annotations

import numpy as np

from core.features import FEATURE_NAMES
from core.simulate import simulate_days
from core.track import Track
from models.classifier import SklearnModeClassifier, load_classifier
from models.dataset import Dataset
from models.evaluate import evaluate_classifier, evaluate_end_to_end, evaluate_with_history
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


def twice(user: GeolifeUser, later_s: float = 86400.0) -> GeolifeUser:
    """The same day lived again ``later_s`` later: same places, same modes."""
    tr = user.track
    track = Track(
        t_s=np.concatenate((tr.t_s, tr.t_s + later_s)),
        lat=np.concatenate((tr.lat, tr.lat)),
        lon=np.concatenate((tr.lon, tr.lon)),
        accuracy_m=np.concatenate((tr.accuracy_m, tr.accuracy_m)),
        speed_mps=np.concatenate((tr.speed_mps, tr.speed_mps)),
        activity=np.concatenate((tr.activity, tr.activity)),
    )
    again = tuple(
        LabelInterval(start_s=iv.start_s + later_s, end_s=iv.end_s + later_s, raw_mode=iv.raw_mode)
        for iv in user.labels
    )
    return GeolifeUser(user=user.user, track=track, labels=(*user.labels, *again))


def test_personal_history_uses_only_the_users_earlier_labels() -> None:
    once = evaluate_with_history(HeuristicClassifier(), [simulated_user()])
    repeated = evaluate_with_history(HeuristicClassifier(), [twice(simulated_user())])
    assert repeated["sections"] == 2 * once["sections"]
    # Every section of the second day has its twin the day before; the first day has only itself.
    assert repeated["matched_share"] >= 0.5 > once["matched_share"]
    assert repeated["with_history"]["accuracy"] > repeated["without_history"]["accuracy"]
