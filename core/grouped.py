"""Reductions over groups of a concatenated array: one numpy pass for many sections at once.

:func:`core.features.features_matrix` lays the fixes of all the sections of a track end to end;
:class:`Groups` says where each section's run begins and ends, and its methods reduce every run in
one call (``np.add.reduceat``, ``np.bincount``, one ``np.lexsort``) instead of one Python call per
section. Each reduction reproduces, group by group, the numpy function it replaces (``np.sum``,
``np.max``, ``np.median``, ``np.quantile`` with the default "linear" method of Hyndman & Fan 1996,
and ``np.interp``), so the vectorised features equal the per-section ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
IntP = npt.NDArray[np.intp]
Bool = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Groups:
    """Consecutive runs of a concatenated array: group ``g`` is ``[starts[g], starts[g] + counts[g])``."""

    counts: IntP
    starts: IntP
    ids: IntP  # the group of each element

    @staticmethod
    def of_counts(counts: IntP) -> Groups:
        counts = np.asarray(counts, dtype=np.intp)
        starts = np.cumsum(counts) - counts
        ids = np.repeat(np.arange(counts.size, dtype=np.intp), counts)
        return Groups(counts=counts, starts=starts, ids=ids)

    @property
    def size(self) -> int:
        return int(self.counts.size)

    def select(self, mask: Bool) -> Groups:
        """The groups of ``values[mask]``."""
        return Groups.of_counts(np.bincount(self.ids[mask], minlength=self.size))

    def count(self, mask: Bool) -> IntP:
        """How many elements of each group ``mask`` holds."""
        return np.bincount(self.ids[mask], minlength=self.size).astype(np.intp)

    def first(self) -> Bool:
        """True on the first element of each group."""
        out = np.zeros(self.ids.size, dtype=np.bool_)
        out[self.starts[self.counts > 0]] = True
        return out

    def pairs(self) -> Bool:
        """True at ``k`` when elements ``k`` and ``k + 1`` are in the same group (length ``n - 1``)."""
        return np.asarray(self.ids[:-1] == self.ids[1:], dtype=np.bool_)

    def sum(self, values: F64) -> F64:
        """Sum of each group (0 when empty), by the same pairwise summation as ``np.sum``."""
        out = np.zeros(self.size)
        full = self.counts > 0
        if values.size:
            out[full] = np.add.reduceat(values, self.starts[full])
        return out

    def max(self, values: F64) -> F64:
        """Maximum of each group (NaN when empty)."""
        out = np.full(self.size, np.nan)
        full = self.counts > 0
        if values.size:
            out[full] = np.maximum.reduceat(values, self.starts[full])
        return out

    def cumsum(self, values: F64) -> F64:
        """Running sum restarting at each group (exact when the sums are, as for times in seconds)."""
        total = np.cumsum(values)
        before = np.concatenate(([0.0], total))[self.starts]
        return np.asarray(total - np.repeat(before, self.counts), dtype=np.float64)

    def sort(self, values: F64) -> F64:
        """``values`` sorted within each group (groups stay in place).

        One fast (SIMD) sort of the values, then a stable sort by group, a radix sort when the
        group numbers fit 16 bits: several times faster than ``np.lexsort`` on the same keys.
        """
        order = np.argsort(values)
        group = self.ids[order]
        key = group.astype(np.int16) if self.size <= np.iinfo(np.int16).max else group
        return np.asarray(values[order[np.argsort(key, kind="stable")]], dtype=np.float64)

    def quantiles(self, values: F64, qs: Sequence[float]) -> F64:
        """``np.quantile(group, qs)`` of each group, shape ``(size, len(qs))``; NaN rows when empty.

        ``values`` need not be sorted. Same arithmetic as numpy's "linear" method: virtual index
        ``(n - 1) q``, then ``_lerp`` between its neighbours.
        """
        ordered = self.sort(values)
        out = np.full((self.size, len(qs)), np.nan)
        full = np.flatnonzero(self.counts > 0)
        n, start = self.counts[full], self.starts[full]
        for j, q in enumerate(qs):
            virtual = (n - 1) * np.float64(q)
            below = np.floor(virtual)
            last = virtual >= n - 1
            lo = np.where(last, n - 1, below.astype(np.intp))
            hi = np.where(last, n - 1, lo + 1)
            gamma = virtual - np.where(last, -1.0, below)
            a, b = ordered[start + lo], ordered[start + hi]
            diff = b - a
            out[full, j] = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
        return out

    def median(self, values: F64) -> F64:
        """``np.median`` of each group: the middle value, or the mean of the two middle ones."""
        ordered = self.sort(values)
        out = np.full(self.size, np.nan)
        full = np.flatnonzero(self.counts > 0)
        n, start = self.counts[full], self.starts[full]
        upper = ordered[start + n // 2]
        lower = ordered[start + (n - 1) // 2]
        out[full] = np.where(n % 2 == 1, upper, (lower + upper) / 2)
        return out

    def weighted_quantiles(self, values: F64, weights: F64, qs: Sequence[float]) -> F64:
        """Time-weighted quantiles of each group, shape ``(size, len(qs))``; NaN rows when empty.

        Each value counts its weight, centred on its place in the sorted group, and the quantile
        is read by linear interpolation with ``np.interp``'s rules. Weights must be positive.

        Equal values of different weights make the result depend on their order, and numpy's
        default ``argsort`` orders ties differently on different CPUs (SIMD sorts). Each group is
        therefore ordered by its own ``np.argsort`` call, exactly as the per-section reference did,
        so the features stay identical to those the shipped model was trained on. That is one
        cheap call per group; everything else is vectorised.
        """
        order = np.arange(values.size)
        for start, count in zip(self.starts.tolist(), self.counts.tolist(), strict=True):
            if count > 1:
                order[start : start + count] = start + np.argsort(values[start : start + count])
        v, w = values[order], weights[order]
        total = self.sum(w)
        cum = (self.cumsum(w) - 0.5 * w) / np.repeat(total, self.counts)
        out = np.full((self.size, len(qs)), np.nan)
        full = np.flatnonzero(self.counts > 0)
        n, start = self.counts[full], self.starts[full]
        last = start + n - 1
        for j, q in enumerate(qs):
            # Index of the last point at or below q (np.searchsorted(..., side="right") - 1).
            k = start + np.bincount(self.ids[cum <= q], minlength=self.size)[full] - 1
            inner = np.clip(k, start, np.maximum(last - 1, start))
            after = np.minimum(inner + 1, values.size - 1)  # only read where the group has two points
            x0, x1, y0, y1 = cum[inner], cum[after], v[inner], v[after]
            with np.errstate(divide="ignore", invalid="ignore"):
                slope = (y1 - y0) / (x1 - x0)
                between = slope * (q - x0) + y0
                retry = slope * (q - x1) + y1
            between = np.where(np.isnan(between), retry, between)
            between = np.where(np.isnan(between) & (y0 == y1), y0, between)
            exact = x0 == q
            result = np.where(exact, y0, between)
            result = np.where(k < start, v[start], result)
            out[full, j] = np.where(k >= last, v[last], result)
        return out


def concat_ranges(starts: IntP, counts: IntP) -> IntP:
    """Indices ``starts[0] .. starts[0] + counts[0] - 1, starts[1] ..``, concatenated."""
    offsets = np.cumsum(counts) - counts
    return np.asarray(
        np.arange(int(counts.sum()), dtype=np.intp) + np.repeat(starts - offsets, counts), dtype=np.intp
    )
