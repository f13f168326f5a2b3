"""A tester's own confirmations as evidence: their usual modes, and the routes they confirmed.

People repeat their trips: the same commute, the same school run. OpenPATH (e-mission) suggests
labels for a new trip from the user's earlier labelled trips whose origin and destination both lie
within a radius of the new one's ("greedy similarity binning", 500 m by default in its label
assist). Sillage does the same per section: the modes the tester confirmed (``PATCH
/v1/sections/{id}``) on sections whose start and end both lie within ``radius_m`` of a new
section's start and end are mixed into the classifier's probabilities, with a weight that grows with
the number of such confirmations (``n / (n + 1)``: one confirmation weighs as much as the model, four
weigh 80 %). A tester who took the bike on Monday and the bus on Tuesday gets both in the mix. A
section that matches no confirmation in its own direction takes those of the way back (its start
near a confirmed section's end, and its end near that start): who cycles to work mostly cycles home.

Measured on the GeoLife development subset, where every earlier labelled section of the same user
stands in for a confirmation (``sillage models evaluate``, ``personal_history``): a radius
of 300 m did better than 200 m and 500 m, this weighting better than overriding the model or
weighting it more, and requiring similar durations did not help. The way back, as a fallback,
raised macro-F1 from 0.651 to 0.666 (0.605 to 0.617 with one trip in four confirmed); counted
alongside the same direction it did not (0.653).

A section that matches no confirmation by its ends may follow part of a confirmed path: the same
bus line boarded two stops later, the first half of a commute. Confirmations keep their section's
simplified geometry (``labels.path``), and a section follows one when both its ends lie within
``radius_m`` of that path, the start before the end along it and at least ``2 * radius_m`` apart
(ends each off by up to the radius could otherwise match any path passing by). Such matches count
only for modes the model gives at least ``along_route_min_probability`` (a clear walk beside a
confirmed bus line stays a walk; modes the model does not know are not judged), and only the
``along_route_confirmations`` most recent confirmations are looked along (the ends are compared
with all of them), which bounds the cost: 2,000 sections along 2,000 confirmed paths of the same
few routes take about 0.4 s, a day's few sections about 10 ms. With the usual modes below, matching
along paths raised the per-section macro-F1 from 0.718 to 0.737 (accuracy 0.809 to 0.824; 67 % of
sections matched instead of 54 %) for a tester who confirms every trip, and from 0.672 to 0.687
(0.774 to 0.786; 54 % instead of 40 %) for one who confirms one trip in four. Without the
probability floor: 0.748 and 0.685, and with one trip in four confirmed, walk recall fell from 0.76
to 0.65 (user 020's walks, the only labelled ones, beside their confirmed rides).

Before the route, the tester's usual modes: all their confirmations, wherever they were, are a prior
over modes. The model was trained on balanced classes, so its probabilities assume every mode
equally likely; Bayes' rule with the tester's own mix instead multiplies each mode's probability by
``K * prior`` and renormalises (the prior-shift correction of Saerens, Latinne & Decaestecker 2002,
Neural Computation 14). The prior is the tester's share of confirmations of each mode with one
pseudo-count per class (``prior_pseudocount``, add-one smoothing): one confirmation doubles the
odds of its mode against each other mode; thirty bike rides and no bus make a section the model
finds slightly more bus than bike a bike ride.

Measured the same way, with model 1.2.0, the usual modes raised the per-section macro-F1 from
0.666 to 0.718 (accuracy 0.770 to 0.809) and end to end from 0.503 to 0.555 (time accuracy 0.567 to
0.631) for a tester who confirms every trip; from 0.617 to 0.672 per section and 0.482 to 0.530 end
to end for one who confirms one trip in four. Pseudo-counts of 0.3 to 1 per class, and exponents of
1 to 1.5 on ``K * prior``, were within about 0.01 of each other; 3 per class, or an exponent of
0.5, did worse (0.708 and 0.700). The prior assumes confirmations are a fair sample of the tester's
sections. If walks are never confirmed (user 020's walk labels left out of their confirmations),
walk recall falls from 0.59 to 0.48 while walk precision rises from 0.44 to 0.59; correcting a
walk the app called bus is itself a confirmation that restores the balance.

A tester who has confirmed nothing still has a mix of modes: the model's own probabilities over
their sections say roughly how they travel (one step of the expectation-maximisation of Saerens et
al. 2002, from the uniform training prior). Each section is weighed by the mean of the model's
probabilities over the tester's ``own_sections`` most recent sections up to and including it (the
pipeline keeps them apart from the weighed ones, ``sections.model_probabilities``, so that the mix
never feeds on itself), one pseudo-count per mode. Nobody's labels are used, the tester's own
included: on the GeoLife subset this is the figure for users never seen, and it raised the
per-section macro-F1 from 0.538 to 0.570 (accuracy 0.658 to 0.695) and end to end from 0.429 to
0.447 (time accuracy 0.507 to 0.542). Metro, a minority mode for most users and one the model
already misses on real traces, lost (F1 0.43 to 0.36 per section, and end to end, where it was
already poor, 0.11 to 0.05); walk, bike, bus, car and train gained. More EM steps did not help
(0.569 after 5, over all of a user's sections at once), nor did a mix of the last 50 sections
(0.563). Once the tester has confirmed any
mode the model knows, their confirmations make the mix alone: counted beside them, the model's own
view (which carries its confusions) lowered the per-section macro-F1 of testers with a history
from 0.737 to 0.724.

Wherever it runs, a section that moves like the tester's confirmed sections of one mode, more
than their confirmations as a whole would say, is that mode more likely: the kinematic match. Each
section and each confirmation keep 16 kinematic figures (:data:`KINEMATIC_FEATURES`: speed
percentiles, stops, acceleration, share of time in signal gaps, length, duration, straightness; as
sign(x)·log(1 + |x|) over their spread among simulated sections). The ``kinematic_neighbours``
nearest confirmations vote for their modes, each weighing ``1 / (distance + 0.5)``, and each mode's
probability is multiplied by ``((votes + c) / (expected + c)) ** kinematic_strength``, where
``expected`` is what the mode would get from the tester's confirmations as a whole. The ratio
matters: a vote taken as a distribution and mixed in (the first version) scored higher on GeoLife
(per-section macro-F1 0.791 every trip confirmed, 0.715 one in four), but a tester who had confirmed
one bus ride then had every walk pulled towards bus, below the threshold of asking. The person's
own walking pace, their bike, their bus line's stops carry across routes: one person's walks and
rides are more alike than everyone's. Measured like the rest of this module (``personal_history``
and ``asking`` of ``sillage models evaluate``; 5 neighbours, ``c`` = 0.1, power 2, chosen there
among ``c`` 0.1 to 3, powers 1 to 3 and 5 or 10 neighbours), per section macro-F1 0.720 -> 0.763
(accuracy 0.811 -> 0.847) for a tester who confirms every trip, 0.669 -> 0.709 (0.782 -> 0.811)
for one who confirms one trip in four; asking below 0.8, 17.8 % of sections are asked instead of
23.7 % and the modes the tester ends with reach macro-F1 0.835 instead of 0.820.

Every piece of evidence above trusts the tester's answers. An answer that merely agrees with the
mode the app showed counts as much as the tester's answers show attention (:func:`answer_weights`):
a tester who taps "looks right" on every question without looking ended, with every answer counted
in full, at macro-F1 0.505 (accuracy 0.605) against 0.576 (0.699) for one never asked; weighed,
0.567 (0.700), asked about 29.7 % of sections instead of 23.9 %. An attentive tester loses 0.002
(0.833 against 0.835), one who taps blindly on one question in two gains 0.002 (0.735, accuracy
0.827 against 0.819). Pseudocounts of 2, 5, 10 and 20 gave the blind tester 0.549, 0.566, 0.567
and 0.570 and the attentive one 0.833 each; 10 was kept, between detecting blind tapping early and
trusting a new tester's first answers.

Pure: no I/O. The pipeline reads the confirmations from the tester's partition and never from
anyone else's: one person's habits never decide another person's modes.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from core.features import FEATURE_NAMES
from core.geodesy import EARTH_RADIUS_M, antimeridian_turns, chord2_for_distance_m, unit_vectors
from core.track import Track

F64 = npt.NDArray[np.float64]


class HistoryParams(msgspec.Struct, frozen=True, kw_only=True):
    """``radius_m``: both ends of a section within this of a confirmed section's ends make a match.
    ``max_confirmations``: only the most recent ones are read (bounds the cost per pipeline step).
    ``revisit_days``: a confirmation has the tester's trips reprocessed from this many days before
    the confirmed section on, so that the same route the same week benefits at once.
    ``prior_pseudocount``: confirmations added to every mode when the tester's mix of modes becomes
    the prior (module docstring); ``None`` leaves the model's probabilities as they are.
    ``along_route``: a section matching no confirmation by its ends may match along a confirmed
    path (both ends within ``radius_m`` of it, in its direction, at least ``2 * radius_m`` apart
    along it), which counts only confirmations of modes the model gives at least
    ``along_route_min_probability`` for the section.
    ``own_sections``: the model's probabilities over this many of the tester's most recent sections
    count in their mix of modes, without any label (when :func:`assist` is given them).
    ``kinematic_neighbours``: the section's this many kinematically nearest confirmations vote for
    its mode (:func:`kinematic_votes`; 0 turns it off); each mode's probability is multiplied by
    ``((votes + c) / (expected + c)) ** kinematic_strength``, ``c`` the ``kinematic_pseudocount``
    and ``expected`` the votes the mode would get from the tester's confirmations as a whole.
    ``agreement_pseudocount``: how many answers of an attentive tester the rate at which the tester's
    answers agree with the mode they were shown starts from (:func:`answer_weights`); ``None`` counts
    every answer in full."""

    radius_m: float = 300.0
    max_confirmations: int = 2000
    revisit_days: float = 14.0
    prior_pseudocount: float | None = 1.0
    along_route: bool = True
    along_route_min_probability: float = 0.05
    ends_min_probability: float = 0.05
    along_route_confirmations: int = 200
    own_sections: int = 200
    kinematic_neighbours: int = 5
    kinematic_pseudocount: float = 0.1
    kinematic_strength: float = 2.0
    agreement_pseudocount: float | None = 10.0


DEFAULT_HISTORY = HistoryParams()

# A section whose most likely mode, as the tester is shown it, has a probability below this is one
# the app should ask about ("to confirm"; confirmed sections never are). Asking where the model is
# least sure corrects the modes most likely wrong, and each answer then helps the tester's later
# sections like any confirmation. Measured on the GeoLife development subset, users never seen, the
# answers counted as confirmations from then on (``sillage models evaluate``, ``asking``): see
# README, "Which sections to ask about".
ASK_BELOW = 0.8
# A share of the sections at or above ``ask_below`` is asked about too, drawn at random but stable
# per section (:func:`audited`): answers about sure sections are what calibrating the probability
# shown needs (:mod:`core.calibration`; migration 0028). 1 in 20 sure sections was about 3.5 % more
# sections asked on the GeoLife subset (``sillage models evaluate``, ``calibration``).
AUDIT_SHARE = 0.05
_SELF_PROPELLED = frozenset({"walk", "run", "bike", "ebike"})
_PLANE = "plane"

# What the kinematic match compares (core.features names), each with its scale: the spread (standard
# deviation) of sign(x)·log(1 + |x|) over the 18,000 simulated sections artifact 1.4.0 was trained
# on (``sillage models train --synthetic 2000 --seed 0``). Speeds, stops, accelerations, the share
# of time in signal gaps, length, duration and straightness: how this person walks, rides their
# bike, and how their bus line or their drive to work goes.
KINEMATIC_FEATURES: tuple[tuple[str, float], ...] = (
    ("speed_p50_mps", 0.76),
    ("speed_p85_mps", 0.72),
    ("speed_p95_mps", 0.73),
    ("moving_speed_p50_mps", 0.70),
    ("accel_p85_mps2", 0.19),
    ("stop_rate_per_km", 1.37),
    ("stops_per_km", 0.72),
    ("stop_mean_s", 1.56),
    ("gap_time_share", 0.17),
    ("distance_m", 1.40),
    ("duration_s", 1.08),
    ("straightness", 0.20),
    ("heading_change_rate_per_km", 1.00),
    ("stop_time_share", 0.13),
    ("fast_time_share", 0.25),
    ("slow_time_share", 0.21),
)
_KINEMATIC_COLUMNS = np.asarray([FEATURE_NAMES.index(name) for name, _ in KINEMATIC_FEATURES], dtype=np.intp)
_KINEMATIC_SCALES = np.asarray([scale for _, scale in KINEMATIC_FEATURES], dtype=np.float64)


def kinematics(x: F64) -> F64:
    """Sections' feature rows (:func:`core.features.features_matrix`) as points of the kinematic
    match: the :data:`KINEMATIC_FEATURES`, as sign(x)·log(1 + |x|) over their scale, undefined ones
    0."""
    picked = x[:, _KINEMATIC_COLUMNS]
    points = np.sign(picked) * np.log1p(np.abs(picked)) / _KINEMATIC_SCALES
    return np.nan_to_num(points, nan=0.0, posinf=0.0, neginf=0.0)


class Confirmation(msgspec.Struct, frozen=True, kw_only=True):
    """A section the tester confirmed: where it started and ended (degrees), its mode, its path
    when known (the stored simplified geometry, GeoJSON ``[lon, lat]`` pairs; empty if unknown), its
    kinematics when known (:func:`kinematics`; empty if unknown), and the mode the tester was shown
    when they answered, with its probability (``None`` if unknown, or if the section showed the
    tester's own earlier answer)."""

    start_lat: float
    start_lon: float
    end_lat: float
    end_lon: float
    mode: str
    path_lonlat: tuple[tuple[float, float], ...] = ()
    kinematics: tuple[float, ...] = ()
    shown_mode: str | None = None
    shown_probability: float | None = None


@dataclass(frozen=True, slots=True)
class Assisted:
    """Probabilities after the history (``classes`` may have gained modes only the tester used),
    which sections matched at least one confirmation on their route, and which owe their mode to the
    history (matched, or their most likely mode changed with the tester's usual modes)."""

    proba: F64
    classes: tuple[str, ...]
    matched: npt.NDArray[np.bool_]
    from_history: npt.NDArray[np.bool_]


def section_ends(track: Track, bounds: Sequence[tuple[int, int]]) -> tuple[F64, F64]:
    """Where each section ``[start, end)`` of ``track`` starts and ends: two ``(n, 2)`` arrays of
    latitude, longitude (degrees), as :func:`assist` takes them."""
    first = np.asarray([a for a, _ in bounds], dtype=np.intp)
    last = np.asarray([b - 1 for _, b in bounds], dtype=np.intp)
    return (
        np.column_stack((track.lat[first], track.lon[first])),
        np.column_stack((track.lat[last], track.lon[last])),
    )


_ROWS_PER_BLOCK = 256  # sections compared at once: a block of 256 x 2,000 confirmations is 4 MB


def _near(points: F64, others: F64, radius_m: float) -> npt.NDArray[np.bool_]:
    """``(n, m)``: point ``i`` of ``points`` lies within ``radius_m`` of point ``j`` of ``others``
    (both ``(k, 2)`` arrays of latitude, longitude in degrees).

    On unit vectors the squared chord is ``2 - 2 a.b``, so a block of sections against all
    confirmations is one matrix product; blocks bound the memory of a long history import."""
    a = np.stack(unit_vectors(points[:, 0], points[:, 1]), axis=1)
    b = np.stack(unit_vectors(others[:, 0], others[:, 1]), axis=1)
    min_dot = 1.0 - chord2_for_distance_m(radius_m) / 2.0
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.bool_)
    for k in range(0, a.shape[0], _ROWS_PER_BLOCK):
        out[k : k + _ROWS_PER_BLOCK] = a[k : k + _ROWS_PER_BLOCK] @ b.T >= min_dot
    return out


