"""Classifying a segmentation's sections: the model, the rules it cannot learn, and nothing else.

Transit network: where the deployment imported its GTFS stops, each section's transit modes are
weighed by the stops at its ends, and a crossing between two piers of one ferry route is a ferry
(:mod:`core.transit`, which gives the rule and its measure).

Planes: a section that covers at least 100 km at an average of at least 80 m/s is a plane, whatever
the model says (the thresholds and their reasons are in :mod:`core.segmentation.flights`, which
keeps flights across signal gaps as sections). The shipped model is trained on the simulator,
which has no plane; on the GeoLife subset, all 9 plane sections were classified train or metro.

Vehicle legs cut in pieces:
Walk-based segmentation (Zheng et al. 2008) rests on one observation: people walk between any two
vehicle legs. Segmentation also cuts where the speed regime changes, so that a train → car change
without a recorded walk still splits; but road traffic makes the same cut inside one leg (a bus on
open road, then in a jam). Such pieces are classified on less context than the whole leg, and
worse: on the GeoLife development subset, 53 % of labelled intervals came out in two sections or
more, and car was right 0.42 of the time on pieces against 0.77 on whole legs.

So, after classification, a run of consecutive sections of one trip that are all classified as
motorised (:data:`MOTORISED`), with no walk between them, is classified again as one section; if
that section is motorised too, it replaces the run. A run that a tester's confirmation covers only
in part is not joined (the confirmation was about a piece, and its label must keep covering it);
one that a confirmation covers mostly stays joined (the tester confirmed the joined section).
Measured with ``sillage models evaluate`` (end to end, model 1.2.0): GeoLife subset time accuracy
0.475 → 0.507 and macro-F1 0.409 → 0.429; on simulated days, where legs do change without a walk,
time accuracy 0.761 → 0.763.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import msgspec
import numpy as np
import numpy.typing as npt

from core.co2.modes import Mode
from core.features import FEATURE_NAMES, features_matrix
from core.history import section_ends
from core.segmentation import DEFAULT_PARAMS, Segmentation, SegmentationParams
from core.segmentation.result import SectionBounds, Trip
from core.track import Track
from core.transit import DEFAULT_TRANSIT, TransitParams, TransitStops, weigh
from models.classifier import ModeClassifier
from models.context import weigh_by_context

F64 = npt.NDArray[np.float64]

_DISTANCE = FEATURE_NAMES.index("distance_m")
_SPEED = FEATURE_NAMES.index("avg_speed_mps")
_DURATION = FEATURE_NAMES.index("duration_s")
# Ferry and plane are left out: a car on a ferry is two legs, and each should keep its own mode.
MOTORISED: frozenset[str] = frozenset({Mode.BUS, Mode.TRAM, Mode.METRO, Mode.TRAIN, Mode.CAR, Mode.MOTORBIKE})


@dataclasses.dataclass(frozen=True, slots=True)
class Classified:
    """A segmentation and the class probabilities of its sections (one row each, in trip order,
    one column per name in ``classes``: the classifier's, plus ``plane`` if it lacks it), and their
    feature rows (:func:`core.features.features_matrix`, same rows)."""

    seg: Segmentation
    proba: F64
    classes: tuple[str, ...]
    x: F64


def _columns(proba: F64, given: Sequence[str], classes: Sequence[str]) -> F64:
    """``proba`` (columns ``given``) laid out on ``classes`` (a superset; missing ones are 0)."""
    if tuple(given) == tuple(classes):
        return proba
    out = np.zeros((proba.shape[0], len(classes)), dtype=np.float64)
    out[:, [list(classes).index(c) for c in given]] = proba
    return out


def predict_proba(
    classifier: ModeClassifier, x: F64, *, params: SegmentationParams = DEFAULT_PARAMS
) -> tuple[F64, tuple[str, ...]]:
    """The model's probabilities for feature rows ``x``, and their classes (the model's, plus
    ``plane``), with the plane rule applied (see :func:`classify`)."""
    given = tuple(classifier.classes)
    classes = given if Mode.PLANE in given else (*given, str(Mode.PLANE))
    if x.shape[0] == 0:
        return np.empty((0, len(classes)), dtype=np.float64), classes
    proba = _columns(classifier.predict_proba(x), given, classes).copy()
    flying = (x[:, _DISTANCE] >= params.flight_min_distance_m) & (x[:, _SPEED] >= params.flight_min_speed_mps)
    proba[flying] = 0.0
    proba[flying, classes.index(Mode.PLANE)] = 1.0
    return proba, classes


def classify(
    classifier: ModeClassifier,
    seg: Segmentation,
    *,
    confirmed: Sequence[tuple[float, float]] = (),
    params: SegmentationParams = DEFAULT_PARAMS,
    network: Network | None = None,
) -> Classified:
    """Classify every section of ``seg``, call a plane a plane, weigh by the transit network,
    rejoin pieces of one vehicle leg (module docstring), then weigh each section by its trip
    context when the classifier ships a context model (:mod:`models.context`).

    A section covering at least ``params.flight_min_distance_m`` at an average of at least
    ``params.flight_min_speed_mps`` is a plane, whatever the model says: no surface mode travels so
    far so fast (see :mod:`core.segmentation.flights`, which keeps flights across signal gaps as
    sections). ``confirmed`` holds the time intervals (Unix s) the tester confirmed: a run of pieces one
    of them covers in part is not joined. ``network`` holds the deployment's transit stops, if any
    were imported (:mod:`core.transit`).
    """
    bounds = [(s.start, s.end) for trip in seg.trips for s in trip.sections]
    proba, classes, x = _classified(classifier, seg.cleaned, bounds, params, network)
    done = Classified(seg=seg, proba=proba, classes=classes, x=x)
    if not bounds:
        return done
    done = rejoin(classifier, done, confirmed, params=params, network=network)
    context = getattr(classifier, "context", None)
    return done if context is None else weigh_by_context(context, done)


@dataclasses.dataclass(frozen=True, slots=True)
class Network:
    """The transit stops a deployment imported, and how much they weigh."""

    stops: TransitStops
    params: TransitParams = DEFAULT_TRANSIT


def _classified(
    classifier: ModeClassifier,
    track: Track,
    bounds: Sequence[tuple[int, int]],
    params: SegmentationParams,
    network: Network | None,
) -> tuple[F64, tuple[str, ...], F64]:
    """The model's probabilities for sections ``bounds`` of ``track`` with the plane rule, weighed
    by the stops at their ends when there is a network, and the sections' feature rows."""
    x = features_matrix(track, bounds)
    proba, classes = predict_proba(classifier, x, params=params)
    if network is None or not bounds:
        return proba, classes, x
    starts, ends = section_ends(track, bounds)
    weighed = weigh(
        proba,
        classes,
        network.stops,
        starts=starts,
        ends=ends,
        distance_m=x[:, _DISTANCE],
        duration_s=x[:, _DURATION],
        params=network.params,
    )
    return weighed.proba, weighed.classes, x


