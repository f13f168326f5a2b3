"""The carpool matcher's thresholds, each with its unit in its name (no thresholds at call sites).

Defaults follow the issue: ends within 1.5 km, departures within 20 minutes, at least one shared
weekday, a small driver detour. Sources for the cost and calendar figures are given field by field.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.coaching.periods import DEFAULT_TIME_ZONE

Positive = Annotated[float, msgspec.Meta(gt=0)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]


class OfferParams(msgspec.Struct, frozen=True, kw_only=True):
    """How a tester's recurring trips become offers (see :func:`core.carpool.offers.offers_from_trips`).

    ``precision_m``: offer coordinates are snapped to a grid this fine before they leave the tester's
    partition, which costs nothing at a 1.5 km matching radius and keeps exact doorsteps out of the
    shared table. The departure window is the ``window_low_quantile``-``window_high_quantile`` range
    of the usual local departure times, widened to ``min_window_min``; a weekday is kept when the
    trip was made on it in at least ``min_weekday_share`` of the weeks it was made at all.
    """

    lookback_days: int = 56
    min_trips_per_week: NonNegative = 1.0
    max_offers_per_tester: int = 4
    window_low_quantile: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.1
    window_high_quantile: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.9
    min_window_min: NonNegative = 10.0
    min_weekday_share: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.5
    precision_m: Positive = 100.0
    time_zone: str = DEFAULT_TIME_ZONE


class ZoneParams(msgspec.Struct, frozen=True, kw_only=True):
    """Approximate zones shown instead of coordinates: square cells of ``cell_m`` metres.

    Cells are cut on a fixed grid whose east-west size is exact at ``reference_lat_deg`` (La
    Rochelle, 46.16° N) and off by under 1 % within 100 km of it; a zone is named by the cell's
    integer indices, so it says "within this 2 km square" and nothing finer.
    """

    cell_m: Positive = 2000.0
    reference_lat_deg: Annotated[float, msgspec.Meta(ge=-80, le=80)] = 46.16


class SavingsParams(msgspec.Struct, frozen=True, kw_only=True):
    """What a shared trip saves, per year.

    - ``cost_per_km_eur``: the French tax administration's barème kilométrique (revenus 2023,
      reconduit pour 2024), 5 CV car, first 5,000 km: 0.636 €/km. It prices a car-km all in (fuel,
      wear, insurance, depreciation), so it is an upper bound for someone who keeps their car.
    - costs are shared equally between driver and passenger: in French law carpooling is the
      sharing of costs without profit (Code des transports, art. L3132-1).
    - ``working_weeks_per_year``: 52 weeks minus 5 weeks of paid leave (Code du travail,
      art. L3141-3) and about 2 weeks of public holidays (art. L3133-1): 45.
    - ``circuity``: road distance / straight-line distance. Ballou, Rahardja & Sakai, "Selected
      country circuity factors for road travel distance estimation", Transportation Research
      Part A 36 (2002) 843-848, report about 1.2-1.4 for road networks; 1.3 is used.
    """

    cost_per_km_eur: NonNegative = 0.636
    working_weeks_per_year: Positive = 45.0
    circuity: Annotated[float, msgspec.Meta(ge=1)] = 1.3


class MatchParams(msgspec.Struct, frozen=True, kw_only=True):
    """When two offers fit (see :func:`core.carpool.matching.match_offers`).

    Departure windows fit when the gap between them is at most ``max_departure_gap_min`` (0 or
    less when they overlap): a 07:40-07:50 and a 08:05-08:15 departure fit at 20 minutes, a
    departure one hour later does not. The driver's detour (picking the passenger up at their origin
    and dropping them at their destination, estimated from straight-line distances times the
    circuity factor) must stay under both ``max_detour_m`` and ``max_detour_share`` of the driver's
    own trip. A pair is only proposed if it saves CO2 overall (more than
    ``min_saving_kg_per_trip``), and each tester gets at most ``max_proposals_per_tester``
    proposals (greedy by saving, so the best pairs win).
    """

    origin_radius_m: Positive = 1500.0
    destination_radius_m: Positive = 1500.0
    max_departure_gap_min: NonNegative = 20.0
    min_shared_weekdays: Annotated[int, msgspec.Meta(ge=1, le=7)] = 1
    max_detour_m: NonNegative = 3000.0
    max_detour_share: NonNegative = 0.3
    min_saving_kg_per_trip: NonNegative = 0.0
    max_proposals_per_tester: Annotated[int, msgspec.Meta(ge=1)] = 10
    savings: SavingsParams = SavingsParams()
    zones: ZoneParams = ZoneParams()


DEFAULT_OFFER_PARAMS = OfferParams()
DEFAULT_MATCH_PARAMS = MatchParams()
