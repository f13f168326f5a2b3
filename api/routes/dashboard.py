"""The mobility team's dashboard under ``/dashboard``: login, pages, JSON for charts, downloads.

Everything the team sees comes from the ``released`` schema, read under the ``sillage_team``
database role (:func:`store.sharing.as_team`); the admin-only campaign page shows counts per
campaign, never a person. Sessions are cookies (HttpOnly, SameSite=Strict, Secure over HTTPS);
every POST carries the session's CSRF token (the login form a double-submit cookie token).
"""

from __future__ import annotations

import html
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec
from litestar import MediaType, Request, Response, Router, get, post
from litestar.datastructures import Cookie, State
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.dashboard import web
from api.deps import DbConn, utcnow
from api.openapi import TEAM_SESSION
from core.errors import Forbidden, NotFound, Unauthorized
from core.privacy.params import ReleaseParams
from core.slug import slug
from ingest.sharing import team
from ingest.sharing.throttle import LoginThrottle
from store import sharing as db
from store.partition import Conn

Req = Request[Any, Any, Any]
TABLES = (
    "mode_trips",
    "mode_km",
    "mode_co2",
    "avg_km_by_mode",
    "trips_by_hour",
    "trips_by_weekday",
    "od_flows",
    "carpool_matches",
    "carpool_co2",
)
# Per table: the names of its dimensions (dim_a, dim_b, dim_c; unused ones left out) and value.
DIMENSIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "mode_trips": (("mode",), "trips"),
    "mode_km": (("mode",), "km"),
    "mode_co2": (("mode",), "co2_kg"),
    "avg_km_by_mode": (("mode",), "km_per_trip"),
    "trips_by_hour": (("hour",), "trips"),
    "trips_by_weekday": (("iso_weekday",), "trips"),
    "od_flows": (("origin_zone", "destination_zone"), "trips"),
    "carpool_matches": (("origin_zone", "destination_zone", "time_band"), "potential_matches"),
    "carpool_co2": (("origin_zone", "destination_zone", "time_band"), "co2_kg_per_year"),
}
LINE_TABLES = ("od_flows", "carpool_matches", "carpool_co2")
TREND_PERIODS = 104  # two years of weeks
# 10 failed logins a minute per client address and per e-mail address, counted in the database.
LOGIN_THROTTLE = LoginThrottle(per_minute=10)


class CellOut(msgspec.Struct, frozen=True, kw_only=True):
    table: str
    dim_a: str
    dim_b: str
    dim_c: str
    value: float


class ReleaseOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    period_kind: str
    period_start: str
    period_end: str
    first_day: str  # the period's days on the release's calendar (Europe/Paris), both included
    last_day: str
    epsilon: float
    k: int
    participants: str
    campaign: str | None  # the campaign whose testers it is made of; null: every campaign's, pooled
    campaign_id: uuid.UUID | None  # its id, for `GET /dashboard/api/co2-trend?campaign=`
    caps: dict[str, Any]
    tables: list[dict[str, Any]]
    table_names: list[str]
    cells: list[CellOut]


class ReleaseSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    period_kind: str
    period_start: str
    period_end: str
    first_day: str
    last_day: str
    epsilon: float
    k: int
    participants: str
    campaign: str | None  # the campaign whose testers it is made of; null: every campaign's, pooled
    campaign_id: uuid.UUID | None  # its id, for `GET /dashboard/api/co2-trend?campaign=`


class TrendPoint(msgspec.Struct, frozen=True, kw_only=True):
    period_start: str
    first_day: str
    co2_kg: float | None  # None: every mode's CO2 was withheld that period (a gap in the chart)


_RELEASE_TZ = ZoneInfo(ReleaseParams().timezone)


def _first_day(start: datetime) -> str:
    """The first day of a period that begins at ``start`` (local midnight), on the release's
    calendar: in UTC, Paris's midnight is the evening before."""
    return start.astimezone(_RELEASE_TZ).date().isoformat()