_M_PER_DEG = np.pi * EARTH_RADIUS_M / 180.0


def _short_way(east_deg: F64) -> F64:
    """Longitude differences (within ±360) taken the short way round, within ±180: a path across
    the antimeridian steps from 179.9 to -179.9 (or, cut as GeoJSON asks, from 180 to -180 at no
    length), not back across the whole globe. Differences already within ±180 are returned
    unchanged."""
    out: F64 = east_deg + antimeridian_turns(east_deg)
    return out


@dataclass(frozen=True, slots=True)
class ConfirmedPaths:
    """The segments of the confirmations' paths laid end to end (confirmation ``k`` has segments
    ``offsets[k]:offsets[k + 1]``): their ends (degrees), the metres along their path where each
    starts, their length (m), whose they are, and each path's bounding box grown by the radius
    (degrees), which rules most confirmations out with four comparisons per section end."""

    a: F64  # (s, 2) latitude, longitude of each segment's first point
    b: F64  # (s, 2) ... and of its last
    along: F64
    length: F64
    owner: npt.NDArray[np.intp]
    offsets: npt.NDArray[np.intp]
    # (m, 4) lat_min, lat_max, lon_min, lon_max; NaN for a confirmation without a path. A path across
    # ±180 has its longitudes unwrapped, so its box may reach past ±180.
    box: F64
    radius_m: float
    # Some box reaches past ±180: longitudes are then compared the short way round (paths and
    # points far from ±180 never need it, and the plain differences are faster).
    wraps: bool

    @staticmethod
    def of(confirmations: Sequence[Confirmation], radius_m: float) -> ConfirmedPaths | None:
        n_points = np.asarray([len(c.path_lonlat) for c in confirmations], dtype=np.intp)
        n_segments = np.maximum(n_points - 1, 0)
        if not n_segments.any():
            return None
        flat = chain.from_iterable(chain.from_iterable(c.path_lonlat for c in confirmations))
        lonlat = np.fromiter(flat, dtype=np.float64, count=2 * int(n_points.sum())).reshape(-1, 2)
        points = lonlat[:, ::-1]  # latitude, longitude
        last_point = np.cumsum(n_points)[n_points > 0] - 1
        opens = np.ones(points.shape[0], dtype=np.bool_)  # a point that starts a segment
        opens[last_point] = False
        a, b = points[opens], points[np.flatnonzero(opens) + 1]
        owner = np.repeat(np.arange(len(confirmations), dtype=np.intp), n_segments)
        offsets = np.r_[0, np.cumsum(n_segments)].astype(np.intp)
        kx = _M_PER_DEG * np.cos(np.radians(0.5 * (a[:, 0] + b[:, 0])))
        length = np.hypot((b[:, 0] - a[:, 0]) * _M_PER_DEG, _short_way(b[:, 1] - a[:, 1]) * kx)
        has = n_segments > 0
        first_segment = offsets[:-1][has]

        def _per_path(cum: F64) -> F64:
            """``cum`` (cumulated over every path) restarted at each path's first segment."""
            restarted: F64 = cum - np.repeat(cum[first_segment], n_segments[has])
            return restarted

        before = np.cumsum(length) - length  # metres of all earlier segments, of every path
        along = _per_path(before)
        # The box of a path across ±180 is taken on its unwrapped longitudes (its steps the short
        # way, whole turns added: nothing for a path that does not cross), else it would span the
        # rest of the globe and leave out the path itself; ``_inside`` looks a turn either side.
        turn = antimeridian_turns(b[:, 1] - a[:, 1])
        turned = _per_path(np.cumsum(turn) - turn)  # whole turns before each segment, in its path
        a_ends = np.column_stack((a[:, 0], a[:, 1] + turned))
        b_ends = np.column_stack((b[:, 0], b[:, 1] + (turned + turn)))
        box = np.full((len(confirmations), 4), np.nan)
        grow_lon = radius_m / np.maximum(np.minimum.reduceat(kx, first_segment), 1.0)
        for col, (pick, reduce, sign) in enumerate(
            ((0, np.minimum, -1.0), (0, np.maximum, 1.0), (1, np.minimum, -1.0), (1, np.maximum, 1.0))
        ):
            ends = reduce(a_ends[:, pick], b_ends[:, pick])
            grow = radius_m / _M_PER_DEG if pick == 0 else grow_lon
            box[has, col] = reduce.reduceat(ends, first_segment) + sign * grow
        return ConfirmedPaths(
            a=a,
            b=b,
            along=along,
            length=length,
            owner=owner,
            offsets=offsets,
            box=box,
            radius_m=radius_m,
            wraps=bool((box[has, 3] > 180.0).any() or (box[has, 2] < -180.0).any()),
        )

    def _inside(self, points: F64) -> npt.NDArray[np.bool_]:
        """``(n, m)``: point ``i`` lies in the grown bounding box of confirmation ``j``'s path."""
        lat, lon, box = points[:, 0:1], points[:, 1:2], self.box
        east: npt.NDArray[np.bool_] = (box[:, 2] <= lon) & (lon <= box[:, 3])
        if self.wraps:  # a box past 180 holds the points past -180 a turn later, and back
            east |= (box[:, 2] <= lon + 360.0) & (lon + 360.0 <= box[:, 3])
            east |= (box[:, 2] <= lon - 360.0) & (lon - 360.0 <= box[:, 3])
        inside: npt.NDArray[np.bool_] = (box[:, 0] <= lat) & (lat <= box[:, 1]) & east
        return inside

    def _near(self, point: F64, idx: npt.NDArray[np.intp]) -> tuple[npt.NDArray[np.intp], F64]:
        """Of segments ``idx``, those passing within the radius of ``point`` (latitude, longitude),
        and the metres along their path of the point's projection on each (local equirectangular
        metres)."""
        lat, lon = float(point[0]), float(point[1])
        kx = _M_PER_DEG * np.cos(np.radians(lat))
        a_east, b_east = self.a[idx, 1] - lon, self.b[idx, 1] - lon
        if self.wraps:
            a_east, b_east = _short_way(a_east), _short_way(b_east)
        ax = a_east * kx
        ay = (self.a[idx, 0] - lat) * _M_PER_DEG
        dx = b_east * kx - ax
        if self.wraps:
            # Each end is taken the short way from the point; when they land on either side of the
            # meridian opposite the point (the segment is half a world away), the segment itself
            # still goes the short way, not round the globe past the point.
            apart = np.abs(b_east - a_east) > 180.0
            dx[apart] = _short_way(b_east[apart] - a_east[apart]) * kx
        dy = (self.b[idx, 0] - lat) * _M_PER_DEG - ay
        l2 = dx * dx + dy * dy
        t = np.clip(np.divide(-(ax * dx + ay * dy), l2, out=np.zeros_like(l2), where=l2 > 0.0), 0.0, 1.0)
        near = (ax + t * dx) ** 2 + (ay + t * dy) ** 2 <= self.radius_m**2
        return idx[near], self.along[idx[near]] + t[near] * self.length[idx[near]]

    def followed(self, starts: F64, ends: F64) -> npt.NDArray[np.bool_]:
        """``(n, m)``: which confirmations each section from ``starts[i]`` to ``ends[i]`` follows:
        both ends within the radius of the path, the start before the end along it, at least twice
        the radius apart (ends each off by up to the radius could otherwise match any path passing
        by)."""
        candidates = self._inside(starts) & self._inside(ends)
        out = np.zeros(candidates.shape, dtype=np.bool_)
        m = candidates.shape[1]
        for i in np.flatnonzero(candidates.any(axis=1)):
            confs = np.flatnonzero(candidates[i])
            counts = self.offsets[confs + 1] - self.offsets[confs]
            shift = self.offsets[confs] - (np.cumsum(counts) - counts)
            idx = np.repeat(shift, counts) + np.arange(int(counts.sum()), dtype=np.intp)
            first, last = np.full(m, np.inf), np.full(m, -np.inf)
            seg, pos = self._near(starts[i], idx)
            np.minimum.at(first, self.owner[seg], pos)
            seg, pos = self._near(ends[i], idx)
            np.maximum.at(last, self.owner[seg], pos)
            out[i] = last - first >= 2.0 * self.radius_m
        return out


