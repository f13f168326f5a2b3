"""Carpool matching among consenting testers: offers, spatial matching, savings and corridors.

Pure functions: each tester's recurring trips become offers inside their own partition
(:mod:`core.carpool.offers`), offers are matched with a spatial grid index
(:mod:`core.carpool.index`, :mod:`core.carpool.matching`), and what anyone else sees is a zone,
never a coordinate (:mod:`core.carpool.zones`).
"""

from core.carpool.corridors import (
    CorridorContribution,
    CorridorTotal,
    corridor_contributions,
    corridor_totals,
)
from core.carpool.matching import Leg, Proposal, Side, match_id, match_offers
from core.carpool.offers import Offer, clock, offers_from_trips, weekday_names
from core.carpool.params import (
    DEFAULT_MATCH_PARAMS,
    DEFAULT_OFFER_PARAMS,
    MatchParams,
    OfferParams,
    SavingsParams,
    ZoneParams,
)
from core.carpool.sections import CarpoolSectionParams, SharedCommute, carpool_sections
from core.carpool.zones import zone_centre, zone_of

__all__ = [
    "DEFAULT_MATCH_PARAMS",
    "DEFAULT_OFFER_PARAMS",
    "CarpoolSectionParams",
    "CorridorContribution",
    "CorridorTotal",
    "Leg",
    "MatchParams",
    "Offer",
    "OfferParams",
    "Proposal",
    "SavingsParams",
    "SharedCommute",
    "Side",
    "ZoneParams",
    "carpool_sections",
    "clock",
    "corridor_contributions",
    "corridor_totals",
    "match_id",
    "match_offers",
    "offers_from_trips",
    "weekday_names",
    "zone_centre",
    "zone_of",
]
