"""Grouped reductions give, group by group, what numpy gives on each group alone."""

from __future__ import annotations

import numpy as np
import pytest

from core.grouped import Groups, concat_ranges
from tests.unit.features.reference import _weighted_quantiles

COUNTS = np.array([3, 0, 1, 2, 7, 0, 10, 4], dtype=np.intp)


def values(seed: int = 0, *, ties: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = rng.normal(10.0, 5.0, int(COUNTS.sum()))
    return np.round(out) if ties else out


def pieces(x: np.ndarray) -> list[np.ndarray]:
    groups = Groups.of_counts(COUNTS)
    return [x[s : s + c] for s, c in zip(groups.starts, groups.counts, strict=True)]


def test_groups_know_where_each_run_starts_and_which_group_each_element_is_in() -> None:
    groups = Groups.of_counts(np.array([2, 0, 3], dtype=np.intp))
    assert groups.starts.tolist() == [0, 2, 2]
    assert groups.ids.tolist() == [0, 0, 2, 2, 2]
    assert groups.pairs().tolist() == [True, False, True, True]
    assert groups.first().tolist() == [True, False, True, False, False]


def test_sums_and_maxima_are_per_group_with_zero_and_nan_for_empty_groups() -> None:
    x = values()
    groups = Groups.of_counts(COUNTS)
    expected_sum = [p.sum() if p.size else 0.0 for p in pieces(x)]
    expected_max = [p.max() if p.size else np.nan for p in pieces(x)]
    np.testing.assert_allclose(groups.sum(x), expected_sum, rtol=1e-15)
    np.testing.assert_array_equal(groups.max(x), expected_max)


def test_running_sums_restart_at_each_group() -> None:
    x = np.arange(1.0, COUNTS.sum() + 1.0)
    expected = np.concatenate([np.cumsum(p) for p in pieces(x)])
    np.testing.assert_array_equal(Groups.of_counts(COUNTS).cumsum(x), expected)


@pytest.mark.parametrize("ties", [False, True])
def test_quantiles_and_medians_are_numpys_on_each_group(ties: bool) -> None:
    x = values(1, ties=ties)
    groups = Groups.of_counts(COUNTS)
    qs = (0.1, 0.5, 0.85, 0.95)
    expected = [np.quantile(p, qs) if p.size else [np.nan] * 4 for p in pieces(x)]
    np.testing.assert_array_equal(groups.quantiles(x, qs), expected)
    np.testing.assert_array_equal(groups.median(x), [np.median(p) if p.size else np.nan for p in pieces(x)])


@pytest.mark.parametrize("ties", [False, True])
def test_weighted_quantiles_are_the_reference_interpolation_on_each_group(ties: bool) -> None:
    x = values(2, ties=ties)
    w = np.random.default_rng(3).choice([1.0, 2.0, 5.0, 10.0], x.size)
    qs = (0.1, 0.25, 0.5, 0.85, 0.95)
    got = Groups.of_counts(COUNTS).weighted_quantiles(x, w, qs)
    expected = [_weighted_quantiles(p, q, qs) for p, q in zip(pieces(x), pieces(w), strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_selecting_elements_keeps_each_group_with_fewer_members() -> None:
    groups = Groups.of_counts(np.array([3, 2], dtype=np.intp))
    kept = groups.select(np.array([True, False, True, False, False]))
    assert kept.counts.tolist() == [2, 0]


def test_concatenated_ranges_list_every_index_of_every_range() -> None:
    starts = np.array([5, 0, 9], dtype=np.intp)
    counts = np.array([2, 3, 0], dtype=np.intp)
    assert concat_ranges(starts, counts).tolist() == [5, 6, 0, 1, 2]
