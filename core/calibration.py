"""Making the probability shown for a section's mode mean what it says, on a deployment's own answers.

The app shows each section's most likely mode with its probability, and asks the tester about the
ones below ``ask_below`` (:func:`core.history.unsure`). A shipped model trained on simulated traces
is more sure of itself than right on real ones: on the GeoLife development subset, sections shown
at 0.9 and above are right far less often than that (``open_set_reliability`` in ``sillage models
evaluate``). The answers testers give say how often a mode shown at ``p`` was right, so a
deployment can correct the figure it shows.

**The map.** Platt scaling of the shown mode's probability (Platt 1999; applied to the top label,
as Guo et al. 2017 measure calibration): ``p' = sigmoid(slope * logit(p) + intercept)``, fitted by
weighted logistic regression of "the tester's answer was the mode shown" on ``logit(p)``. Two
numbers, so a pilot's few hundred answers fit it; the identity is ``slope = 1, intercept = 0``.
The fit holds to the identity as ``prior_answers`` pseudo-answers would: spread over
:data:`_PRIOR_AT` (where the app shows most sections), each right as often as it says (``y = p``,
a fractional answer). Without answers the fit is the identity; a handful of answers moves it part
of the way; hundreds decide.

**What it changes.** The other modes keep their proportions and share what the shown one gives up
or takes. A map that would bring the shown mode below the next one stops where they are equal, so
the mode shown never changes: calibration changes the figure shown and which sections are asked
about, not the modes or the footprint. Rows at 1 (a rule's plane, a tester's answer) are certain
and stay as they are.

**The answers it learns from** (:mod:`models.calibrate`). Testers are asked about every section
below ``ask_below``, and the map does not carry from there to the surer ones by its form alone: on
the GeoLife subset, fitted on those answers only, sections shown at 0.97 were still right 82 % of
the time. So a stable share of the sure sections is asked about too (:func:`core.history.audited`),
and each such answer weighs ``1 / share`` in the fit. Answers that agree with what was shown count
as much as the tester's answers show attention (:func:`core.history.answer_weights`): blind "looks
right" taps would teach it that the model is right whenever it is unsure. The probability fitted
on is the one before calibration (``sections.uncalibrated``, kept with each answer as
``labels.shown_uncalibrated``), so a new fit replaces the old one instead of stacking on it.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

PRIOR_ANSWERS = 10.0  # pseudo-answers holding the fit at the identity (module docstring)
_PRIOR_AT = (0.4, 0.55, 0.7, 0.85, 0.95)  # where they stand
_EPS = 1e-6  # probabilities are clipped to [_EPS, 1 - _EPS] before the logit
_NEWTON_STEPS = 50


class ConfidenceCalibration(msgspec.Struct, frozen=True, kw_only=True):
    """A fitted map (module docstring) and what it was fitted on. It holds for the model version it
    was fitted on only: another model is sure of itself in other ways."""

    model_version: str
    slope: float
    intercept: float
    answers: int = 0  # answers fitted on
    testers: int = 0  # testers they came from
    weight: float = 0.0  # what the answers counted for together (blind agreements count less)


def _logit(p: F64) -> F64:
    q = np.clip(p, _EPS, 1.0 - _EPS)
    out: F64 = np.log(q / (1.0 - q))
    return out


def _sigmoid(z: F64) -> F64:
    out: F64 = 0.5 * (1.0 + np.tanh(0.5 * z))  # exact, and no overflow for large |z|
    return out


def fit(
    shown: F64,
    right: npt.NDArray[np.bool_],
    weights: F64 | None = None,
    *,
    prior_answers: float = PRIOR_ANSWERS,
) -> tuple[float, float]:
    """``(slope, intercept)`` of the map that makes a mode shown at ``shown`` right as often as the
    answers say (``right``: the tester's answer was the mode shown; ``weights`` per answer, 1 by
    default), by Newton's method on the log-likelihood of the answers and the pseudo-answers that
    hold it to the identity (module docstring)."""
    shown = np.asarray(shown, dtype=np.float64)
    y = np.asarray(right, dtype=np.float64)
    w = np.ones_like(shown) if weights is None else np.asarray(weights, dtype=np.float64)
    if shown.shape != y.shape or shown.shape != w.shape:
        raise ValueError("shown, right and weights must have one value per answer")
    prior = np.asarray(_PRIOR_AT, dtype=np.float64)
    z = _logit(np.concatenate([shown, prior]))
    y = np.concatenate([y, prior])
    w = np.concatenate([w, np.full(prior.size, prior_answers / prior.size)])
    design = np.column_stack([z, np.ones_like(z)])
    ridge = 1e-9  # keeps each Newton system solvable when every weight is 0

    def objective(t: F64) -> float:
        s = design @ t  # log-likelihood of a logistic model: y s - log(1 + e^s), computed stably
        return float((w * (y * s - np.logaddexp(0.0, s))).sum())

    theta = np.asarray([1.0, 0.0])
    value = objective(theta)
    for _ in range(_NEWTON_STEPS):
        p = _sigmoid(design @ theta)
        gradient = design.T @ (w * (y - p))
        hessian = (design.T * (w * p * (1.0 - p))) @ design + ridge * np.eye(len(theta))
        step = np.linalg.solve(hessian, gradient)
        # Newton's step, halved until it improves (a full step can overshoot far from the optimum).
        for _ in range(30):
            candidate = theta + step
            new = objective(candidate)
            if new >= value:
                break
            step = step / 2.0
        else:
            break
        theta, value = candidate, new
        if float(np.abs(step).max()) < 1e-10:
            break
    return float(theta[0]), float(theta[1])


def confidence(p: F64, slope: float, intercept: float) -> F64:
    """The map on the shown mode's probabilities alone (before :func:`calibrate` keeps it ahead of
    the next mode)."""
    return _sigmoid(slope * _logit(np.asarray(p, dtype=np.float64)) + intercept)


def ask_below_for_same_sections(ask_below: float, slope: float, intercept: float) -> float:
    """The ``ask_below`` that, on calibrated probabilities, asks about the sections ``ask_below``
    asked about before: the map's image of it. The map keeps the sections' order, and keeping the
    shown mode ahead (:func:`calibrate`) never lifts a section above 0.5, so when the image is above
    0.5 they are exactly the same sections."""
    return float(confidence(np.asarray([ask_below]), slope, intercept)[0])


def calibrate(proba: F64, slope: float, intercept: float) -> F64:
    """``proba`` (one row per section) with each row's most likely mode's probability mapped
    (module docstring); the mode shown stays the most likely one."""
    out = np.array(proba, dtype=np.float64, copy=True)
    if out.size == 0 or (slope == 1.0 and intercept == 0.0):
        return out
    rows = np.arange(out.shape[0])
    top = np.argmax(out, axis=1)
    p = out[rows, top]
    uncertain = (p > 0.0) & (p < 1.0)
    if not uncertain.any():
        return out
    rows, top, p = rows[uncertain], top[uncertain], p[uncertain]
    mapped = confidence(p, slope, intercept)
    if out.shape[1] > 1:
        others = out[rows].copy()
        others[np.arange(rows.size), top] = -np.inf
        second = others.max(axis=1)
        # The others scale by (1 - mapped) / (1 - p): the shown mode stays ahead while
        # mapped >= second * (1 - mapped) / (1 - p).
        mapped = np.maximum(mapped, second / (1.0 - p + second))
    scale = (1.0 - mapped) / (1.0 - p)
    out[rows] *= scale[:, None]
    if out.shape[1] > 1:
        # Where the two are equal, the shown mode stays first by the smallest step (rounding could
        # otherwise put the other ahead, or level with it at a lower column).
        out[rows, top] = -np.inf
        ahead = out[rows].max(axis=1)
        mapped = np.where(mapped > ahead, mapped, np.nextafter(ahead, np.inf))
    out[rows, top] = mapped
    return out


def uncalibrated(proba: F64, top: F64) -> F64:
    """The probabilities sections had before calibration, from the calibrated ones stored and the
    most likely mode's probability before it (``top``, NaN for a row never calibrated): the mode
    shown takes ``top`` back and the others, which calibration scaled together, are scaled back."""
    out = np.array(proba, dtype=np.float64, copy=True)
    top = np.asarray(top, dtype=np.float64)
    rows = np.flatnonzero(~np.isnan(top))
    if rows.size == 0 or out.shape[1] == 0:
        return out
    mode = np.argmax(out[rows], axis=1)
    shown = out[rows, mode]
    before = top[rows]
    rest = 1.0 - shown
    scale = np.divide(1.0 - before, rest, out=np.zeros_like(rest), where=rest > 0.0)
    out[rows] *= scale[:, None]
    if out.shape[1] > 1:
        # A mode shown at 1 left nothing to scale back: the rest is shared evenly.
        even = (rest <= 0.0)[:, None] & (np.arange(out.shape[1])[None, :] != mode[:, None])
        out[rows] = np.where(even, ((1.0 - before) / (out.shape[1] - 1))[:, None], out[rows])
    out[rows, mode] = before
    return out


def apply(proba: F64, calibration: ConfidenceCalibration | None) -> F64:
    """:func:`calibrate` with a fitted calibration, or ``proba`` as it is without one."""
    if calibration is None:
        return proba
    return calibrate(proba, calibration.slope, calibration.intercept)


def finite(calibration: ConfidenceCalibration) -> bool:
    """Whether a calibration read from a file is usable: finite numbers and an increasing map (a
    decreasing one would show the least sure sections as the surest)."""
    slope, intercept = calibration.slope, calibration.intercept
    return math.isfinite(slope) and math.isfinite(intercept) and slope > 0.0