def _last_day(end: datetime) -> str:
    """The last day of a period that ends (exclusive) at ``end``."""
    return (end.astimezone(_RELEASE_TZ) - timedelta(days=1)).date().isoformat()


def _secure(request: Req) -> bool:
    return request.url.scheme == "https"


def _cookie(request: Req, key: str, value: str, *, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        path="/dashboard",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        max_age=max_age,
    )


async def _session(request: Req, conn: Conn) -> db.TeamSession | None:
    return await team.session(conn, request.cookies.get(web.SESSION_COOKIE), now=utcnow())


async def _require(request: Req, conn: Conn) -> db.TeamSession:
    s = await _session(request, conn)
    if s is None:
        raise Unauthorized("log in to the dashboard first")
    return s


def _html(body: str, status_code: int = 200, cookies: list[Cookie] | None = None) -> Response[str]:
    return Response(body, media_type=MediaType.HTML, status_code=status_code, cookies=cookies or [])


def _login_page(request: Req, error: str = "", status_code: int = 200) -> Response[str]:
    token = secrets.token_urlsafe(32)
    body = web.render("login", csrf=token, error=error)
    return _html(body, status_code, [_cookie(request, web.LOGIN_CSRF_COOKIE, token, max_age=3600)])


@get("/login", include_in_schema=False)
async def login_form(request: Req) -> Response[str]:
    """The login page (with a fresh CSRF token bound to a cookie)."""
    return _login_page(request)


@post("/login", include_in_schema=False)
async def login(request: Req, state: State) -> Response[Any]:
    """Check the password (argon2) and open a session; refused without the form's CSRF token, and
    with 429 after 10 failed logins in a minute from one address or for one e-mail address."""
    form = await request.form()
    if not team.csrf_ok(request.cookies.get(web.LOGIN_CSRF_COOKIE) or "\0", _field(form, "_csrf")):
        raise Forbidden("missing or wrong CSRF token: reload the login page")
    email = _field(form, "email") or ""
    client = request.client.host if request.client else ""
    account = email.strip().lower()[:320]
    await LOGIN_THROTTLE.attempt(state.db, client, account, now=utcnow())
    try:
        session, _ = await team.login(state.db, email, _field(form, "password") or "", now=utcnow())
    except Unauthorized:
        return _login_page(request, "Wrong e-mail address or password.", 401)
    await LOGIN_THROTTLE.succeeded(state.db, client, account)
    max_age = int(team.SESSION_TTL.total_seconds())
    return Redirect(
        "/dashboard/",
        status_code=HTTP_303_SEE_OTHER,
        cookies=[
            _cookie(request, web.SESSION_COOKIE, session.token, max_age=max_age),
            _cookie(request, web.LOGIN_CSRF_COOKIE, "", max_age=0),
        ],
    )


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


@post("/logout", include_in_schema=False)
async def logout(request: Req, conn: DbConn) -> Response[Any]:
    """End the session (CSRF-protected like every POST)."""
    s = await _require(request, conn)
    form = await request.form()
    if not team.csrf_ok(s.csrf_token, _field(form, "_csrf")):
        raise Forbidden("missing or wrong CSRF token")
    await team.logout(conn, request.cookies.get(web.SESSION_COOKIE) or "", now=utcnow())
    return Redirect(
        "/dashboard/login",
        status_code=HTTP_303_SEE_OTHER,
        cookies=[_cookie(request, web.SESSION_COOKIE, "", max_age=0)],
    )


async def _page(request: Req, conn: Conn, name: str, title: str) -> Response[Any]:
    s = await _session(request, conn)
    if s is None:
        return Redirect("/dashboard/login", status_code=HTTP_303_SEE_OTHER)
    return _html(web.page(name, title=title, session=s))


@get("/", include_in_schema=False)
async def overview(request: Req, conn: DbConn) -> Response[Any]:
    return await _page(request, conn, "overview", "Overview")


@get("/map", include_in_schema=False)
async def flow_map(request: Req, conn: DbConn) -> Response[Any]:
    return await _page(request, conn, "map", "Flows")