def _weigh(proba: F64, seen: F64, n: F64, pseudocount: float) -> F64:
    """``proba`` (a model trained on balanced classes) with a mix of modes as the prior instead of a
    uniform one: each column times ``K * prior``, ``prior = (seen + pseudocount) / (n + K *
    pseudocount)`` (``seen`` per mode, ``n`` in all; one row for all, or one per row of ``proba``),
    rows renormalised (module docstring)."""
    k = proba.shape[1]
    shifted = proba * (k * (seen + pseudocount) / (n + k * pseudocount))
    total = shifted.sum(axis=1, keepdims=True)
    out: F64 = np.divide(shifted, total, out=proba.copy(), where=total > 0.0)
    return out


class Answer(Protocol):
    """What :func:`answer_weights` reads of a tester's answer (a :class:`Confirmation`, or a label
    read for training)."""

    @property
    def mode(self) -> str: ...
    @property
    def shown_mode(self) -> str | None: ...
    @property
    def shown_probability(self) -> float | None: ...


class Answered(msgspec.Struct, frozen=True, kw_only=True):
    """An answer alone, as :func:`answer_weights` reads it (a label read for training, or a
    question answered in an evaluation)."""

    mode: str
    shown_mode: str | None
    shown_probability: float | None


def answer_weights(confirmations: Sequence[Answer], pseudocount: float | None) -> F64:
    """How much each confirmation counts (1 in full): an answer that agrees with the mode the
    tester was shown counts as much as the tester's answers show attention.

    A tester who taps "looks right" without looking agrees with every mode shown, and the history
    then learns the model's mistakes where it is least sure (``asking.looks_right_always`` in the
    evaluation). Attentive or not, a tester agrees with a mode shown at probability ``p`` when it is
    right, which is ``p`` of the time if the probabilities are calibrated; one who sometimes agrees
    without looking (a share ``b`` of answers) agrees at ``a = b + (1 - b) q``, ``q`` the mean ``p``
    over their answers. Of their agreements, ``q (1 - a) / ((1 - q) a)`` are attentive ones: 1 when
    ``a = q``, 0 when everything agrees. That is the weight of each agreement; corrections, and
    confirmations without a shown mode, count in full. The rate ``a`` starts from ``pseudocount``
    answers agreeing at ``q``, so that a few answers that happen to agree still count: with 10, five
    all agreeing at ``q`` = 0.6 count 0.55 each, twenty 0.23, and however many there are, all
    together count about as much as ``pseudocount * q`` answers. A model more sure of itself than right
    (``q`` above the true rate) makes attentive testers look more attentive still: their agreements
    count in full. ``pseudocount`` ``None`` counts every answer in full."""
    out = np.ones(len(confirmations), dtype=np.float64)
    if pseudocount is None:
        return out
    agree, weighing = _agreements(confirmations, pseudocount)
    out[agree] = weighing.agreement_weight
    return out


