import re
from datetime import date

from core.coaching import Attestation, Language, render_attestation_pdf
from core.coaching.attestation_pdf import PdfParams


def _attestation(days: list[date], lang: Language = Language.FR) -> Attestation:
    return Attestation(
        employer_name="Ville de La Rochelle",
        employee_name="Zoé (Martin)",
        year=2026,
        days=days,
        issued_on=date(2026, 12, 1),
        lang=lang,
    )


def test_the_cross_reference_table_points_at_every_object() -> None:
    pdf = render_attestation_pdf(_attestation([date(2026, 3, 9)]))
    start = int(re.findall(rb"startxref\n(\d+)", pdf)[-1])
    assert pdf[start:].startswith(b"xref")
    offsets = [int(o) for o in re.findall(rb"(\d{10}) 00000 n", pdf)]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(f"{number} 0 obj".encode())


def test_french_text_is_written_in_winansi_with_parentheses_escaped() -> None:
    pdf = render_attestation_pdf(_attestation([date(2026, 3, 9)]))
    assert b"Zo\\351 \\(Martin\\)" in pdf  # é is 0xE9 in WinAnsiEncoding
    assert b"/Encoding /WinAnsiEncoding" in pdf


def test_a_long_year_of_days_flows_onto_more_pages() -> None:
    days = [date(2026, m, d) for m in range(1, 13) for d in range(1, 29)]
    small_pages = PdfParams(page_height_pt=300.0)
    pdf = render_attestation_pdf(_attestation(days, Language.EN), small_pages)
    count = int(re.findall(rb"/Count (\d+)", pdf)[0])
    assert count > 1
    assert pdf.count(b"/Type /Page ") == count
