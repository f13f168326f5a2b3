import msgspec

from core.co2 import Mode, VehicleProfile
from core.coaching import Commute, Language, RecurringTrip, alternatives_for, pick_suggestion, weekly_message
from tests.unit.coaching.builders import HOME, REGISTRY, WORK, local, section

NOW = local(2026, 3, 20, 19)  # Friday; previous ISO week starts Monday 9 March
COMMUTE = RecurringTrip(
    origin=HOME,
    destination=WORK,
    trip_ids=["a", "b", "c", "d", "e"],
    count=5,
    typical_distance_m=6000,
    typical_co2_kg=0.85,
    main_mode=Mode.CAR,
    commute=Commute.HOME_TO_WORK,
    per_week=5.0,
)
OPTIONS = [alternatives_for(COMMUTE, VehicleProfile(), REGISTRY)]
SECTIONS = [
    section(start=local(2026, 3, 10), mode=Mode.CAR, co2_kg=8.0),
    section(start=local(2026, 3, 11), mode=Mode.BUS, co2_kg=2.0),
    section(start=local(2026, 3, 17), mode=Mode.CAR, co2_kg=3.0),
    section(start=local(2026, 3, 18), mode=Mode.BUS, co2_kg=2.0),
]


def test_the_french_message_says_what_changed_and_what_to_try() -> None:
    message = weekly_message(SECTIONS, NOW, OPTIONS, Language.FR)
    assert "ont émis 5,0 kg CO2e" in message.text
    assert "5,0 kg de moins que la semaine précédente (−50 %)" in message.text
    assert "Le plus grand changement : voiture, −5,0 kg." in message.text
    assert "À essayer : faire le trajet domicile → travail" in message.text


def test_the_english_message_says_what_changed_and_what_to_try() -> None:
    message = weekly_message(SECTIONS, NOW, OPTIONS, Language.EN)
    assert "emitted 5.0 kg CO2e, 5.0 kg less than the week before (−50%)" in message.text
    assert "The biggest change: car, −5.0 kg." in message.text
    assert "Something to try: making the home → work trip" in message.text


def test_the_suggestion_is_the_largest_yearly_saving() -> None:
    message = weekly_message(SECTIONS, NOW, OPTIONS, Language.EN)
    assert message.suggestion is not None
    best = max(OPTIONS[0].alternatives, key=lambda a: a.yearly_saving_kg)
    assert message.suggestion.alternative == best
    assert f"would save {round(best.yearly_saving_kg)} kg CO2e a year" in message.text


def test_the_message_is_deterministic() -> None:
    first = weekly_message(SECTIONS, NOW, OPTIONS, Language.FR)
    assert weekly_message(list(reversed(SECTIONS)), NOW, OPTIONS, Language.FR) == first


def test_a_rise_is_reported_as_more() -> None:
    sections = [section(start=local(2026, 3, 10), co2_kg=2.0), section(start=local(2026, 3, 17), co2_kg=3.0)]
    message = weekly_message(sections, NOW, [], Language.EN)
    assert "1.0 kg more than the week before (+50%)" in message.text
    assert message.suggestion is None


def test_a_first_week_has_nothing_to_compare() -> None:
    message = weekly_message([section(start=local(2026, 3, 17), co2_kg=3.0)], NOW, [], Language.FR)
    assert "aucune émission la semaine précédente" in message.text
    assert message.change.delta_pct is None


def test_a_bigger_saving_on_a_rare_trip_does_not_beat_a_weekly_trip() -> None:
    rare = msgspec.structs.replace(COMMUTE, typical_distance_m=12_000, commute=None, per_week=0.4)
    options = [alternatives_for(rare, VehicleProfile(), REGISTRY), *OPTIONS]
    suggestion = pick_suggestion(options)
    assert suggestion is not None
    assert suggestion.trip.commute is Commute.HOME_TO_WORK


def test_the_message_says_how_many_trips_of_the_week_await_confirmation() -> None:
    assert weekly_message(SECTIONS, NOW, OPTIONS, Language.EN).to_confirm_trips == 0
    unsure = [
        *SECTIONS,
        section(start=local(2026, 3, 19), mode=Mode.BUS, co2_kg=1.25, trip_id="x", to_confirm=True),
        section(start=local(2026, 3, 19, 9), mode=Mode.WALK, co2_kg=0.0, trip_id="x", to_confirm=True),
        section(start=local(2026, 3, 12), mode=Mode.CAR, co2_kg=4.0, to_confirm=True),  # last week
    ]
    en = weekly_message(unsure, NOW, OPTIONS, Language.EN)
    fr = weekly_message(unsure, NOW, OPTIONS, Language.FR)
    assert en.to_confirm_trips == fr.to_confirm_trips == 1  # one trip of this week, two sections
    assert en.text.endswith(
        "1 trip awaits your confirmation (1.2 kg): your answers make this footprint right."
    )
    assert fr.text.endswith(
        "1 trajet attend votre confirmation (1,2 kg) : vos réponses rendent ce bilan plus juste."
    )
    two = weekly_message(
        [*unsure, section(start=local(2026, 3, 20, 7), mode=Mode.CAR, co2_kg=1.0, to_confirm=True)],
        NOW,
        OPTIONS,
        Language.EN,
    )
    assert "2 trips await your confirmation (2.2 kg)" in two.text
    assert "confirmation" not in weekly_message(SECTIONS, NOW, OPTIONS, Language.EN).text


def test_a_trip_whose_change_would_save_under_a_kilogram_a_year_is_not_suggested() -> None:
    # A car trip of a few metres (GPS noise) was suggested: "your regular 0.0 km trip on foot ...
    # would save 0 kg CO2e a year".
    tiny = msgspec.structs.replace(COMMUTE, typical_distance_m=1.0, typical_co2_kg=0.0002)
    options = [alternatives_for(tiny, VehicleProfile(), REGISTRY)]
    assert options[0].alternatives  # there are alternatives, each saving almost nothing
    assert all(a.yearly_saving_kg < 1.0 for a in options[0].alternatives)
    assert pick_suggestion(options) is None
    assert weekly_message(SECTIONS, NOW, options, Language.EN).suggestion is None