class AnswerWeighing(msgspec.Struct, frozen=True, kw_only=True):
    """What a tester's answers count for in their history (:func:`answer_weights`), for the tester to
    see (``GET /v1/me/answers``): of the ``answers`` read, ``with_shown_mode`` were about a section
    showing a mode the model gave (the others, about a section showing the tester's own earlier
    answer or answered before migration 0027, count in full); of those, ``agreed`` agreed with it
    and ``corrected`` did not. ``mean_probability_shown`` is ``q``, ``agreement_rate`` is ``a``
    smoothed by the pseudo-answers, and ``agreement_weight`` what each agreement counts for (1 in
    full; corrections always count in full)."""

    answers: int
    with_shown_mode: int
    agreed: int
    corrected: int
    mean_probability_shown: float | None
    agreement_rate: float | None
    agreement_weight: float


def answer_weighing(confirmations: Sequence[Answer], pseudocount: float | None) -> AnswerWeighing:
    """What ``confirmations`` count for (:class:`AnswerWeighing`, :func:`answer_weights`)."""
    if pseudocount is None:
        pseudocount = math.inf
    return _agreements(confirmations, pseudocount)[1]


def _agreements(
    confirmations: Sequence[Answer], pseudocount: float
) -> tuple[npt.NDArray[np.bool_], AnswerWeighing]:
    """Which confirmations agreed with a mode shown, and what they count for (:func:`answer_weights`;
    an infinite ``pseudocount`` counts them in full)."""
    # One pass: the probability shown (-1 when unknown), and whether the answer agreed with it.
    shown = np.asarray(
        [
            (
                -1.0 if c.shown_mode is None or c.shown_probability is None else c.shown_probability,
                c.mode == c.shown_mode,
            )
            for c in confirmations
        ],
        dtype=np.float64,
    ).reshape(-1, 2)
    known = shown[:, 0] >= 0.0
    agree = known & (shown[:, 1] > 0.0)
    n_known, n_agree = int(known.sum()), int(agree.sum())
    q = float(np.clip(shown[known, 0].mean(), 0.0, 1.0)) if n_known else None
    a = None
    weight = 1.0
    if q is not None and math.isfinite(pseudocount):
        a = (n_agree + pseudocount * q) / (n_known + pseudocount)
        if q < 1.0 - 1e-9 and a > 0.0:
            weight = min(1.0, q * (1.0 - a) / ((1.0 - q) * a))
    elif q is not None:
        a = n_agree / n_known
    return agree, AnswerWeighing(
        answers=len(confirmations),
        with_shown_mode=n_known,
        agreed=n_agree,
        corrected=n_known - n_agree,
        mean_probability_shown=q,
        agreement_rate=a,
        agreement_weight=weight,
    )


