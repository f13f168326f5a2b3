"""The weekly message: what changed against the previous week, and one thing to try.

Deterministic: the same sections and alternatives give the same words. The change named is the
mode whose footprint moved most (largest absolute change in kg; ties go to the mode listed first
in :class:`~core.co2.modes.Mode`). The thing to try is the alternative with the largest yearly
saving among the recurring car trips made at least ``min_trips_per_week`` times a week (the saving
assumes a switch one day a week, which a monthly trip cannot deliver); if none is that frequent, all
are considered; a change saving less than ``min_yearly_saving_kg`` (1 kg) a year is never
suggested. Ties: commutes first, then the input order. Last, when trips of the week have a section
whose mode is unsure and not confirmed (``to_confirm``), the message says how many and how much of
the week's footprint they hold: the tester's answers may still change it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from core.co2.modes import Mode
from core.coaching.alternatives import Alternative, AlternativeKind, TripAlternatives
from core.coaching.language import MODE_NAMES, Language, number, signed
from core.coaching.periods import DEFAULT_TIME_ZONE, Period, local_date, period_start, shift
from core.coaching.records import SectionRecord
from core.coaching.recurring import Commute, RecurringTrip
from core.coaching.summary import Trend, period_footprint, trend


class WeeklyParams(msgspec.Struct, frozen=True, kw_only=True):
    time_zone: str = DEFAULT_TIME_ZONE
    same_threshold_kg: float = 0.05  # below this, the weeks are "the same"
    min_trips_per_week: float = 1.0
    # A change saving less than this a year is not worth a suggestion (said rounded to the
    # kilogram, it read "would save 0 kg"; a car "trip" of a few metres of GPS noise did that).
    min_yearly_saving_kg: float = 1.0


DEFAULT_WEEKLY_PARAMS = WeeklyParams()


class Suggestion(msgspec.Struct, frozen=True, kw_only=True):
    trip: RecurringTrip
    alternative: Alternative


class WeeklyMessage(msgspec.Struct, frozen=True, kw_only=True):
    lang: Language
    text: str
    this_week_kg: float
    last_week_kg: float
    change: Trend
    biggest_mode_change: Mode | None
    suggestion: Suggestion | None
    to_confirm_trips: int = 0  # this week's trips with a section to confirm


_ALT_NAMES = {
    Language.FR: {
        AlternativeKind.WALK: "à pied",
        AlternativeKind.BIKE: "à vélo",
        AlternativeKind.E_BIKE: "à vélo électrique",
        AlternativeKind.BUS: "en bus",
        AlternativeKind.CARPOOL: "en covoiturage",
    },
    Language.EN: {
        AlternativeKind.WALK: "on foot",
        AlternativeKind.BIKE: "by bike",
        AlternativeKind.E_BIKE: "by e-bike",
        AlternativeKind.BUS: "by bus",
        AlternativeKind.CARPOOL: "by carpool",
    },
}
_COMMUTE_NAMES = {
    Language.FR: {Commute.HOME_TO_WORK: "domicile → travail", Commute.WORK_TO_HOME: "travail → domicile"},
    Language.EN: {Commute.HOME_TO_WORK: "home → work", Commute.WORK_TO_HOME: "work → home"},
}


def pick_suggestion(
    options: Sequence[TripAlternatives], params: WeeklyParams = DEFAULT_WEEKLY_PARAMS
) -> Suggestion | None:
    """The single best thing to try (rule in the module docstring)."""
    # Alternatives come sorted by yearly saving: the first is each trip's best.
    worth = [
        o
        for o in options
        if o.alternatives and o.alternatives[0].yearly_saving_kg >= params.min_yearly_saving_kg
    ]
    frequent = [o for o in worth if o.trip.per_week >= params.min_trips_per_week]
    best: tuple[float, int, int] | None = None
    chosen: Suggestion | None = None
    for index, trip_alts in enumerate(frequent or worth):
        alt = trip_alts.alternatives[0]
        key = (-alt.yearly_saving_kg, 0 if trip_alts.trip.commute else 1, index)
        if best is None or key < best:
            best, chosen = key, Suggestion(trip=trip_alts.trip, alternative=alt)
    return chosen


def _biggest_mode_change(this: dict[str, float], last: dict[str, float]) -> tuple[Mode, float] | None:
    changes = [(mode, this.get(mode.value, 0.0) - last.get(mode.value, 0.0)) for mode in Mode]
    mode, delta = max(changes, key=lambda c: abs(c[1]))  # max keeps the first of equals
    return (mode, delta) if delta != 0 else None


def _minutes(seconds: float) -> int:
    return max(1, round(seconds / 60))


def _change_sentence(this_kg: float, last_kg: float, change: Trend, lang: Language, same_kg: float) -> str:
    kg = number(this_kg, lang)
    fr = lang is Language.FR
    head = (
        f"Cette semaine, vos déplacements ont émis {kg} kg CO2e"
        if fr
        else f"This week your travel emitted {kg} kg CO2e"
    )
    if last_kg == 0 and this_kg == 0:
        return (head + ", comme la semaine précédente.") if fr else (head + ", as in the week before.")
    if last_kg == 0:
        return (
            (head + " ; aucune émission la semaine précédente.") if fr else (head + "; none the week before.")
        )
    if abs(change.delta_kg) < same_kg:
        return (
            (head + ", autant que la semaine précédente.")
            if fr
            else (head + ", the same as the week before.")
        )
    delta = number(abs(change.delta_kg), lang)
    percent = " %" if fr else "%"  # French typography puts a space before %
    pct = "" if change.delta_pct is None else f" ({signed(change.delta_pct, lang, 0)}{percent})"
    if fr:
        direction = "de moins" if change.delta_kg < 0 else "de plus"
        return f"{head}, soit {delta} kg {direction} que la semaine précédente{pct}."
    direction = "less" if change.delta_kg < 0 else "more"
    return f"{head}, {delta} kg {direction} than the week before{pct}."


def _suggestion_sentence(s: Suggestion, lang: Language) -> str:
    alt = s.alternative
    how = _ALT_NAMES[lang][alt.kind]
    minutes = _minutes(alt.door_to_door_s)
    saving = number(alt.yearly_saving_kg, lang, 0)
    km = number(s.trip.typical_distance_m / 1000.0, lang)
    if lang is Language.FR:
        trip = (
            f"le trajet {_COMMUTE_NAMES[lang][s.trip.commute]}"
            if s.trip.commute
            else f"votre trajet régulier de {km} km"
        )
        return (
            f"À essayer : faire {trip} {how} un jour par semaine ({minutes} min porte à porte) "
            f"économiserait {saving} kg CO2e par an."
        )
    trip = (
        f"the {_COMMUTE_NAMES[lang][s.trip.commute]} trip" if s.trip.commute else f"your regular {km} km trip"
    )
    return (
        f"Something to try: making {trip} {how} one day a week ({minutes} min door to door) "
        f"would save {saving} kg CO2e a year."
    )


def _to_confirm_sentence(trips: int, kg: float, lang: Language) -> str:
    if lang is Language.FR:
        waits = "trajet attend" if trips == 1 else "trajets attendent"
        return (
            f"{trips} {waits} votre confirmation ({number(kg, lang)} kg) : vos réponses rendent ce bilan"
            " plus juste."
        )
    waits = "trip awaits" if trips == 1 else "trips await"
    return (
        f"{trips} {waits} your confirmation ({number(kg, lang)} kg): your answers make this footprint right."
    )


def weekly_message(
    sections: Sequence[SectionRecord],
    at: datetime,
    options: Sequence[TripAlternatives],
    lang: Language,
    params: WeeklyParams = DEFAULT_WEEKLY_PARAMS,
) -> WeeklyMessage:
    """The message for the ISO week containing ``at`` (local time), compared with the week before."""
    tz = ZoneInfo(params.time_zone)
    this_start = period_start(local_date(at, tz), Period.WEEK)
    this = period_footprint(sections, Period.WEEK, this_start, tz)
    last = period_footprint(sections, Period.WEEK, shift(this_start, Period.WEEK, -1), tz)
    change = trend(this.total_kg, last.total_kg)
    sentences = [_change_sentence(this.total_kg, last.total_kg, change, lang, params.same_threshold_kg)]
    mode_change = _biggest_mode_change(this.by_mode_kg, last.by_mode_kg)
    if mode_change is not None and last.total_kg > 0:
        mode, delta = mode_change
        name = MODE_NAMES[lang][mode]
        if lang is Language.FR:
            sentences.append(f"Le plus grand changement : {name}, {signed(delta, lang)} kg.")
        else:
            sentences.append(f"The biggest change: {name}, {signed(delta, lang)} kg.")
    suggestion = pick_suggestion(options, params)
    if suggestion is not None:
        sentences.append(_suggestion_sentence(suggestion, lang))
    if this.to_confirm_trips:
        sentences.append(_to_confirm_sentence(this.to_confirm_trips, this.to_confirm_kg, lang))
    return WeeklyMessage(
        lang=lang,
        text=" ".join(sentences),
        this_week_kg=this.total_kg,
        last_week_kg=last.total_kg,
        change=change,
        biggest_mode_change=mode_change[0] if mode_change else None,
        suggestion=suggestion,
        to_confirm_trips=this.to_confirm_trips,
    )
