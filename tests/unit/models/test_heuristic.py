"""The heuristic fallback: speed bands, soft probabilities, activity blended in when sent."""

from __future__ import annotations

import numpy as np

from core.features import FEATURE_NAMES
from models.heuristic import HeuristicClassifier


def row(**values: float) -> np.ndarray:
    out = np.full(len(FEATURE_NAMES), np.nan)
    out[FEATURE_NAMES.index("activity_known_share")] = 0.0
    for name, value in values.items():
        out[FEATURE_NAMES.index(name)] = value
    return out


def top(model: HeuristicClassifier, x: np.ndarray) -> str:
    return model.classes[int(np.argmax(model.predict_proba(x[None, :])[0]))]


def test_walking_speed_is_walk_and_train_speed_is_train() -> None:
    model = HeuristicClassifier()
    assert top(model, row(speed_p85_mps=1.4)) == "walk"
    assert top(model, row(speed_p85_mps=4.5)) == "bike"
    assert top(model, row(speed_p85_mps=33.0)) == "train"


def test_probabilities_sum_to_one_and_never_reach_certainty() -> None:
    proba = HeuristicClassifier().predict_proba(
        np.vstack([row(speed_p85_mps=v) for v in (0.5, 5.0, 15.0, 60.0)])
    )
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba.max() < 0.95


def test_unknown_speed_gives_a_uniform_row() -> None:
    proba = HeuristicClassifier().predict_proba(row()[None, :])[0]
    np.testing.assert_allclose(proba, proba[0])


def test_a_ride_across_a_signal_gap_is_placed_by_its_average_speed() -> None:
    # Two fixes, 18 km apart in 20 minutes: no speed between fixes, but nobody walked that.
    model = HeuristicClassifier()
    assert top(model, row(avg_speed_mps=15.0, gap_time_share=1.0)) == "car"
    assert top(model, row(avg_speed_mps=1.2, speed_p85_mps=30.0)) == "train"  # percentiles first


def test_the_phones_bike_activity_tips_an_ambiguous_speed_to_bike() -> None:
    model = HeuristicClassifier()
    ambiguous = {"speed_p85_mps": 6.3}
    with_bike = ambiguous | {
        "activity_known_share": 1.0,
        "activity_bike_share": 1.0,
        "activity_walk_share": 0.0,
        "activity_run_share": 0.0,
        "activity_vehicle_share": 0.0,
        "activity_still_share": 0.0,
    }
    assert top(model, row(**with_bike)) == "bike"
