"""Honest evaluation on GeoLife: per-section classification, end-to-end over time, user-wise CV.

Issue 4 asks for one JSON object with ``classifier`` (sections cut at the labelled intervals) and
``end_to_end`` (the full pipeline from raw fixes, scored over labelled time with fixes), split by
user, never randomly: a random split leaks a person's routes into the test set (published GeoLife
figures such as Dabiri & Heaslip 2018, 84.8 % accuracy, use random splits). Only the six modes
GeoLife can score (walk, bike, bus, car, train, metro) enter accuracy and macro-F1; sections of
other labels (plane, ferry, motorbike) are reported apart. GeoLife walk labels exist for few users
(unlabelled time is not walk), so walk support is small and its F1 noisy.

Sections are classified as production classifies them for a tester who confirmed nothing: the
model, then weighed by the user's own mix of modes read from the model's probabilities over their
sections up to each one (:func:`core.history.own_mix`; no label, the user's own included).
``model_alone_open_set`` gives the model's figure without that; user-wise cross-validation scores
the model alone.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from core import calibration
from core.co2.modes import Mode
from core.features import FEATURE_NAMES, features_matrix
from core.geodesy import haversine_m
from core.geometry import line_positions, simplified_linestring
from core.history import (
    ASK_BELOW,
    AUDIT_SHARE,
    DEFAULT_HISTORY,
    Answered,
    Confirmation,
    HistoryParams,
    answer_weights,
    assist,
    kinematics,
    own_mix,
    section_ends,
    unsure,
)
from core.segmentation import segment
from core.track import Track
from core.transit import DEFAULT_TRANSIT, TransitParams, TransitStop, TransitStops, weigh
from models.classifier import MODES, ModeClassifier
from models.dataset import Dataset, labels_dataset
from models.geolife import SCORED_MODES, GeolifeUser, LabelledSection, labelled_sections
from models.metrics import brief, classification_report, reliability
from models.sections import Classified, Network, classify, predict_proba
from models.train import FitParams, fit_pipeline

F64 = npt.NDArray[np.float64]
_NO_POINTS = np.empty((0, 2), dtype=np.float64)
END_TO_END_MAX_GAP_S = 600.0  # labelled time between fixes further apart than this is not scored


def predict_labels(
    model: ModeClassifier, x: F64, *, among: Sequence[str] | None = None
) -> npt.NDArray[np.str_]:
    """Arg-max mode of each row as the model gives it (the model and the plane rule of
    :func:`models.sections.predict_proba`, without the tester's own mix); ``among`` restricts the
    arg-max to those classes (closed set)."""
    proba, names = predict_proba(model, x)
    return _arg_max(proba, names, among=among)


def _arg_max(proba: F64, names: Sequence[str], *, among: Sequence[str] | None = None) -> npt.NDArray[np.str_]:
    classes = np.asarray(names, dtype=np.str_)
    if among is not None:
        allowed = np.isin(classes, list(among))
        proba = np.where(allowed[None, :], proba, -1.0)
    return classes[np.argmax(proba, axis=1)] if proba.shape[0] else np.empty(0, dtype=np.str_)


def _adapted_by_user(proba: F64, groups: npt.NDArray[np.str_]) -> F64:
    """:func:`core.history.own_mix` over each user's rows (in dataset order, which is time order per
    user): the probabilities a tester who confirmed nothing gets."""
    out = proba.copy()
    for user in dict.fromkeys(groups.tolist()):
        rows = np.flatnonzero(groups == user)
        out[rows] = own_mix(proba[rows])
    return out


def evaluate_classifier(
    model: ModeClassifier, data: Dataset, *, scored: Sequence[str] = SCORED_MODES
) -> dict[str, Any]:
    """Section-level scores of ``model`` on labelled sections.

    ``open_set`` takes the model's own arg-max over all its classes (a tram or e-bike answer on a
    GeoLife bus or bike section is an error); ``closed_set`` restricts the arg-max to the scored
    modes the model knows, the usual protocol when the test label set is fixed in advance.
    ``open_set_reliability`` says how far the probability shown for the mode can be trusted
    (:func:`models.metrics.reliability`), which is what asking the tester below a threshold
    (:data:`core.history.ASK_BELOW`) relies on. ``scored``: the modes scored (GeoLife's six by
    default); sections of other modes are reported apart, by what they were predicted as.
    """
    proba, names = predict_proba(model, data.X)
    mine = _adapted_by_user(proba, data.groups)
    open_pred = _arg_max(mine, names)
    closed_pred = _arg_max(mine, names, among=scored)
    model_alone = classification_report(data.y, _arg_max(proba, names), labels=scored)
    others = ~np.isin(data.y, list(scored))
    other_report = {
        mode: dict(Counter(open_pred[data.y == mode].tolist()))
        for mode in sorted(set(data.y[others].tolist()))
    }
    open_report = classification_report(data.y, open_pred, labels=scored)
    shown = mine.max(axis=1)  # the probability of the mode shown
    return {
        "model_version": model.version,
        "sections": len(data),
        "open_set": open_report,
        "open_set_macro_f1_without_walk": _macro_f1_without(open_report, "walk"),
        "closed_set": classification_report(data.y, closed_pred, labels=scored),
        "per_user_open_set": _per_user(data, open_pred, scored),
        "other_labels_predicted_as": other_report,
        "model_alone_open_set": {k: model_alone[k] for k in ("n", "accuracy", "macro_f1")},
        "open_set_reliability": reliability(data.y, open_pred, shown, labels=scored),
    }


def _answered_every_section(shown: F64, _audit: npt.NDArray[np.bool_]) -> F64:
    """Every labelled section answered: the most a fit can learn (weights per section)."""
    return np.ones(shown.shape, dtype=np.float64)


def _answered_when_asked(shown: F64, _audit: npt.NDArray[np.bool_]) -> F64:
    """Only the sections below ``ASK_BELOW`` answered, as a pilot answers when nothing else is asked."""
    return np.asarray(shown < ASK_BELOW, dtype=np.float64)


def _answered_when_asked_or_audited(shown: F64, audit: npt.NDArray[np.bool_]) -> F64:
    """The sections below ``ASK_BELOW`` and the sure ones drawn for audit answered, the drawn ones
    weighing ``1 / AUDIT_SHARE`` (each stands for the sure sections not drawn), as
    :mod:`models.calibrate` weighs them."""
    sure = shown >= ASK_BELOW
    out: F64 = np.where(sure, np.where(audit, 1.0 / AUDIT_SHARE, 0.0), 1.0)
    return out


CALIBRATION_VARIANTS: dict[str, Callable[[F64, npt.NDArray[np.bool_]], F64]] = {
    "fitted_on_every_section": _answered_every_section,
    "fitted_on_asked_sections": _answered_when_asked,
    "fitted_on_asked_and_audited_sections": _answered_when_asked_or_audited,
}


def evaluate_calibration(
    model: ModeClassifier, data: Dataset, *, folds: int = 6, seed: int = 0
) -> dict[str, Any]:
    """The probability shown (the model weighed by the user's own mix, as
    :func:`evaluate_classifier` serves it) calibrated by :mod:`core.calibration`'s map fitted on
    other users' answers, user-wise (GroupKFold, at most ``folds``, one user per fold at least),
    for each of :data:`CALIBRATION_VARIANTS` (which sections were answered): its reliability on
    the held-out users, the share of their sections below :data:`core.history.ASK_BELOW` (the ones
    the app asks about), and ``ask_below_for_same_share``, the threshold on calibrated
    probabilities that asks about as many sections as ``ASK_BELOW`` did before. ``before`` is the
    same without calibration. Answers are attentive ("right": the predicted mode is the label).
    Sure sections are drawn for audit at random (seed ``seed``, :data:`core.history.AUDIT_SHARE`
    of them; a served section is drawn by its id instead). The map never changes the mode shown,
    so accuracy and macro-F1 are those of ``classifier``."""
    from sklearn.model_selection import GroupKFold

    scored = data.subset(np.isin(data.y, list(SCORED_MODES)))
    proba, names = predict_proba(model, scored.X)
    mine = _adapted_by_user(proba, scored.groups)
    pred = _arg_max(mine, names)
    shown = mine.max(axis=1)
    right = pred == scored.y
    audit = np.random.default_rng(seed).random(shown.size) < AUDIT_SHARE
    before = float((shown < ASK_BELOW).mean())
    out: dict[str, Any] = {
        "sections": len(scored),
        "folds": folds,
        "ask_below": ASK_BELOW,
        "audit_share": AUDIT_SHARE,
        "sure_sections_audited": round(float((audit & (shown >= ASK_BELOW)).mean()), 4),
        "before": {
            **reliability(scored.y, pred, shown, labels=SCORED_MODES),
            "share_below_ask_below": round(before, 4),
        },
    }
    folds = min(folds, len(set(scored.groups.tolist())))
    out["folds"] = folds
    if folds < 2:
        return {**out, "available": False, "reason": "fewer than two users: nobody to hold out"}
    splits = list(GroupKFold(n_splits=folds).split(scored.X, scored.y, scored.groups))
    for name, answered in CALIBRATION_VARIANTS.items():
        weights = answered(shown, audit)
        calibrated = shown.copy()
        maps: list[dict[str, float | int]] = []
        for train, test in splits:
            fit_on = train[weights[train] > 0]
            slope, intercept = calibration.fit(shown[fit_on], right[fit_on], weights[fit_on])
            calibrated[test] = calibration.calibrate(mine[test], slope, intercept).max(axis=1)
            maps.append(
                {"answers": int(fit_on.size), "slope": round(slope, 4), "intercept": round(intercept, 4)}
            )
        out[name] = {
            **reliability(scored.y, pred, calibrated, labels=SCORED_MODES),
            "share_below_ask_below": round(float((calibrated < ASK_BELOW).mean()), 4),
            "ask_below_for_same_share": round(float(np.quantile(calibrated, before)), 4),
            "maps": maps,
        }
    return out


def evaluate_labels(model: ModeClassifier, path: Path) -> dict[str, Any]:
    """``model`` on the sections testers confirmed, as ``sillage labels export`` writes them: the
    deployment's own traces, other people and another city than any it was developed on.

    Scored over the modes the labels hold that the model can give (plane and ferry come from rules
    the pipeline applies, not from the model's features, and are reported apart); each tester's
    sections in time order, as :func:`evaluate_classifier` weighs them by the tester's own mix.
    Confirmed sections are not a random sample of sections: the app asks about the ones the model
    is unsure of (:func:`core.history.unsure`), and a trip confirmed "as shown" confirms the
    model's modes. Labels a model was trained on (``models train --labels``) must be kept out.
    """
    skipped: Counter[str] = Counter()
    data = labels_dataset(path, known_modes=tuple(m.value for m in Mode), skipped=skipped)
    present = set(data.y.tolist()) & set(model.classes)
    scored = tuple(m for m in MODES if m in present)
    return {
        "dataset": str(path),
        "sections": len(data),
        "testers": len(set(data.groups.tolist())),
        "scored_modes": list(scored),
        "skipped_unknown_modes": dict(skipped),
        "classifier": evaluate_classifier(model, data, scored=scored),
    }


def _per_user(data: Dataset, pred: npt.NDArray[np.str_], scored: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Accuracy and macro-F1 of each user's scored sections: how much a figure varies by person."""
    out: dict[str, dict[str, Any]] = {}
    for user in sorted(set(data.groups.tolist())):
        mine = data.groups == user
        report = classification_report(data.y[mine], pred[mine], labels=scored)
        if report["n"]:
            out[user] = {
                "sections": report["n"],
                "accuracy": report["accuracy"],
                "macro_f1": report["macro_f1"],
            }
    return out


@dataclass(frozen=True, slots=True)
class _UserTime:
    """One user's labelled time: per fix-to-fix interval, true mode, predicted mode (or "none") and
    seconds; per labelled interval, its mode and the predicted mode covering most of its time."""

    truths: list[str]
    preds: list[str]
    secs: list[float]
    main: list[tuple[str, str]]


def _main_mode(labels: npt.NDArray[np.str_], dt: F64) -> str:
    """The predicted mode (or "none") holding most of a labelled interval's seconds."""
    names, at = np.unique(labels, return_inverse=True)
    return str(names[int(np.argmax(np.bincount(at, weights=dt)))])


def _end_to_end_user(
    user: GeolifeUser,
    classified: Classified,
    history: _History | None = None,
    *,
    max_gap_s: float = END_TO_END_MAX_GAP_S,
    served: npt.NDArray[np.str_] | None = None,
) -> _UserTime:
    """The user's labelled time scored against their track segmented and classified
    (``classify(model, segment(user.track))``), between fixes at most ``max_gap_s`` apart.
    ``served`` gives each section's mode (sections in trip order) instead of the classification."""
    cleaned = classified.seg.cleaned
    bounds = [(s.start, s.end) for trip in classified.seg.trips for s in trip.sections]
    # The sections' times as the API shows them (each to the next one's first fix).
    times = [span for trip in classified.seg.trips for span in trip.section_times(cleaned.t_s)]
    sec_t0 = np.asarray([t0 for t0, _ in times], dtype=np.float64)
    sec_t1 = np.asarray([t1 for _, t1 in times], dtype=np.float64)
    if not bounds:
        pred = np.empty(0, dtype=np.str_)
    elif served is not None:
        pred = served
    elif history is None:
        pred = _arg_max(own_mix(classified.proba), classified.classes)
    else:
        points = kinematics(classified.x)
        pred, _, _ = history.predict(classified.proba, classified.classes, cleaned, bounds, points=points)
    order = np.argsort(sec_t0)
    sec_t0, sec_t1, pred = sec_t0[order], sec_t1[order], pred[order]
    t = user.track.t_s
    truths: list[str] = []
    preds: list[str] = []
    secs: list[float] = []
    main: list[tuple[str, str]] = []
    for iv in user.labels:
        i0 = int(np.searchsorted(t, iv.start_s, side="left"))
        i1 = int(np.searchsorted(t, iv.end_s, side="right"))
        if i1 - i0 < 2:
            continue
        dt = np.diff(t[i0:i1])
        mid = 0.5 * (t[i0 : i1 - 1] + t[i0 + 1 : i1])
        ok = dt <= max_gap_s
        dt, mid = dt[ok], mid[ok]
        k = np.searchsorted(sec_t0, mid, side="right") - 1
        inside = (k >= 0) & (mid <= sec_t1[np.clip(k, 0, None)]) if sec_t0.size else np.zeros(mid.shape, bool)
        labels = np.where(inside, pred[np.clip(k, 0, max(pred.size - 1, 0))] if pred.size else "none", "none")
        truths.extend([iv.mode] * int(dt.size))
        preds.extend(labels.tolist())
        secs.extend(dt.tolist())
        if dt.size:
            main.append((iv.mode, _main_mode(labels, dt)))
    return _UserTime(truths, preds, secs, main)


class _TimeScores:
    """Labelled seconds, their true and predicted modes, gathered user by user."""

    def __init__(self) -> None:
        self.truths: list[str] = []
        self.preds: list[str] = []
        self.secs: list[float] = []
        self.main: list[tuple[str, str]] = []

    def add(self, scored: _UserTime) -> None:
        self.truths += scored.truths
        self.preds += scored.preds
        self.secs += scored.secs
        self.main += scored.main

    def report(self) -> dict[str, Any]:
        w = np.asarray(self.secs, dtype=np.float64)
        yt = np.asarray(self.truths, dtype=np.str_)
        yp = np.asarray(self.preds, dtype=np.str_)
        scored = np.isin(yt, list(SCORED_MODES))
        report = classification_report(yt, yp, labels=SCORED_MODES, weights=w)
        total = float(w[scored].sum())
        return {
            "available": True,
            "labelled_hours": round(total / 3600.0, 2),
            "time_accuracy": report["accuracy"],
            "macro_f1": report["macro_f1"],
            "coverage": round(float(w[scored & (yp != "none")].sum()) / total, 4) if total > 0 else None,
            "per_class": report["per_class"],
            "confusion_seconds": report["confusion"],
            "main_mode": self._main_mode_report(),
        }

    def _main_mode_report(self) -> dict[str, Any]:
        """Each labelled interval (a GeoLife label: often a whole trip, walks to and from the
        vehicle included) scored once, by the predicted mode covering most of its time."""
        true = [t for t, _ in self.main]
        pred = [p for _, p in self.main]
        report = classification_report(true, pred, labels=SCORED_MODES)
        return {
            "intervals": report["n"],
            "accuracy": report["accuracy"],
            "macro_f1": report["macro_f1"],
            "f1": {m: v["f1"] for m, v in report["per_class"].items()},
            "confusion": report["confusion"],
        }


def evaluate_end_to_end(model: ModeClassifier, users: Iterable[GeolifeUser]) -> dict[str, Any]:
    """Full pipeline from raw fixes (``core.segmentation.segment``, then the classifier with pieces of
    one vehicle leg rejoined as :mod:`models.sections` does in production), scored over
    labelled time with fixes (no gap over 10 minutes): ``time_accuracy`` (right mode), ``macro_f1``
    over time, ``coverage`` (share of that time inside any section) and ``main_mode`` (each labelled
    interval once, by the predicted mode, or none, covering most of its scored time: what a tester
    reads as the trip's mode when a label spans a whole trip).

    ``all_labelled_time`` scores the same over all labelled time, signal gaps included: the label
    says how its person travelled while the phone logged nothing, and a gap no section covers counts
    as none. Only there does a section across a gap (a flight, a ride underground) earn or lose
    anything; without it, a gap's time would count only when a section covered it."""
    scores, whole = _TimeScores(), _TimeScores()
    for user in users:
        classified = classify(model, segment(user.track))
        scores.add(_end_to_end_user(user, classified))
        whole.add(_end_to_end_user(user, classified, max_gap_s=math.inf))
    everything = whole.report()
    main = everything["main_mode"]
    return {
        **scores.report(),
        "all_labelled_time": {
            **_brief_end_to_end(everything),
            "main_mode": {k: main[k] for k in ("intervals", "accuracy", "macro_f1", "f1")},
        },
    }


def _confirmation(
    track: Track,
    a: int,
    b: int,
    *,
    start: F64,
    end: F64,
    mode: str,
    point: F64,
    shown: tuple[str, float] | None = None,
) -> Confirmation:
    """Fixes ``[a, b)`` of ``track`` confirmed as ``mode``, as the store keeps a confirmation: its
    ends (``start`` and ``end``, latitude and longitude, from :func:`core.history.section_ends`),
    the section's stored geometry as its path, its kinematics (``point``, the section's row of
    :func:`core.history.kinematics`), and the mode and probability the tester was shown (``shown``;
    unknown without)."""
    return Confirmation(
        shown_mode=None if shown is None else shown[0],
        shown_probability=None if shown is None else shown[1],
        start_lat=float(start[0]),
        start_lon=float(start[1]),
        end_lat=float(end[0]),
        end_lon=float(end[1]),
        mode=mode,
        path_lonlat=tuple(line_positions(simplified_linestring(track.lat[a:b], track.lon[a:b]))),
        kinematics=tuple(point.tolist()),
    )


@dataclass(frozen=True, slots=True)
class _History:
    """One user's labelled sections seen as confirmations, each usable once it has ended."""

    confirmations: list[Confirmation]
    ended_s: F64
    params: HistoryParams

    @staticmethod
    def of(
        user: GeolifeUser,
        labelled: Sequence[LabelledSection],
        share: float,
        rng: np.random.Generator,
        params: HistoryParams,
        *,
        points: F64,
    ) -> _History:
        """The ``share`` of ``labelled`` drawn with ``rng``, as confirmations; ``points`` are the
        :func:`core.history.kinematics` of ``labelled``, row for row."""
        drawn = [k for k in range(len(labelled)) if rng.random() < share]
        kept = [labelled[k] for k in drawn]
        starts, ends = section_ends(user.track, [(s.start, s.end) for s in kept])
        return _History(
            confirmations=[
                _confirmation(user.track, s.start, s.end, start=start, end=end, mode=s.mode, point=points[k])
                for k, s, start, end in zip(drawn, kept, starts, ends, strict=True)
            ],
            ended_s=np.asarray([s.interval.end_s for s in kept], dtype=np.float64),
            params=params,
        )

    def predict(
        self,
        proba: F64,
        classes: Sequence[str],
        track: Track,
        bounds: Sequence[tuple[int, int]],
        *,
        points: F64,
    ) -> tuple[npt.NDArray[np.str_], int, list[int]]:
        """Arg-max mode of each section (its :func:`core.history.kinematics` in ``points``) after
        mixing in the confirmations that ended before it began, how many sections had a match on
        their route, and how many confirmations each had."""
        starts, ends = section_ends(track, bounds)
        out: list[str] = []
        matched = 0
        counts: list[int] = []
        for k, (start, _) in enumerate(bounds):
            earlier = [
                c for c, e in zip(self.confirmations, self.ended_s, strict=True) if e < track.t_s[start]
            ]
            mixed = assist(
                proba[k : k + 1],
                classes,
                starts[k : k + 1],
                ends[k : k + 1],
                earlier,
                pool=proba[max(0, k - self.params.own_sections) : k],
                points=points[k : k + 1],
                params=self.params,
            )
            out.append(mixed.classes[int(np.argmax(mixed.proba[0]))])
            matched += int(mixed.matched[0])
            counts.append(len(earlier))
        return np.asarray(out, dtype=np.str_), matched, counts


class _HistoryScores:
    """What :func:`evaluate_with_history` gathers for one share of confirmed trips."""

    def __init__(self, share: float, seed: int) -> None:
        self.share = share
        self.rng = np.random.default_rng(seed)
        self.helped: list[str] = []
        self.matched = 0
        self.earlier: list[int] = []  # confirmations each scored section could use
        self.e2e = _TimeScores()


def evaluate_with_history(
    model: ModeClassifier,
    users: Iterable[GeolifeUser],
    *,
    shares: Sequence[float] = (1.0,),
    seed: int = 0,
    end_to_end: bool = True,
    params: HistoryParams = DEFAULT_HISTORY,
) -> list[dict[str, Any]]:
    """Scores with the user's own earlier labels as confirmations (:mod:`core.history`), as a
    tester who confirms their trips would see them: ``classifier`` (sections cut at the labelled
    intervals) and ``end_to_end`` (the full pipeline), as in the main evaluation; one result per
    share of confirmed trips in ``shares``.

    A section may use only labelled sections of the same user that ended before it began: no label
    of its own, nothing from the future, nothing from another person. A share is the share of
    labelled sections taken as confirmed (drawn with ``seed``, the same draws for every share):
    1.0 is a tester who confirms every trip. ``without_history`` scores the same sections without
    confirmations (the model weighed by the user's own mix of modes read without labels, as a new
    tester gets them); ``matched_share`` is the share of scored sections with at least one match on
    their route. This is not the figure for users never seen (``classifier`` of the main
    evaluation): it needs the user's own labels. Each user is segmented, classified and featurised
    once for all shares; ``end_to_end`` False skips the pipeline part (the slow one).
    """
    runs = [_HistoryScores(share, seed) for share in shares]
    truths: list[str] = []
    alone: list[str] = []
    for user in users:
        labelled = labelled_sections(user)
        classified = classify(model, segment(user.track)) if end_to_end else None
        # Every labelled section's features, once: the scored ones are classified, any may be
        # drawn as a confirmation.
        x = features_matrix(user.track, [(s.start, s.end) for s in labelled])
        points = kinematics(x)
        scored = [k for k, s in enumerate(labelled) if s.mode in SCORED_MODES]
        sections = [labelled[k] for k in scored]
        bounds = [(s.start, s.end) for s in sections]
        proba, classes = predict_proba(model, x[scored])
        truths += [s.mode for s in sections]
        alone += _arg_max(own_mix(proba, params), classes).tolist()
        for run in runs:
            history = _History.of(user, labelled, run.share, run.rng, params, points=points)
            if classified is not None:
                run.e2e.add(_end_to_end_user(user, classified, history))
            if sections:
                pred, hits, earlier = history.predict(
                    proba, classes, user.track, bounds, points=points[scored]
                )
                run.helped += pred.tolist()
                run.matched += hits
                run.earlier += earlier
    y = np.asarray(truths, dtype=np.str_)
    without = classification_report(y, np.asarray(alone, dtype=np.str_), labels=SCORED_MODES)
    return [
        {
            "radius_m": params.radius_m,
            "confirmed_share": run.share,
            "classifier": {
                "sections": len(truths),
                "matched_share": round(run.matched / len(truths), 4) if truths else None,
                "with_history": classification_report(
                    y, np.asarray(run.helped, dtype=np.str_), labels=SCORED_MODES
                ),
                "without_history": {k: without[k] for k in ("n", "accuracy", "macro_f1")},
                "by_earlier_confirmations": _by_earlier(
                    y, np.asarray(alone), np.asarray(run.helped), run.earlier
                ),
            },
            "end_to_end": run.e2e.report() if end_to_end else {"available": False, "reason": "skipped"},
        }
        for run in runs
    ]


_EARLIER_BINS = (0, 1, 5, 20, 100)  # how many confirmations a section could use: 0, 1-4, 5-19, ...


def _by_earlier(
    truth: npt.NDArray[np.str_],
    alone: npt.NDArray[np.str_],
    helped: npt.NDArray[np.str_],
    earlier: Sequence[int],
) -> list[dict[str, Any]]:
    """Accuracy without and with the history by how many confirmations the section could use: how
    soon a new tester's confirmations start to pay."""
    counts = np.asarray(earlier)
    out: list[dict[str, Any]] = []
    for lo, hi in zip(_EARLIER_BINS, (*_EARLIER_BINS[1:], None), strict=True):
        sel = (counts >= lo) & (counts < hi if hi is not None else True)
        n = int(sel.sum())
        out.append(
            {
                "earlier_confirmations": f"{lo}+"
                if hi is None
                else (f"{lo}-{hi - 1}" if hi > lo + 1 else str(lo)),
                "sections": n,
                "accuracy_without_history": round(float(np.mean(alone[sel] == truth[sel])), 4) if n else None,
                "accuracy_with_history": round(float(np.mean(helped[sel] == truth[sel])), 4) if n else None,
            }
        )
    return out


ASK_THRESHOLDS = (0.6, 0.7, ASK_BELOW, 0.9)  # ``ask_below`` values the evaluation compares


@dataclass(frozen=True, slots=True)
class _Served:
    """One user's sections in time order, asked about or not: the mode the tester was shown before
    any answer (``pred``), the mode the tester ends with (their answer where asked, ``served``), and
    each answer with what it was shown (``None`` where the tester said nothing), and which sections
    were asked only because they were drawn for audit (``drawn``)."""

    pred: list[str]
    served: list[str]
    asked: list[bool]
    answers: list[Answered | None]
    drawn: list[bool]


def _said_rightly(k: int, truth: str, shown: str) -> str:
    return truth


def _serve(
    proba: F64,
    classes: Sequence[str],
    track: Track,
    bounds: Sequence[tuple[int, int]],
    *,
    x: F64,
    truths: Sequence[str | None],
    ask: Callable[[F64], bool],
    params: HistoryParams = DEFAULT_HISTORY,
    answers: Callable[[], bool] = lambda: True,
    answer_of: Callable[[int, str, str], str] = _said_rightly,
    trips: Sequence[int] | None = None,
    shown_map: Callable[[F64], F64] | None = None,
    audit: Sequence[bool] | None = None,
) -> _Served:
    """Serve the sections ``bounds`` (in time order, not overlapping; ``x`` their feature rows) of
    a tester who confirmed nothing to begin with: each is classified with the answers given before
    it began (as :func:`core.history.assist` mixes confirmations), then asked about when ``ask``
    says so given its probabilities (one row per section asked together), and answered with its
    true mode
    (``truths``; ``None``, unknown, asks and learns nothing) when ``answers`` says the tester
    answers; ``answer_of`` gives the answer about section ``k`` of true mode ``truth`` shown as
    ``shown`` (the truth itself unless the tester errs). An answer helps the sections after it,
    like any confirmation. With ``trips`` (each section's trip, sections of a trip next to each
    other), a trip is asked about as a whole, as the app's list of trips to confirm shows them:
    when ``ask`` says so for its sections, the tester answers for every section of it.
    ``shown_map`` maps the probabilities as the pipeline's calibration does (:mod:`core.calibration`)
    before they are asked about and shown. ``audit`` (one per section) marks the sections drawn for
    audit (:func:`core.history.audited`), asked about whatever their probabilities."""
    starts, ends = section_ends(track, bounds)
    points = kinematics(x)
    given: list[Confirmation] = []
    answered_at: list[float] = []  # each answer's section end, in time order
    out = _Served(pred=[], served=[], asked=[], answers=[], drawn=[])
    groups = [[k] for k in range(len(bounds))] if trips is None else _runs(trips)
    for group in groups:
        k0, k1 = group[0], group[-1] + 1
        earlier = given[: bisect.bisect_left(answered_at, float(track.t_s[bounds[k0][0]]))]
        mixed = assist(
            proba[k0:k1],
            classes,
            starts[k0:k1],
            ends[k0:k1],
            earlier,
            pool=proba[max(0, k0 - params.own_sections) : k0],
            points=points[k0:k1],
            params=params,
        )
        if shown_map is not None:
            mixed = dataclasses.replace(mixed, proba=shown_map(mixed.proba))
        unsure_of = ask(mixed.proba)
        drawn = not unsure_of and audit is not None and any(audit[k] for k in group)
        asked = unsure_of or drawn
        answered = asked and answers()
        for row, k in enumerate(group):
            a, b = bounds[k]
            mode = mixed.classes[int(np.argmax(mixed.proba[row]))]
            out.pred.append(mode)
            out.asked.append(asked)
            out.drawn.append(drawn)
            truth = truths[k] if answered else None
            said = None if truth is None else answer_of(k, truth, mode)
            answer = None
            if said is not None:
                shown = (mode, float(mixed.proba[row].max()))
                answer = Answered(mode=said, shown_mode=mode, shown_probability=shown[1])
                given.append(
                    _confirmation(
                        track, a, b, start=starts[k], end=ends[k], mode=said, point=points[k], shown=shown
                    )
                )
                answered_at.append(float(track.t_s[b - 1]))
            out.served.append(mode if said is None else said)
            out.answers.append(answer)
    return out


def _runs(keys: Sequence[int]) -> list[list[int]]:
    """Indices of ``keys`` grouped in runs of equal neighbours."""
    out: list[list[int]] = []
    for k, key in enumerate(keys):
        if out and keys[out[-1][-1]] == key:
            out[-1].append(k)
        else:
            out.append([k])
    return out


def _below(ask_below: float) -> Callable[[F64], bool]:
    return lambda shown: bool(unsure(shown, ask_below).any())


def _at_random(share: float, rng: np.random.Generator) -> Callable[[F64], bool]:
    return lambda _shown: bool(rng.random() < share)


def _section_truths(user: GeolifeUser, t0: F64, t1: F64) -> list[str | None]:
    """Each pipeline section's true mode, as its tester would confirm it: the label of most of its
    labelled fixes (any label, scored or not), ``None`` where none of its fixes is labelled."""
    t = user.track.t_s
    label = np.full(t.shape, "", dtype=object)
    for iv in user.labels:
        label[int(np.searchsorted(t, iv.start_s, "left")) : int(np.searchsorted(t, iv.end_s, "right"))] = (
            iv.mode
        )
    out: list[str | None] = []
    for a, b in zip(
        np.searchsorted(t, t0, "left").tolist(), np.searchsorted(t, t1, "right").tolist(), strict=True
    ):
        known = [m for m in label[a:b].tolist() if m]
        out.append(Counter(known).most_common(1)[0][0] if known else None)
    return out


@dataclass(frozen=True, slots=True)
class _LabelledCut:
    """One user's sections cut at their labelled intervals (scored modes only), with their feature
    rows and the model's probabilities."""

    user: str
    track: Track
    bounds: list[tuple[int, int]]
    truths: list[str]
    x: F64
    proba: F64
    classes: tuple[str, ...]

    @staticmethod
    def of(model: ModeClassifier, user: GeolifeUser) -> _LabelledCut:
        sections = [s for s in labelled_sections(user) if s.mode in SCORED_MODES]
        bounds = [(s.start, s.end) for s in sections]
        x = features_matrix(user.track, bounds)
        proba, classes = predict_proba(model, x)
        return _LabelledCut(
            user=user.user,
            track=user.track,
            bounds=bounds,
            truths=[s.mode for s in sections],
            x=x,
            proba=proba,
            classes=tuple(classes),
        )

    def serve(
        self,
        ask: Callable[[F64], bool],
        params: HistoryParams,
        *,
        answers: Callable[[], bool] = lambda: True,
        answer_of: Callable[[int, str, str], str] = _said_rightly,
        shown_map: Callable[[F64], F64] | None = None,
        audit: Sequence[bool] | None = None,
    ) -> _Served:
        return _serve(
            self.proba,
            self.classes,
            self.track,
            self.bounds,
            x=self.x,
            truths=self.truths,
            ask=ask,
            params=params,
            answers=answers,
            answer_of=answer_of,
            shown_map=shown_map,
            audit=audit,
        )


class _AskScores:
    """Per-section modes before and after the answers, and which sections were asked, user by user."""

    def __init__(self) -> None:
        self.truths: list[str] = []
        self.pred: list[str] = []
        self.served: list[str] = []
        self.asked: list[bool] = []

    def add(self, truths: Sequence[str], served: _Served) -> None:
        self.truths += truths
        self.pred += served.pred
        self.served += served.served
        self.asked += served.asked

    def report(self) -> dict[str, Any]:
        y = np.asarray(self.truths, dtype=np.str_)
        pred = np.asarray(self.pred, dtype=np.str_)
        asked = np.asarray(self.asked, dtype=np.bool_)
        short = ("accuracy", "macro_f1")
        return {
            "asked": int(asked.sum()),
            "asked_share": round(float(asked.mean()), 4) if asked.size else None,
            "wrong_among_asked": round(float(np.mean(pred[asked] != y[asked])), 4) if asked.any() else None,
            "wrong_among_not_asked": round(float(np.mean(pred[~asked] != y[~asked])), 4)
            if (~asked).any()
            else None,
            "shown_before_answers": brief(classification_report(y, pred, labels=SCORED_MODES)),
            "after_answers": brief(
                classification_report(y, np.asarray(self.served, dtype=np.str_), labels=SCORED_MODES)
            ),
            "not_asked": {
                k: v
                for k, v in classification_report(y[~asked], pred[~asked], labels=SCORED_MODES).items()
                if k in short
            },
        }


def evaluate_asking(
    model: ModeClassifier,
    users: Iterable[GeolifeUser],
    *,
    thresholds: Sequence[float] = ASK_THRESHOLDS,
    seed: int = 0,
    end_to_end: bool = True,
    params: HistoryParams = DEFAULT_HISTORY,
) -> dict[str, Any]:
    """What asking a new tester about the sections the model is least sure of earns
    (:func:`core.history.unsure`): for each ``ask_below`` in ``thresholds``, the share of sections
    asked, the modes shown before any answer and after the answers (an asked section takes its true
    mode, as the tester confirms it; earlier answers help later sections), and the same with as many
    sections asked at random (``at_random_same_share``), which is what asking blindly earns.
    ``half_answered`` is ``ask_below`` = :data:`core.history.ASK_BELOW` for a tester who answers
    one question in two, drawn at random (unanswered sections keep the model's mode, and may be
    asked again as ``asked`` counts them: each section once).

    ``per_section`` serves sections cut at the labelled intervals, as ``classifier`` scores them;
    ``end_to_end`` (``ask_below`` = :data:`core.history.ASK_BELOW` only) serves the pipeline's
    sections and scores labelled time as ``end_to_end`` does, an asked section taking the label of
    most of its fixes (its fixes under another label stay wrong; one under no label is asked, and
    its unknown answer is not used). ``questions_per_day`` is the mean number of sections asked per
    day with any section. Except in ``half_answered``, every asked section is assumed answered; an
    answer is always right except in ``one_answer_in_ten_wrong``, ``looks_right_always`` and
    ``looks_right_one_time_in_two`` (the mode shown, without looking, on every question or one in
    two). ``calibrated`` shows the probabilities calibrated (:func:`_asking_calibrated`);
    ``audited`` asks the sections drawn for audit too (:func:`_asking_audited`).
    """
    runs = [(tau, _AskScores(), _AskScores()) for tau in thresholds]
    rng = np.random.default_rng(seed)
    cut: list[_LabelledCut] = []
    pipelined: list[tuple[GeolifeUser, Classified]] = []
    for user in users:
        cut.append(_LabelledCut.of(model, user))
        if end_to_end:
            pipelined.append((user, classify(model, segment(user.track))))
    for tau, below, at_random in runs:
        for one in cut:
            below.add(one.truths, one.serve(_below(tau), params))
        share = below.report()["asked_share"] or 0.0
        for one in cut:
            at_random.add(one.truths, one.serve(_at_random(share, rng), params))
    report: dict[str, Any] = {
        "per_section": [
            {
                "ask_below": tau,
                **below.report(),
                "at_random_same_share": {
                    k: v
                    for k, v in at_random.report().items()
                    if k in ("asked", "shown_before_answers", "after_answers")
                },
            }
            for tau, below, at_random in runs
        ],
    }
    half = _AskScores()
    for one in cut:
        half.add(one.truths, one.serve(_below(ASK_BELOW), params, answers=lambda: bool(rng.random() < 0.5)))
    report["half_answered"] = {
        "ask_below": ASK_BELOW,
        **{k: v for k, v in half.report().items() if k in ("asked", "asked_share", "after_answers")},
    }
    # Its own draws, so that the other parts' random figures stay as they were.
    report["one_answer_in_ten_wrong"] = _wrong_answers(
        cut, np.random.default_rng([seed, 10]), params, share=0.1
    )
    report["looks_right_always"] = _looks_right_always(cut, params)
    report["looks_right_one_time_in_two"] = _looks_right_sometimes(
        cut, np.random.default_rng([seed, 2]), params, share=0.5
    )
    report["calibrated"] = _asking_calibrated(cut, params, seed=seed)
    report["audited"] = _asking_audited(cut, np.random.default_rng([seed, 20]), params)
    if pipelined:
        report["end_to_end"] = _asking_end_to_end(pipelined, rng, params)
    return report


def _asking_calibrated(
    cut: Sequence[_LabelledCut], params: HistoryParams, *, folds: int = 6, seed: int = 0
) -> dict[str, Any]:
    """Asking as :func:`evaluate_asking` does, the probabilities shown calibrated as the pipeline
    calibrates them (:mod:`core.calibration`), each user's by a map fitted on the other users'
    sections (user-wise), and asked below the map's image of :data:`core.history.ASK_BELOW`: the
    same order of sections, so what differs from asking uncalibrated is what the answers weigh
    (:func:`core.history.answer_weights` reads the probability shown). For an attentive tester, and
    one who taps "looks right" every time. The maps are fitted on every section (the ceiling of
    ``calibration``); ``as_deployed`` fits them as a deployment does, on the other users' sections
    asked below ``ASK_BELOW`` and drawn for audit (:data:`core.history.AUDIT_SHARE`, drawn at random
    with ``seed``, audit answers weighing ``1 / AUDIT_SHARE``), and asks the drawn sections too."""
    from sklearn.model_selection import GroupKFold

    cut = [c for c in cut if c.truths]
    groups = np.asarray([c.user for c in cut for _ in c.truths], dtype=np.str_)
    users = sorted(set(groups.tolist()))
    if len(users) < 2:
        return {"available": False, "reason": "fewer than two users: nobody to hold out"}
    proba = np.vstack([c.proba for c in cut])
    mine = _adapted_by_user(proba, groups)
    right = _arg_max(mine, cut[0].classes) == np.asarray([t for c in cut for t in c.truths], dtype=np.str_)
    shown = mine.max(axis=1)
    drawn = np.random.default_rng([seed, 21]).random(shown.size) < AUDIT_SHARE
    answered = _answered_when_asked_or_audited(shown, drawn)
    ceiling: dict[str, tuple[float, float]] = {}
    deployed: dict[str, tuple[float, float]] = {}
    for train, test in GroupKFold(n_splits=min(folds, len(users))).split(proba, right, groups):
        held_out = set(groups[test].tolist())
        ceiling.update(dict.fromkeys(held_out, calibration.fit(shown[train], right[train])))
        fit_on = train[answered[train] > 0]
        deployed.update(
            dict.fromkeys(held_out, calibration.fit(shown[fit_on], right[fit_on], answered[fit_on]))
        )
    out = _served_asking(cut, params, ceiling, audit=None)
    ends = np.cumsum([len(c.truths) for c in cut])[:-1]
    audit = [a.tolist() for a in np.split(drawn, ends)]
    out["as_deployed"] = {
        "audit_share": AUDIT_SHARE,
        **_served_asking(cut, params, deployed, audit=audit),
    }
    return out


def _served_asking(
    cut: Sequence[_LabelledCut],
    params: HistoryParams,
    maps: dict[str, tuple[float, float]] | None,
    *,
    audit: Sequence[list[bool]] | None,
) -> dict[str, Any]:
    """Each user's sections served to an attentive tester and to one who taps "looks right" every
    time, asked below ``ASK_BELOW`` and, with ``audit`` (per user, per section), when drawn; with
    ``maps`` (slope and intercept per user), shown through the user's map and asked below its image
    of ``ASK_BELOW``."""
    out: dict[str, Any] = {}
    for name, answer_of in (("attentive", _said_rightly), ("looks_right_always", _as_shown)):
        scores = _AskScores()
        only = 0
        for k, c in enumerate(cut):
            below, shown_map = ASK_BELOW, None
            if maps is not None:
                slope, intercept = maps[c.user]
                below = calibration.ask_below_for_same_sections(ASK_BELOW, slope, intercept)
                shown_map = functools.partial(calibration.calibrate, slope=slope, intercept=intercept)
            served = c.serve(
                _below(below),
                params,
                answer_of=answer_of,
                shown_map=shown_map,
                audit=None if audit is None else audit[k],
            )
            scores.add(c.truths, served)
            only += sum(served.drawn)
        r = scores.report()
        out[name] = {k: r[k] for k in ("asked", "asked_share", "after_answers")}
        if audit is not None:
            out[name]["audit_only"] = only
    return out


def _asking_audited(
    cut: Sequence[_LabelledCut],
    rng: np.random.Generator,
    params: HistoryParams,
    *,
    share: float = AUDIT_SHARE,
) -> dict[str, Any]:
    """Asking as the app does by default: below :data:`core.history.ASK_BELOW`, and ``share`` of the
    sections drawn for audit whatever their probabilities (:func:`core.history.audited`; here drawn
    at random, the same sections in every run), whose answers a calibration needs
    (:mod:`core.calibration`). What the draw costs in questions (``audit_only``: sections asked only
    because they were drawn) and what the tester ends with, for an attentive tester and one who taps
    "looks right" every time."""
    drawn = [(rng.random(len(one.truths)) < share).tolist() for one in cut]
    return {"ask_below": ASK_BELOW, "audit_share": share, **_served_asking(cut, params, None, audit=drawn)}


def _said(answers: Sequence[str], k: int, truth: str, shown: str) -> str:
    return answers[k]


def _as_shown(k: int, truth: str, shown: str) -> str:
    return shown


def _wrong_answers(
    cut: Sequence[_LabelledCut], rng: np.random.Generator, params: HistoryParams, *, share: float
) -> dict[str, Any]:
    """Asking below :data:`core.history.ASK_BELOW`, every question answered, but ``share`` of the
    answers wrong (another scored mode, drawn at random, the same for a section in both runs): what
    the tester ends with, and what the sections not asked about are shown, with the history's
    kinematic match and without it (an answer spreads further through the match, a wrong one too)."""
    wrong = [
        [
            str(rng.choice([m for m in SCORED_MODES if m != truth])) if rng.random() < share else truth
            for truth in one.truths
        ]
        for one in cut
    ]
    said = [functools.partial(_said, answers) for answers in wrong]
    return {"ask_below": ASK_BELOW, "wrong_share": share, **_with_and_without_match(cut, params, said)}


def _looks_right_always(cut: Sequence[_LabelledCut], params: HistoryParams) -> dict[str, Any]:
    """Asking below :data:`core.history.ASK_BELOW`, a tester who taps "looks right" every time: each
    answer is the mode shown, so nothing is corrected and the history learns the model's own
    mistakes as confirmations. What the tester ends with and what the sections not asked about are
    shown, to hold against the model with the tester's own mix and no question
    (``classifier.open_set``), with the kinematic match and without it, and with every agreement
    counted in full (:func:`core.history.answer_weights` turned off)."""
    said = [_as_shown] * len(cut)
    return {"ask_below": ASK_BELOW, **_with_and_without_match(cut, params, said, in_full=True)}


def _sometimes_as_shown(blind: npt.NDArray[np.bool_], k: int, truth: str, shown: str) -> str:
    return shown if blind[k] else truth


def _looks_right_sometimes(
    cut: Sequence[_LabelledCut], rng: np.random.Generator, params: HistoryParams, *, share: float
) -> dict[str, Any]:
    """As :func:`_looks_right_always`, for a tester who taps "looks right" without looking on
    ``share`` of the questions (drawn at random, the same for a section in every run) and answers
    the others rightly."""
    said = [functools.partial(_sometimes_as_shown, rng.random(len(one.truths)) < share) for one in cut]
    return {
        "ask_below": ASK_BELOW,
        "blind_share": share,
        **_with_and_without_match(cut, params, said, in_full=True),
    }


def _with_and_without_match(
    cut: Sequence[_LabelledCut],
    params: HistoryParams,
    said: Sequence[Callable[[int, str, str], str]],
    *,
    in_full: bool = False,
) -> dict[str, Any]:
    """Asking below :data:`core.history.ASK_BELOW`, each user of ``cut`` answering as ``said`` (one
    per user) says: the share asked, what the tester ends with and what the sections not asked
    about are shown, with the history's kinematic match and without it; with ``in_full``, also with
    the match and every answer counted in full (``agreements_in_full``: answers that agree with the
    mode shown weigh as much as corrections, as before :func:`core.history.answer_weights`)."""
    out: dict[str, Any] = {}
    variants = [
        ("with_kinematic_match", params),
        ("without_kinematic_match", msgspec.structs.replace(params, kinematic_neighbours=0)),
    ]
    if in_full:
        variants.append(("agreements_in_full", msgspec.structs.replace(params, agreement_pseudocount=None)))
    for name, variant in variants:
        scores = _AskScores()
        for one, answer_of in zip(cut, said, strict=True):
            scores.add(one.truths, one.serve(_below(ASK_BELOW), variant, answer_of=answer_of))
        report = scores.report()
        out[name] = {k: report[k] for k in ("asked_share", "after_answers", "not_asked")}
    return out


@dataclass(frozen=True, slots=True)
class _PipelineCut:
    """One user's pipeline sections, in trip order: their fixes, their trip, their true mode
    (:func:`_section_truths`), and how many days have any section."""

    user: GeolifeUser
    classified: Classified
    bounds: list[tuple[int, int]]
    trips: list[int]
    truths: list[str | None]
    days: int

    @staticmethod
    def of(user: GeolifeUser, classified: Classified) -> _PipelineCut:
        seg = classified.seg
        times = np.asarray(
            [span for trip in seg.trips for span in trip.section_times(seg.cleaned.t_s)], dtype=np.float64
        ).reshape(-1, 2)
        return _PipelineCut(
            user=user,
            classified=classified,
            bounds=[(s.start, s.end) for trip in seg.trips for s in trip.sections],
            trips=[k for k, trip in enumerate(seg.trips) for _ in trip.sections],
            truths=_section_truths(user, times[:, 0], times[:, 1]),
            days=len({int(t0 // 86400.0) for t0 in times[:, 0].tolist()}),
        )

    def serve(self, ask: Callable[[F64], bool], params: HistoryParams, *, by_trip: bool = False) -> _Served:
        return _serve(
            self.classified.proba,
            self.classified.classes,
            self.classified.seg.cleaned,
            self.bounds,
            x=self.classified.x,
            truths=self.truths,
            ask=ask,
            params=params,
            trips=self.trips if by_trip else None,
        )

    def trips_asked(self, served: _Served) -> int:
        """Trips asked about when asked by trip (each trip counted once, at its first section)."""
        return sum(
            served.asked[k] for k, trip in enumerate(self.trips) if k == 0 or self.trips[k - 1] != trip
        )


def _asking_end_to_end(
    pipelined: Sequence[tuple[GeolifeUser, Classified]], rng: np.random.Generator, params: HistoryParams
) -> dict[str, Any]:
    """:func:`evaluate_asking`'s ``end_to_end``: the pipeline's sections served asking where unsure
    (:data:`core.history.ASK_BELOW`), then asking as many at random, then asking by trip
    (``by_trip``: a trip with a section to confirm is answered for all its sections, as a tester
    going through the app's list of trips to confirm would, correcting what is wrong and
    confirming the rest)."""
    cuts = [_PipelineCut.of(user, classified) for user, classified in pipelined]
    below = [cut.serve(_below(ASK_BELOW), params) for cut in cuts]
    asked = [a for served in below for a in served.asked]
    share = float(np.mean(asked)) if asked else 0.0
    served_by = {
        "below": below,
        "random": [cut.serve(_at_random(share, rng), params) for cut in cuts],
        "trip": [cut.serve(_below(ASK_BELOW), params, by_trip=True) for cut in cuts],
    }
    scores = {way: _TimeScores() for way in served_by}
    for way, rows in served_by.items():
        for cut, served in zip(cuts, rows, strict=True):
            scores[way].add(
                _end_to_end_user(cut.user, cut.classified, served=np.asarray(served.served, dtype=np.str_))
            )
    days = sum(cut.days for cut in cuts)
    asked_total = sum(asked)
    trips_asked = sum(cut.trips_asked(served) for cut, served in zip(cuts, served_by["trip"], strict=True))
    by_trip = [a for served in served_by["trip"] for a in served.asked]
    return {
        "ask_below": ASK_BELOW,
        "sections": len(asked),
        "asked": asked_total,
        "asked_share": round(share, 4),
        "questions_per_day": round(asked_total / days, 2) if days else None,
        "after_answers": _brief_end_to_end(scores["below"].report()),
        "at_random_same_share": _brief_end_to_end(scores["random"].report()),
        "by_trip": {
            "trips": sum(len(classified.seg.trips) for _, classified in pipelined),
            "trips_asked": trips_asked,
            "sections_asked_share": round(float(np.mean(by_trip)), 4) if by_trip else None,
            "trips_per_day": round(trips_asked / days, 2) if days else None,
            "after_answers": _brief_end_to_end(scores["trip"].report()),
        },
    }


def _macro_f1_without(report: dict[str, Any], excluded: str) -> float | None:
    f1s = [v["f1"] for m, v in report["per_class"].items() if m != excluded and v["support"]]
    return round(float(np.mean(f1s)), 4) if f1s else None


def cross_validate_users(
    data: Dataset, *, folds: int, fit: FitParams | None = None, extra_training: Dataset | None = None
) -> dict[str, Any]:
    """User-wise K-fold (GroupKFold by user): train on the other users' scored sections (plus
    ``extra_training``, e.g. synthetic data, if given), test on the held-out users' sections.

    Walk is labelled for few GeoLife users (in the development subset, one), so when they are held
    out no training user teaches walk: walk is scored only where it is labelled (rows of other
    users are never counted as walk), and ``macro_f1_without_walk`` gives the five vehicle modes'
    macro-F1 beside the six-mode one. Figures are given pooled (all held-out predictions together)
    and per fold, with each fold's per-class F1.
    """
    from sklearn.model_selection import GroupKFold

    scored = data.subset(np.isin(data.y, list(SCORED_MODES)))
    splits = GroupKFold(n_splits=folds).split(scored.X, scored.y, scored.groups)
    result, _ = _cross_validate(scored, splits, folds, fit, extra_training)
    return {"split": "by user", **result}


def cross_validate_random(
    data: Dataset, *, folds: int, seed: int = 0, fit: FitParams | None = None
) -> dict[str, Any]:
    """The published protocol, for comparison only: sections shuffled into K stratified folds
    regardless of user, so a user's other sections (their routes, their phone) are in training.
    Dabiri & Heaslip 2018 (84.8 % accuracy) split GeoLife so, over walk, bike, bus, driving (car
    and taxi) and train (train and subway): ``five_modes_as_published`` scores the same pooled
    predictions with metro counted as train. Never a figure for users the model has not seen."""
    from sklearn.model_selection import StratifiedKFold

    scored = data.subset(np.isin(data.y, list(SCORED_MODES)))
    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(scored.X, scored.y)
    result, predictions = _cross_validate(scored, splits, folds, fit, None)
    merged = {"metro": "train"}
    y_true = np.asarray([merged.get(m, m) for m in scored.y.tolist()])
    y_pred = np.asarray([merged.get(m, m) for m in predictions.tolist()])
    five = tuple(m for m in SCORED_MODES if m != "metro")
    return {
        "split": "random (sections of one user on both sides)",
        **result,
        "five_modes_as_published": brief(classification_report(y_true, y_pred, labels=five)),
    }


RETRAINING_VARIANTS = (
    "synthetic_only",
    "answers_in_full",
    "answers_weighed",
    "attentive_testers_only",
    "every_tester_attentive",
)


def evaluate_retraining(
    model: ModeClassifier,
    users: Iterable[GeolifeUser],
    synthetic: Dataset,
    *,
    folds: int = 6,
    blind_share: float = 1.0 / 3.0,
    seed: int = 0,
    fit: FitParams | None = None,
) -> dict[str, Any]:
    """What a model retrained on a pilot's answers earns for people never seen, with some testers
    tapping "looks right" without looking, with and without :func:`core.history.answer_weights`.

    Every user is a pilot tester asked below :data:`core.history.ASK_BELOW` by ``model`` (as
    ``asking`` serves them); ``blind_share`` of them, drawn with ``seed``, answer every question
    with the mode shown, the others rightly. In ``folds`` folds by user, a model is fitted on
    ``synthetic`` plus the other users' answers (their sections' feature rows, the answer as the
    mode) and scored on the held-out users' sections, weighed by their own mix as
    ``classifier.open_set``. Variants: ``synthetic_only`` (no answer: ``synthetic`` as the shipped
    model was trained, its figure is the model alone), ``answers_in_full``, ``answers_weighed``
    (each answer as its tester's :func:`core.history.answer_weights` weigh it),
    ``attentive_testers_only`` (the blind testers' answers left out, which nobody can do without
    knowing them) and ``every_tester_attentive`` (the same questions, every answer right: the most
    these answers could give; a blind tester is asked other questions than an attentive one would
    be, so it moves with the draw too). Only asked sections become labels, as in a pilot: a sample
    of the sections the model is least sure of."""
    cut = [_LabelledCut.of(model, user) for user in users]
    names = [one.user for one in cut]
    rng = np.random.default_rng(seed)
    blind = set(rng.choice(names, size=round(len(names) * blind_share), replace=False).tolist())
    answered: dict[str, tuple[npt.NDArray[np.intp], list[Answered]]] = {}
    for one in cut:
        said = _as_shown if one.user in blind else _said_rightly
        served = one.serve(_below(ASK_BELOW), DEFAULT_HISTORY, answer_of=said)
        rows = np.asarray([k for k, a in enumerate(served.answers) if a is not None], dtype=np.intp)
        answered[one.user] = (rows, [a for a in served.answers if a is not None])
    predictions: dict[str, list[npt.NDArray[np.str_]]] = {v: [] for v in RETRAINING_VARIANTS}
    truths: list[npt.NDArray[np.str_]] = []
    for k in range(folds):
        held = {one.user for one in cut[k::folds]}
        test = [one for one in cut if one.user in held and one.truths]
        train = [one for one in cut if one.user not in held]
        for variant in RETRAINING_VARIANTS:
            labels = _answers_as_training(train, answered, blind, variant)
            fitted = _FittedPipeline(fit_pipeline(Dataset.concat([synthetic, labels]), fit))
            for one in test:
                proba, names_out = predict_proba(fitted, one.x)
                predictions[variant].append(_arg_max(own_mix(proba), names_out))
        truths += [np.asarray(one.truths, dtype=np.str_) for one in test]
    y = np.concatenate(truths) if truths else np.empty(0, dtype=np.str_)
    weights = {
        name: answer_weights(answered[name][1], DEFAULT_HISTORY.agreement_pseudocount) for name in names
    }
    return {
        "folds": folds,
        "testers": len(names),
        "blind_testers": sorted(blind),
        "answers": sum(len(rows) for rows, _ in answered.values()),
        "blind_answers": sum(len(answered[name][0]) for name in blind),
        "blind_answers_right": _share_right(cut, answered, blind),
        "mean_weight_blind": _mean_weight(weights, blind),
        "mean_weight_attentive": _mean_weight(weights, set(names) - blind),
        "synthetic_sections": len(synthetic),
        **{
            v: brief(classification_report(y, np.concatenate(predictions[v]), labels=SCORED_MODES))
            for v in RETRAINING_VARIANTS
        },
    }


def _answers_as_training(
    train: Sequence[_LabelledCut],
    answered: dict[str, tuple[npt.NDArray[np.intp], list[Answered]]],
    blind: set[str],
    variant: str,
) -> Dataset:
    """The answers of the ``train`` users as :func:`evaluate_retraining`'s ``variant`` uses them."""
    parts = []
    for one in train:
        rows, answers = answered[one.user]
        if variant == "synthetic_only" or not len(rows):
            continue
        if variant == "attentive_testers_only" and one.user in blind:
            continue
        truths = np.asarray(one.truths, dtype=np.str_)[rows]
        said = np.asarray([a.mode for a in answers], dtype=np.str_)
        weighed = variant == "answers_weighed"
        parts.append(
            Dataset(
                X=one.x[rows],
                y=truths if variant == "every_tester_attentive" else said,
                groups=np.full(len(rows), one.user, dtype=np.str_),
                weights=answer_weights(answers, DEFAULT_HISTORY.agreement_pseudocount if weighed else None),
            )
        )
    return Dataset.concat(parts)


def _share_right(
    cut: Sequence[_LabelledCut],
    answered: dict[str, tuple[npt.NDArray[np.intp], list[Answered]]],
    among: set[str],
) -> float | None:
    right = total = 0
    for one in cut:
        if one.user in among:
            rows, answers = answered[one.user]
            right += sum(one.truths[r] == a.mode for r, a in zip(rows.tolist(), answers, strict=True))
            total += len(answers)
    return round(right / total, 4) if total else None


def _mean_weight(weights: dict[str, F64], among: set[str]) -> float | None:
    values = [weights[name] for name in among if weights[name].size]
    return round(float(np.concatenate(values).mean()), 4) if values else None


def _cross_validate(
    scored: Dataset,
    splits: Iterable[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]],
    folds: int,
    fit: FitParams | None,
    extra_training: Dataset | None,
) -> tuple[dict[str, Any], npt.NDArray[np.str_]]:
    """Fit on each split's training rows (plus ``extra_training``), predict its test rows: the
    pooled and per-fold reports, and the pooled predictions, row for row."""
    y_pred = np.empty(len(scored), dtype=object)
    fold_reports: list[dict[str, Any]] = []
    for train_idx, test_idx in splits:
        train = Dataset(X=scored.X[train_idx], y=scored.y[train_idx], groups=scored.groups[train_idx])
        if extra_training is not None:
            train = Dataset.concat([train, extra_training])
        pipeline = fit_pipeline(train, fit)
        fitted = _FittedPipeline(pipeline)
        pred = predict_labels(fitted, scored.X[test_idx], among=SCORED_MODES)
        y_pred[test_idx] = pred
        fold = classification_report(scored.y[test_idx], pred, labels=SCORED_MODES)
        fold_reports.append(
            {
                "test_users": sorted(set(scored.groups[test_idx].tolist())),
                "sections": int(test_idx.size),
                "train_walk_sections": int((train.y == "walk").sum()),
                "accuracy": fold["accuracy"],
                "macro_f1": fold["macro_f1"],
                "macro_f1_without_walk": _macro_f1_without(fold, "walk"),
                "f1": {m: v["f1"] for m, v in fold["per_class"].items() if v["support"]},
            }
        )
    predictions = y_pred.astype(np.str_)
    overall = classification_report(scored.y, predictions, labels=SCORED_MODES)
    f1s = [f["macro_f1"] for f in fold_reports if f["macro_f1"] is not None]
    return {
        "folds": folds,
        "users": len(set(scored.groups.tolist())),
        "walk_users": sorted(set(scored.groups[scored.y == "walk"].tolist())),
        "extra_training_sections": 0 if extra_training is None else len(extra_training),
        "pooled": overall,
        "pooled_macro_f1_without_walk": _macro_f1_without(overall, "walk"),
        "fold_macro_f1_mean": round(float(np.mean(f1s)), 4) if f1s else None,
        "fold_macro_f1_sd": round(float(np.std(f1s)), 4) if f1s else None,
        "per_fold": fold_reports,
    }, predictions


class _FittedPipeline:
    """A just-fitted pipeline seen through the classifier protocol."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.classes: tuple[str, ...] = tuple(str(c) for c in pipeline.classes_)
        self.version = "unsaved"

    def predict_proba(self, x: F64) -> F64:
        return np.asarray(self.pipeline.predict_proba(x), dtype=np.float64)


def evaluate_transit_proxy(
    model: ModeClassifier,
    users: Iterable[GeolifeUser],
    *,
    params: TransitParams = DEFAULT_TRANSIT,
    end_to_end: bool = True,
) -> dict[str, Any]:
    """Per-section scores with the network's evidence (:mod:`core.transit`), on a proxy network.

    No GTFS feed of Beijing is available here, so each user's sections are weighed by a network
    learnt from the *other* users' labelled sections (never the user's own, so no route of theirs
    is known in advance): each bus, metro and train section is a route of that mode, whose stops are
    its first and last fix and, for a bus, the places where it stood still for 10 s or more (bus
    stops, and traffic lights). It knows only the routes the other users happened to ride, and a
    ride is *served* only when one other user's ride passed both its ends. Sections are then
    weighed by the user's own mix, as in
    :func:`evaluate_classifier`; ``without_transit`` is the same without the stops;
    ``weighed_share`` is the share of sections whose probabilities the stops changed.
    ``end_to_end`` scores the full pipeline with and without the same stops, as
    :func:`evaluate_end_to_end` does (``end_to_end`` False skips it).
    """
    people = list(users)
    cut = [_Cut.of(user) for user in people]
    truths: list[str] = []
    without: list[str] = []
    weighed_pred: list[str] = []
    changed = 0
    e2e_with, e2e_without = _TimeScores(), _TimeScores()
    for user, one in zip(people, cut, strict=True):
        stops = TransitStops.of([stop for other in cut if other.user != one.user for stop in other.stops()])
        if end_to_end:
            seg = segment(user.track)
            e2e_without.add(_end_to_end_user(user, classify(model, seg)))
            e2e_with.add(_end_to_end_user(user, classify(model, seg, network=Network(stops, params))))
        if not one.sections:
            continue
        proba, classes = predict_proba(model, one.x)
        weighed = weigh(
            proba,
            classes,
            stops,
            starts=one.starts,
            ends=one.ends,
            distance_m=one.x[:, FEATURE_NAMES.index("distance_m")],
            duration_s=one.x[:, FEATURE_NAMES.index("duration_s")],
            params=params,
        )
        # Every labelled section counts in the user's own mix, as in evaluate_classifier; the six
        # scored modes are scored.
        scored = np.isin([s.mode for s in one.sections], list(SCORED_MODES))
        changed += int((weighed.proba != proba).any(axis=1)[scored].sum())
        truths += [s.mode for s, keep in zip(one.sections, scored, strict=True) if keep]
        without += _arg_max(own_mix(proba), classes)[scored].tolist()
        weighed_pred += _arg_max(own_mix(weighed.proba), weighed.classes)[scored].tolist()
    y = np.asarray(truths, dtype=np.str_)
    return {
        "params": msgspec.to_builtins(params),
        "sections": len(truths),
        "weighed_share": round(changed / len(truths), 4) if truths else None,
        "with_transit": classification_report(y, np.asarray(weighed_pred, np.str_), labels=SCORED_MODES),
        "without_transit": classification_report(y, np.asarray(without, np.str_), labels=SCORED_MODES),
        "end_to_end": (
            {
                "with_transit": _brief_end_to_end(e2e_with.report()),
                "without_transit": _brief_end_to_end(e2e_without.report()),
            }
            if end_to_end
            else {"available": False, "reason": "skipped (--skip-end-to-end)"}
        ),
    }


def _brief_end_to_end(report: dict[str, Any]) -> dict[str, Any]:
    """An end-to-end report without its confusion matrix, with each mode's F1."""
    keep = ("labelled_hours", "time_accuracy", "macro_f1", "coverage")
    return {**{k: report[k] for k in keep}, "f1": {m: v["f1"] for m, v in report["per_class"].items()}}


@dataclass(frozen=True, slots=True)
class _Cut:
    """One user's sections cut at their labelled intervals: features and ends."""

    user: str
    sections: list[LabelledSection]
    x: F64
    starts: F64
    ends: F64

    @staticmethod
    def of(user: GeolifeUser) -> _Cut:
        sections = labelled_sections(user)
        bounds = [(s.start, s.end) for s in sections]
        starts, ends = section_ends(user.track, bounds)
        x = features_matrix(user.track, bounds)
        standstills = [
            _standstills(user.track, s.start, s.end) if s.mode == Mode.BUS else _NO_POINTS for s in sections
        ]
        return _Cut(user.user, sections, x, starts, ends, standstills)

    standstills: list[F64]

    def stops(self) -> list[TransitStop]:
        """This user's bus, metro and train sections as routes: their ends and standstills."""
        return [
            TransitStop(lat=float(p[0]), lon=float(p[1]), routes=((f"{self.user}:{k}", s.mode),))
            for k, (s, a, b, still) in enumerate(
                zip(self.sections, self.starts, self.ends, self.standstills, strict=True)
            )
            if s.mode in (Mode.BUS, Mode.METRO, Mode.TRAIN)
            for p in (a, b, *(still if s.mode == Mode.BUS else ()))
        ]


def _standstills(
    track: Track, start: int, end: int, *, window_s: float = 10.0, speed_mps: float = 1.0
) -> F64:
    """``(n, 2)`` latitude, longitude: the mean position of each run of fixes of ``[start, end)``
    whose displacement over the next ``window_s`` is below ``speed_mps`` and that lasts at least
    ``window_s``."""
    t, lat, lon = track.t_s[start:end], track.lat[start:end], track.lon[start:end]
    if t.size < 3:
        return np.empty((0, 2))
    ahead = np.minimum(np.searchsorted(t, t + window_s), t.size - 1)
    dt = t[ahead] - t
    moved = haversine_m(lat, lon, lat[ahead], lon[ahead])
    slow = (dt > 0) & (moved < speed_mps * np.where(dt > 0, dt, 1.0))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], slow.astype(np.int8), [0]))))
    runs = [(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True) if t[b - 1] - t[a] >= window_s]
    return np.asarray([(lat[a:b].mean(), lon[a:b].mean()) for a, b in runs], dtype=np.float64).reshape(-1, 2)
