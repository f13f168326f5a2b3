"""k-threshold suppression with complementary (secondary) suppression.

Primary suppression hides every cell with fewer than ``k`` distinct testers, as Coach CO2's
aggregation server withholds results with too few contributors. A lone hidden cell could still be
recomputed from the table's total (and every table of a release reveals the same total trips
through its other tables), so when exactly one cell of a table is hidden the next least-populated
cell is hidden too (Hundepool et al. 2012, *Statistical Disclosure Control*, §5.2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

C = TypeVar("C", bound=tuple[str, ...])  # a cell: (dim_a, dim_b) or (origin, destination, band)


def suppressed_cells(users: Mapping[C, int], k: int, domain: Iterable[C] = ()) -> set[C]:
    """The cells to withhold. ``users`` is the number of distinct testers per cell; ``domain`` lists
    public cells that must be considered even with no tester (hours of the day, weekdays)."""
    cells = set(users) | set(domain)
    hidden = {c for c in cells if users.get(c, 0) < k}
    shown = sorted(cells - hidden, key=lambda c: (users.get(c, 0), c))
    if len(hidden) == 1 and shown:
        hidden.add(shown[0])
    return hidden
