"""A trained HistGradientBoosting classifier flattened into arrays, for fast small-batch prediction.

scikit-learn predicts tree by tree: the shipped model has 120 iterations x 9 classes = 1,080
trees, and each costs a Python-level call and an OpenMP parallel region whatever the number of
rows, about 5 ms per ``predict_proba`` on a quiet machine and far more when other processes hold
the cores (OpenMP threads wait for each other). The pipeline classifies one tester's few sections
at a time, so that fixed cost dominated inference.

:class:`FlatTrees` copies every node into flat arrays and walks all trees for all rows at once,
one tree level per step (the trees are at most a few levels deep), then adds the leaf values in
scikit-learn's order (baseline, then iteration by iteration) and applies the model's own
link function. The arithmetic is the same: numeric splits ``x <= threshold`` with NaN sent to the
side learned in training, float64 sums in the same order, so the probabilities are bit for bit
those of ``predict_proba`` (:meth:`FlatTrees.matches` checks it when a model is loaded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
IntP = npt.NDArray[np.intp]


class NotFlattenable(Exception):
    """The estimator is not one :class:`FlatTrees` reproduces exactly; the message says why."""


@dataclass(frozen=True, slots=True)
class FlatTrees:
    """All nodes of all trees; ``roots`` in scikit-learn's order (iteration, then class)."""

    feature: IntP
    threshold: F64
    missing_left: npt.NDArray[np.bool_]
    children: IntP  # left then right child of each node (2 per node); a leaf points to itself
    value: F64
    roots: IntP
    depth: int
    baseline: F64  # (n_classes,)
    n_features: int
    link: Any  # the model's loss, whose predict_proba turns raw scores into probabilities

    @staticmethod
    def of(estimator: Any) -> FlatTrees:
        """Flatten a fitted ``HistGradientBoostingClassifier`` (numeric features only)."""
        if type(estimator).__name__ != "HistGradientBoostingClassifier":
            raise NotFlattenable(f"{type(estimator).__name__} is not a HistGradientBoostingClassifier")
        if getattr(estimator, "is_categorical_", None) is not None:
            raise NotFlattenable("categorical features are not flattened")
        predictors = [p for iteration in estimator._predictors for p in iteration]
        features, thresholds, missing, children, values, roots = [], [], [], [], [], []
        depth = offset = 0
        for predictor in predictors:
            nodes = predictor.nodes
            leaf = nodes["is_leaf"].astype(np.bool_)
            if nodes["is_categorical"].any():
                raise NotFlattenable("categorical splits are not flattened")
            own = np.arange(nodes.size, dtype=np.intp) + offset
            left = np.where(leaf, own, nodes["left"].astype(np.intp) + offset)
            right = np.where(leaf, own, nodes["right"].astype(np.intp) + offset)
            features.append(np.where(leaf, 0, nodes["feature_idx"]).astype(np.intp))
            thresholds.append(nodes["num_threshold"].astype(np.float64))
            missing.append(nodes["missing_go_to_left"].astype(np.bool_))
            children.append(np.stack([left, right], axis=1))
            values.append(nodes["value"].astype(np.float64))
            roots.append(offset)
            depth = max(depth, int(nodes["depth"].max()))
            offset += nodes.size
        return FlatTrees(
            feature=np.concatenate(features),
            threshold=np.concatenate(thresholds),
            missing_left=np.concatenate(missing),
            children=np.concatenate(children).ravel(),
            value=np.concatenate(values),
            roots=np.asarray(roots, dtype=np.intp),
            depth=depth,
            baseline=np.asarray(estimator._baseline_prediction, dtype=np.float64).ravel(),
            n_features=int(estimator.n_features_in_),
            link=estimator._loss,
        )

    def raw_predict(self, x: F64) -> F64:
        """Summed leaf values, shape ``(rows, classes)``, as ``_raw_predict`` computes them."""
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"X has {x.shape[-1]} features, the model expects {self.n_features}")
        n = x.shape[0]
        column = np.ascontiguousarray(x.T).ravel()  # feature-major, so a value is column[f * n + row]
        at = self.feature * n  # where each node's feature starts in ``column``
        rows = np.arange(n, dtype=np.intp)[None, :]
        node = np.repeat(self.roots[:, None], n, axis=1)  # (trees, rows)
        has_nan = bool(np.isnan(column).any())
        for _ in range(self.depth):
            data = column[at[node] + rows]
            right = ~(data <= self.threshold[node])  # NaN compares False: sent right, fixed below
            if has_nan:
                missing = np.isnan(data)
                right[missing] = ~self.missing_left[node[missing]]
            node = self.children[2 * node + right]
        leaves = self.value[node].reshape(-1, self.baseline.size, n)  # (iterations, classes, rows)
        raw = np.zeros((n, self.baseline.size), order="F")
        raw += self.baseline
        for iteration in leaves:  # scikit-learn adds the trees iteration by iteration
            raw += iteration.T
        return raw

    def predict_proba(self, x: F64) -> F64:
        return np.asarray(self.link.predict_proba(self.raw_predict(x)), dtype=np.float64)

    def probe(self, rows: int = 256, seed: int = 0) -> F64:
        """Rows that exercise the splits: each value is a threshold of its feature, just above one,
        or NaN, so that every kind of branch (left, right, missing) is taken somewhere."""
        rng = np.random.default_rng(seed)
        x = np.full((rows, self.n_features), np.nan)
        split = self.children[0::2] != np.arange(self.value.size)  # not a leaf
        for f in range(self.n_features):
            cuts = self.threshold[split & (self.feature == f)]
            cuts = cuts[np.isfinite(cuts)]
            if cuts.size:
                picked = rng.choice(cuts, rows)
                x[:, f] = np.where(rng.random(rows) < 0.5, picked, np.nextafter(picked, np.inf))
            else:
                x[:, f] = rng.normal(size=rows)
        x[rng.random(x.shape) < 0.1] = np.nan
        return x

    def matches(self, estimator: Any, probe: F64) -> bool:
        """Whether this gives exactly the estimator's probabilities on ``probe``."""
        expected = np.asarray(estimator.predict_proba(probe), dtype=np.float64)
        return bool(np.array_equal(self.predict_proba(probe), expected))