def usual_modes(
    proba: F64,
    classes: Sequence[str],
    confirmations: Sequence[Confirmation],
    pseudocount: float,
    weights: F64 | None = None,
) -> F64:
    """``proba`` (``(n, len(classes))``) weighed by the tester's mix of confirmed modes (one per
    confirmation, or its ``weights``; modes outside ``classes`` are not counted); without any,
    ``proba`` as it is."""
    index = {name: c for c, name in enumerate(classes)}
    counts = np.zeros(len(classes), dtype=np.float64)
    cols = np.asarray([index.get(c.mode, -1) for c in confirmations], dtype=np.intp)
    mine = cols >= 0
    np.add.at(counts, cols[mine], 1.0 if weights is None else weights[mine])
    if not counts.any():
        return proba
    return _weigh(proba, counts[None, :], np.full((1, 1), counts.sum()), pseudocount)


def own_mix(proba: F64, params: HistoryParams = DEFAULT_HISTORY, earlier: F64 | None = None) -> F64:
    """``proba`` (rows in time order) weighed by the tester's mix of modes read without any label:
    for row ``i``, the model's own probabilities over the ``params.own_sections`` most recent rows
    of ``earlier`` (the tester's earlier sections, oldest first, same columns; none if ``None``)
    and ``proba`` up to and including ``i``. ``proba`` as it is when ``params`` turn it off."""
    if params.prior_pseudocount is None or params.own_sections <= 0 or proba.shape[0] == 0:
        return proba
    rows = proba if earlier is None or not earlier.shape[0] else np.vstack((earlier, proba))
    cum = np.vstack((np.zeros((1, proba.shape[1])), np.cumsum(rows, axis=0)))
    last = np.arange(rows.shape[0] - proba.shape[0] + 1, rows.shape[0] + 1)
    first = np.maximum(last - params.own_sections, 0)
    n = (last - first)[:, None].astype(np.float64)
    return _weigh(proba, cum[last] - cum[first], n, params.prior_pseudocount)


