"""Small helpers shared by the benchmarks: percentiles and timing."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np


def pct(values_s: Sequence[float], q: float) -> float:
    """The q-th percentile of durations in seconds, returned in milliseconds."""
    if not values_s:
        return float("nan")
    return float(np.percentile(np.asarray(values_s, dtype=np.float64), q) * 1000.0)


class Stopwatch:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def elapsed_s(self) -> float:
        return time.perf_counter() - self.t0
