"""A yearly mobility budget, the part used so far and the pace.

The default total is 2 tCO2e per person per year, the per-capita level compatible with the Paris
agreement and France's carbon neutrality by 2050 (Stratégie nationale bas-carbone), as used by
Carbone 4, "Faire sa part ? Pouvoir et responsabilité des individus, des entreprises et de l'État
face à l'urgence climatique" (June 2019). Mobility's share is taken as today's share of transport in
a French person's footprint, about a quarter: Carbone 4's MyCO2 estimate (presented in 2022,
reported by Vert) puts the average footprint at 9.9 t, with more than 2 t from the car alone and
more than 0.4 t from planes, i.e. 25-30 %. The default 0.25 gives a 500 kgCO2e yearly mobility
budget. Keeping today's split in the 2 t target is a simplification, stated as such to the user.

A tester may set their own yearly mobility budget (``personal_budget_kg``), which replaces the
product of the two defaults.

The pace is linear: used / elapsed fraction of the local calendar year, projected to year end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec

from core.coaching.periods import DEFAULT_TIME_ZONE, local_date, local_midnight
from core.coaching.records import SectionRecord


class BudgetParams(msgspec.Struct, frozen=True, kw_only=True):
    yearly_total_kg: Annotated[float, msgspec.Meta(gt=0)] = 2000.0
    mobility_share: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.25
    time_zone: str = DEFAULT_TIME_ZONE
    min_elapsed_days_for_projection: float = 1.0
    personal_budget_kg: Annotated[float, msgspec.Meta(gt=0)] | None = None

    @property
    def yearly_mobility_kg(self) -> float:
        """The tester's own budget if they set one, else the default trajectory's mobility share."""
        if self.personal_budget_kg is not None:
            return self.personal_budget_kg
        return self.yearly_total_kg * self.mobility_share


DEFAULT_BUDGET_PARAMS = BudgetParams()


class BudgetStatus(msgspec.Struct, frozen=True, kw_only=True):
    """Where the user stands on ``at`` in their local calendar year.

    ``on_track`` means the emissions so far do not exceed the budget prorated to the elapsed part
    of the year, which is the same as a projected year-end total within budget.
    """

    year: int
    budget_kg: float
    used_kg: float
    used_fraction: float
    elapsed_fraction: float
    remaining_kg: float
    projected_year_end_kg: float | None
    on_track: bool


def budget_status(
    sections: Sequence[SectionRecord], at: datetime, params: BudgetParams = DEFAULT_BUDGET_PARAMS
) -> BudgetStatus:
    """Budget used from 1 January (local) up to ``at``, and the linear projection to 31 December."""
    tz = ZoneInfo(params.time_zone)
    local_at = at.astimezone(tz)
    year = local_at.year
    year_start = local_midnight(date(year, 1, 1), tz)
    year_end = local_midnight(date(year + 1, 1, 1), tz)
    # timestamps, not aware-datetime subtraction: same-tzinfo subtraction ignores DST offsets
    elapsed_s = local_at.timestamp() - year_start.timestamp()
    elapsed = elapsed_s / (year_end.timestamp() - year_start.timestamp())
    used = sum(s.co2_kg for s in sections if local_date(s.start, tz).year == year and s.start <= at)
    budget = params.yearly_mobility_kg
    enough = elapsed_s >= params.min_elapsed_days_for_projection * 86_400
    projected = used / elapsed if enough and elapsed > 0 else None
    return BudgetStatus(
        year=year,
        budget_kg=budget,
        used_kg=used,
        used_fraction=used / budget,
        elapsed_fraction=elapsed,
        remaining_kg=budget - used,
        projected_year_end_kg=projected,
        on_track=used <= budget * elapsed,
    )