def assist(
    proba: F64,
    classes: Sequence[str],
    starts: F64,
    ends: F64,
    confirmations: Sequence[Confirmation],
    *,
    pool: F64 | None = None,
    points: F64 | None = None,
    params: HistoryParams = DEFAULT_HISTORY,
) -> Assisted:
    """Weigh each section's class probabilities by the tester's usual modes, mix in the
    confirmations most like it in their kinematics (with ``points``, the sections' :func:`kinematics`),
    then the confirmations on its route.

    ``proba`` is ``(n, len(classes))``, rows in time order; ``starts`` and ``ends`` are ``(n, 2)``
    (latitude, longitude in degrees) of each section's first and last fix. ``pool`` holds the
    model's probabilities (same columns) of the tester's earlier sections, oldest first, which count
    in their mix of modes with ``proba``'s own rows; ``None`` counts the confirmations only. Without
    confirmations or pool, rows are returned unchanged. A section owes its mode to the history when
    a confirmation changed it: the mix of the model's own probabilities alone does not count.
    """
    extra = sorted({c.mode for c in confirmations} - set(classes))
    names = (*classes, *extra)
    out = np.zeros((proba.shape[0], len(names)), dtype=np.float64)
    mix = params.prior_pseudocount
    adapted = proba if pool is None else own_mix(proba, params, pool)
    out[:, : len(classes)] = adapted
    matched = np.zeros(proba.shape[0], dtype=np.bool_)
    if not confirmations or proba.shape[0] == 0:
        return Assisted(proba=out, classes=names, matched=matched, from_history=matched.copy())
    mine = list(confirmations)[-params.max_confirmations :]
    weights = answer_weights(mine, params.agreement_pseudocount)
    # A flight is named by rule (models.sections), never by the model or the history: a confirmed
    # plane says nothing of a ground section, and one "plane" tapped by mistake on a bus ride was
    # carried to every ride on its route. It still counts in the weighing of the tester's answers.
    grounded = [k for k, c in enumerate(mine) if c.mode != _PLANE]
    mine, weights = [mine[k] for k in grounded], weights[grounded]
    if not mine:
        return Assisted(proba=out, classes=names, matched=matched, from_history=matched.copy())
    if mix is not None:
        # Confirmations, when there are any, make the mix alone: the model's own probabilities carry
        # its confusions, and counted beside the tester's answers they dilute them.
        out[:, : len(classes)] = (
            usual_modes(proba, classes, mine, mix, weights)
            if any(c.mode in classes for c in mine)
            else adapted
        )
    if points is not None and params.kinematic_neighbours > 0:
        _mix_kinematic(out, points, mine, names, params, weights=weights)
    c_start = np.asarray([(c.start_lat, c.start_lon) for c in mine], dtype=np.float64)
    c_end = np.asarray([(c.end_lat, c.end_lon) for c in mine], dtype=np.float64)
    index = {name: k for k, name in enumerate(names)}
    onehot = np.zeros((len(mine), len(names)), dtype=np.float64)
    onehot[np.arange(len(mine)), [index[c.mode] for c in mine]] = 1.0
    forward = _near(starts, c_start, params.radius_m) & _near(ends, c_end, params.radius_m)
    back = _near(starts, c_end, params.radius_m) & _near(ends, c_start, params.radius_m)
    if params.ends_min_probability > 0:
        # A confirmation on the same ends does not carry a section the model finds self-propelled
        # (walking, cycling) into a vehicle, or back, unless the model gives its mode at least
        # the floor: a bike ride on a route confirmed by car stays a bike. Within a kind (bus, car
        # or metro), where the model's confusions are, it counts as before.
        model = np.zeros_like(out)
        model[:, : len(classes)] = proba
        known = np.asarray(onehot[:, : len(classes)].any(axis=1), dtype=np.bool_)
        active = np.asarray([n in _SELF_PROPELLED for n in names], dtype=np.bool_)
        section_active = active[np.argmax(model, axis=1)]
        confirmed_active = active[[index[c.mode] for c in mine]]
        same_kind = section_active[:, None] == confirmed_active[None, :]
        plausible = (model @ onehot.T >= params.ends_min_probability) | ~known[None, :] | same_kind
        forward &= plausible
        back &= plausible
    match = np.where(forward.any(axis=1, keepdims=True), forward, back)
    if params.along_route:
        _along_route(
            match,
            proba=out,
            onehot=onehot,
            starts=starts,
            ends=ends,
            mine=mine,
            n_model=len(classes),
            params=params,
        )
    counts = match.astype(np.float64) @ (onehot * weights[:, None])
    n = counts.sum(axis=1)
    matched = n > 0
    weight = (n / (n + 1.0))[matched, None]
    out[matched] = weight * counts[matched] / n[matched, None] + (1.0 - weight) * out[matched]
    moved = np.argmax(out, axis=1) != np.argmax(adapted, axis=1)
    return Assisted(proba=out, classes=names, matched=matched, from_history=matched | moved)


