"""The documented parameters of a release: caps, threshold, privacy budget, geography.

Units are in the field names. The defaults are the published policy; a release stores the values it
used, so the city can read the epsilon, k and caps of every table it receives.
"""

from __future__ import annotations

import msgspec

from core.coaching.periods import DEFAULT_TIME_ZONE

# The smallest epsilon a release accepts. Noise is drawn as 32-bit integers (OpenDP's discrete
# Laplace saturates at +-2**31, and refuses a scale outright below about epsilon 1e-9): at 0.01 a
# month's CO2 table (sensitivity 99,200 units of 0.01 kg, epsilon/8) gets a scale of 7.9e7 units,
# 790 t per cell, whose draws stay inside the integers (two in 1e12 beyond); at 0.001 one draw in
# fifteen would be clipped. Long before that, no figure of the release can be read.
MIN_EPSILON = 0.01


class ContributionCaps(msgspec.Struct, frozen=True, kw_only=True):
    """How much one tester can weigh in a release (user-level sensitivity follows from these).

    Each local day keeps at most ``max_trips_per_day`` trips (chosen by a keyed hash, so neither the
    first nor the last trips of a day are favoured); each kept trip's distance is clipped to
    ``max_km_per_trip`` and its CO2 to ``max_co2_kg_per_trip``.
    """

    max_trips_per_day: int = 4
    max_km_per_trip: float = 40.0
    max_co2_kg_per_trip: float = 8.0


class CarpoolCaps(msgspec.Struct, frozen=True, kw_only=True):
    """How much one tester can weigh in a release's carpool tables (issue 8, "for the agglomeration").

    A tester's carpool potential comes as one row per corridor (zone to zone) and time band
    (:class:`core.carpool.CorridorContribution`). At most ``max_corridors_per_tester`` of them are
    kept (chosen by a keyed hash; two covers a commute out and back); each counts at most
    ``max_matches_per_corridor`` potential partners (one and a fallback: enough to know a carpool
    could form, and every extra one would widen the noise); its CO2 is the yearly saving with one
    partner (the mean over the tester's potential partners on that leg: one can only share a trip
    with one of them at a time), clipped to ``max_co2_kg_per_year_per_corridor``: 200 kg is about
    what each side saves on a 10 km (straight line) one-way car commute shared every working day
    (circuity 1.3, ADEME's 0.142 kg per vehicle-km split in two, 45 weeks of 5 days, as in
    ``core.carpool.params.SavingsParams``). ``band_min`` is the width of the departure-time bands
    (local time), ``co2_unit_kg`` the integer resolution at which the CO2 noise is drawn.
    """

    max_corridors_per_tester: int = 2
    max_matches_per_corridor: int = 2
    max_co2_kg_per_year_per_corridor: float = 200.0
    band_min: int = 60
    co2_unit_kg: float = 1.0


class ReleaseParams(msgspec.Struct, frozen=True, kw_only=True):
    """One release's privacy and geography settings.

    ``epsilon`` is split equally over the noisy queries of the release (basic sequential
    composition, Dwork & Roth 2014, Thm 3.14): eight since the carpool tables joined the release
    (``core.privacy.contribution.TABLE_NOISY``), so each gets ``epsilon / 8``; it is at least
    :data:`MIN_EPSILON` and at most the per-tester budget. ``k`` is the minimum
    number of distinct testers for a cell to be published. ``km_unit`` and ``co2_unit_kg`` are the
    integer resolutions at which noise is drawn (OpenDP's discrete Laplace, which avoids
    floating-point attacks, Mironov 2012). ``carpool`` bounds the carpool tables.
    """

    epsilon: float = 1.0
    k: int = 10
    caps: ContributionCaps = ContributionCaps()
    carpool: CarpoolCaps = CarpoolCaps()
    timezone: str = DEFAULT_TIME_ZONE  # the coach's calendar: a release's week is the coach's week
    grid_cell_m: float = 1000.0
    km_unit: float = 0.1
    co2_unit_kg: float = 0.01


class BudgetParams(msgspec.Struct, frozen=True, kw_only=True):
    """Per-tester privacy budget: the sum of epsilons of the releases a tester contributed to over
    the last ``window_days`` may not exceed ``epsilon_per_window``.

    The default (70 per 365 days) admits one weekly and one monthly release at epsilon 1 (64 a
    year). A tester whose budget would be exceeded is left out of the release (not refused as a
    whole: one exhausted budget must not stop the city's statistics).
    """

    epsilon_per_window: float = 70.0
    window_days: int = 365
