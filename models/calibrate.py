"""Calibrating the probability shown on a deployment's answers: ``sillage models calibrate --labels CSV``.

Reads the answers in ``sillage labels export``'s file (consenting testers only), keeps those given
about a mode the given model showed, when the app asked (``labels.asked``, migration 0028), fits
:mod:`core.calibration`'s map on them and says how well it holds: on the answers themselves, and on
testers left out of the fit (tester-wise folds), which is what a new tester will see.

Answers are not a random sample of sections: the app asks about every section below ``ask_below``
and about a share of the others drawn at random (:func:`core.history.audited`). So an answer to an
audit question weighs ``1 / audit_share``, standing for the sure sections not drawn, and answers
the tester gave of their own accord (a correction of a section nobody asked about, a confirmed
trip's sure sections) are left out: testers correct what looks wrong, so they would make the model
look less sure than it is. Each weight is also the answer's :func:`core.history.answer_weights`:
blind "looks right" taps count less. The reliability figures (:func:`models.metrics.reliability`)
weigh the answers the same way.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from core.calibration import PRIOR_ANSWERS, ConfidenceCalibration, confidence, fit
from core.errors import BadRequest
from core.trips import LABELS_CSV_SHOWN
from models.dataset import labelled_rows, section_answer_weights
from models.metrics import reliability

F64 = npt.NDArray[np.float64]

_REQUIRED = ("section_id", "mode", *LABELS_CSV_SHOWN)
CV_FOLDS = 5  # tester-wise folds of the held-out figures (fewer when there are fewer testers)
# Below this many answers, or without two testers to check it on one left out, a fit is reported
# as not to be trusted yet: an audit answer weighs 20, so a handful of them can move the map far.
ENOUGH_ANSWERS = 200


class Answers(msgspec.Struct, frozen=True, kw_only=True):
    """The answers a calibration is fitted on, one per confirmed section: the tester's number in the
    file, the mode shown, the mode answered, the probability before calibration, why the app asked
    ('unsure' or 'audit') and the answer's weight (module docstring)."""

    testers: list[str]
    shown_modes: list[str]
    modes: list[str]
    uncalibrated: list[float]
    asked: list[str]
    weights: list[float]
    skipped: dict[str, int]

    def arrays(self) -> tuple[F64, npt.NDArray[np.bool_], F64]:
        right = np.asarray(self.modes, dtype=np.str_) == np.asarray(self.shown_modes, dtype=np.str_)
        raw = np.asarray(self.uncalibrated, dtype=np.float64)
        return raw, right, np.asarray(self.weights, dtype=np.float64)