@get("/corridors", include_in_schema=False)
async def corridor_map(request: Req, conn: DbConn) -> Response[Any]:
    return await _page(request, conn, "corridors", "Carpool corridors")


@get("/time", include_in_schema=False)
async def time_profiles(request: Req, conn: DbConn) -> Response[Any]:
    return await _page(request, conn, "time", "Time profiles")


@get("/campaigns", include_in_schema=False)
async def campaigns(request: Req, conn: DbConn) -> Response[Any]:
    """Admins only: invite codes, enrolments, active devices and last upload, per campaign (an
    admin of one campaign sees that campaign only)."""
    s = await _session(request, conn)
    if s is None:
        return Redirect("/dashboard/login", status_code=HTTP_303_SEE_OTHER)
    if s.role != "admin":
        raise Forbidden("the campaign page is for admins")
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                c.name,
                c.invite_code,
                "open" if c.enrolment_open else "closed",
                c.enrolments,
                c.active_devices,
                c.last_upload.isoformat(timespec="minutes") if c.last_upload else "never",
            )
        )
        + "</tr>"
        for c in await db.campaign_stats(conn, s.campaign_id)
    )
    content = web.render_trusted("campaigns", rows=rows)
    return _html(
        web.page(
            "campaigns",
            title="Campaigns",
            session=s,
            filter_bar=False,
            content=content,
        )
    )


# --- JSON and downloads (released tables only, read as sillage_team) ---------------------------


@get("/api/releases", tags=["dashboard"], security=[TEAM_SESSION], operation_id="listReleases")
async def releases(
    request: Req,
    conn: DbConn,
    period: Annotated[Literal["week", "month"] | None, QueryParameter()] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 104,
) -> list[ReleaseSummary]:
    """Releases, newest first (optionally only weeks or months), with their epsilon and k."""
    s = await _require(request, conn)
    async with db.as_team(conn, s.campaign_id):
        rows = await db.list_releases(conn, period, limit)
    return [
        ReleaseSummary(
            id=r.id,
            period_kind=r.period_kind,
            period_start=r.period_start.isoformat(),
            period_end=r.period_end.isoformat(),
            first_day=_first_day(r.period_start),
            last_day=_last_day(r.period_end),
            epsilon=r.epsilon,
            k=r.k,
            participants=r.participants,
            campaign=None if r.campaign is None else r.campaign.name,
            campaign_id=None if r.campaign is None else r.campaign.id,
        )
        for r in rows
    ]


async def _release(conn: Conn, release_id: uuid.UUID) -> db.ReleaseRow:
    r = await db.release_by_id(conn, release_id)
    if r is None:
        raise NotFound("no such release")
    return r


@get(
    "/api/releases/{release_id:uuid}", tags=["dashboard"], security=[TEAM_SESSION], operation_id="getRelease"
)
async def release_detail(request: Req, conn: DbConn, release_id: FromPath[uuid.UUID]) -> ReleaseOut:
    """One release: its parameters (epsilon, k, caps, noise scale per table) and published cells."""
    s = await _require(request, conn)
    async with db.as_team(conn, s.campaign_id):
        r = await _release(conn, release_id)
        cells = await db.release_cells(conn, release_id)
    return ReleaseOut(
        id=r.id,
        period_kind=r.period_kind,
        period_start=r.period_start.isoformat(),
        period_end=r.period_end.isoformat(),
        first_day=_first_day(r.period_start),
        last_day=_last_day(r.period_end),
        epsilon=r.epsilon,
        k=r.k,
        participants=r.participants,
        campaign=None if r.campaign is None else r.campaign.name,
        campaign_id=None if r.campaign is None else r.campaign.id,
        caps=r.caps,
        tables=r.tables,
        table_names=list(TABLES),
        cells=[
            CellOut(table=c.table, dim_a=c.dim_a, dim_b=c.dim_b, dim_c=c.dim_c, value=c.value) for c in cells
        ],
    )


