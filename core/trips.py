"""From a segmentation to the trips, sections and stays a tester sees, with modes and footprints.

Pure: it takes the segmentation, the class probabilities of each section, the tester's confirmed
labels and vehicle profile, and returns records ready to store. Identifiers are derived from the
tester and start times (UUIDv5), so reprocessing an unchanged trip keeps its id.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from core.co2 import Registry, footprint_kg
from core.co2.modes import Mode
from core.co2.profile import LA_ROCHELLE, Deployment, VehicleProfile
from core.geometry import path_length_m, simplified_linestring
from core.segmentation import Segmentation, Trip
from core.segmentation.rides import RIDE_CIRCUITY
from core.track import Track

F64 = npt.NDArray[np.float64]
_NS = uuid.UUID("6f1d8a52-3c1e-4d0b-9b59-5b1f7b0f5e11")


class Label(msgspec.Struct, frozen=True, kw_only=True):
    """A mode the tester confirmed over a time interval."""

    started_at: datetime
    ended_at: datetime
    mode: str


# The labels CSV that `sillage labels export` writes and `sillage models train --labels` and `sillage
# models calibrate` read: one row per fix of a labelled section, then what the section showed when
# the tester answered and why the app asked (migrations 0027 and 0028).
LABELS_CSV_FIX = ("section_id", "user", "ts", "lat", "lon", "accuracy_m", "speed_mps", "activity", "mode")
LABELS_CSV_SHOWN = (
    "shown_mode",
    "shown_probability",
    "shown_uncalibrated",
    "shown_model_version",
    "asked",
    "audit_share",
)


class SectionRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    trip_id: uuid.UUID
    seq: int
    started_at: datetime
    ended_at: datetime
    distance_m: float
    n_fixes: int
    mode: str
    probabilities: dict[str, float]
    mode_source: str
    model_version: str
    geometry: dict[str, Any]
    co2_kg: float | None
    co2_factor: str | None
    co2_registry: str | None
    model_probabilities: dict[str, float] | None = None  # the model's own, before the tester's history
    kinematics: tuple[float, ...] | None = None  # core.history.kinematics, for the kinematic match
    # The probability of ``mode`` before calibration (core.calibration); None when none applied.
    uncalibrated: float | None = None


class StayRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    started_at: datetime
    ended_at: datetime
    lat: float
    lon: float
    n_fixes: int


class TripRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    started_at: datetime
    ended_at: datetime
    origin: tuple[float, float]
    destination: tuple[float, float]
    origin_stay_id: uuid.UUID | None
    destination_stay_id: uuid.UUID | None
    distance_m: float
    sections: tuple[SectionRecord, ...]


class Built(msgspec.Struct, frozen=True, kw_only=True):
    stays: list[StayRecord]
    trips: list[TripRecord]


def without_deleted(built: Built, deleted: list[tuple[datetime, datetime]]) -> Built:
    """``built`` without the trips that overlap an interval of a trip the tester deleted for some
    time, or have exactly its bounds (a flight comes back from the fixes on either side of its
    gap); the stays around it are kept, and so are trips that only touch it (a flight's
    neighbours share its end fixes).

    A trip is taken from the end of the stay it leaves: what is left of a deleted movement whose
    ends were not those of its fixes (a trip built from a thinned read) is no trip of its own.
    """
    if not deleted:
        return built
    left: dict[uuid.UUID | None, datetime] = {s.id: s.ended_at for s in built.stays}
    kept = [
        t
        for t in built.trips
        if not _deleted(
            min(left.get(t.origin_stay_id, t.started_at), t.started_at), t.started_at, t.ended_at, deleted
        )
    ]
    return Built(stays=built.stays, trips=kept)


def segmentation_without_deleted(seg: Segmentation, deleted: list[tuple[datetime, datetime]]) -> Segmentation:
    """``seg`` without the trips :func:`without_deleted` leaves out, before they are classified:
    their sections must not weigh the others' in the tester's mix of modes (:mod:`core.history`),
    as the stored sections a later step reads them from never hold them."""
    if not deleted:
        return seg

    def left(t: Trip) -> datetime:
        start = _ts(t.t_start_s)
        return start if t.origin_stay is None else min(_ts(seg.stays[t.origin_stay].t_end_s), start)

    kept = tuple(t for t in seg.trips if not _deleted(left(t), _ts(t.t_start_s), _ts(t.t_end_s), deleted))
    return seg if len(kept) == len(seg.trips) else dataclasses.replace(seg, trips=kept)


def _deleted(
    since: datetime, start: datetime, end: datetime, deleted: list[tuple[datetime, datetime]]
) -> bool:
    """Whether the trip ``[start, end]``, taken from ``since`` (the end of the stay it leaves),
    overlaps an interval the tester deleted for some time, or has exactly its bounds."""
    return any((since < e and end > s) or (start, end) == (s, e) for s, e in deleted)


def _travelled(track: Track, a: int, b: int, trip: Trip, *, first: bool, last: bool) -> tuple[F64, F64]:
    """The positions a section's distance is measured along: its fixes ``[a, b)``, then the next
    section's first fix (or the destination stay's), and for the first section the origin stay's
    last fix before them. The hops between fixes of different items count too: at a fix every
    5 minutes, leaving them out lost a third of a 27 km drive (and of its CO2)."""
    lo = a - 1 if first and trip.origin_stay is not None and a > 0 else a
    hi = b + 1 if (not last or trip.destination_stay is not None) and b < len(track) else b
    return track.lat[lo:hi], track.lon[lo:hi]


def _ts(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def stay_id(owner: str, t_start_s: float) -> uuid.UUID:
    return uuid.uuid5(_NS, f"{owner}:stay:{t_start_s:.3f}")


def trip_id(owner: str, t_start_s: float) -> uuid.UUID:
    return uuid.uuid5(_NS, f"{owner}:trip:{t_start_s:.3f}")


def section_id(trip: uuid.UUID, start: datetime, end: datetime) -> uuid.UUID:
    """A section's id: its trip's and its own time span. Reprocessing that leaves the section as it
    was keeps it; one that moves either end gives a new id, and an answer sent with the old one
    confirms the section that now overlaps most the old one's span (migration 0034), never another
    by position (the id was the trip's and the section's position: after late fixes added a bike
    ride before a car ride, the car's id named the bike ride, and "car" confirmed for it was kept as
    the tester's word)."""
    return uuid.uuid5(trip, f"{start.isoformat()}/{end.isoformat()}")


def confirmed_mode(labels: Sequence[Label], start: datetime, end: datetime) -> str | None:
    """The confirmed mode covering most of [start, end], if labels cover at least half of it; of
    labels covering as much, the last given (``labels`` oldest first): a tester's second answer
    about the same time corrects the first."""
    span = (end - start).total_seconds()
    best: tuple[float, str] | None = None
    for lab in labels:
        overlap = (min(end, lab.ended_at) - max(start, lab.started_at)).total_seconds()
        if overlap > 0 and (best is None or overlap >= best[0]):
            best = (overlap, lab.mode)
    if best is None or (span > 0 and best[0] < 0.5 * span):
        return None
    return best[1]


def shown_probabilities(classes: Sequence[str], row: F64) -> dict[str, float]:
    """A section's probabilities as stored and shown: mode -> probability, to 4 decimals."""
    return {c: round(float(p), 4) for c, p in zip(classes, row, strict=True)}


def _exact(classes: Sequence[str], row: F64) -> dict[str, float]:
    """The model's own probabilities of a section, as kept for the tester's mix of modes."""
    return {c: float(p) for c, p in zip(classes, row, strict=True)}


def build(
    owner: str,
    seg: Segmentation,
    probabilities: F64,
    classes: Sequence[str],
    *,
    model_version: str,
    labels: Sequence[Label],
    profile: VehicleProfile,
    registry: Registry,
    deployment: Deployment = LA_ROCHELLE,
    complete_only: bool = True,
    from_history: npt.NDArray[np.bool_] | None = None,
    model_probabilities: F64 | None = None,
    kinematics: F64 | None = None,
    uncalibrated: F64 | None = None,
) -> Built:
    """Records for the complete stays and trips of ``seg``.

    ``probabilities`` has one row per section, in trip order, as ``features_matrix`` over all
    sections of ``seg.trips`` was built. A section whose interval a label covers takes the
    confirmed mode (``mode_source='user'``); otherwise, a section flagged in ``from_history`` had
    the tester's earlier confirmations mixed into its probabilities (``mode_source='history'``,
    :mod:`core.history`). ``model_probabilities`` are the model's own, rows as ``probabilities``,
    columns the first of ``classes`` (kept for the tester's mix of modes read without labels);
    ``kinematics`` each section's :func:`core.history.kinematics`, rows as ``probabilities``;
    ``uncalibrated`` each section's most likely mode's probability before calibration
    (:mod:`core.calibration`), when ``probabilities`` are calibrated.
    """
    tr = seg.cleaned
    source = "heuristic" if model_version.startswith("heuristic") else "model"
    stays: list[StayRecord] = []
    stay_ids: list[uuid.UUID] = []
    for s in seg.stays:
        sid = stay_id(owner, s.t_start_s)
        stay_ids.append(sid)
        if s.complete or not complete_only:
            stays.append(
                StayRecord(
                    id=sid,
                    started_at=_ts(s.t_start_s),
                    ended_at=_ts(s.t_end_s),
                    lat=s.lat,
                    lon=s.lon,
                    n_fixes=s.end - s.start,
                )
            )
    trips: list[TripRecord] = []
    row = 0
    for trip in seg.trips:
        n_sections = len(trip.sections)
        if complete_only and not trip.complete:
            row += n_sections
            continue
        tid = trip_id(owner, trip.t_start_s)
        sections: list[SectionRecord] = []
        last = len(trip.sections) - 1
        for seq, (b, (t0, t1)) in enumerate(zip(trip.sections, trip.section_times(tr.t_s), strict=True)):
            k, row = row, row + 1
            probs = probabilities[k]
            lat, lon = tr.lat[b.start : b.end], tr.lon[b.start : b.end]
            start, end = _ts(t0), _ts(t1)
            distance = path_length_m(*_travelled(tr, b.start, b.end, trip, first=seq == 0, last=seq == last))
            mode = classes[int(np.argmax(probs))]
            src = "history" if from_history is not None and from_history[k] else source
            confirmed = confirmed_mode(labels, start, end)
            shown = shown_probabilities(classes, probs)
            raw = None if uncalibrated is None else float(uncalibrated[k])
            if confirmed is not None:
                # What the tester confirmed is certain; the model's own stay in model_probabilities.
                mode, src, raw = confirmed, "user", None
                shown = {**dict.fromkeys(shown, 0.0), mode: 1.0}
            if trip.across_gap and mode != Mode.PLANE:
                distance *= RIDE_CIRCUITY  # a ride seen at its two ends only (core.segmentation.rides)
            fp = footprint_kg(Mode(mode), distance, profile, registry, deployment=deployment)
            sections.append(
                SectionRecord(
                    id=section_id(tid, start, end),
                    trip_id=tid,
                    seq=seq,
                    started_at=start,
                    ended_at=end,
                    distance_m=distance,
                    n_fixes=b.end - b.start,
                    mode=mode,
                    probabilities=shown,
                    mode_source=src,
                    model_version=model_version,
                    geometry=simplified_linestring(lat, lon),
                    co2_kg=fp.kg,
                    co2_factor=fp.factor_key,
                    co2_registry=fp.registry_version,
                    # Unrounded: the next steps count them in the tester's mix of modes, as one
                    # pass counts the same rows in memory (rounded, they shifted its weights).
                    model_probabilities=None
                    if model_probabilities is None
                    else _exact(classes[: model_probabilities.shape[1]], model_probabilities[k]),
                    kinematics=None if kinematics is None else tuple(kinematics[k].tolist()),
                    uncalibrated=raw,
                )
            )
        a, z = trip.start, trip.end - 1
        trips.append(
            TripRecord(
                id=tid,
                started_at=_ts(trip.t_start_s),
                ended_at=_ts(trip.t_end_s),
                origin=(float(tr.lat[a]), float(tr.lon[a])),
                destination=(float(tr.lat[z]), float(tr.lon[z])),
                origin_stay_id=None if trip.origin_stay is None else stay_ids[trip.origin_stay],
                destination_stay_id=None
                if trip.destination_stay is None
                else stay_ids[trip.destination_stay],
                distance_m=sum(s.distance_m for s in sections),
                sections=tuple(sections),
            )
        )
    return Built(stays=stays, trips=trips)
