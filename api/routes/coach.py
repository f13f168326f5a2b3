"""CO2 coaching: ``/v1/me/profile`` and ``/v1/coach/...``, all from the caller's own partition."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, put
from litestar.params import JSONBody, QueryParameter

from api.deps import Caller, DbConn, ask_below, audit_share, utcnow
from api.openapi import downloads
from api.times import WITHOUT_OFFSET, aware, local_zone
from core.co2 import BikeKind, BusKind, CarEnergy, MotorbikeKind, TrainKind, VehicleProfile
from core.co2.profile import Occupants
from core.coaching import (
    BudgetStatus,
    FmdDays,
    FootprintReport,
    Language,
    Period,
    Place,
    RecurringTrip,
    TripAlternatives,
    WeeklyMessage,
    render_attestation_html,
    render_attestation_pdf,
    render_attestation_text,
)
from core.errors import BadRequest
from ingest import coaching

Year = Annotated[int | None, QueryParameter(ge=2000, le=2099)]  # the coach's calendar (`at`: 2000-2099)
At = Annotated[
    datetime | None,
    QueryParameter(description=f"ISO 8601 instant, 2000 to 2099 (default: now); {WITHOUT_OFFSET}."),
]
_FIRST_YEAR, _LAST_YEAR = 2000, 2099


def _instant(at: datetime | None) -> datetime:
    """``at`` (now if absent) in UTC; a time without offset is on the coach's calendar, as periods
    and days are (:func:`api.times.aware`, the reading of every route); a day of the coach's calendar
    outside 2000-2099 (where periods and years are not defined) is a 400."""
    if at is None:
        return utcnow()
    tz = local_zone()
    at = aware(at)
    try:
        utc = at.astimezone(UTC)
        year = utc.astimezone(tz).year
    except OverflowError:  # year 1 with a positive offset
        utc, year = None, 0
    if utc is None or not _FIRST_YEAR <= year <= _LAST_YEAR:
        reason = "must lie between 2000-01-01 and 2099-12-31"
        raise BadRequest(
            f"at {at.isoformat()!r} {reason}", errors=[{"key": "at", "source": "query", "message": reason}]
        )
    return utc


Lang = Annotated[Language, QueryParameter()]
# A name on a sworn statement: not blank, and no control character (a line break, an escape) inside.
_PRINTABLE = r"[^\x00-\x1f\x7f]"
Text = Annotated[
    str,
    QueryParameter(min_length=1, max_length=200, pattern=rf"^{_PRINTABLE}*[^\s\x00-\x1f\x7f]{_PRINTABLE}*$"),
]
Lat = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Lon = Annotated[float, msgspec.Meta(ge=-180, le=180)]


class ProfileIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """ "My car is electric" (``car_energy``), "I carpool with 2" (``car_occupants`` 3, driver
    included), "my bike is electric" (``bike_kind``); bus and train kinds default to the city's."""

    car_energy: CarEnergy = CarEnergy.THERMAL
    car_occupants: Occupants = 1
    bike_kind: BikeKind = BikeKind.MUSCULAR
    motorbike_kind: MotorbikeKind = MotorbikeKind.UP_TO_250CC
    bus_kind: BusKind | None = None
    train_kind: TrainKind | None = None


class ProfileOut(msgspec.Struct, frozen=True, kw_only=True):
    car_energy: CarEnergy
    car_occupants: int
    bike_kind: BikeKind
    motorbike_kind: MotorbikeKind
    bus_kind: BusKind | None
    train_kind: TrainKind | None
    recomputed_sections: int | None = None


class GoalIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``null`` goes back to the default budget. At least 1 kg a year: a budget of 1e-320 kg was
    taken, and the share of it used overflowed to ``null``."""

    yearly_budget_kg: Annotated[float, msgspec.Meta(ge=1, le=100_000)] | None


class GoalOut(msgspec.Struct, frozen=True, kw_only=True):
    personal: bool
    default_note: str
    status: BudgetStatus


class LatLonIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    lat: Lat
    lon: Lon


class PlacesIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The confirmed home and work; ``null`` (or absent) means "use the guess from my stays"."""

    home: LatLonIn | None = None
    work: LatLonIn | None = None