def _line(o: db.ZoneRow, d: db.ZoneRow, properties: dict[str, Any]) -> dict[str, Any]:
    """A straight line between two zone centres (never a tester's own place)."""
    return {
        "type": "Feature",
        "geometry": {
            "type": "LineString",
            "coordinates": [[o.centroid[1], o.centroid[0]], [d.centroid[1], d.centroid[0]]],
        },
        "properties": {
            "origin": o.zone_id,
            "destination": d.zone_id,
            "origin_name": o.name,
            "destination_name": d.name,
            **properties,
        },
    }


def _lines_geojson(table: str, cells: list[db.CellRow], zones: list[db.ZoneRow]) -> dict[str, Any]:
    """Cells of a zone-to-zone table as lines between zone centres (time band if it has one)."""
    by_id = {z.zone_id: z for z in zones}
    dims, value = DIMENSIONS[table]
    features = []
    for c in cells:
        o, d = by_id.get(c.dim_a), by_id.get(c.dim_b)
        if o is None or d is None:
            continue
        extra: dict[str, Any] = {"time_band": c.dim_c} if len(dims) > 2 else {}
        features.append(_line(o, d, {**extra, value: c.value}))
    return {"type": "FeatureCollection", "features": features}


def _corridors_geojson(
    matches: list[db.CellRow], co2: list[db.CellRow], zones: list[db.ZoneRow]
) -> dict[str, Any]:
    """One line per corridor and time band with both carpool values (the two tables share their
    suppression, so they have the same cells)."""
    by_id = {z.zone_id: z for z in zones}
    saved = {(c.dim_a, c.dim_b, c.dim_c): c.value for c in co2}
    features = []
    for c in matches:
        o, d = by_id.get(c.dim_a), by_id.get(c.dim_b)
        if o is None or d is None:
            continue
        props = {
            "time_band": c.dim_c,
            "potential_matches": c.value,
            "co2_kg_per_year": saved.get((c.dim_a, c.dim_b, c.dim_c), 0.0),
        }
        features.append(_line(o, d, props))
    return {"type": "FeatureCollection", "features": features}


def _zones_geojson(zones: list[db.ZoneRow], cells: list[db.CellRow]) -> dict[str, Any]:
    """The zones that ``cells`` connect (a release's zones serve its flows and its corridors)."""
    used = {z for c in cells for z in (c.dim_a, c.dim_b)}
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": z.zone_id, "geometry": z.geometry, "properties": {"name": z.name}}
            for z in zones
            if z.zone_id in used
        ],
    }


@get(
    "/api/releases/{release_id:uuid}/flows.geojson",
    tags=["dashboard"],
    security=[TEAM_SESSION],
    operation_id="getReleaseFlows",
)
async def flows(request: Req, conn: DbConn, release_id: FromPath[uuid.UUID]) -> dict[str, Any]:
    """The release's zones and origin–destination flows as GeoJSON (lines between zone centres)."""
    s = await _require(request, conn)
    async with db.as_team(conn, s.campaign_id):
        await _release(conn, release_id)
        cells = await db.release_cells(conn, release_id, "od_flows")
        zones = await db.release_zones(conn, release_id)
    return {"zones": _zones_geojson(zones, cells), "flows": _lines_geojson("od_flows", cells, zones)}


@get(
    "/api/releases/{release_id:uuid}/corridors.geojson",
    tags=["dashboard"],
    security=[TEAM_SESSION],
    operation_id="getReleaseCorridors",
)
async def corridors(request: Req, conn: DbConn, release_id: FromPath[uuid.UUID]) -> dict[str, Any]:
    """The release's carpool corridors as GeoJSON: a line between zone centres per corridor and
    departure-time band, with its potential matches and the CO2 a year shared journeys could save."""
    s = await _require(request, conn)
    async with db.as_team(conn, s.campaign_id):
        await _release(conn, release_id)
        matches = await db.release_cells(conn, release_id, "carpool_matches")
        co2 = await db.release_cells(conn, release_id, "carpool_co2")
        zones = await db.release_zones(conn, release_id)
    return {"zones": _zones_geojson(zones, matches), "corridors": _corridors_geojson(matches, co2, zones)}


