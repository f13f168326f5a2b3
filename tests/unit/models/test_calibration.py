"""Calibrating the probability shown: the map and its fit (core.calibration), the audit draw
(core.history.audited) and the GeoLife-style evaluation (models.evaluate.evaluate_calibration)."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from core.calibration import ConfidenceCalibration, calibrate, confidence, finite, fit, uncalibrated
from core.history import audited
from models.dataset import Dataset
from models.evaluate import CALIBRATION_VARIANTS, evaluate_calibration
from models.heuristic import HeuristicClassifier
from tests.unit.models.builders import answers_like


def test_the_fit_finds_the_map_that_made_the_answers() -> None:
    shown, right = answers_like(np.random.default_rng(0), 20_000, 0.4, -0.3)
    slope, intercept = fit(shown, right)
    assert slope == pytest.approx(0.4, abs=0.03)
    assert intercept == pytest.approx(-0.3, abs=0.05)


def test_without_answers_the_map_is_the_identity_and_a_few_move_it_little() -> None:
    assert fit(np.empty(0), np.empty(0, dtype=np.bool_)) == pytest.approx((1.0, 0.0))
    # Five answers all wrong at 0.9: a model they say is badly overconfident, held by the prior.
    slope, intercept = fit(np.full(5, 0.9), np.zeros(5, dtype=np.bool_))
    assert 0.3 < float(confidence(np.array([0.9]), slope, intercept)[0]) < 0.9
    many = fit(np.full(500, 0.9), np.zeros(500, dtype=np.bool_))
    assert float(confidence(np.array([0.9]), *many)[0]) < 0.05


def test_a_weight_counts_as_that_many_answers() -> None:
    shown, right = answers_like(np.random.default_rng(1), 300, 0.5, 0.0)
    doubled = fit(np.concatenate([shown, shown[:100]]), np.concatenate([right, right[:100]]))
    weights = np.ones(300)
    weights[:100] = 2.0
    assert fit(shown, right, weights) == pytest.approx(doubled, abs=1e-8)
    with pytest.raises(ValueError, match="one value per answer"):
        fit(shown, right[:10])


def test_calibrating_maps_the_shown_mode_keeps_it_shown_and_leaves_certainties() -> None:
    proba = np.array(
        [
            [0.9, 0.06, 0.04],  # sure: brought down, the others keep their proportions
            [0.5, 0.45, 0.05],  # a close call: the map would put bus ahead, it stops level
            [0.0, 1.0, 0.0],  # a rule's plane, a tester's answer: certain, left alone
            [0.2, 0.3, 0.5],  # unsure: brought up by a positive intercept? no: down by this map
        ]
    )
    out = calibrate(proba, 0.3, -0.5)
    assert out.sum(axis=1) == pytest.approx(np.ones(4))
    assert (np.argmax(out, axis=1) == np.argmax(proba, axis=1)).all()
    assert out[0, 0] == pytest.approx(float(confidence(np.array([0.9]), 0.3, -0.5)[0]))
    assert out[0, 1] / out[0, 2] == pytest.approx(0.06 / 0.04)
    assert out[1, 0] == pytest.approx(out[1, 1], abs=1e-9)
    assert out[1, 0] > out[1, 1]
    assert out[2] == pytest.approx(proba[2])
    assert out[3, 2] < 0.5
    assert calibrate(proba, 1.0, 0.0) == pytest.approx(proba)
    assert calibrate(np.empty((0, 3)), 0.3, 0.0).shape == (0, 3)


def test_a_usable_calibration_is_finite_and_increasing() -> None:
    def of(slope: float, intercept: float = 0.0) -> ConfidenceCalibration:
        return ConfidenceCalibration(model_version="1", slope=slope, intercept=intercept)

    assert finite(of(0.3))
    assert not finite(of(0.0))
    assert not finite(of(-0.5))
    assert not finite(of(float("nan")))
    assert not finite(of(0.3, float("inf")))


def test_the_audit_draws_about_its_share_and_keeps_a_section_in_or_out() -> None:
    ids = [uuid.uuid4() for _ in range(20_000)]
    assert not any(audited(i, 0.0) for i in ids)
    assert all(audited(i, 1.0) for i in ids)
    assert np.mean([audited(i, 0.05) for i in ids]) == pytest.approx(0.05, abs=0.006)
    drawn = [i for i in ids if audited(i, 0.05)]
    assert all(audited(i, 0.2) for i in drawn)  # a larger share keeps those drawn


def test_the_evaluation_fits_on_other_users_and_scores_the_held_out_ones() -> None:
    """Three made-up users whose sections the heuristic finds sure and gets half wrong: a fit on
    the others brings the figure down toward how often it is right."""
    rng = np.random.default_rng(2)
    from core.features import features_matrix
    from core.simulate.days import simulate_leg_track

    rows, labels, groups = [], [], []
    for user in ("a", "b", "c"):
        for k in range(40):
            mode = ("walk", "bike", "car", "bus")[k % 4]
            track = simulate_leg_track(mode, rng).track
            rows.append(features_matrix(track, [(0, len(track))])[0])
            labels.append(mode)
            groups.append(user)
    data = Dataset(X=np.vstack(rows), y=np.asarray(labels), groups=np.asarray(groups))
    report = evaluate_calibration(HeuristicClassifier(), data, folds=3)
    assert report["folds"] == 3
    for variant in CALIBRATION_VARIANTS:
        assert len(report[variant]["maps"]) == 3
        assert report[variant]["n"] == report["before"]["n"] == 120
    assert report["fitted_on_every_section"]["ece"] <= report["before"]["ece"]


def test_what_a_section_showed_before_calibration_is_recovered_from_what_it_shows() -> None:
    raw = np.array([[0.9, 0.06, 0.04], [0.5, 0.45, 0.05], [0.2, 0.3, 0.5], [0.0, 1.0, 0.0]])
    shown = calibrate(raw, 0.3, -0.5)
    back = uncalibrated(shown, raw.max(axis=1))
    # The close call was held level with the next mode, so its others were scaled as a whole.
    assert back == pytest.approx(raw, abs=1e-9)
    never = uncalibrated(raw, np.full(4, np.nan))  # rows never calibrated are what the model gave
    assert never == pytest.approx(raw)
