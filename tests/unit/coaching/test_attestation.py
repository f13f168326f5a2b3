from datetime import date

from core.coaching import Attestation, Language, render_attestation_html, render_attestation_text

DAYS = [date(2026, 3, 9), date(2026, 3, 12), date(2026, 4, 1)]


def attestation(**changes: object) -> Attestation:
    fields: dict[str, object] = {
        "employer_name": "Atelier des Minimes",
        "employee_name": "Camille Martin",
        "year": 2026,
        "days": DAYS,
        "issued_on": date(2027, 1, 5),
    }
    fields.update(changes)
    return Attestation(**fields)  # type: ignore[arg-type]


def test_the_french_text_names_employer_employee_count_and_days() -> None:
    text = render_attestation_text(attestation())
    assert "Employeur : Atelier des Minimes" in text
    assert "Camille Martin" in text
    assert "pendant 3 jours en 2026" in text
    assert "- mars : 9, 12" in text
    assert "- avril : 1" in text
    assert "décret n° 2020-541" in text
    assert "Fait le 5 janvier 2027." in text


def test_the_english_text_lists_days_by_month() -> None:
    text = render_attestation_text(attestation(lang=Language.EN))
    assert "on 3 days in 2026" in text
    assert "- March: 9, 12" in text


def test_html_escapes_what_users_typed() -> None:
    page = render_attestation_html(attestation(employee_name="<script>alert(1)</script>"))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="fr">' in page


def test_a_year_without_days_says_so() -> None:
    assert "Aucun jour enregistré." in render_attestation_text(attestation(days=[]))
