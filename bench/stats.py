"""Small helpers shared by the benchmarks: percentiles and timing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np


def pct(values_s: Sequence[float], q: float) -> float:
    """The q-th percentile of durations in seconds, returned in milliseconds."""
    if not values_s:
        return float("nan")
    return float(np.percentile(np.asarray(values_s, dtype=np.float64), q) * 1000.0)


_T = TypeVar("_T")


def best_of(fn: Callable[[], _T], runs: int = 1) -> tuple[float, _T]:
    """The shortest of ``runs`` (at least one) timings of ``fn`` in seconds, and what its last run
    returned."""
    times: list[float] = []
    while True:
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= runs:
            return min(times), out


class Stopwatch:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def elapsed_s(self) -> float:
        return time.perf_counter() - self.t0


_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state is field 0)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by ``root`` and all its descendants, living or reaped.

    A process's own time plus, for the root, the time of the children it has reaped (a pool's
    database backends come and go during a run). Linux ``/proc`` only; NaN where it cannot be read.
    """
    total, stack, first = 0.0, [root], True
    while stack:
        pid = stack.pop()
        try:
            fields = _stat(pid)
        except OSError:
            if first:
                return float("nan")
            continue
        # fields[11:15] are utime, stime, cutime, cstime (man 5 proc, counting from state = 0)
        ticks = int(fields[11]) + int(fields[12])
        if first:
            ticks += int(fields[13]) + int(fields[14])
            first = False
        total += ticks * _TICK_S
        stack.extend(_children(pid))
    return total


def parent_pid(pid: int) -> int:
    return int(_stat(pid)[1])
