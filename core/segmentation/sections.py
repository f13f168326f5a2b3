"""Sections: cut each trip where the transport mode changes.

Walk-based segmentation after Zheng, Li, Chen, Xie and Ma (2008), "Understanding mobility based on
GPS data" (UbiComp) and "Learning transportation mode from raw GPS data for geographic applications
on the web" (WWW): people walk between any two vehicle legs, so every fix is labelled *walk* or
*moving* from its speed, runs shorter than a minimum are merged into the run before them, and what
remains are the sections. Two cues are added:

- the phone's own activity (Android Activity Recognition, iOS Core Motion), when it was sent,
  overrides the speed label of its fix (walk/run → walk, bike → slow wheels, vehicle → motorised);
- among moving fixes, the peak speed over a few minutes puts each fix in a *speed regime*
  (``regime_bounds_mps``), so a train → car change without a recorded walk still splits.

Still fixes (a bus at a stop, a train in a station) carry no mode and take the label of the run
they sit in. Everything is computed inside each trip only, so a trip's sections never depend on
fixes outside it.

Two rules keep a vehicle leg in one piece when the road slows it down (measured on GeoLife, where
Beijing buses and cars crawl at walking pace for minutes; most false splits were such crawls):

- a walk run *between two vehicle runs* of one trip is a transfer only if it lasts
  ``transfer_min_s`` (alighting, walking and waiting for the next vehicle take minutes) or the
  phone itself reported walking through most of it; shorter ones are a slow spell of the vehicle.
  Walk runs at a trip's ends (the walk to and from the vehicle) keep the shorter
  ``min_section_duration_s``: that is Zheng et al.'s distinction between *certain* and *uncertain*
  segments, by position in the trip rather than by length alone;
- a speed regime must hold for ``regime_min_duration_s`` before a change of regime splits
  without a walk: a regime flip is the weakest evidence of a mode change (no walk, no activity),
  and a bus alternating between open road and traffic flips its regime every few minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.fixes import Activity
from core.segmentation.arrays import centred_max, concat_ranges, fill_from_valid
from core.segmentation.params import SegmentationParams
from core.segmentation.sphere import Sphere
from core.track import ACTIVITY_CODES, Track

IntArray = npt.NDArray[np.intp]
F64 = npt.NDArray[np.float64]

_STILL = 0
_WALK = 1
_MOVING = 2  # + speed regime (0 = bike-like, 1 = road, ...)
_UNSET = -1


@dataclass(frozen=True, slots=True)
class _Layout:
    """Trip fixes laid end to end: ``idx`` maps back to the track, groups are the trips."""

    idx: IntArray
    t: F64
    trip_of: IntArray
    first: IntArray
    lengths: IntArray
    group_start: IntArray
    group_end: IntArray


def section_starts(
    track: Track, sphere: Sphere, trip_starts: IntArray, trip_ends: IntArray, params: SegmentationParams
) -> tuple[IntArray, IntArray]:
    """First fix (index into ``track``) and trip number of every section, in order.

    Each trip ``[trip_starts[k], trip_ends[k])`` gets at least one section; a section runs to the
    next section start of its trip, or to the trip end.
    """
    idx = concat_ranges(trip_starts, trip_ends)
    if idx.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    lengths = trip_ends - trip_starts
    trip_of = np.repeat(np.arange(trip_starts.size, dtype=np.intp), lengths)
    first = np.cumsum(lengths) - lengths  # trip starts in compact coordinates
    group_start = first[trip_of]
    lay = _Layout(
        idx=idx,
        t=track.t_s[idx],
        trip_of=trip_of,
        first=first,
        lengths=lengths,
        group_start=group_start,
        group_end=group_start + lengths[trip_of],
    )
    speed = _speed(track, sphere, lay, params)
    regime = _regimes(_peak_speed(speed, lay, params), lay, params)
    activity = track.activity[idx]
    label = _labels(activity, speed, regime, params)
    label = _fill(label, label != _STILL, lay, default=_WALK)
    label = _merge_short_runs(label, lay, params.min_section_duration_s)
    label = _absorb_short_transfers(label, activity, lay, params.transfer_min_s)
    starts = np.flatnonzero(_run_starts(label, lay))
    return idx[starts], trip_of[starts]


def _speed(track: Track, sphere: Sphere, lay: _Layout, params: SegmentationParams) -> F64:
    """Doppler speed where the phone sent one, else displacement over the centred time window
    (widened to the fixes on either side when it holds no other)."""
    t = lay.t
    half = params.speed_window_s / 2.0
    lo = np.maximum(np.searchsorted(t, t - half, side="left"), lay.group_start)
    hi = np.minimum(np.searchsorted(t, t + half, side="right") - 1, lay.group_end - 1)
    # A phone logging less often than the window (battery saving: a fix a minute, or every five)
    # leaves a fix alone in it, with no displacement: reach at least the fix on each side.
    i = np.arange(t.size)
    lo = np.where(lo == i, np.maximum(i - 1, lay.group_start), lo)
    hi = np.where(hi == i, np.minimum(i + 1, lay.group_end - 1), hi)
    span = t[hi] - t[lo]
    moved = sphere.distance_m(lay.idx[lo], lay.idx[hi])
    displacement_speed = np.where(span > 0, moved / np.where(span > 0, span, 1.0), 0.0)
    doppler = track.speed_mps[lay.idx]
    return np.where(np.isfinite(doppler), doppler, displacement_speed)


def _regimes(peak: F64, lay: _Layout, params: SegmentationParams) -> IntArray:
    """Speed regime of every fix from its peak speed; regimes held for less than
    ``regime_min_duration_s`` take the regime of the nearest long-held one of the trip."""
    regime = np.searchsorted(np.asarray(params.regime_bounds_mps, dtype=np.float64), peak, side="right")
    regime = regime.astype(np.intp, copy=False)
    if params.regime_min_duration_s <= 0:
        return regime
    starts, ends, duration = _runs(regime, lay)
    valid = np.repeat(duration >= params.regime_min_duration_s, ends - starts)
    filled = _fill(regime, valid, lay, default=_UNSET)
    # A trip whose regime never holds long enough keeps its fixes' own regimes.
    return np.where(filled == _UNSET, regime, filled).astype(np.intp)


def _labels(
    activity: npt.NDArray[np.int8], speed: F64, regime: IntArray, params: SegmentationParams
) -> IntArray:
    label = np.where(
        speed < params.still_speed_mps,
        _STILL,
        np.where(speed <= params.walk_max_speed_mps, _WALK, _MOVING + regime),
    )
    code = activity.astype(np.intp)
    walking = (code == ACTIVITY_CODES[Activity.WALK]) | (code == ACTIVITY_CODES[Activity.RUN])
    label = np.where(walking, _WALK, label)
    label = np.where(code == ACTIVITY_CODES[Activity.BIKE], _MOVING, label)
    vehicle = code == ACTIVITY_CODES[Activity.VEHICLE]
    label = np.where(vehicle, _MOVING + np.maximum(regime, 1), label)
    return np.where(code == ACTIVITY_CODES[Activity.STILL], _STILL, label).astype(np.intp)


def _peak_speed(speed: F64, lay: _Layout, params: SegmentationParams) -> F64:
    """Maximum speed over ``regime_window_s`` around each fix, within its trip.

    The window is counted in fixes from each trip's mean sampling interval (pauses longer than the
    speed window do not count), rounded to a power of two so that few window widths are needed.
    """
    dt = np.minimum(np.diff(lay.t, append=lay.t[-1]), params.speed_window_s)
    dt[lay.first + lay.lengths - 1] = 0.0  # no step across trips
    mean_dt = np.add.reduceat(dt, lay.first) / np.maximum(lay.lengths - 1, 1)
    half = params.regime_window_s / 2.0 / np.maximum(mean_dt, 1e-3)
    half_width = np.exp2(np.round(np.log2(np.clip(half, 1.0, 4096.0)))).astype(np.intp)
    per_fix = half_width[lay.trip_of]
    peak = np.empty_like(speed)
    for width in np.unique(half_width).tolist():
        sel = np.flatnonzero(per_fix == width)
        trips_in = lay.trip_of[sel]
        group_id = np.cumsum(np.concatenate(([0], trips_in[1:] != trips_in[:-1]))).astype(np.intp)
        peak[sel] = centred_max(speed[sel], int(width), group_id, int(group_id[-1]) + 1)
    return peak


def _fill(label: IntArray, valid: npt.NDArray[np.bool_], lay: _Layout, default: int) -> IntArray:
    """Replace invalid labels by the nearest valid one of the trip, before first (Zheng et al.'s
    backward merge), after at a trip's start; ``default`` when the trip has none."""
    source = fill_from_valid(valid, lay.group_start, lay.group_end)
    return np.where(source >= 0, label[np.maximum(source, 0)], default).astype(np.intp)


