"""Small builders shared by the model tests: tiny datasets, quick fits, artifacts in tmp dirs, and
labelled users made up from the simulator (no GeoLife data in the repository)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from core.simulate import simulate_days
from core.track import Track
from models.card import ModelCard
from models.dataset import Dataset, SyntheticParams, synthetic_dataset
from models.geolife import GeolifeUser, LabelInterval
from models.train import FitParams, fit_pipeline, write_artifact

QUICK_FIT = FitParams(max_iter=15, early_stopping=False, min_samples_leaf=2, max_leaf_nodes=7)


def tiny_synthetic(
    per_mode: int = 6, seed: int = 0, modes: tuple[str, ...] = ("walk", "bike", "car")
) -> Dataset:
    return synthetic_dataset(SyntheticParams(sections_per_mode=per_mode, seed=seed, modes=modes))


def artifact(directory: Path, *, version: str = "1.0.0") -> ModelCard:
    data = tiny_synthetic()
    pipeline = fit_pipeline(data, QUICK_FIT)
    return write_artifact(
        pipeline,
        directory / version,
        version=version,
        training=data,
        description="test",
        metrics={},
        limitations="test only",
    )


def simulated_user() -> GeolifeUser:
    """A simulated day seen as a GeoLife user: one labelled interval per leg."""
    sim = next(simulate_days(users=1, days=1, seed=11)).sim
    t = sim.track.t_s
    labels = tuple(
        LabelInterval(start_s=float(t[leg.start]), end_s=float(t[leg.end - 1]), raw_mode=leg.mode)
        for leg in sim.legs
    )
    return GeolifeUser(user="sim", track=sim.track, labels=labels)


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


def answers_like(
    rng: np.random.Generator, n: int, slope: float, intercept: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Answers to modes shown at random probabilities, right as often as a known calibration map
    (:mod:`core.calibration`) of those probabilities says."""
    shown = rng.uniform(0.3, 0.999, n)
    z = np.log(shown / (1 - shown))
    truth = 1 / (1 + np.exp(-(slope * z + intercept)))
    return shown, rng.random(n) < truth
