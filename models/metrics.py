"""Classification metrics as plain JSON-ready dicts (accuracy, macro-F1, per class, confusion)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt


def classification_report(
    y_true: Sequence[str] | npt.NDArray[np.str_],
    y_pred: Sequence[str] | npt.NDArray[np.str_],
    *,
    labels: Sequence[str],
    weights: npt.NDArray[np.float64] | None = None,
) -> dict[str, Any]:
    """Scores over the rows whose true label is in ``labels``; predictions outside ``labels`` are
    errors and appear as extra confusion-matrix columns. ``weights`` (e.g. seconds) weight rows.

    ``macro_f1`` averages the F1 of the ``labels`` that have support (a class absent from the truth
    would otherwise add an uninformative 0).
    """
    yt = np.asarray(y_true, dtype=np.str_)
    yp = np.asarray(y_pred, dtype=np.str_)
    w = np.ones(yt.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    scored = np.isin(yt, list(labels))
    yt, yp, w = yt[scored], yp[scored], w[scored]
    total = float(w.sum())
    columns = list(labels) + sorted(set(yp.tolist()) - set(labels))
    confusion = [[float(w[(yt == a) & (yp == b)].sum()) for b in columns] for a in labels]
    per_class: dict[str, dict[str, float]] = {}
    f1s: list[float] = []
    for c in labels:
        tp = float(w[(yt == c) & (yp == c)].sum())
        support = float(w[yt == c].sum())
        predicted = float(w[yp == c].sum())
        precision = tp / predicted if predicted > 0 else 0.0
        recall = tp / support if support > 0 else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
        per_class[c] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": round(support, 3) if weights is not None else int(support),
        }
        if support > 0:
            f1s.append(f1)
    accuracy = float(w[yt == yp].sum()) / total if total > 0 else float("nan")
    return {
        "n": int(yt.shape[0]),
        "accuracy": round(accuracy, 4),
        "macro_f1": round(float(np.mean(f1s)), 4) if f1s else None,
        "per_class": per_class,
        "confusion": {
            "rows_true": list(labels),
            "columns_predicted": columns,
            "matrix": [[round(x, 3) if weights is not None else int(x) for x in row] for row in confusion],
        },
    }


def brief(report: dict[str, Any]) -> dict[str, Any]:
    """A report's accuracy, macro-F1 and per-class F1, without the rest."""
    return {
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "f1": {m: v["f1"] for m, v in report["per_class"].items()},
    }


RELIABILITY_EDGES = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def reliability(
    y_true: Sequence[str] | npt.NDArray[np.str_],
    y_pred: Sequence[str] | npt.NDArray[np.str_],
    confidence: npt.NDArray[np.float64],
    *,
    labels: Sequence[str],
    edges: Sequence[float] = RELIABILITY_EDGES,
    weights: npt.NDArray[np.float64] | None = None,
) -> dict[str, Any]:
    """How far the probability of the predicted mode can be trusted, over the rows whose true label
    is in ``labels``: per bin of ``confidence`` (the predicted mode's probability; the last bin
    includes 1), the rows, their mean confidence and the share predicted right; and the expected
    calibration error (Guo et al. 2017, "On calibration of modern neural networks": the bins' gap
    between confidence and accuracy, weighted by their rows). A well calibrated 0.8 is right 80 %
    of the time. With ``weights`` (one per row, none negative), means and the error weigh each row
    by its weight (``n`` still counts rows)."""
    yt = np.asarray(y_true, dtype=np.str_)
    yp = np.asarray(y_pred, dtype=np.str_)
    conf = np.asarray(confidence, dtype=np.float64)
    w = np.ones(conf.shape, dtype=np.float64) if weights is None else np.asarray(weights, dtype=np.float64)
    scored = np.isin(yt, list(labels))
    yt, yp, conf, w = yt[scored], yp[scored], conf[scored], w[scored]
    right = yt == yp
    bins: list[dict[str, Any]] = []
    gap = 0.0
    for k, (lo, hi) in enumerate(pairwise(edges)):
        last = k == len(edges) - 2
        inside = (conf >= lo) & ((conf <= hi) if last else (conf < hi))
        n = int(inside.sum())
        mass = float(w[inside].sum())
        mean_conf = float(np.average(conf[inside], weights=w[inside])) if mass > 0 else None
        accuracy = float(np.average(right[inside], weights=w[inside])) if mass > 0 else None
        if mean_conf is not None and accuracy is not None:
            gap += mass * abs(mean_conf - accuracy)
        bins.append(
            {
                "confidence": f"{lo:.1f}-{hi:.1f}",
                "n": n,
                "mean_confidence": None if mean_conf is None else round(mean_conf, 4),
                "accuracy": None if accuracy is None else round(accuracy, 4),
            }
        )
    total = float(w.sum())
    return {"n": int(yt.size), "ece": round(gap / total, 4) if total > 0 else None, "bins": bins}
