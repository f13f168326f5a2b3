"""Differential-privacy noise, calibrated and sampled by OpenDP (opendp.org).

Each noisy table is a vector of integer sums; OpenDP's ``make_laplace`` on integers samples the
discrete Laplace distribution (Canonne, Kamath & Steinke 2020), which has none of the
floating-point weaknesses of textbook Laplace samplers (Mironov 2012). The scale is found by
OpenDP's own ``binary_search_param`` so that the privacy map of the measurement, applied to the
table's L1 sensitivity, is at most the table's share of epsilon: the library, not this module, is
the judge of the guarantee.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import msgspec


class NoisyVector(msgspec.Struct, frozen=True, kw_only=True):
    values: list[int]
    scale: float  # of the discrete Laplace noise, in the table's integer unit
    epsilon: float  # what OpenDP's privacy map says this measurement spends


@cache
def _dp() -> Any:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


def _measurement(scale: float) -> Any:
    dp = _dp()
    return dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=scale)


@cache
def calibrated_scale(sensitivity: int, epsilon: float) -> float:
    """The smallest discrete Laplace scale whose privacy map gives at most ``epsilon`` for an L1
    sensitivity of ``sensitivity``."""
    if sensitivity <= 0 or epsilon <= 0:
        raise ValueError("sensitivity and epsilon must be positive")
    scale: float = _dp().binary_search_param(_measurement, d_in=sensitivity, d_out=epsilon)
    return scale


def add_noise(values: Sequence[int], *, sensitivity: int, epsilon: float) -> NoisyVector:
    """``values`` plus discrete Laplace noise giving ``epsilon``-DP for the given sensitivity."""
    scale = calibrated_scale(sensitivity, epsilon)
    meas = _measurement(scale)
    spent = float(meas.map(sensitivity))
    if spent > epsilon * (1 + 1e-9):
        raise ValueError(f"OpenDP reports epsilon {spent} above the allotted {epsilon}")
    noisy = list(meas(list(values))) if values else []
    return NoisyVector(values=[int(v) for v in noisy], scale=scale, epsilon=spent)
