"""Flattened trees give scikit-learn's probabilities bit for bit, or are not used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.features import features_matrix
from core.segmentation import SegmentationParams, segment
from models.classifier import (
    SMALL_BATCH_ROWS,
    SklearnModeClassifier,
    flatten,
    latest_artifact,
    load_classifier,
)
from models.train import fit_pipeline
from models.trees import FlatTrees, NotFlattenable
from tests.support.tracks import bus, place, stay, track_from, walk
from tests.unit.models.builders import QUICK_FIT, artifact, tiny_synthetic


def shipped() -> SklearnModeClassifier:
    directory = latest_artifact()
    assert directory is not None
    model = load_classifier(directory)
    assert isinstance(model, SklearnModeClassifier)
    return model


def day_features() -> np.ndarray:
    """Features of the sections of a walk-bus-walk day, as the pipeline computes them."""
    track = track_from(
        stay(900.0),
        walk(to=place(300.0, 0.0)),
        stay(120.0),
        bus(to=place(4000.0, 2500.0)),
        walk(to=place(4200.0, 2600.0)),
        stay(900.0),
    )
    seg = segment(track, SegmentationParams())
    bounds = [(s.start, s.end) for t in seg.trips for s in t.sections]
    assert bounds
    return features_matrix(seg.cleaned, bounds)


def test_the_shipped_model_is_served_by_its_flattened_trees() -> None:
    assert shipped().flat is not None


def test_flattened_trees_give_the_shipped_models_probabilities_bit_for_bit() -> None:
    model = shipped()
    assert model.flat is not None
    x = np.vstack([day_features(), model.flat.probe(rows=500, seed=4)])
    np.testing.assert_array_equal(model.predict_proba(x), model.pipeline.predict_proba(x))


def test_a_freshly_trained_model_is_flattened_exactly(tmp_path: Path) -> None:
    artifact(tmp_path)
    model = load_classifier(tmp_path / "1.0.0")
    assert isinstance(model, SklearnModeClassifier)
    assert model.flat is not None
    x = tiny_synthetic(per_mode=3, seed=11).X
    np.testing.assert_array_equal(model.predict_proba(x), model.pipeline.predict_proba(x))


def test_a_two_class_model_is_flattened_exactly() -> None:
    pipeline = fit_pipeline(tiny_synthetic(modes=("walk", "car")), QUICK_FIT)
    flat = flatten(pipeline)
    assert flat is not None
    x = tiny_synthetic(per_mode=3, seed=12, modes=("walk", "car")).X
    np.testing.assert_array_equal(flat.predict_proba(x), pipeline.predict_proba(x))


def test_a_pipeline_with_preprocessing_is_served_by_scikit_learn() -> None:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    fitted: Any = fit_pipeline(tiny_synthetic(), QUICK_FIT)
    data = tiny_synthetic()
    pipeline = Pipeline([("scale", StandardScaler()), ("model", fitted.steps[-1][1])]).fit(data.X, data.y)
    assert flatten(pipeline) is None
    model = SklearnModeClassifier(pipeline=pipeline, card=shipped().card, flat=None)
    np.testing.assert_array_equal(model.predict_proba(data.X), pipeline.predict_proba(data.X))


class ThreadRecorder:
    """Stands in for a pipeline and records the OpenMP threads it was allowed."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        from threadpoolctl import threadpool_info  # type: ignore[import-untyped]

        self.threads = [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "openmp"]
        return np.zeros((x.shape[0], 9))


@pytest.mark.parametrize(("rows", "one_thread"), [(30, True), (SMALL_BATCH_ROWS + 1, False)])
def test_small_batches_run_scikit_learn_on_one_openmp_thread(rows: int, one_thread: bool) -> None:
    recorder = ThreadRecorder()
    model = SklearnModeClassifier(pipeline=recorder, card=shipped().card, flat=None)
    model.predict_proba(np.zeros((rows, 43)))
    assert recorder.threads
    assert all(n == 1 for n in recorder.threads) is one_thread


def test_trees_of_one_model_do_not_match_another() -> None:
    one = fit_pipeline(tiny_synthetic(seed=1), QUICK_FIT)
    other = fit_pipeline(tiny_synthetic(seed=2), QUICK_FIT)
    flat = FlatTrees.of(one.steps[-1][1])
    assert not flat.matches(other, flat.probe())


def test_only_gradient_boosting_classifiers_are_flattened() -> None:
    from sklearn.preprocessing import StandardScaler

    with pytest.raises(NotFlattenable):
        FlatTrees.of(StandardScaler())


def test_rows_with_the_wrong_number_of_features_are_refused() -> None:
    flat = shipped().flat
    assert flat is not None
    with pytest.raises(ValueError, match="features"):
        flat.predict_proba(np.zeros((2, 5)))
