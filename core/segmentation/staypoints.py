"""Staypoints by dwell time and radius: the sliding method of Li et al. 2008, as trackintel runs it.

Li, Zheng, Xie, Chen, Liu and Ma (2008), "Mining user similarity based on location history", ACM
SIGSPATIAL GIS: from an *anchor* fix, the window grows while fixes stay within ``stay_radius_m`` of
the anchor; the first fix beyond the radius closes it and becomes the next anchor (trackintel's
``generate_staypoints(method="sliding")`` moves the anchor there, which makes the pass linear). A
closed window is a stay when its fixes span at least ``stay_dwell_s`` (we measure to its last fix
inside the radius, not to the closing fix, so a signal gap before departure is not counted as
dwell). A signal gap whose two sides are within the radius stays inside the window, so it counts
as dwell: that is how "a gap between close positions is a stay" falls out of the rule.

The chain of anchors is inherently sequential, but each link is found without a per-fix loop: the
path length along the track bounds the distance from the anchor (triangle inequality), so
``searchsorted`` on the cumulative path length gives, for every fix at once, the first fix that
*could* be out of the radius. On a moving track that fix is the answer; only anchors where the path
wanders (stays, noisy walks) are resolved by a vectorised scan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.geodesy import chord2_for_distance_m
from core.segmentation.arrays import concat_ranges
from core.segmentation.params import SegmentationParams
from core.segmentation.sphere import Sphere

F64 = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

# Rounding slack when the cumulative path length is used as a lower bound (metres).
_PATH_SLACK_M = 0.05
_FIRST_SCAN = 64


@dataclass(frozen=True, slots=True)
class Windows:
    """Consecutive windows ``[starts[k], ends[k])`` covering the track; the last one is still open
    (no fix beyond the radius has closed it). ``is_stay`` marks windows long enough to be stays."""

    starts: IntArray
    ends: IntArray
    is_stay: BoolArray


def sliding_windows(t_s: F64, sphere: Sphere, params: SegmentationParams) -> Windows:
    """Cut a cleaned track into anchor windows and mark the stays (see the module docstring)."""
    n = t_s.size
    if n == 0:
        empty = np.zeros(0, dtype=np.intp)
        return Windows(starts=empty, ends=empty, is_stay=np.zeros(0, dtype=np.bool_))
    x, y, z = sphere.x, sphere.y, sphere.z
    threshold = chord2_for_distance_m(params.stay_radius_m)
    path = np.concatenate(([0.0], np.cumsum(sphere.steps_m())))
    # First fix whose path distance from i reaches the radius: nothing before it can be out.
    earliest = np.searchsorted(path, path + (params.stay_radius_m - _PATH_SLACK_M), side="left")
    probe = np.minimum(earliest, n - 1)
    out = (earliest < n) & ((x[probe] - x) ** 2 + (y[probe] - y) ** 2 + (z[probe] - z) ** 2 >= threshold)
    # next_anchor[i] >= 0: known; -1: scan from earliest[i].
    next_anchor = np.where(out, earliest, -1).tolist()
    earliest_list = earliest.tolist()
    starts: list[int] = []
    s = 0
    while s < n:
        starts.append(s)
        nxt = next_anchor[s]
        s = nxt if nxt >= 0 else _scan(x, y, z, threshold=threshold, anchor=s, lo=earliest_list[s])
    start_arr = np.asarray(starts, dtype=np.intp)
    end_arr = np.append(start_arr[1:], n).astype(np.intp)
    is_stay = (t_s[end_arr - 1] - t_s[start_arr]) >= params.stay_dwell_s
    return Windows(starts=start_arr, ends=end_arr, is_stay=is_stay)


def _scan(x: F64, y: F64, z: F64, *, threshold: float, anchor: int, lo: int) -> int:
    """First index >= ``lo`` farther than the radius from ``anchor`` (``len(x)`` if none)."""
    n = x.size
    width = _FIRST_SCAN
    ax, ay, az = x[anchor], y[anchor], z[anchor]
    while lo < n:
        hi = min(n, lo + width)
        beyond = (x[lo:hi] - ax) ** 2 + (y[lo:hi] - ay) ** 2 + (z[lo:hi] - az) ** 2 >= threshold
        first = int(beyond.argmax())
        if beyond[first]:
            return lo + first
        lo = hi
        width *= 2
    return n


def stay_centres(sphere: Sphere, starts: IntArray, ends: IntArray) -> tuple[F64, F64]:
    """Spherical mean position (degrees) of each window ``[starts[k], ends[k])``.

    The mean of unit vectors, as trackintel's ``angle_centroid_multipoints``, so stays across the
    antimeridian are not averaged to the other side of the planet.
    """
    if starts.size == 0:
        return np.zeros(0), np.zeros(0)
    index = concat_ranges(starts, ends)
    offsets = np.cumsum(ends - starts) - (ends - starts)
    sx = np.add.reduceat(sphere.x[index], offsets)
    sy = np.add.reduceat(sphere.y[index], offsets)
    sz = np.add.reduceat(sphere.z[index], offsets)
    return np.degrees(np.arctan2(sz, np.hypot(sx, sy))), np.degrees(np.arctan2(sy, sx))