@get("/api/co2-trend", tags=["dashboard"], security=[TEAM_SESSION], operation_id="getCo2Trend")
async def co2_trend(
    request: Req,
    conn: DbConn,
    period: Annotated[Literal["week", "month"], QueryParameter()] = "week",
    campaign: Annotated[
        uuid.UUID | None,
        QueryParameter(
            description="For an account of every campaign: the trend of this campaign's releases (a "
            "release's `campaign_id`); without it, of the pooled ones. An account of one campaign always "
            "gets its campaign's."
        ),
    ] = None,
) -> list[TrendPoint]:
    """Released CO2 (sum over the published modes) of the newest 104 periods, oldest first;
    `co2_kg` is null for a period whose every mode's CO2 was withheld. An account of one campaign
    sees its campaign's releases; an account of every campaign sees those of every campaign
    pooled, or of the campaign whose id `campaign` gives (a release's `campaign_id`)."""
    s = await _require(request, conn)
    scope = s.campaign_id if s.campaign_id is not None else campaign
    async with db.as_team(conn, s.campaign_id):
        points = await db.co2_trend(conn, period, TREND_PERIODS, scope)
    return [
        TrendPoint(
            period_start=start.isoformat(),
            first_day=_first_day(start),
            co2_kg=None if v is None else round(v, 3),
        )
        for start, v in points
    ]


@get("/download/{release_id:uuid}/{filename:str}", include_in_schema=False)
async def download(
    request: Req, conn: DbConn, release_id: FromPath[uuid.UUID], filename: FromPath[str]
) -> Response[Any]:
    """``<table>.csv`` or ``<table>.geojson`` of a release (any table; flows and carpool corridors
    as lines)."""
    account = await _require(request, conn)
    table, _, ext = filename.rpartition(".")
    if table not in TABLES or ext not in {"csv", "geojson"}:
        raise NotFound(f"tables: {', '.join(TABLES)}; formats: csv, geojson")
    async with db.as_team(conn, account.campaign_id):
        r = await _release(conn, release_id)
        cells = await db.release_cells(conn, release_id, table)
        zones = await db.release_zones(conn, release_id) if table in LINE_TABLES else []
    dims, v = DIMENSIONS[table]
    campaign = "" if r.campaign is None else r.campaign.name  # empty: every campaign's testers, pooled
    scope = "" if r.campaign is None else f"-{slug(r.campaign.name) or 'campaign'}"
    name = f"sillage-{table}-{r.period_kind}-{_first_day(r.period_start)}{scope}.{ext}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if ext == "csv":
        header = ["period_start", "period_end", "epsilon", "k", "campaign", *dims, v]
        rows: list[list[object]] = [
            [
                r.period_start.isoformat(),
                r.period_end.isoformat(),
                r.epsilon,
                r.k,
                campaign,
                *(c.dim_a, c.dim_b, c.dim_c)[: len(dims)],
                c.value,
            ]
            for c in cells
        ]
        return Response(web.csv_text(header, rows), media_type="text/csv", headers=headers)  # + charset
    if table in LINE_TABLES:
        body = _lines_geojson(table, cells, zones)
    else:
        body = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": None, "properties": {dims[0]: c.dim_a, v: c.value}}
                for c in cells
            ],
        }
    body["properties"] = {
        "epsilon": r.epsilon,
        "k": r.k,
        "period_start": r.period_start.isoformat(),
        "campaign": campaign or None,
    }
    return Response(body, media_type="application/geo+json", headers=headers)


dashboard = Router(
    path="/dashboard",
    route_handlers=[
        login_form,
        login,
        logout,
        overview,
        flow_map,
        corridor_map,
        time_profiles,
        campaigns,
        releases,
        release_detail,
        flows,
        corridors,
        co2_trend,
        download,
        create_static_files_router(
            path="/static", directories=[web.STATIC_DIR], after_request=web.static_headers
        ),
    ],
    response_headers=web.SECURITY_HEADERS,
)

ROUTES = [dashboard]
