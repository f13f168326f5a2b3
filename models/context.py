"""Trip context: a section's mode weighed by the sections around it in its trip.

Transit rides (bus, tram, metro, train) are usually bracketed by walks inside one trip; car and
bike rides usually run door to door, alone in their trip. The mode model sees one section at a
time and cannot use that. The context model does: for each section it reads the mode model's
probabilities of the *previous* and *next* section of the same trip (or that there is none), the
number of sections of the trip and the neighbours' durations (:func:`context_features`; never the
section's own features, which the mode model already weighed) and gives class probabilities
``q``, learnt with balanced class weights on simulated whole days (:func:`core.simulate.simulate_days`)
segmented by our own segmentation, labels the majority simulated mode of each section
(:func:`fit_context`). Serving multiplies the mode model's probabilities by ``K q`` (``K`` classes:
a uniform ``q`` changes nothing) and renormalises (:func:`weigh_by_context`), a product of experts
that keeps the mode model's evidence and only adds the trip's.

Measured with the mode model 1.2.0 (experiment of 2026-11-30, three simulator seeds for the
context model's days): GeoLife subset end to end, time accuracy 0.543 → 0.562-0.563 and
macro-F1 0.447 → 0.474-0.479 (metro 0.06 → 0.17-0.21); the same multiplier with the contexts
shuffled between sections, or averaged into one constant prior, scored as the baseline (0.445-0.451),
so the gain is the context's. A second-stage model that also re-read the section's own
probabilities scored *worse* on GeoLife (0.43-0.46): on simulated days the mode model is right
90 % of the time, and a stage learnt there trusts it too much for real traces.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from core.segmentation import Segmentation

if TYPE_CHECKING:
    from models.classifier import ContextModel, ModeClassifier
    from models.sections import Classified

F64 = npt.NDArray[np.float64]

# Column order of the neighbours' probabilities (every mode Sillage outputs; a model's missing
# ones are 0).
CONTEXT_MODES: tuple[str, ...] = (
    "walk",
    "bike",
    "ebike",
    "bus",
    "tram",
    "metro",
    "train",
    "car",
    "motorbike",
)
CONTEXT_FEATURE_NAMES: tuple[str, ...] = (
    *(f"prev_{m}" for m in CONTEXT_MODES),
    "has_prev",
    *(f"next_{m}" for m in CONTEXT_MODES),
    "has_next",
    "trip_sections",
    "prev_log_duration_s",
    "next_log_duration_s",
)
_MAX_SECTIONS = 8.0  # trips of more sections are as one of 8


def _on_modes(proba: F64, classes: Sequence[str]) -> F64:
    out = np.zeros((proba.shape[0], len(CONTEXT_MODES)), dtype=np.float64)
    for j, mode in enumerate(CONTEXT_MODES):
        if mode in classes:
            out[:, j] = proba[:, list(classes).index(mode)]
    return out


def context_features(proba: F64, classes: Sequence[str], trip_sizes: Sequence[int], durations_s: F64) -> F64:
    """One row of :data:`CONTEXT_FEATURE_NAMES` per section; sections laid out trip after trip
    (``trip_sizes[k]`` sections in trip ``k``, rows of ``proba`` and ``durations_s`` in that order).
    A missing neighbour has NaN probabilities and duration and a 0 flag. Training
    (:func:`fit_context`) and serving (:func:`weigh_by_context`) both call it."""
    p = _on_modes(proba, classes)
    n = p.shape[0]
    prev = np.full_like(p, np.nan)
    nxt = np.full_like(p, np.nan)
    dprev = np.full(n, np.nan)
    dnext = np.full(n, np.nan)
    count = np.zeros(n)
    row = 0
    for size in trip_sizes:
        a, b = row, row + size
        count[a:b] = size
        if size > 1:
            prev[a + 1 : b] = p[a : b - 1]
            nxt[a : b - 1] = p[a + 1 : b]
            dprev[a + 1 : b] = durations_s[a : b - 1]
            dnext[a : b - 1] = durations_s[a + 1 : b]
        row = b
    return np.column_stack(
        [
            prev,
            (~np.isnan(dprev)).astype(np.float64),
            nxt,
            (~np.isnan(dnext)).astype(np.float64),
            np.minimum(count, _MAX_SECTIONS),
            np.log1p(np.maximum(dprev, 0.0)),
            np.log1p(np.maximum(dnext, 0.0)),
        ]
    )


def segmentation_context(proba: F64, classes: Sequence[str], seg: Segmentation) -> F64:
    """:func:`context_features` of a segmentation's sections (rows of ``proba`` in trip order),
    durations as the API shows them (:meth:`core.segmentation.result.Trip.section_times`)."""
    sizes = [len(trip.sections) for trip in seg.trips]
    times = [span for trip in seg.trips for span in trip.section_times(seg.cleaned.t_s)]
    durations = np.asarray([b - a for a, b in times], dtype=np.float64)
    return context_features(proba, classes, sizes, durations)


def weigh_by_context(context: ContextModel, done: Classified) -> Classified:
    """``done`` with each section's probabilities multiplied by ``K q`` of its trip context
    (``context.classes``: ``K`` classes; columns of ``done`` it lacks are left as they are) and
    renormalised. A plane (or any row the context leaves at 0) keeps its probabilities."""
    if done.proba.shape[0] == 0:
        return done
    q = context.predict_proba(segmentation_context(done.proba, done.classes, done.seg))
    return dataclasses.replace(done, proba=weigh(done.proba, done.classes, q, context.classes))


def weigh(proba: F64, classes: Sequence[str], q: F64, q_classes: Sequence[str]) -> F64:
    """``proba`` (columns ``classes``) times ``K q`` (columns ``q_classes``, ``K`` of them; other
    columns times 1), renormalised; rows that come out all 0 are left as they were."""
    weights = np.ones_like(proba)
    for j, mode in enumerate(q_classes):
        if mode in classes:
            weights[:, list(classes).index(mode)] = len(q_classes) * np.clip(q[:, j], 1e-6, None)
    weighed = proba * weights
    total = weighed.sum(axis=1, keepdims=True)
    return np.where(total > 0, weighed / np.where(total > 0, total, 1.0), proba)


def section_labels(labels: npt.NDArray[np.str_], seg: Segmentation, *, stay: str = "stay") -> list[str]:
    """The majority true label of each section of ``seg`` (trip order), ``labels`` one per fix of
    the raw track: fixes labelled ``stay`` do not count; a section of stay fixes only is ``stay``."""
    kept = np.flatnonzero(seg.kept)
    out: list[str] = []
    for trip in seg.trips:
        for b in trip.sections:
            moving = [x for x in labels[kept[b.start : b.end]].tolist() if x != stay]
            out.append(Counter(moving).most_common(1)[0][0] if moving else stay)
    return out


@dataclasses.dataclass(frozen=True, slots=True)
class ContextData:
    """Context rows of simulated days, their sections' labels, and the mode model's probabilities
    of those sections (columns ``classes``)."""

    X: F64
    y: npt.NDArray[np.str_]
    proba: F64
    classes: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class _ModeOnly:
    """The mode model without its context model: the stage the context model reads."""

    model: ModeClassifier

    @property
    def classes(self) -> tuple[str, ...]:
        return self.model.classes

    @property
    def version(self) -> str:
        return self.model.version

    def predict_proba(self, x: F64) -> F64:
        return self.model.predict_proba(x)


def simulated_context(classifier: ModeClassifier, *, users: int, days: int, seed: int) -> ContextData:
    """Simulated whole days → :func:`core.segmentation.segment` → :func:`models.sections.classify`
    with ``classifier`` (its context model left out) → context rows, labelled with the majority
    simulated mode of each section (sections of stay fixes only are left out)."""
    from core.segmentation import segment
    from core.simulate import STAY, simulate_days
    from models.sections import classify

    stage = _ModeOnly(classifier)
    rows: list[F64] = []
    probas: list[F64] = []
    labels: list[str] = []
    classes: tuple[str, ...] = ()
    for day in simulate_days(users=users, days=days, seed=seed):
        done = classify(stage, segment(day.sim.track))
        if done.proba.shape[0] == 0:
            continue
        classes = done.classes
        rows.append(segmentation_context(done.proba, done.classes, done.seg))
        probas.append(done.proba)
        labels += section_labels(day.sim.labels, done.seg, stay=STAY)
    x = np.vstack(rows) if rows else np.empty((0, len(CONTEXT_FEATURE_NAMES)))
    p = np.vstack(probas) if probas else np.empty((0, len(classes)))
    y = np.asarray(labels, dtype=np.str_)
    moving = y != STAY
    return ContextData(X=x[moving], y=y[moving], proba=p[moving], classes=classes)


def fit_context(data: ContextData, *, seed: int = 0) -> Any:
    """A small balanced HistGradientBoosting pipeline on context rows (same regularisation as the
    mode model's, smaller leaves: about 6 000 rows)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    model = HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.1,
        max_leaf_nodes=8,
        min_samples_leaf=40,
        l2_regularization=10.0,
        early_stopping=True,
        validation_fraction=0.15,
        class_weight="balanced",
        random_state=seed,
    )
    pipeline = Pipeline([("model", model)])
    pipeline.fit(data.X, data.y)
    return pipeline
