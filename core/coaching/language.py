"""The two languages coaching speaks, and how numbers and dates are written in each."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from core.co2.modes import Mode


class Language(StrEnum):
    FR = "fr"
    EN = "en"


MONTHS = {
    Language.FR: (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    Language.EN: (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip

MODE_NAMES = {
    Language.FR: {
        Mode.WALK: "marche",
        Mode.BIKE: "vélo",
        Mode.E_BIKE: "vélo électrique",
        Mode.BUS: "bus",
        Mode.TRAM: "tramway",
        Mode.METRO: "métro",
        Mode.TRAIN: "train",
        Mode.CAR: "voiture",
        Mode.MOTORBIKE: "deux-roues motorisé",
        Mode.FERRY: "bateau",
        Mode.PLANE: "avion",
    },
    Language.EN: {
        Mode.WALK: "walking",
        Mode.BIKE: "bike",
        Mode.E_BIKE: "e-bike",
        Mode.BUS: "bus",
        Mode.TRAM: "tram",
        Mode.METRO: "metro",
        Mode.TRAIN: "train",
        Mode.CAR: "car",
        Mode.MOTORBIKE: "motorbike",
        Mode.FERRY: "ferry",
        Mode.PLANE: "plane",
    },
}


def number(value: float, lang: Language, digits: int = 1) -> str:
    """``value`` rounded to ``digits`` decimals, with a decimal comma in French."""
    text = f"{value:.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]  # no "-0.0"
    return text.replace(".", ",") if lang is Language.FR else text


def signed(value: float, lang: Language, digits: int = 1) -> str:
    """Like :func:`number` with an explicit sign (typographic minus)."""
    text = number(abs(value), lang, digits)
    if float(text.replace(",", ".")) == 0:
        return text
    return ("+" if value > 0 else "−") + text


def long_date(day: date, lang: Language) -> str:
    month = MONTHS[lang][day.month - 1]
    if lang is Language.FR:
        return f"{'1er' if day.day == 1 else day.day} {month} {day.year}"
    return f"{day.day} {month} {day.year}"
