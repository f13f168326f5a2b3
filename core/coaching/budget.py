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

The pace is linear, measured over the part of the local calendar year that Sillage observed: from
1 January, or from the tester's first data when it began later (a tester who enrolled last week has
no record of January to November, and "used so far / elapsed part of the year" would make anyone
look frugal). The projection is the whole year at that pace; on track means the emissions so far
do not exceed the budget prorated to the observed part of the year.
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

    ``elapsed_fraction`` is the part of the calendar year gone by; ``pace_since`` is when the
    observed part began (1 January, or the tester's first data) and ``observed_fraction`` its
    share of the year. ``on_track`` means the emissions so far do not exceed the budget prorated
    to the observed part, which is the same as a projected year at that pace within budget.
    """

    year: int
    budget_kg: float
    used_kg: float
    used_fraction: float
    elapsed_fraction: float
    pace_since: datetime
    observed_fraction: float
    remaining_kg: float
    projected_year_end_kg: float | None
    on_track: bool


def budget_status(
    sections: Sequence[SectionRecord],
    at: datetime,
    params: BudgetParams = DEFAULT_BUDGET_PARAMS,
    *,
    first_data: datetime | None = None,
) -> BudgetStatus:
    """Budget used from 1 January (local) up to ``at``, and the pace over the observed part of the
    year (from ``first_data``, the tester's earliest trip or stay, when it is later) projected to
    the whole year."""
    tz = ZoneInfo(params.time_zone)
    local_at = at.astimezone(tz)
    year = local_at.year
    year_start = local_midnight(date(year, 1, 1), tz)
    year_end = local_midnight(date(year + 1, 1, 1), tz)
    since = year_start if first_data is None else min(max(year_start, first_data), at)
    # timestamps, not aware-datetime subtraction: same-tzinfo subtraction ignores DST offsets
    year_s = year_end.timestamp() - year_start.timestamp()
    elapsed = (local_at.timestamp() - year_start.timestamp()) / year_s
    observed_s = local_at.timestamp() - since.timestamp()
    observed = observed_s / year_s
    used = sum(s.co2_kg for s in sections if local_date(s.start, tz).year == year and s.start <= at)
    budget = params.yearly_mobility_kg
    enough = observed_s >= params.min_elapsed_days_for_projection * 86_400
    projected = used / observed if enough and observed > 0 else None
    return BudgetStatus(
        year=year,
        budget_kg=budget,
        used_kg=used,
        used_fraction=used / budget,
        elapsed_fraction=elapsed,
        pace_since=since,
        observed_fraction=observed,
        remaining_kg=budget - used,
        projected_year_end_kg=projected,
        on_track=used <= budget * observed,
    )