class PlacesOut(msgspec.Struct, frozen=True, kw_only=True):
    home: Place | None
    work: Place | None
    named_trips: int | None = None


class AttestationFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"
    TEXT = "txt"


ATTESTATION_MEDIA_TYPES = {
    AttestationFormat.HTML: "text/html",
    AttestationFormat.PDF: "application/pdf",
    AttestationFormat.TEXT: "text/plain",  # Litestar adds the charset to text types
}


DEFAULT_NOTE = (
    "Default: 2 tCO2e per person per year (the Paris-compatible trajectory, Carbone 4, 'Faire sa "
    "part ?', 2019) times a 25 % mobility share (transport's share of a French footprint, Carbone 4 "
    "MyCO2), i.e. 500 kgCO2e a year."
)


def _profile_out(p: VehicleProfile, recomputed: int | None = None) -> ProfileOut:
    return ProfileOut(**msgspec.structs.asdict(p), recomputed_sections=recomputed)


def _goal_out(g: coaching.Goal) -> GoalOut:
    return GoalOut(personal=g.personal, default_note=DEFAULT_NOTE, status=g.status)


def _places_out(v: coaching.PlacesView) -> PlacesOut:
    return PlacesOut(home=v.places.home, work=v.places.work, named_trips=v.named_trips)


@get("/v1/me/profile", tags=["coach"], operation_id="getProfile")
async def get_profile(conn: DbConn, principal: Caller) -> ProfileOut:
    """The caller's vehicle profile (defaults: a thermal car driven alone, a muscular bike)."""
    return _profile_out(await coaching.get_profile(conn, principal))


@put("/v1/me/profile", tags=["coach"], operation_id="setProfile")
async def put_profile(data: JSONBody[ProfileIn], conn: DbConn, principal: Caller) -> ProfileOut:
    """Replace the vehicle profile; every stored footprint is recomputed with it at once."""
    profile = msgspec.convert(msgspec.structs.asdict(data), VehicleProfile)
    n = await coaching.set_profile(conn, principal, profile)
    return _profile_out(profile, n)


@get("/v1/coach/footprint", tags=["coach"], operation_id="getFootprint")
async def footprint(
    request: Request[Any, Any, Any],
    conn: DbConn,
    principal: Caller,
    period: Annotated[Period, QueryParameter()] = Period.WEEK,
    at: At = None,
) -> FootprintReport:
    """kgCO2e of the day, ISO week or month containing `at` (default now; Europe/Paris calendar),
    by mode and by trip purpose, with the change against the previous period and the mean of the
    four before. Each period also gives `to_confirm_trips`, the trips with a section whose mode is
    unsure and not confirmed (`to_confirm` in `GET /v1/trips`), and `to_confirm_kg`, the part of
    the total those sections hold: what the tester's answers may still change."""
    return await coaching.footprint(conn, principal, period, _instant(at), params=_params(request))


@get("/v1/coach/goal", tags=["coach"], operation_id="getGoal")
async def get_goal(conn: DbConn, principal: Caller, at: At = None) -> GoalOut:
    """The yearly mobility budget, the part used since 1 January and the pace (linear projection)."""
    return _goal_out(await coaching.goal(conn, principal, _instant(at)))


@put("/v1/coach/goal", tags=["coach"], operation_id="setGoal")
async def put_goal(data: JSONBody[GoalIn], conn: DbConn, principal: Caller) -> GoalOut:
    """Set a personal yearly mobility budget in kgCO2e (`null`: back to the default)."""
    return _goal_out(await coaching.set_goal(conn, principal, data.yearly_budget_kg, utcnow()))


@get("/v1/coach/places", tags=["coach"], operation_id="getPlaces")
async def get_places(conn: DbConn, principal: Caller, at: At = None) -> PlacesOut:
    """Home and work, as confirmed or as guessed from stays (nights, weekday working hours)."""
    return _places_out(await coaching.places(conn, principal, _instant(at)))


