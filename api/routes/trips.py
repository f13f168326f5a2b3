"""The tester's trips: ``GET /v1/trips``, ``GET /v1/trips/{id}``, ``PATCH /v1/sections/{id}``."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, JSONBody, KwargDefinition, QueryParameter
from litestar.status_codes import HTTP_200_OK

from api.deps import Caller, DbConn, ask_below, audit_share, utcnow
from api.openapi import own_problems
from api.times import WITHOUT_OFFSET, range_bound, sent_inverted
from core.co2.modes import Mode
from core.history import AnswerWeighing
from ingest import trips
from store.trips import TripOut

# A mode as the OpenAPI document lists it. The body's type stays a string: an unknown mode is
# answered 422 with the known ones (ingest.trips.confirm_section), not msgspec's 400.
ModeName = Annotated[
    str, KwargDefinition(schema_extra={"enum": [m.value for m in Mode]}, description="A transport mode.")
]


class ConfirmIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mode: ModeName


class SectionConfirmed(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    trip_id: uuid.UUID
    mode: ModeName
    mode_source: str
    distance_m: float
    co2_kg: float | None  # the footprint recomputed with the confirmed mode


# The next page, when `limit` cut the list (set by the handler; documented here for clients).
_NEXT_PAGE = ResponseHeader(
    name="Link",
    description='The next, older page when `limit` cut the list (RFC 8288): `<url>; rel="next"`.',
    required=False,
    documentation_only=True,
)


# 422: `to` not after `from`.
@get(
    "/v1/trips",
    tags=["trips"],
    operation_id="listTrips",
    opt=own_problems(422),
    response_headers=[_NEXT_PAGE],
)
async def list_trips(
    request: Request[Any, Any, Any],
    conn: DbConn,
    principal: Caller,
    *,
    start: Annotated[
        datetime | None,
        QueryParameter(name="from", description=f"Start of the range (ISO 8601); {WITHOUT_OFFSET}."),
    ] = None,
    end: Annotated[
        datetime | None,
        QueryParameter(name="to", description=f"End of the range, excluded (ISO 8601); {WITHOUT_OFFSET}."),
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=trips.MAX_TRIPS)] = 100,
    hidden: Annotated[bool, QueryParameter()] = False,
    to_confirm: Annotated[bool, QueryParameter()] = False,
) -> Response[list[TripOut]]:
    """The caller's trips overlapping [from, to) (ISO 8601; default: the last 7 days, or the 7 days
    before ``to``), newest first. A time without a UTC offset (``2026-01-13T08:00:00``) is on the
    deployment's local clock, the coach's calendar, as ``at`` is there: the tester's 08:00.

    Each trip has its start and end (time, place), distance, duration and sections with the mode,
    class probabilities, CO2 and a simplified GeoJSON geometry. When ``limit`` cut the list, a
    ``Link: <...>; rel="next"`` header (RFC 8288) gives the next page: the same query with ``to``
    set to the start of the oldest trip returned (none when that trip began at or before ``from``:
    no older trip overlaps the range). A trip that ends exactly at ``from`` does not overlap it.
    Trips the caller hid are left out; with ``hidden=true`` they are listed too (``"hidden":
    true``), so that one can be found again and unhidden even after reprocessing gave it a new id.

    A section has ``"to_confirm": true`` when the tester has not confirmed its mode and the model is
    unsure of it (its most likely mode below 0.8, or the deployment's ``SILLAGE_ASK_BELOW``), or
    when it is among the sure sections drawn at random to check the probabilities shown (1 in 20,
    or ``SILLAGE_AUDIT_SHARE``): the app should ask which mode it was and send the answer to
    ``PATCH /v1/sections/{id}``. Each answer also helps the tester's later sections on the same
    routes. With ``to_confirm=true``, only trips with such a section are listed.
    """
    now = utcnow()
    # A bound left out is taken from the one sent, not only from the clock: `to` alone is the week
    # before it, `from` alone runs until tomorrow or the day after it (an empty list, not a 422
    # about a `to` the client never sent).
    first = None if start is None else range_bound(start)
    last = None if end is None else range_bound(end)
    end_at = last or range_bound(max(now, first or now) + timedelta(days=1))
    start_at = first or range_bound(min(now, end_at) - timedelta(days=7))
    if start_at >= end_at and not sent_inverted(start, end):
        # Both bounds clamped to one end of the times fixes can have: nothing is there (a range the
        # client sent the wrong way round is still refused, below).
        return Response([])
    found = await trips.list_trips(
        conn,
        principal,
        start_at,
        end_at,
        limit,
        hidden=hidden,
        to_confirm=to_confirm,
        ask_below=ask_below(request),
        audit_share=audit_share(request),
    )
    headers = {}
    # No next page once the oldest trip returned began at or before ``from``: the trips before it end
    # by then, outside the range (and ``to`` would not be after ``from``).
    if len(found) == limit and found[-1].started_at > start_at:
        page: dict[str, str | int] = {
            "from": start_at.isoformat(),
            "to": found[-1].started_at.isoformat(),
            "limit": limit,
        }
        if hidden:
            page["hidden"] = "true"
        if to_confirm:
            page["to_confirm"] = "true"
        query = urlencode(page)
        headers["Link"] = f'<{request.url.path}?{query}>; rel="next"'
    return Response(found, headers=headers)


@get("/v1/trips/{trip_id:uuid}", tags=["trips"], operation_id="getTrip")
async def get_trip(
    request: Request[Any, Any, Any], trip_id: FromPath[uuid.UUID], conn: DbConn, principal: Caller
) -> TripOut:
    """One of the caller's trips."""
    return await trips.get_trip(
        conn, principal, trip_id, ask_below=ask_below(request), audit_share=audit_share(request)
    )


@post("/v1/trips/{trip_id:uuid}/confirm", status_code=HTTP_200_OK, tags=["trips"], operation_id="confirmTrip")
async def confirm_trip(
    request: Request[Any, Any, Any], trip_id: FromPath[uuid.UUID], conn: DbConn, principal: Caller
) -> TripOut:
    """The tester says the trip's modes are right as shown ("looks right"): each section not yet
    confirmed is confirmed with the mode it shows, as ``PATCH /v1/sections/{id}`` with that mode
    would (a label that survives reprocessing, helping later trips on the same routes), in one
    transaction. Gives the trip, with nothing left ``to_confirm``. A mode that is wrong is corrected
    with ``PATCH /v1/sections/{id}``, before or after."""
    return await trips.confirm_trip(
        conn, principal, trip_id, ask_below=ask_below(request), audit_share=audit_share(request)
    )


@get("/v1/me/answers", tags=["trips"], operation_id="getAnswers")
async def my_answers(conn: DbConn, principal: Caller) -> AnswerWeighing:
    """What the caller's answers about their sections' modes count for when Sillage infers their
    later ones. Each answer (``PATCH /v1/sections/{id}``, or every section of a trip confirmed with
    ``POST /v1/trips/{id}/confirm``) becomes part of the tester's history: it informs their usual
    modes and their later sections on the same routes and at the same speeds. A correction always
    counts in full. An answer that agrees with the mode shown counts as much as the tester's answers
    show attention: a mode shown at probability ``p`` is right about ``p`` of the time, so an
    attentive tester agrees about as often as the mean probability shown
    (``mean_probability_shown``), and one who agrees far more often (``agreement_rate``, smoothed by
    ten answers at the expected rate) is likely tapping "looks right" without looking; each
    agreement then counts for ``agreement_weight`` (1 in full). Answers about a section that showed
    the tester's own earlier answer, or given before Sillage kept what was shown, count in full
    (``answers`` minus ``with_shown_mode``). The app can tell the tester that correcting the modes
    that are wrong is what makes their "looks right" count."""
    return await trips.answers(conn, principal)


# 422: an unknown mode.
@patch("/v1/sections/{section_id:uuid}", tags=["trips"], operation_id="confirmSection", opt=own_problems(422))
async def confirm_section(
    request: Request[Any, Any, Any],
    section_id: FromPath[uuid.UUID],
    data: JSONBody[ConfirmIn],
    conn: DbConn,
    principal: Caller,
) -> SectionConfirmed:
    """Confirm (or correct) a section's mode. Kept as a label that survives reprocessing; the
    footprint is recomputed.

    A section's id goes with its time span: reprocessing that moves either end (late fixes) gives
    the section a new id. An answer sent with the former one (for 30 days after) is not lost: it
    confirms the section shown now that overlaps most the time the former id had, as if sent with
    that section's id, and the answer gives that section (200, with its current ``id`` and
    ``trip_id``: the app can update its view without listing the trip again). 404 for an id the
    tester never had, or when no section shown now overlaps its time (the time is now a stay, or
    the trip is hidden)."""
    s = await trips.confirm_mode(
        conn, principal, section_id, data.mode, ask_below=ask_below(request), audit_share=audit_share(request)
    )
    return SectionConfirmed(
        id=s.id, trip_id=s.trip_id, mode=s.mode, mode_source="user", distance_m=s.distance_m, co2_kg=s.co2_kg
    )


ROUTES = [list_trips, get_trip, confirm_trip, confirm_section, my_answers]
