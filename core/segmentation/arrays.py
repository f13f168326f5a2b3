"""Small vectorised helpers over groups of consecutive elements (trips laid end to end).

A *group* is a half-open range ``[start, end)`` of a 1-D array; groups are sorted and disjoint.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.intp]
F64 = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def concat_ranges(starts: IntArray, ends: IntArray) -> IntArray:
    """The indices ``start..end-1`` of every range, concatenated, without a Python loop."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.intp)
    offsets = np.cumsum(lengths) - lengths
    out: IntArray = np.arange(total, dtype=np.intp) + np.repeat(starts - offsets, lengths)
    return out


def fill_from_valid(valid: BoolArray, group_start: IntArray, group_end: IntArray) -> IntArray:
    """For every element, the index of the nearest valid element of its group, looking backwards
    first and forwards when there is none before it (-1 when the group has none)."""
    n = valid.size
    positions = np.arange(n, dtype=np.intp)
    before = np.maximum.accumulate(np.where(valid, positions, -1))
    after = np.minimum.accumulate(np.where(valid, positions, n)[::-1])[::-1]
    return np.where(before >= group_start, before, np.where(after < group_end, after, -1)).astype(
        np.intp, copy=False
    )


def centred_max(values: F64, half_width: int, group_id: IntArray, n_groups: int) -> F64:
    """Maximum of ``values[i - half_width : i + half_width + 1]`` within each element's group.

    Groups are laid out with ``half_width`` sentinel slots between them so windows never cross a
    group boundary; the windowed maximum itself is the van Herk / Gil-Werman algorithm (block prefix
    and suffix maxima, O(n) regardless of the window), written with ``np.maximum.accumulate``.
    """
    n = values.size
    if n == 0 or half_width <= 0:
        return values.copy()
    width = 2 * half_width + 1
    slots = n + (n_groups + 1) * half_width
    padded_len = -(-(slots + half_width) // width) * width
    padded = np.full(padded_len, -np.inf)
    positions = np.arange(n, dtype=np.intp) + (group_id + 1) * half_width
    padded[positions] = values
    blocks = padded.reshape(-1, width)
    prefix = np.maximum.accumulate(blocks, axis=1).ravel()
    suffix = np.maximum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    left = positions - half_width
    right = np.minimum(positions + half_width, padded_len - 1)
    peak: F64 = np.maximum(suffix[left], prefix[right])
    return peak
