"""The spatial join behind matching: every pair of trips whose origins AND destinations are close.

Grid hashing in four dimensions (origin cell, destination cell). Points are projected to metres
(equirectangular, scaled at the highest latitude present so that projected distances never exceed
true ones); cells are as wide as the radii, so any pair within the radii lies in the same or an
adjacent cell at both ends. Each occupied cell meets only the 3^4 = 81 cells around it, half of them
by symmetry, so the work grows with the number of trips and of true candidates, not with the square
of the number of trips. Candidates are then checked exactly with the haversine distance. This is
the fixed-radius near-neighbour grid of Bentley, Stanat & Williams, "The complexity of finding
fixed-radius near neighbors", Information Processing Letters 6 (1977) 209-212, applied to
origin-destination pairs.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt

from core.coaching.geo import EARTH_RADIUS_M

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# Offsets to the neighbouring cells in 4-D, keeping one of each pair (o, -o): the lexicographically
# positive half. The zero offset (same cell) is handled separately.
_HALF_OFFSETS = [o for o in itertools.product((-1, 0, 1), repeat=4) if o > (0, 0, 0, 0)]


def haversine_m(lat1: F64, lon1: F64, lat2: F64, lon2: F64) -> F64:
    """Element-wise great-circle distance in metres between degree arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))), dtype=np.float64)


def _cells(lat: F64, lon: F64, cell_m: float, cos_ref: float) -> tuple[I64, I64]:
    y = np.radians(lat) * EARTH_RADIUS_M
    x = np.radians(lon) * EARTH_RADIUS_M * cos_ref
    return np.floor(y / cell_m).astype(np.int64), np.floor(x / cell_m).astype(np.int64)


def _cross(counts: I64, starts: I64, order: I64, c1: I64, c2: I64) -> tuple[I64, I64]:
    """Every (member of cell c1[k], member of cell c2[k]) pair, for all k at once."""
    s1, s2 = counts[c1], counts[c2]
    total = s1 * s2
    which = np.repeat(np.arange(len(c1)), total)
    k = np.arange(int(total.sum())) - np.repeat(np.cumsum(total) - total, total)
    a = order[starts[c1][which] + k // s2[which]]
    b = order[starts[c2][which] + k % s2[which]]
    return a, b


def close_pairs(
    o_lat: F64,
    o_lon: F64,
    d_lat: F64,
    d_lon: F64,
    *,
    origin_radius_m: float,
    destination_radius_m: float,
) -> tuple[I64, I64]:
    """Index pairs ``(i, j)``, ``i < j``, with origins within ``origin_radius_m`` and destinations
    within ``destination_radius_m`` of each other (haversine).

    Cells are numbered in mixed radix (padded by one cell on each side), so the neighbour at a given
    offset is the cell number plus a constant and all cells are looked up at once per offset."""
    empty = np.empty(0, dtype=np.int64)
    if len(o_lat) < 2:
        return empty, empty
    max_abs_lat = float(np.max(np.abs(np.concatenate([o_lat, d_lat]))))
    cos_ref = max(math.cos(math.radians(min(max_abs_lat, 89.0))), 0.01)
    keys = np.stack(
        [
            *_cells(o_lat, o_lon, origin_radius_m, cos_ref),
            *_cells(d_lat, d_lon, destination_radius_m, cos_ref),
        ],
        axis=1,
    )
    keys = keys - keys.min(axis=0) + 1
    dims = keys.max(axis=0) + 2

    def number(k: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return np.asarray(((k[..., 0] * dims[1] + k[..., 1]) * dims[2] + k[..., 2]) * dims[3] + k[..., 3])

    codes = number(keys)
    order = np.argsort(codes, kind="stable").astype(np.int64)
    cells, starts, counts = np.unique(codes[order], return_index=True, return_counts=True)
    starts, counts = starts.astype(np.int64), counts.astype(np.int64)
    left: list[I64] = []
    right: list[I64] = []
    crowded = np.flatnonzero(counts > 1)
    a, b = _cross(counts, starts, order, crowded, crowded)
    keep = a < b
    left.append(a[keep])
    right.append(b[keep])
    for offset in _HALF_OFFSETS:
        target = cells + int(number(np.array(offset, dtype=np.int64)))
        pos = np.minimum(np.searchsorted(cells, target), len(cells) - 1)
        hit = np.flatnonzero(cells[pos] == target)
        a, b = _cross(counts, starts, order, hit, pos[hit].astype(np.int64))
        left.append(a)
        right.append(b)
    i, j = np.concatenate(left), np.concatenate(right)
    keep = (haversine_m(o_lat[i], o_lon[i], o_lat[j], o_lon[j]) <= origin_radius_m) & (
        haversine_m(d_lat[i], d_lon[i], d_lat[j], d_lon[j]) <= destination_radius_m
    )
    i, j = i[keep], j[keep]
    return np.minimum(i, j).astype(np.int64), np.maximum(i, j).astype(np.int64)
