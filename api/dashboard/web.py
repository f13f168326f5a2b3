"""Rendering and HTTP hygiene for the dashboard: templates, security headers, cookies, CSV.

Templates are plain ``string.Template`` files: every substituted value is HTML-escaped here, and
pages carry no inline script (the Content-Security-Policy allows scripts from 'self' only), so
there is no template logic to get wrong.
"""

from __future__ import annotations

import csv
import html
import io
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from litestar import Response
from litestar.datastructures import ResponseHeader

from store.sharing import TeamSession

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
VENDOR_FILES = ("chart.umd.min.js", "leaflet.js", "leaflet.css")

SESSION_COOKIE = "sillage_team"
LOGIN_CSRF_COOKIE = "sillage_login_csrf"

# No tile server, no CDN: everything the pages load comes from this origin.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    ResponseHeader(name="Content-Security-Policy", value=CSP),
    ResponseHeader(name="X-Frame-Options", value="DENY"),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Referrer-Policy", value="no-referrer"),
    ResponseHeader(name="Cross-Origin-Opener-Policy", value="same-origin"),
    ResponseHeader(name="Permissions-Policy", value="geolocation=(), camera=(), microphone=()"),
    ResponseHeader(name="Cache-Control", value="no-store"),
]


async def static_headers(response: Response[Any]) -> Response[Any]:
    """The same security headers on static files (nested routers do not inherit them)."""
    for h in SECURITY_HEADERS:
        if h.name != "Cache-Control" and h.value is not None:
            response.headers[h.name] = h.value
    return response


FILTER = """<section class="filter">
  <label>Period <select id="period-kind"><option value="week">weeks</option>
  <option value="month">months</option></select></label>
  <label>Release <select id="release"></select></label>
  <span id="release-info"></span>
</section>"""


@cache
def _template(name: str) -> Template:
    return Template((HERE / "templates" / f"{name}.html").read_text(encoding="utf-8"))


def render(name: str, **values: str) -> str:
    """The template with every value HTML-escaped."""
    return _template(name).substitute({k: html.escape(v) for k, v in values.items()})


def render_trusted(name: str, **html_values: str) -> str:
    """The template filled with values that are already HTML (escaped by the caller)."""
    return _template(name).substitute(html_values)


def scope_label(campaign_name: str | None) -> str:
    """What an account reads, for the header: a city's team reads its campaign's releases only, a
    national account every release (``sillage team scope``)."""
    return "every campaign" if campaign_name is None else f"campaign {campaign_name}"


def page(
    name: str,
    *,
    title: str,
    session: TeamSession,
    filter_bar: bool = True,
    content: str | None = None,
) -> str:
    """A page inside the layout; ``content`` is the page's HTML (default: its template as is). The
    header names the account, its role and the releases it reads (:func:`scope_label`): a team
    that reads one campaign's figures knows they are not the programme's, and the reverse."""
    if content is None:
        content = _template(name).template
    admin = '<a href="/dashboard/campaigns">Campaigns</a>' if session.role == "admin" else ""
    return _template("base").substitute(
        title=html.escape(title),
        page=html.escape(name),
        email=html.escape(session.email),
        role=html.escape(session.role),
        scope=html.escape(scope_label(session.campaign_name)),
        csrf=html.escape(session.csrf_token),
        admin_link=admin,
        filter=FILTER if filter_bar else "",
        content=content,
    )


# A cell starting with one of these is read as a formula by spreadsheets (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A text cell that a spreadsheet will not run as a formula: zone ids and names come from the
    operator's zones file, and the team opens downloads in spreadsheets. Prefixed with a single
    quote, as the OWASP CSV Injection page advises; numbers are written as they are. Spaces and
    line breaks before the sign count too (some spreadsheets skip them: `` =1+1``)."""
    if isinstance(value, str) and (
        value.startswith(FORMULA_STARTS) or value.lstrip().startswith(FORMULA_STARTS)
    ):
        return "'" + value
    return value


def csv_text(header: list[str], rows: list[list[object]]) -> str:
    """CSV with every text cell made safe to open in a spreadsheet (:func:`csv_cell`).

    Lines end in CRLF (RFC 4180): Python's writer quotes only the line ends it writes, so with
    "\n" alone a carriage return inside a cell would be left bare and start a new row.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return out.getvalue()


def assets_built() -> bool:
    return all((STATIC_DIR / "vendor" / f).is_file() for f in VENDOR_FILES)
