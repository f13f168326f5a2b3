"""Metrics, labelled-section CSV, user-wise and random cross-validation."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from core.errors import BadRequest
from core.features import FEATURE_NAMES
from models.dataset import Dataset, labels_dataset
from models.evaluate import cross_validate_random, cross_validate_users
from models.metrics import classification_report, reliability
from models.train import fit_pipeline
from tests.unit.models.builders import QUICK_FIT, tiny_synthetic

DATA = Path(__file__).resolve().parents[2] / "data" / "models"


def test_report_scores_only_the_listed_labels_and_counts_other_predictions_as_errors() -> None:
    report = classification_report(
        ["walk", "car", "car", "plane"], ["walk", "car", "tram", "car"], labels=["walk", "car"]
    )
    assert report["n"] == 3
    assert report["accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["per_class"]["car"]["recall"] == 0.5
    assert report["confusion"]["columns_predicted"] == ["walk", "car", "tram"]


def test_macro_f1_ignores_classes_without_support() -> None:
    report = classification_report(["walk", "walk"], ["walk", "walk"], labels=["walk", "train"])
    assert report["macro_f1"] == 1.0


def test_time_weights_weight_the_rows() -> None:
    report = classification_report(
        ["walk", "car"], ["walk", "walk"], labels=["walk", "car"], weights=np.array([30.0, 10.0])
    )
    assert report["accuracy"] == 0.75


def test_reliability_compares_each_bins_confidence_with_its_accuracy() -> None:
    truth = ["car", "car", "bus", "bus", "walk", "plane"]
    pred = ["car", "bus", "bus", "bus", "walk", "car"]
    confidence = np.array([0.45, 0.45, 0.85, 0.95, 1.0, 0.99])
    report = reliability(truth, pred, confidence, labels=["walk", "bus", "car"])
    assert report["n"] == 5  # the plane is not scored
    by_bin = {b["confidence"]: b for b in report["bins"]}
    assert by_bin["0.4-0.5"] == {"confidence": "0.4-0.5", "n": 2, "mean_confidence": 0.45, "accuracy": 0.5}
    assert by_bin["0.8-0.9"]["n"] == 1
    assert by_bin["0.9-1.0"] == {"confidence": "0.9-1.0", "n": 2, "mean_confidence": 0.975, "accuracy": 1.0}
    assert by_bin["0.0-0.4"] == {"confidence": "0.0-0.4", "n": 0, "mean_confidence": None, "accuracy": None}
    # (2 x 0.05 + 1 x 0.15 + 2 x 0.025) / 5
    assert report["ece"] == pytest.approx(0.06, abs=1e-4)


def test_labelled_sections_csv_gives_one_row_per_section() -> None:
    data = labels_dataset(DATA / "labels.csv", known_modes=("walk", "car"))
    assert data.y.tolist() == ["walk", "car"]
    assert data.groups.tolist() == ["labels-u1", "labels-u1"]


def test_labelled_sections_with_an_unknown_mode_are_refused() -> None:
    with pytest.raises(BadRequest, match="unknown mode"):
        labels_dataset(DATA / "labels.csv", known_modes=("walk",))


def test_user_cross_validation_never_tests_on_a_training_user() -> None:
    parts = []
    for user in range(4):
        d = tiny_synthetic(per_mode=4, seed=user, modes=("walk", "bike", "car"))
        parts.append(Dataset(X=d.X, y=d.y, groups=np.full(len(d), f"u{user}")))
    result = cross_validate_users(Dataset.concat(parts), folds=4, fit=QUICK_FIT)
    tested = [u for fold in result["per_fold"] for u in fold["test_users"]]
    assert sorted(tested) == ["u0", "u1", "u2", "u3"]
    assert result["pooled"]["n"] == 48


def test_user_cross_validation_scores_walk_only_where_it_is_labelled() -> None:
    parts = []
    for user in range(4):
        modes = ("walk", "bike", "car") if user == 0 else ("bike", "car")
        d = tiny_synthetic(per_mode=4, seed=user, modes=modes)
        parts.append(Dataset(X=d.X, y=d.y, groups=np.full(len(d), f"u{user}")))
    result = cross_validate_users(Dataset.concat(parts), folds=4, fit=QUICK_FIT)
    assert result["walk_users"] == ["u0"]
    assert result["pooled"]["per_class"]["walk"]["support"] == 4
    walk_fold = next(f for f in result["per_fold"] if f["test_users"] == ["u0"])
    assert walk_fold["train_walk_sections"] == 0
    assert result["pooled_macro_f1_without_walk"] is not None


def test_user_cross_validation_can_teach_walk_from_extra_training_sections() -> None:
    parts = []
    for user in range(3):
        modes = ("walk", "bike", "car") if user == 0 else ("bike", "car")
        d = tiny_synthetic(per_mode=4, seed=user, modes=modes)
        parts.append(Dataset(X=d.X, y=d.y, groups=np.full(len(d), f"u{user}")))
    extra = tiny_synthetic(per_mode=5, seed=9, modes=("walk",))
    result = cross_validate_users(Dataset.concat(parts), folds=3, fit=QUICK_FIT, extra_training=extra)
    assert all(f["train_walk_sections"] >= 5 for f in result["per_fold"])


def test_random_cross_validation_tests_every_section_once_with_users_on_both_sides() -> None:
    parts = []
    for user in range(2):
        d = tiny_synthetic(per_mode=6, seed=user, modes=("walk", "car", "train", "metro"))
        parts.append(Dataset(X=d.X, y=d.y, groups=np.full(len(d), f"u{user}")))
    result = cross_validate_random(Dataset.concat(parts), folds=3, seed=1, fit=QUICK_FIT)
    assert result["pooled"]["n"] == 48
    assert sum(f["sections"] for f in result["per_fold"]) == 48
    assert all(f["test_users"] == ["u0", "u1"] for f in result["per_fold"])  # users on both sides
    assert "predictions" not in result
    five = result["five_modes_as_published"]
    assert "metro" not in five["f1"]  # counted as train, as published
    assert set(five["f1"]) == {"walk", "bike", "bus", "car", "train"}
    assert five["accuracy"] >= result["pooled"]["accuracy"]  # merging two classes only removes errors


def test_user_cross_validation_does_not_print_its_predictions() -> None:
    parts = []
    for user in range(3):
        d = tiny_synthetic(per_mode=3, seed=user, modes=("bike", "car"))
        parts.append(Dataset(X=d.X, y=d.y, groups=np.full(len(d), f"u{user}")))
    assert "predictions" not in cross_validate_users(Dataset.concat(parts), folds=3, fit=QUICK_FIT)


def test_a_feature_no_training_section_has_does_not_stop_training() -> None:
    data = tiny_synthetic(seed=1)
    column = FEATURE_NAMES.index("gap_speed_mps")
    x = data.X.copy()
    x[:, column] = np.nan  # no section crossed a signal gap
    pipeline = fit_pipeline(Dataset(X=x, y=data.y, groups=data.groups), QUICK_FIT)
    with_gap = x[:3].copy()
    with_gap[:, column] = 12.0
    assert np.array_equal(pipeline.predict_proba(x[:3]), pipeline.predict_proba(with_gap))


def test_labelled_sections_of_modes_the_model_does_not_learn_can_be_left_out_and_counted() -> None:
    skipped: Counter[str] = Counter()
    data = labels_dataset(DATA / "labels.csv", known_modes=("walk",), skipped=skipped)
    assert data.y.tolist() == ["walk"]
    assert skipped == Counter({"car": 1})


def _answers_csv(path: Path, answers: list[tuple[str, str, str, str]]) -> Path:
    """A labels file of one tester, one section of three fixes per answer ``(user, mode,
    shown_mode, shown_probability)``, an hour apart."""
    lines = ["section_id,user,ts,lat,lon,mode,shown_mode,shown_probability"]
    for k, (user, mode, shown, p) in enumerate(answers):
        for i in range(3):
            ts = f"2026-05-04T{k // 6:02d}:{(k % 6) * 10 + i:02d}:00+00:00"
            lines.append(f"l{k},{user},{ts},{46.0 + i * 1e-3},-1.15,{mode},{shown},{p}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_labelled_sections_that_only_agreed_with_the_mode_shown_weigh_as_the_history_weighs_them(
    tmp_path: Path,
) -> None:
    blind = [("u1", "bus", "bus", "0.6")] * 20  # agreed with everything
    attentive = [("u2", "bus", "bus", "0.6")] * 3 + [("u2", "car", "bus", "0.6")] * 2
    unknown = [("u3", "bike", "", "")]  # exported before the shown mode was kept
    path = _answers_csv(tmp_path / "l.csv", blind + attentive + unknown)
    assert labels_dataset(path, known_modes=("bus", "car", "bike")).weights is None  # in full unless asked
    data = labels_dataset(path, known_modes=("bus", "car", "bike"), weigh_agreements=True)
    assert data.weights is not None
    by_user = {g: data.weights[data.groups == g] for g in np.unique(data.groups)}
    assert np.all(by_user["labels-u1"] < 0.3)
    np.testing.assert_allclose(by_user["labels-u2"], 1.0)
    np.testing.assert_allclose(by_user["labels-u3"], 1.0)
    # They carry through subsets and into training alongside rows without weights.
    both = Dataset.concat([data, tiny_synthetic(seed=1)])
    assert both.weights is not None
    np.testing.assert_allclose(both.weights[len(data) :], 1.0)
    np.testing.assert_array_equal(both.subset(both.groups == "labels-u1").weights, by_user["labels-u1"])


def test_a_labelled_section_with_a_shown_probability_out_of_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="between 0 and 1"):
        labels_dataset(_answers_csv(tmp_path / "l.csv", [("u1", "bus", "bus", "1.5")]), known_modes=("bus",))
    with pytest.raises(BadRequest, match="not a number"):
        labels_dataset(_answers_csv(tmp_path / "l.csv", [("u1", "bus", "bus", "x")]), known_modes=("bus",))


def test_row_weights_change_what_is_learned() -> None:
    data = tiny_synthetic(seed=1)
    light = np.where(data.y == data.y[0], 1e-3, 1.0)
    plain = fit_pipeline(data, QUICK_FIT).predict_proba(data.X[:5])
    weighed = fit_pipeline(Dataset(X=data.X, y=data.y, groups=data.groups, weights=light), QUICK_FIT)
    assert not np.allclose(plain, weighed.predict_proba(data.X[:5]))