def _runs(motorised: npt.NDArray[np.bool_], trips: Sequence[Trip]) -> list[tuple[int, int]]:
    """``[first, last]`` section rows of each run of two motorised sections or more within a trip."""
    runs: list[tuple[int, int]] = []
    row = 0
    for trip in trips:
        n = len(trip.sections)
        k = row
        while k < row + n:
            end = k
            while end + 1 < row + n and motorised[k] and motorised[end + 1]:
                end += 1
            if end > k:
                runs.append((k, end))
            k = end + 1
        row += n
    return runs


def rejoin(
    classifier: ModeClassifier,
    done: Classified,
    confirmed: Sequence[tuple[float, float]] = (),
    *,
    params: SegmentationParams = DEFAULT_PARAMS,
    network: Network | None = None,
) -> Classified:
    """``done`` with each run of motorised pieces of a trip that classifies as motorised as a whole
    (or as a plane, or a ferry: a flight or a crossing logged in pieces) replaced by one section
    (the step :func:`classify` ends with)."""
    seg = done.seg
    sections = [s for trip in seg.trips for s in trip.sections]
    motorised = np.isin(np.asarray(done.classes)[np.argmax(done.proba, axis=1)], list(MOTORISED))
    runs = _runs(motorised, seg.trips)
    if confirmed and runs:
        t = seg.cleaned.t_s
        t0 = t[[sections[a].start for a, _ in runs]]
        t1 = t[[sections[b].end - 1 for _, b in runs]]
        lo, hi = np.asarray(confirmed, dtype=np.float64).T
        overlap = np.minimum(hi[None, :], t1[:, None]) - np.maximum(lo[None, :], t0[:, None])
        # A label over part of a run was about a piece: keep the pieces. One over most of it was
        # about the joined section itself (confirmed after an earlier join): keep it joined.
        partial = ((overlap > 0) & (overlap < 0.5 * (t1 - t0)[:, None])).any(axis=1)
        runs = [run for run, cut in zip(runs, partial.tolist(), strict=True) if not cut]
    if not runs:
        return done
    spans = [(sections[a].start, sections[b].end) for a, b in runs]
    joined, names, joined_x = _classified(classifier, seg.cleaned, spans, params, network)
    joined = _columns(joined, names, done.classes)
    whole = np.asarray(done.classes)[np.argmax(joined, axis=1)]
    accepted = {
        a: (b, j)
        for j, ((a, b), mode) in enumerate(zip(runs, whole, strict=True))
        if mode in MOTORISED or mode in (Mode.PLANE, Mode.FERRY)
    }
    if not accepted:
        return done
    trips: list[Trip] = []
    rows: list[F64] = []
    features: list[F64] = []
    k = 0
    for trip in seg.trips:
        kept: list[SectionBounds] = []
        end = k + len(trip.sections)
        while k < end:
            if k in accepted:
                last, j = accepted[k]
                kept.append(SectionBounds(start=sections[k].start, end=sections[last].end))
                rows.append(joined[j])
                features.append(joined_x[j])
                k = last + 1
            else:
                kept.append(sections[k])
                rows.append(done.proba[k])
                features.append(done.x[k])
                k += 1
        trips.append(msgspec.structs.replace(trip, sections=tuple(kept)))
    return Classified(
        seg=dataclasses.replace(seg, trips=tuple(trips)),
        proba=np.vstack(rows),
        classes=done.classes,
        x=np.vstack(features),
    )
