"""The attestation as a PDF, written by hand: one standard font, no dependency.

A PDF of plain text needs only a catalogue, a page tree, pages with a content stream and the
standard Type 1 fonts every reader carries (ISO 32000-1:2008, 9.6.2.2 "Standard Type 1 fonts" and
annex D, WinAnsiEncoding). WinAnsiEncoding is Windows code page 1252, which covers French
(é, è, à, ç, œ, «, », the em dash and the typographic apostrophe); a character outside it is
written as "?". Lines are wrapped by a conservative character count (Helvetica's average advance is
about half the font size), so no glyph metrics are needed. Pure: returns the file's bytes.
"""

from __future__ import annotations

import textwrap

import msgspec

from core.coaching.attestation import Attestation, render_attestation_text


class PdfParams(msgspec.Struct, frozen=True, kw_only=True):
    page_width_pt: float = 595.0  # A4
    page_height_pt: float = 842.0
    margin_pt: float = 56.0
    font_size_pt: float = 11.0
    title_size_pt: float = 14.0
    leading: float = 1.35  # line height, in font sizes
    wrap_chars: int = 88  # about (595 - 2 x 56) / (0.5 x 11)
    title_wrap_chars: int = 62


DEFAULT_PDF_PARAMS = PdfParams()


def _escape(text: str) -> bytes:
    """A PDF literal string's body in WinAnsiEncoding, with ``\\``, ``(``, ``)`` and non-ASCII escaped."""
    out = bytearray()
    for byte in text.encode("cp1252", errors="replace"):
        if byte in b"\\()":
            out += b"\\" + bytes([byte])
        elif byte < 32 or byte > 126:
            out += f"\\{byte:03o}".encode("ascii")
        else:
            out.append(byte)
    return bytes(out)


def _lines(a: Attestation, params: PdfParams) -> list[tuple[bool, str]]:
    """(is the title, text) for every printed line; blank lines are kept as spacing."""
    raw = render_attestation_text(a).rstrip("\n").split("\n")
    out: list[tuple[bool, str]] = [(True, t) for t in textwrap.wrap(raw[0], params.title_wrap_chars)]
    for line in raw[1:]:
        wrapped = textwrap.wrap(line, params.wrap_chars, subsequent_indent="  " if line[:2] == "- " else "")
        out += [(False, t) for t in wrapped] or [(False, "")]
    return out


def _pages(lines: list[tuple[bool, str]], params: PdfParams) -> list[bytes]:
    """One content stream per page: text lines from the top margin down."""
    step = params.font_size_pt * params.leading
    per_page = max(1, int((params.page_height_pt - 2 * params.margin_pt) // step))
    pages = []
    for first in range(0, len(lines), per_page):
        y = params.page_height_pt - params.margin_pt
        ops = [b"BT"]
        for is_title, text in lines[first : first + per_page]:
            font, size = (b"/F2", params.title_size_pt) if is_title else (b"/F1", params.font_size_pt)
            y -= step
            ops.append(
                font
                + f" {size:g} Tf 1 0 0 1 {params.margin_pt:g} {y:.2f} Tm (".encode()
                + _escape(text)
                + b") Tj"
            )
        ops.append(b"ET")
        pages.append(b"\n".join(ops))
    return pages


def render_attestation_pdf(a: Attestation, params: PdfParams = DEFAULT_PDF_PARAMS) -> bytes:
    """The attestation as a PDF 1.4 file (A4, Helvetica), same words as the text rendering."""
    streams = _pages(_lines(a, params), params)
    n_pages = len(streams)
    # objects: 1 catalogue, 2 page tree, 3-4 fonts, then (page, content) pairs
    page_ids = [5 + 2 * k for k in range(n_pages)]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{p} 0 R".encode() for p in page_ids)
        + b"] /Count "
        + str(n_pages).encode()
        + b" >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    for page_id, stream in zip(page_ids, streams, strict=True):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {params.page_width_pt:g} {params.page_height_pt:g}]"
            f" /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {page_id + 1} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
