"""Small builders shared by the model tests: tiny datasets, quick fits, artifacts in tmp dirs."""

from __future__ import annotations

from pathlib import Path

from models.card import ModelCard
from models.dataset import Dataset, SyntheticParams, synthetic_dataset
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
