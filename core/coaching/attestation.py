"""The employee's sworn statement (attestation sur l'honneur) of sustainable-mobility days.

The FMD is paid by the employer on the employee's declaration or other proof of the means used
(article L. 3261-3-1 of the Code du travail, décret n° 2020-541 du 9 mai 2020); this renders that
declaration from the days Sillage counted, as plain text or as a self-contained HTML page. Pure
functions: the API decides the file name and content type. Every user-supplied string is escaped
in HTML.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

import msgspec

from core.coaching.language import MONTHS, Language, long_date


class Attestation(msgspec.Struct, frozen=True, kw_only=True):
    employer_name: str
    employee_name: str
    year: int
    days: list[date]
    issued_on: date | None = None
    lang: Language = Language.FR


_TEXT = {
    Language.FR: {
        "title": "Attestation sur l'honneur — forfait mobilités durables {year}",
        "employer": "Employeur : {employer}",
        "body": (
            "Je soussigné(e) {name} atteste sur l'honneur avoir effectué mes trajets entre ma résidence "
            "habituelle et mon lieu de travail à vélo ou à vélo à assistance électrique, en covoiturage ou "
            "en transports publics de personnes (article L. 3261-3-1 du code du travail, décret n° 2020-541 "
            "du 9 mai 2020) pendant {count} jour{plural} en {year} :"
        ),
        "none": "Aucun jour enregistré.",
        "source": "Jours établis à partir des trajets enregistrés par l'application Sillage.",
        "issued": "Fait le {date}.",
        "sign": "Signature :",
    },
    Language.EN: {
        "title": "Sworn statement — sustainable mobility allowance (forfait mobilités durables) {year}",
        "employer": "Employer: {employer}",
        "body": (
            "I, the undersigned {name}, declare on my honour that I travelled between my usual residence "
            "and my workplace by bicycle or e-bike, by carpool or by public transport (French Labour Code "
            "article L. 3261-3-1, décret n° 2020-541 of 9 May 2020) on {count} day{plural} in {year}:"
        ),
        "none": "No day recorded.",
        "source": "Days established from the trips recorded by the Sillage app.",
        "issued": "Signed on {date}.",
        "sign": "Signature:",
    },
}


def _months(days: Sequence[date], lang: Language) -> list[tuple[str, str]]:
    """(month name, comma-separated day numbers) for each month with days, in calendar order."""
    by_month: dict[int, list[int]] = {}
    for day in sorted(set(days)):
        by_month.setdefault(day.month, []).append(day.day)
    return [(MONTHS[lang][m - 1], ", ".join(str(d) for d in ds)) for m, ds in by_month.items()]


def _parts(a: Attestation) -> dict[str, str]:
    words = _TEXT[a.lang]
    count = len(set(a.days))
    plural = "s" if count > 1 else ""
    return {
        "title": words["title"].format(year=a.year),
        "employer": words["employer"].format(employer=a.employer_name),
        "body": words["body"].format(name=a.employee_name, count=count, plural=plural, year=a.year),
        "source": words["source"],
        "issued": words["issued"].format(date=long_date(a.issued_on, a.lang)) if a.issued_on else "",
        "sign": words["sign"],
        "none": words["none"],
    }


def render_attestation_text(a: Attestation) -> str:
    """The attestation as plain text (UTF-8, one line per month of days)."""
    p = _parts(a)
    months = _months(a.days, a.lang)
    lines = [p["title"], "", p["employer"], "", p["body"], ""]
    lines += [f"- {name} : {days}" if a.lang is Language.FR else f"- {name}: {days}" for name, days in months]
    if not months:
        lines.append(p["none"])
    lines += ["", p["source"]]
    if p["issued"]:
        lines += [p["issued"]]
    lines += [p["sign"], ""]
    return "\n".join(lines)


def render_attestation_html(a: Attestation) -> str:
    """The attestation as a self-contained, printable HTML page; all inputs are escaped."""
    p = {k: html.escape(v) for k, v in _parts(a).items()}
    sep = " : " if a.lang is Language.FR else ": "
    items = "".join(
        f"<li><strong>{html.escape(name)}</strong>{sep}{html.escape(days)}</li>"
        for name, days in _months(a.days, a.lang)
    )
    listing = f"<ul>{items}</ul>" if items else f"<p>{p['none']}</p>"
    issued = f"<p>{p['issued']}</p>" if p["issued"] else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{a.lang.value}">\n<head><meta charset="utf-8">'
        f"<title>{p['title']}</title></head>\n<body>\n"
        f"<h1>{p['title']}</h1>\n<p>{p['employer']}</p>\n<p>{p['body']}</p>\n{listing}\n"
        f"<p><small>{p['source']}</small></p>\n{issued}\n<p>{p['sign']}</p>\n</body>\n</html>\n"
    )
