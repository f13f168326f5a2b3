"""CO2 coaching: summaries, budget, recurring trips, alternatives, FMD days and weekly messages.

Pure functions over a user's own sections, trips and stays; storage and HTTP live elsewhere.
"""

from core.coaching.alternatives import (
    Alternative,
    AlternativeKind,
    AlternativeParams,
    TripAlternatives,
    alternatives_for,
    alternatives_for_recurring,
)
from core.coaching.attestation import Attestation, render_attestation_html, render_attestation_text
from core.coaching.attestation_pdf import PdfParams, render_attestation_pdf
from core.coaching.budget import BudgetParams, BudgetStatus, budget_status
from core.coaching.fmd import FmdDays, FmdParams, day_eligible, fmd_days, section_eligible
from core.coaching.language import Language
from core.coaching.periods import Period
from core.coaching.places import Place, PlaceOverrides, Places, PlaceSource, PlacesParams, guess_places
from core.coaching.purpose import Purpose, PurposeParams, resolved_purpose, trip_purpose
from core.coaching.recompute import occupants_for, recompute_section
from core.coaching.records import LatLon, SectionRecord, StayRecord, TripRecord, trips_from_sections
from core.coaching.recurring import Commute, RecurringParams, RecurringTrip, recurring_trips
from core.coaching.summary import FootprintReport, PeriodFootprint, SummaryParams, Trend, footprint_report
from core.coaching.weekly import Suggestion, WeeklyMessage, WeeklyParams, pick_suggestion, weekly_message

__all__ = [
    "Alternative",
    "AlternativeKind",
    "AlternativeParams",
    "Attestation",
    "BudgetParams",
    "BudgetStatus",
    "Commute",
    "FmdDays",
    "FmdParams",
    "FootprintReport",
    "Language",
    "LatLon",
    "PdfParams",
    "Period",
    "PeriodFootprint",
    "Place",
    "PlaceOverrides",
    "PlaceSource",
    "Places",
    "PlacesParams",
    "Purpose",
    "PurposeParams",
    "RecurringParams",
    "RecurringTrip",
    "SectionRecord",
    "StayRecord",
    "Suggestion",
    "SummaryParams",
    "Trend",
    "TripAlternatives",
    "TripRecord",
    "WeeklyMessage",
    "WeeklyParams",
    "alternatives_for",
    "alternatives_for_recurring",
    "budget_status",
    "day_eligible",
    "fmd_days",
    "footprint_report",
    "guess_places",
    "occupants_for",
    "pick_suggestion",
    "recompute_section",
    "recurring_trips",
    "render_attestation_html",
    "render_attestation_pdf",
    "render_attestation_text",
    "resolved_purpose",
    "section_eligible",
    "trip_purpose",
    "trips_from_sections",
    "weekly_message",
]
