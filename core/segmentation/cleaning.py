"""Cleaning: drop inaccurate fixes, repeated timestamps, a second tracker's fixes and speed-outlier
excursions.

A tester may run two trackers at once (the app and OwnTracks while switching, or a GPX logger beside
the phone). Their fixes interleave, each with its own noise and filtering, and the track zigzags
between them: on a walk that adds about a fifth to its length and turns speeds, headings and jerk
into noise. Where two trackers log the same stretch of time, cleaning keeps one: in each
``tracker_window_s`` the tracker with the most fixes (the denser sampling; ties to the first name
in alphabetical order), and drops the other trackers' fixes within ``tracker_window_s / 2`` of one
of its fixes. Where only one tracker logs (the other paused when still, or was switched off), its
fixes are kept.

The excursion rule is a vectorised form of e-mission's jump smoothing (``SmoothZigzag`` in
e-mission-server ``emission/analysis/intake/cleaning/cleaning_methods/jump_smoothing.py``,
after the POSDAP rule): consecutive fixes whose implied speed exceeds ``max_speed_mps`` are a *jump*,
jumps cut the track into segments, and a short segment (at most ``max_outlier_run_fixes`` fixes)
lying between two longer segments is a false excursion when going straight from the longer segment
before it to the one after it is plausible (implied speed at most ``max_speed_mps``): the phone jumped
out and came back. Sustained fast travel (a plane, sampled every minute) is a series of jumps that
never comes back, so it is kept. A jump on one side only (the way in or out crosses a signal gap
slowly) is an excursion too when the few fixes beside it can be bridged over (``_one_sided``).
Jumps with no longer segment to judge them by (a short track of nothing else, jumping back and
forth) are kept here: no fix of them can be told from the first seen from a plane. Their trip is
dropped after segmentation, where the speed of a section is read whole (:mod:`.impossible`).
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


def clean(
    track: Track, sphere: Sphere, params: SegmentationParams, *, start_s: float | None = None
) -> Cleaning:
    """Select the fixes segmentation can trust (see the module docstring for the rules).

    ``sphere`` holds the track's fixes as unit vectors. The fixes before ``start_s`` are context,
    never kept: for the choice between trackers, and for the excursion rule, which judges the first
    fixes from ``start_s`` on by the segments on either side of a jump (without the fixes before it,
    a GPS jump just after the start of a stay an incremental step restarts at was kept, and made a
    trip of two fixes there that one pass does not have). Raises ValueError if the track is not
    sorted by time (``Track`` guarantees it).
    """
    n = len(track)
    t = track.t_s
    if n > 1 and bool(np.any(t[1:] < t[:-1])):
        raise ValueError("track is not sorted by time")
    candidates = trusted(track, params)
    dropped, provisional_from = _excursions(track.t_s, sphere, candidates, params)
    keep = ~dropped if start_s is None else ~dropped & (t[candidates] >= start_s)
    kept = np.zeros(n, dtype=np.bool_)
    kept[candidates[keep]] = True
    return Cleaning(kept=kept, provisional_from=int(np.count_nonzero(keep[:provisional_from])))


def trusted(track: Track, params: SegmentationParams) -> IntArray:
    """The fixes the excursion rule looks at (indices into the time-sorted ``track``): accurate
    enough, the first at each instant, and of the tracker kept where several log the same time.

    Each is judged on the fixes within a tracker window of it, never farther."""
    t = track.t_s
    # NaN accuracy (unknown) compares False and is kept.
    candidates = np.flatnonzero(~(track.accuracy_m > params.max_accuracy_m))
    if candidates.size > 1:
        # Several fixes at one instant: keep the first (the rest would imply infinite speeds).
        repeated = np.concatenate(([False], t[candidates[1:]] == t[candidates[:-1]]))
        candidates = candidates[~repeated]
    if track.source is not None and candidates.size > 1:
        candidates = candidates[one_tracker(t[candidates], track.source[candidates], params.tracker_window_s)]
    return candidates


def one_tracker(t: npt.NDArray[np.float64], source: npt.NDArray[np.int8], window_s: float) -> BoolArray:
    """Mask of the fixes kept where several trackers log the same time (module docstring).

    ``t`` is sorted; ``source`` numbers each fix's tracker.
    """
    keep = np.ones(t.size, dtype=np.bool_)
    codes = np.unique(source)
    if codes.size < 2:
        return keep
    # Windows on the epoch, not on the first fix: every step of the pipeline, whatever the time it
    # starts reading from, cuts them alike.
    bucket = np.floor(t / window_s).astype(np.int64)
    bucket -= bucket[0]
    # Fixes per (bucket, tracker); the winner of a bucket has the most (the lowest code on a tie).
    counts = np.zeros((int(bucket[-1]) + 1, int(codes[-1]) + 1), dtype=np.int64)
    np.add.at(counts, (bucket, source.astype(np.int64)), 1)
    winner = np.argmax(counts, axis=1)[bucket]
    for code in codes:
        own_t = t[source == code]
        others = np.flatnonzero((winner == code) & (source != code))
        if others.size == 0:
            continue
        # The winner's nearest fix to each of the others' fixes in its buckets.
        after = np.searchsorted(own_t, t[others])
        nearest = np.minimum(
            np.abs(own_t[np.minimum(after, own_t.size - 1)] - t[others]),
            np.abs(t[others] - own_t[np.maximum(after - 1, 0)]),
        )
        keep[others[nearest <= window_s / 2]] = False
    return keep


def _one_sided(
    t: npt.NDArray[np.float64],
    sphere: Sphere,
    idx: IntArray,
    *,
    jumps: IntArray,
    segment_of: IntArray,
    dropped: BoolArray,
    params: SegmentationParams,
) -> None:
    """Mark, in ``dropped``, excursions with a jump on one side only: entered or left slowly across
    a signal gap (a phone that wakes 1.6 km off after two minutes without a fix reads 14 m/s going
    there, and jumps back at 800 m/s). At each jump not already next to a dropped fix, the last
    fixes before it (or the first after it), at most ``max_outlier_run_fixes`` of its own segment
    and the fewest that will do, are an excursion when going straight from the fix before them to
    the fix after them is plausible."""
    m = idx.size
    limit = params.max_outlier_run_fixes

    def plausible(a: int, b: int) -> bool:
        distance = float(sphere.distance_m(idx[a : a + 1], idx[b : b + 1])[0])
        return distance <= params.max_speed_mps * float(t[b] - t[a])

    for p in jumps.tolist():  # a jump between p - 1 and p
        if dropped[p - 1] or dropped[p]:
            continue
        for length in range(1, limit + 1):
            before = p - 1 - length  # the last ``length`` fixes before the jump
            if (
                before >= 0
                and segment_of[before] == segment_of[p - 1]
                and not dropped[before]
                and plausible(before, p)
            ):
                dropped[p - length : p] = True
                break
            after = p + length  # the first ``length`` fixes after it
            if (
                after < m
                and segment_of[after] == segment_of[p]
                and not dropped[after]
                and plausible(p - 1, after)
            ):
                dropped[p:after] = True
                break


def step_speeds(t: npt.NDArray[np.float64], sphere: Sphere, idx: IntArray) -> npt.NDArray[np.float64]:
    """The speed implied from each fix of ``idx`` to the next (m/s): above ``max_speed_mps``, a jump."""
    return sphere.distance_m(idx[:-1], idx[1:]) / (t[idx[1:]] - t[idx[:-1]])


def _excursions(
    t_all: npt.NDArray[np.float64], sphere: Sphere, idx: IntArray, params: SegmentationParams
) -> tuple[BoolArray, int]:
    """Mask over ``idx`` of the excursion fixes, and where the provisional suffix starts (in ``idx``)."""
    m = idx.size
    dropped = np.zeros(m, dtype=np.bool_)
    if m < 2:
        return dropped, m
    t = t_all[idx]
    jumps = np.flatnonzero(step_speeds(t_all, sphere, idx) > params.max_speed_mps) + 1
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
    segment_of = np.repeat(seg_ids, seg_end - seg_start)
    _one_sided(t, sphere, idx, jumps=jumps, segment_of=segment_of, dropped=dropped, params=params)
    last_long = int(prev_long[-1])
    provisional_from = m if last_long in (-1, seg_start.size - 1) else int(seg_start[last_long + 1])
    return dropped, provisional_from