def kinematic_votes(
    points: F64,
    confirmations: Sequence[Confirmation],
    names: Sequence[str],
    k: int,
    weights: F64 | None = None,
) -> F64:
    """For each section (``points``, its :func:`kinematics`), the votes of its ``k`` nearest
    confirmations with kinematics for their modes (columns ``names``), each weighing
    ``1 / (distance + 0.5)`` times its weight (``weights``, one per confirmation; 1 without);
    all 0 without such confirmations."""
    at, column, trust = _with_kinematics(confirmations, points.shape[1], names, weights)
    return _votes(points, at, column, trust, k=k, n_names=len(names))


def _with_kinematics(
    confirmations: Sequence[Confirmation], width: int, names: Sequence[str], weights: F64 | None
) -> tuple[F64, npt.NDArray[np.intp], F64]:
    """The confirmations that have kinematics of ``width`` figures: their points, their modes'
    columns in ``names`` and their weights (``weights``, one per confirmation; 1 without)."""
    index = {name: c for c, name in enumerate(names)}
    kept = [k for k, c in enumerate(confirmations) if len(c.kinematics) == width]
    at = np.asarray([confirmations[k].kinematics for k in kept], dtype=np.float64).reshape(len(kept), width)
    column = np.asarray([index[confirmations[k].mode] for k in kept], dtype=np.intp)
    trust = np.ones(len(kept)) if weights is None else np.asarray(weights, dtype=np.float64)[kept]
    return at, column, trust


