"""The trip-context model: its features (one function for training and serving), the weighing, the
artifact that ships it, and classify's use of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.segmentation import segment
from core.simulate import simulate_days
from models.classifier import CONTEXT_FILE, ArtifactError, latest_artifact, load_classifier, verify_and_load
from models.context import (
    CONTEXT_FEATURE_NAMES,
    CONTEXT_MODES,
    context_features,
    section_labels,
    weigh,
)
from models.heuristic import HeuristicClassifier
from models.sections import classify

CLASSES = ("bike", "bus", "car", "walk", "plane")


def _col(name: str) -> int:
    return CONTEXT_FEATURE_NAMES.index(name)


def test_neighbours_are_the_sections_before_and_after_in_the_same_trip() -> None:
    proba = np.asarray(
        [
            [0.0, 0.0, 0.0, 1.0, 0.0],  # trip 1: walk, bus, walk
            [0.0, 0.9, 0.1, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0, 0.0, 0.0],  # trip 2: car alone
        ]
    )
    x = context_features(proba, CLASSES, [3, 1], np.asarray([300.0, 900.0, 200.0, 1200.0]))
    assert x.shape == (4, len(CONTEXT_FEATURE_NAMES))
    walk, bus = CONTEXT_MODES.index("walk"), CONTEXT_MODES.index("bus")
    prev = slice(_col("prev_walk"), _col("prev_walk") + len(CONTEXT_MODES))
    nxt = slice(_col("next_walk"), _col("next_walk") + len(CONTEXT_MODES))
    # the bus ride is bracketed by walks
    assert x[1, prev][walk] == 1.0
    assert x[1, nxt][walk] == 1.0
    assert x[1, _col("has_prev")] == 1.0
    assert x[1, _col("has_next")] == 1.0
    assert x[1, _col("prev_log_duration_s")] == np.log1p(300.0)
    assert x[0, nxt][bus] == 0.9
    assert x[0, _col("has_prev")] == 0.0
    assert np.isnan(x[0, prev]).all()
    assert np.isnan(x[0, _col("prev_log_duration_s")])
    # the car trip has no neighbour: the previous trip's walk is not one
    assert x[3, _col("has_prev")] == 0.0
    assert x[3, _col("has_next")] == 0.0
    assert np.isnan(x[3, prev]).all()
    assert np.isnan(x[3, nxt]).all()
    assert x[:, _col("trip_sections")].tolist() == [3.0, 3.0, 3.0, 1.0]


def test_a_uniform_context_changes_nothing_and_a_plane_stays_a_plane() -> None:
    proba = np.asarray([[0.2, 0.5, 0.3, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0]])
    q_classes = ("bike", "bus", "car", "walk")
    uniform = np.full((2, 4), 0.25)
    assert np.allclose(weigh(proba, CLASSES, uniform, q_classes), proba)
    bus_likely = np.asarray([[0.1, 0.7, 0.1, 0.1]] * 2)
    out = weigh(proba, CLASSES, bus_likely, q_classes)
    assert out[0].argmax() == CLASSES.index("bus")
    assert out[0, 1] > proba[0, 1]
    assert np.allclose(out[0].sum(), 1.0)
    assert out[1].tolist() == proba[1].tolist()


def test_section_labels_are_the_majority_mode_without_stay_fixes() -> None:
    sim = next(simulate_days(users=1, days=1, seed=3)).sim
    seg = segment(sim.track)
    labels = section_labels(sim.labels, seg)
    assert len(labels) == sum(len(t.sections) for t in seg.trips)
    assert set(labels) <= {leg.mode for leg in sim.legs} | {"stay"}


def test_the_shipped_artifact_carries_its_context_model_and_classify_uses_it() -> None:
    directory = latest_artifact()
    assert directory is not None
    model = verify_and_load(directory)
    assert model.context is not None
    assert model.card.context is not None
    assert model.card.context.feature_names == CONTEXT_FEATURE_NAMES
    sim = next(simulate_days(users=1, days=1, seed=5)).sim
    seg = segment(sim.track)
    served = classify(load_classifier(), seg)
    mode_only = classify(type(model)(pipeline=model.pipeline, card=model.card, flat=model.flat), seg)
    assert served.proba.shape == mode_only.proba.shape
    assert np.allclose(served.proba.sum(axis=1), 1.0)
    x = context_features(
        mode_only.proba,
        mode_only.classes,
        [len(t.sections) for t in mode_only.seg.trips],
        np.asarray(
            [b - a for t in mode_only.seg.trips for a, b in t.section_times(mode_only.seg.cleaned.t_s)]
        ),
    )
    q = model.context.predict_proba(x)
    assert np.allclose(served.proba, weigh(mode_only.proba, mode_only.classes, q, model.context.classes))


def test_an_artifact_whose_context_file_was_changed_is_refused(tmp_path: Path) -> None:
    directory = latest_artifact()
    assert directory is not None
    copy = tmp_path / directory.name
    shutil.copytree(directory, copy)
    (copy / CONTEXT_FILE).write_bytes((copy / CONTEXT_FILE).read_bytes() + b"\0")
    with pytest.raises(ArtifactError, match="context sha256 mismatch"):
        verify_and_load(copy)
    assert isinstance(load_classifier(copy), HeuristicClassifier)
