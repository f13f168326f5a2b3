"""Cleaning: drop inaccurate fixes, repeated timestamps and speed-outlier excursions.

The excursion rule is a vectorised form of e-mission's jump smoothing (``SmoothZigzag`` in
e-mission-server ``emission/analysis/intake/cleaning/cleaning_methods/jump_smoothing.py``,
after the POSDAP rule): consecutive fixes whose implied speed exceeds ``max_speed_mps`` are a *jump*,
jumps cut the track into segments, and a short segment (at most ``max_outlier_run_fixes`` fixes)
lying between two longer segments is a false excursion when going straight from the longer segment
before it to the one after it is plausible (implied speed at most ``max_speed_mps``): the phone jumped
out and came back. Sustained fast travel (a plane, sampled every minute) is a series of jumps that
never comes back, so it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.segmentation.params import SegmentationParams
from core.segmentation.sphere import Sphere
from core.track import Track

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Cleaning:
    """``kept`` masks the input; ``provisional_from`` indexes the cleaned track: the fixes from it on
    sit after the last long segment behind a jump and may still turn out to be an excursion once
    later fixes arrive (``len(cleaned)`` when there are none)."""

    kept: BoolArray
    provisional_from: int


def clean(track: Track, sphere: Sphere, params: SegmentationParams) -> Cleaning:
    """Select the fixes segmentation can trust (see the module docstring for the rules).

    ``sphere`` holds the track's fixes as unit vectors. Raises ValueError if the track is not sorted
    by time (``Track`` guarantees it).
    """
    n = len(track)
    t = track.t_s
    if n > 1 and bool(np.any(t[1:] < t[:-1])):
        raise ValueError("track is not sorted by time")
    # NaN accuracy (unknown) compares False and is kept.
    candidates = np.flatnonzero(~(track.accuracy_m > params.max_accuracy_m))
    if candidates.size > 1:
        # Several fixes at one instant: keep the first (the rest would imply infinite speeds).
        repeated = np.concatenate(([False], t[candidates[1:]] == t[candidates[:-1]]))
        candidates = candidates[~repeated]
    kept = np.zeros(n, dtype=np.bool_)
    dropped, provisional_from = _excursions(track.t_s, sphere, candidates, params)
    kept[candidates[~dropped]] = True
    return Cleaning(kept=kept, provisional_from=provisional_from - int(np.count_nonzero(dropped)))


def _excursions(
    t_all: npt.NDArray[np.float64], sphere: Sphere, idx: IntArray, params: SegmentationParams
) -> tuple[BoolArray, int]:
    """Mask over ``idx`` of the excursion fixes, and where the provisional suffix starts (in ``idx``)."""
    m = idx.size
    dropped = np.zeros(m, dtype=np.bool_)
    if m < 2:
        return dropped, m
    t = t_all[idx]
    step_speed = sphere.distance_m(idx[:-1], idx[1:]) / (t[1:] - t[:-1])
    jumps = np.flatnonzero(step_speed > params.max_speed_mps) + 1
    if jumps.size == 0:
        return dropped, m
    seg_start = np.concatenate(([0], jumps))
    seg_end = np.concatenate((jumps, [m]))
    long_seg = (seg_end - seg_start) > params.max_outlier_run_fixes
    seg_ids = np.arange(seg_start.size)
    # Nearest long segment before and after every segment (-1 / size when there is none).
    prev_long = np.maximum.accumulate(np.where(long_seg, seg_ids, -1))
    next_long = np.minimum.accumulate(np.where(long_seg, seg_ids, seg_start.size)[::-1])[::-1]
    has_both = ~long_seg & (prev_long >= 0) & (next_long < seg_start.size)
    if bool(np.any(has_both)):
        cand = np.flatnonzero(has_both)
        before = seg_end[prev_long[cand]] - 1
        after = seg_start[next_long[cand]]
        bridge_speed = sphere.distance_m(idx[before], idx[after]) / (t[after] - t[before])
        excursion = cand[bridge_speed <= params.max_speed_mps]
        per_seg = np.zeros(seg_start.size, dtype=np.bool_)
        per_seg[excursion] = True
        dropped = np.repeat(per_seg, seg_end - seg_start)
    last_long = int(prev_long[-1])
    provisional_from = m if last_long in (-1, seg_start.size - 1) else int(seg_start[last_long + 1])
    return dropped, provisional_from