def _probability(path: Path, sid: str, row: dict[str, str], column: str) -> float | None:
    raw = (row.get(column) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{path}: section {sid}: {column} {raw!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise BadRequest(f"{path}: section {sid}: {column} {raw!r} is not between 0 and 1")
    return value


def read_answers(path: Path, *, model_version: str) -> Answers:
    """The answers of ``path`` about modes that ``model_version`` showed, when the app asked. Left
    out, and counted in ``skipped``: answers without a shown mode (the section showed the tester's
    own earlier answer, or was confirmed before migration 0027), answers about another model's
    sections (or an unknown one: confirmed before migration 0028), and answers the app did not ask
    for (module docstring)."""
    sections = labelled_rows(path, _REQUIRED, hint=" (write it with this version's sillage labels export)")
    weights = section_answer_weights(path, sections)
    skipped: Counter[str] = Counter()
    out = Answers(testers=[], shown_modes=[], modes=[], uncalibrated=[], asked=[], weights=[], skipped={})
    for sid, rows in sections.items():
        first = rows[0]
        shown_mode = (first.get("shown_mode") or "").strip().lower()
        shown = _probability(path, sid, first, "shown_probability")
        raw = _probability(path, sid, first, "shown_uncalibrated")
        version = (first.get("shown_model_version") or "").strip()
        asked = (first.get("asked") or "").strip()
        share = _probability(path, sid, first, "audit_share")
        if not shown_mode or shown is None:
            skipped["no shown mode"] += 1
            continue
        if version != model_version:
            skipped[f"model {version or 'unknown'}"] += 1
            continue
        if asked not in ("unsure", "audit"):
            skipped["not asked"] += 1
            continue
        if asked == "audit" and not share:
            raise BadRequest(f"{path}: section {sid}: an audit answer needs its audit_share")
        out.testers.append(first.get("user") or sid)
        out.shown_modes.append(shown_mode)
        out.modes.append(first["mode"].strip().lower())
        out.uncalibrated.append(shown if raw is None else raw)
        out.asked.append(asked)
        out.weights.append(weights[sid] / share if asked == "audit" and share else weights[sid])
    return msgspec.structs.replace(out, skipped=dict(sorted(skipped.items())))


def _reliability(answers: Answers, confidence: F64) -> dict[str, Any]:
    modes = sorted(set(answers.modes) | set(answers.shown_modes))
    weights = np.asarray(answers.weights, dtype=np.float64)
    return reliability(answers.modes, answers.shown_modes, confidence, labels=modes, weights=weights)


def _held_out(answers: Answers, folds: int, prior_answers: float) -> F64:
    """Each answer's probability calibrated by a map fitted on the other folds' testers."""
    from sklearn.model_selection import GroupKFold

    raw, right, weights = answers.arrays()
    groups = np.asarray(answers.testers, dtype=np.str_)
    out = raw.copy()
    for train, test in GroupKFold(n_splits=folds).split(raw, right, groups):
        slope, intercept = fit(raw[train], right[train], weights[train], prior_answers=prior_answers)
        out[test] = confidence(raw[test], slope, intercept)
    return out


def _by_shown_mode(answers: Answers, after: F64) -> dict[str, dict[str, Any]]:
    """Per mode shown: its answers, their weight, the mean probability shown before and after the
    map (weighted) and how often it was right. The map is one for every mode: where a mode is right
    far less often than even the calibrated figure says, the model misreads it in this deployment
    (retrain on its labels, ``sillage models train --labels``)."""
    raw, right, weights = answers.arrays()
    shown = np.asarray(answers.shown_modes, dtype=np.str_)
    out: dict[str, dict[str, Any]] = {}
    for mode in sorted(set(answers.shown_modes)):
        mine = shown == mode
        w = weights[mine]
        total = float(w.sum())
        out[mode] = {
            "answers": int(mine.sum()),
            "weight": round(total, 3),
            "mean_shown_before": round(float(np.average(raw[mine], weights=w)), 4) if total > 0 else None,
            "mean_shown_after": round(float(np.average(after[mine], weights=w)), 4) if total > 0 else None,
            "right_share": round(float(np.average(right[mine], weights=w)), 4) if total > 0 else None,
        }
    return out


def calibration_report(
    answers: Answers,
    model_version: str,
    *,
    folds: int = CV_FOLDS,
    prior_answers: float = PRIOR_ANSWERS,
) -> tuple[ConfidenceCalibration, dict[str, Any]]:
    """The map fitted on all ``answers``, and a report: the answers and testers it rests on, the
    answers' reliability before and after it (``in_sample``), the same on testers left out of the
    fit (``held_out``, with at least two testers), the same per mode shown (``by_shown_mode``), and
    ``enough``: whether there are at least :data:`ENOUGH_ANSWERS` answers from two testers or
    more."""
    if not answers.modes:
        raise BadRequest(
            f"no answer about a section model {model_version} showed to fit on "
            f"(left out: {answers.skipped or 'none'})"
        )
    raw, right, weights = answers.arrays()
    slope, intercept = fit(raw, right, weights, prior_answers=prior_answers)
    testers = len(set(answers.testers))
    fitted = ConfidenceCalibration(
        model_version=model_version,
        slope=round(slope, 6),
        intercept=round(intercept, 6),
        answers=len(answers.modes),
        testers=testers,
        weight=round(float(weights.sum()), 3),
    )
    after = confidence(raw, fitted.slope, fitted.intercept)
    asked = np.asarray(answers.asked, dtype=np.str_)
    report: dict[str, Any] = {
        "model_version": model_version,
        "answers": fitted.answers,
        "testers": testers,
        "answers_weight": fitted.weight,
        "skipped": answers.skipped,
        "prior_answers": prior_answers,
        "slope": fitted.slope,
        "intercept": fitted.intercept,
        "enough": fitted.answers >= ENOUGH_ANSWERS and testers >= 2,
        "asked": {why: int((asked == why).sum()) for why in ("unsure", "audit")},
        "right_share": round(float(np.average(right, weights=weights)), 4) if weights.sum() > 0 else None,
        "in_sample": {"before": _reliability(answers, raw), "after": _reliability(answers, after)},
        "by_shown_mode": _by_shown_mode(answers, after),
    }
    k = min(folds, testers)
    if k >= 2:
        report["held_out"] = {
            "folds": k,
            "before": _reliability(answers, raw),
            "after": _reliability(answers, _held_out(answers, k, prior_answers)),
        }
    else:
        report["held_out"] = {"available": False, "reason": "one tester: nobody to hold out"}
    return fitted, report