@put("/v1/coach/places", tags=["coach"], operation_id="setPlaces")
async def put_places(data: JSONBody[PlacesIn], conn: DbConn, principal: Caller) -> PlacesOut:
    """Confirm or correct home and work; trips between them are named commutes."""
    view = await coaching.confirm_places(
        conn,
        principal,
        None if data.home is None else (data.home.lat, data.home.lon),
        None if data.work is None else (data.work.lat, data.work.lon),
        utcnow(),
    )
    return _places_out(view)


@get("/v1/coach/recurring", tags=["coach"], operation_id="listRecurringTrips")
async def get_recurring(conn: DbConn, principal: Caller, at: At = None) -> list[RecurringTrip]:
    """Trips made at least three times between the same two places (250 m) over the past year."""
    return await coaching.recurring(conn, principal, _instant(at))


@get("/v1/coach/alternatives", tags=["coach"], operation_id="listAlternatives")
async def get_alternatives(conn: DbConn, principal: Caller, at: At = None) -> list[TripAlternatives]:
    """For each recurring car trip: walk, bike, e-bike, bus and carpool with their footprint,
    door-to-door time and the yearly saving of switching one day a week."""
    return await coaching.alternatives(conn, principal, _instant(at))


@get("/v1/coach/fmd", tags=["coach"], operation_id="getFmdDays")
async def get_fmd(conn: DbConn, principal: Caller, year: Year = None) -> FmdDays:
    """Sustainable-mobility days of the year (Forfait Mobilités Durables): only bike, e-bike,
    carpool, public transport (and walking alongside them)."""
    return await coaching.fmd(conn, principal, year or utcnow().year)


@get(
    "/v1/coach/fmd/attestation",
    tags=["coach"],
    operation_id="getFmdAttestation",
    opt=downloads(
        *ATTESTATION_MEDIA_TYPES.values(),
        filename=r"attestation-fmd-\d{4}\.(" + "|".join(f.value for f in AttestationFormat) + ")",
        example="attestation-fmd-2026.pdf",
    ),
)
async def get_attestation(
    conn: DbConn,
    principal: Caller,
    *,
    employer: Text,
    name: Text,
    year: Year = None,
    lang: Lang = Language.FR,
    fmt: Annotated[AttestationFormat, QueryParameter(name="format")] = AttestationFormat.HTML,
) -> Response[bytes]:
    """The sworn statement of sustainable-mobility days for an employer, as a download (HTML by
    default; `format=pdf` or `txt`)."""
    now = utcnow()
    y = year or now.year
    a = await coaching.attestation(
        conn, principal, y, employer=employer, name=name, lang=lang, today=now.date()
    )
    if fmt is AttestationFormat.PDF:
        body = render_attestation_pdf(a)
    elif fmt is AttestationFormat.TEXT:
        body = render_attestation_text(a).encode()
    else:
        body = render_attestation_html(a).encode()
    filename = f"attestation-fmd-{y}.{fmt.value}"
    return Response(
        content=body,
        media_type=ATTESTATION_MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@get("/v1/coach/weekly", tags=["coach"], operation_id="getWeeklyMessage")
async def get_weekly(
    request: Request[Any, Any, Any], conn: DbConn, principal: Caller, lang: Lang = Language.FR, at: At = None
) -> WeeklyMessage:
    """This week's message in plain words (French or English): what changed, one thing to try,
    and how many of the week's trips await the tester's confirmation (`to_confirm_trips`)."""
    return await coaching.weekly(conn, principal, _instant(at), lang, params=_params(request))


def _params(request: Request[Any, Any, Any]) -> coaching.CoachingParams:
    """The coach's parameters with the deployment's rule for sections to confirm."""
    return msgspec.structs.replace(
        coaching.DEFAULT_COACHING_PARAMS, ask_below=ask_below(request), audit_share=audit_share(request)
    )


ROUTES = [
    get_profile,
    put_profile,
    footprint,
    get_goal,
    put_goal,
    get_places,
    put_places,
    get_recurring,
    get_alternatives,
    get_fmd,
    get_attestation,
    get_weekly,
]