def _run_starts(label: IntArray, lay: _Layout) -> npt.NDArray[np.bool_]:
    change = np.ones(label.size, dtype=np.bool_)
    change[1:] = label[1:] != label[:-1]
    starts: npt.NDArray[np.bool_] = change | (np.arange(label.size) == lay.group_start)
    return starts


def _runs(label: IntArray, lay: _Layout) -> tuple[IntArray, IntArray, F64]:
    """Runs of equal labels within trips: first index, end index and duration (first fix to the
    next run's first fix, or to the trip's last fix)."""
    t = lay.t
    starts = np.flatnonzero(_run_starts(label, lay))
    ends = np.append(starts[1:], label.size)
    in_trip = ends < lay.group_end[starts]
    t_end = np.where(in_trip, t[np.minimum(ends, label.size - 1)], t[ends - 1])
    return starts, ends, t_end - t[starts]


def _merge_short_runs(label: IntArray, lay: _Layout, min_duration_s: float) -> IntArray:
    """Runs lasting less than ``min_duration_s`` take the label of the nearest long run; a trip
    made only of short runs becomes one section."""
    starts, ends, duration = _runs(label, lay)
    valid = np.repeat(duration >= min_duration_s, ends - starts)
    return _fill(label, valid, lay, default=_UNSET)


def _absorb_short_transfers(
    label: IntArray, activity: npt.NDArray[np.int8], lay: _Layout, transfer_min_s: float
) -> IntArray:
    """Walk runs between two vehicle runs of a trip, shorter than ``transfer_min_s`` and not
    reported as walking by the phone for most of their fixes, take the vehicle's label."""
    if transfer_min_s <= 0 or label.size == 0:
        return label
    starts, ends, duration = _runs(label, lay)
    run_label = label[starts]
    inside = (starts > lay.group_start[starts]) & (ends < lay.group_end[starts])
    vehicle = run_label >= _MOVING
    between = np.zeros(starts.size, dtype=np.bool_)
    between[1:-1] = vehicle[:-2] & vehicle[2:]
    code = activity.astype(np.intp)
    walking = (code == ACTIVITY_CODES[Activity.WALK]) | (code == ACTIVITY_CODES[Activity.RUN])
    walked_share = np.add.reduceat(walking.astype(np.float64), starts) / (ends - starts)
    slow_spell = (run_label == _WALK) & inside & between & (duration < transfer_min_s) & (walked_share < 0.5)
    if not bool(slow_spell.any()):
        return label
    valid = np.repeat(~slow_spell, ends - starts)
    return _fill(label, valid, lay, default=_UNSET)