def _votes(points: F64, at: F64, column: npt.NDArray[np.intp], trust: F64, *, k: int, n_names: int) -> F64:
    """:func:`kinematic_votes` for confirmations already read (:func:`_with_kinematics`)."""
    out = np.zeros((points.shape[0], n_names), dtype=np.float64)
    if not column.size or points.shape[0] == 0:
        return out
    # Squared distances from |a|² + |b|² - 2 a·b: an (n, m) matrix, never (n, m, features).
    d2 = (points**2).sum(axis=1)[:, None] + (at**2).sum(axis=1)[None, :] - 2.0 * points @ at.T
    distance = np.sqrt(np.maximum(d2, 0.0))
    k = min(k, column.size)
    # The k nearest of each row, in no order (their votes add up the same).
    near = (
        np.argpartition(distance, k - 1, axis=1)[:, :k] if k < column.size else np.argsort(distance, axis=1)
    )
    weight = trust[near] / (np.take_along_axis(distance, near, axis=1) + 0.5)
    rows = np.repeat(np.arange(points.shape[0]), near.shape[1])
    np.add.at(out, (rows, column[near].ravel()), weight.ravel())
    return out


def _mix_kinematic(
    out: F64,
    points: F64,
    mine: Sequence[Confirmation],
    names: Sequence[str],
    params: HistoryParams,
    *,
    weights: F64,
) -> None:
    """Weigh ``out`` by how much more each section's kinematically nearest confirmations vote for a
    mode than the tester's confirmations as a whole would (:func:`kinematic_votes`): a likelihood
    ratio ``(votes + c) / (expected + c)``, ``c`` the ``kinematic_pseudocount``, to the power
    ``kinematic_strength``, each confirmation counting as its ``weights`` (:func:`answer_weights`)
    in the votes and in the whole. A tester whose confirmations are all of one mode gets nothing
    from it (their usual modes already count that); one who confirmed walks and bus rides gets, for
    a section that moves like their walks, walk."""
    at, column, trust = _with_kinematics(mine, points.shape[1], names, weights)
    if not column.size or trust.sum() <= 0.0:
        return
    votes = _votes(points, at, column, trust, k=params.kinematic_neighbours, n_names=len(names))
    share = np.zeros(len(names), dtype=np.float64)
    np.add.at(share, column, trust / trust.sum())
    expected = votes.sum(axis=1, keepdims=True) * share[None, :]
    c = params.kinematic_pseudocount
    out *= ((votes + c) / (expected + c)) ** params.kinematic_strength
    out /= out.sum(axis=1, keepdims=True)


def _along_route(
    match: npt.NDArray[np.bool_],
    *,
    proba: F64,
    onehot: F64,
    starts: F64,
    ends: F64,
    mine: Sequence[Confirmation],
    n_model: int,
    params: HistoryParams,
) -> None:
    """Fill the rows of ``match`` that have no match by their ends with the confirmations whose path
    the section follows (:meth:`ConfirmedPaths.followed`), keeping only those of modes with at least
    ``params.along_route_min_probability`` in ``proba`` (a walk beside a confirmed bus line stays a
    walk) or that the model does not know (its first ``n_model`` columns): it has no say on those."""
    alone = np.flatnonzero(~match.any(axis=1))
    recent = len(mine) - min(len(mine), params.along_route_confirmations)  # first one looked along
    paths = ConfirmedPaths.of(mine[recent:], params.radius_m) if alone.size else None
    if paths is None:
        return
    # (n, m): the model gives row i at least the floor for the mode of confirmation j, or does not
    # know that mode (only the tester used it) and so has nothing to say against it.
    known = np.asarray(onehot[:, :n_model].any(axis=1), dtype=np.bool_)
    plausible = (proba @ onehot.T >= params.along_route_min_probability) | ~known[None, :]
    match[alone, recent:] = paths.followed(starts[alone], ends[alone]) & plausible[alone, recent:]


def audited(section_id: uuid.UUID, audit_share: float = AUDIT_SHARE) -> bool:
    """Whether a section is among the share drawn for audit, as ``sillage.section_audited``
    (migration 0028) draws it: its id's last two bytes below ``audit_share`` of 65,536 (uuid5
    takes them from a hash, and a section keeps its id across reprocessing)."""
    b = section_id.bytes
    return b[14] * 256 + b[15] < audit_share * 65536


def unsure(proba: F64, ask_below: float = ASK_BELOW) -> npt.NDArray[np.bool_]:
    """Which rows of ``proba`` (sections' class probabilities as the tester is shown them) the app
    should ask the tester to confirm: those whose most likely mode is below ``ask_below``."""
    if proba.shape[0] == 0:
        return np.zeros(0, dtype=np.bool_)
    return np.asarray(proba.max(axis=1) < ask_below, dtype=np.bool_)
