"""Testers' rights over their data: export, deletion, erasure, pause, hidden trips.

Identity comes from the token alone; every route acts on the caller's own data. Plain handlers,
not a controller: ``DELETE /v1/me`` shares its path with the account controller of ``enrol.py``.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, post
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from api.deps import Caller, DbConn, identify, token_from_headers, utcnow
from api.head import HEAD_KEY
from api.openapi import AUTHENTICATES_ITSELF, DEVICE_TOKEN, downloads, own_problems
from api.ratelimit import AtOnce
from api.times import WITHOUT_OFFSET, range_bound, sent_inverted
from ingest import export, rights
from ingest.spool import spooled
from store.partition import Conn
from store.rights import RangeDeleted
from store.testers import Principal


class Deleted(msgspec.Struct, frozen=True, kw_only=True):
    """What a deletion removed (sections go with their trips)."""

    fixes: int
    trips: int
    stays: int
    labels: int
    hidden_trips: int  # intervals of hidden trips forgotten with them


class ErasedOut(msgspec.Struct, frozen=True, kw_only=True):
    erased: bool
    receipt: str


class RecordingOut(msgspec.Struct, frozen=True, kw_only=True):
    paused: bool


def _deleted(d: RangeDeleted) -> Deleted:
    return Deleted(fixes=d.fixes, trips=d.trips, stays=d.stays, labels=d.labels, hidden_trips=d.hidden_trips)


@get(
    "/v1/me/export",
    tags=["rights"],
    operation_id="exportMe",
    security=[DEVICE_TOKEN],
    opt={
        **downloads(
            *export.MEDIA_TYPES.values(), filename=export.FILENAME_PATTERN, example=export.FILENAME_EXAMPLE
        ),
        AUTHENTICATES_ITSELF: True,
    },
)
async def export_data(
    request: Request[Any, Any, Any],
    state: State,
    fmt: Annotated[export.ExportFormat, QueryParameter(name="format")] = export.ExportFormat.ZIP,
) -> Stream:
    """Everything Sillage holds about the caller, streamed.

    `zip` (default) is complete: a README describing every file and unit, the account, consents
    and their history, devices (never token secrets), the audit entries about you, and one CSV
    per table of your partition (raw fixes, stays, trips, sections with modes and CO2,
    corrections, hidden trips, coaching data). `csv` is the raw fixes; `geojson` stays,
    sections and fixes; `gpx` stays as waypoints and fixes as a track.
    """
    now = utcnow()
    token = token_from_headers(request)

    async def caller(conn: Conn) -> Principal:
        return await identify(request, conn, token)

    pieces: Iterable[bytes] | AsyncIterator[bytes]
    if request.scope.get(HEAD_KEY):  # HEAD: the download's header fields, without making or recording it
        async with state.db.connection() as conn:
            await caller(conn)
        pieces = ()
    else:
        exports: AtOnce = state.exports
        taken: list[Callable[[], None]] = []

        async def counted(conn: Conn) -> Principal:
            principal = await caller(conn)
            taken.append(exports.take(principal.user_id))  # 429 past the tester's exports at once
            return principal

        # No connection of the request's own (no DbConn, no Caller): the export authenticates on
        # the one it reads with (ingest.export.stream), so exports at once never empty the pool.
        try:
            made = await export.primed(export.stream(state.db, counted, fmt, now=now))
        except BaseException:
            for give_back in taken:
                give_back()
            raise
        pieces = _counted_until_done(spooled(made), taken)
    return Stream(
        pieces,
        media_type=export.MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename(fmt, now)}"',
            "Cache-Control": "no-store",
        },
    )


def _counted_until_done(
    pieces: AsyncGenerator[bytes, None], taken: list[Callable[[], None]]
) -> AsyncIterator[bytes]:
    """``pieces``, giving the export's place back (:class:`api.ratelimit.AtOnce`) when the download
    ends, fails or is dropped, or when the response is dropped before it began (the generator is
    then collected without ever running its ``finally``)."""

    def give_back() -> None:
        for f in taken:
            f()

    async def served() -> AsyncIterator[bytes]:
        try:
            async for piece in pieces:
                yield piece
        finally:
            give_back()
            await pieces.aclose()

    out = served()
    weakref.finalize(out, give_back)
    return out


@delete("/v1/me/trips/{trip_id:uuid}", status_code=HTTP_200_OK, tags=["rights"], operation_id="deleteTrip")
async def delete_trip(trip_id: FromPath[uuid.UUID], conn: DbConn, principal: Caller) -> Deleted:
    """Delete one of the caller's trips together with the positions it was made of (otherwise
    reprocessing would rebuild it); the stays around it are recomputed."""
    return _deleted(await rights.delete_trip(conn, principal, trip_id))


# 422: `to` not after `from`.
@delete(
    "/v1/me/fixes",
    status_code=HTTP_200_OK,
    tags=["rights"],
    operation_id="deleteFixes",
    opt=own_problems(422),
)
async def delete_fixes(
    conn: DbConn,
    principal: Caller,
    start: Annotated[
        datetime, QueryParameter(name="from", description=f"Start of the range (ISO 8601); {WITHOUT_OFFSET}.")
    ],
    end: Annotated[
        datetime,
        QueryParameter(name="to", description=f"End of the range, excluded (ISO 8601); {WITHOUT_OFFSET}."),
    ],
) -> Deleted:
    """Delete the caller's positions in [from, to) (ISO 8601) and the trips, stays and
    corrections derived from any of them; what remains around the range is recomputed. A time
    without a UTC offset is on the deployment's local clock, as in ``GET /v1/trips``.
    A range wholly before 2000 or after 2200 (where no fix can be) deletes nothing."""
    first, last = range_bound(start), range_bound(end)
    if first >= last and not sent_inverted(start, end):  # both clamped to one end: nothing there
        return Deleted(fixes=0, trips=0, stays=0, labels=0, hidden_trips=0)
    return _deleted(await rights.delete_fixes(conn, principal, first, last))


# 404: the account was erased meanwhile (a concurrent erasure of the same account).
@delete("/v1/me", status_code=HTTP_200_OK, tags=["rights"], operation_id="eraseMe", opt=own_problems(404))
async def erase(conn: DbConn, principal: Caller) -> ErasedOut:
    """Erase the caller's account and everything about them: partition, role, tokens,
    consents, corrections, coaching, queued work. Irreversible.

    The answer holds an erasure receipt: the audit log keeps what was done under this random
    reference only, which nothing in Sillage links to you any more. Released aggregates are
    anonymous and remain.
    """
    erased = await rights.erase_account(conn, principal)
    return ErasedOut(erased=True, receipt=erased.receipt)


@post("/v1/me/pause", status_code=HTTP_200_OK, tags=["rights"], operation_id="pauseRecording")
async def pause(conn: DbConn, principal: Caller) -> RecordingOut:
    """Stop storing new positions (they are answered with status `paused`); nothing is deleted."""
    return RecordingOut(paused=await rights.set_paused(conn, principal, paused=True))


@post("/v1/me/resume", status_code=HTTP_200_OK, tags=["rights"], operation_id="resumeRecording")
async def resume(conn: DbConn, principal: Caller) -> RecordingOut:
    """Store new positions again."""
    return RecordingOut(paused=await rights.set_paused(conn, principal, paused=False))


@post(
    "/v1/me/trips/{trip_id:uuid}/hide",
    status_code=HTTP_204_NO_CONTENT,
    tags=["rights"],
    operation_id="hideTrip",
)
async def hide(trip_id: FromPath[uuid.UUID], conn: DbConn, principal: Caller) -> None:
    """Hide a trip from coaching and sharing (it stays hidden when recomputed)."""
    await rights.set_hidden(conn, principal, trip_id, hidden=True)


@post(
    "/v1/me/trips/{trip_id:uuid}/unhide",
    status_code=HTTP_204_NO_CONTENT,
    tags=["rights"],
    operation_id="unhideTrip",
)
async def unhide(trip_id: FromPath[uuid.UUID], conn: DbConn, principal: Caller) -> None:
    """Show a hidden trip again."""
    await rights.set_hidden(conn, principal, trip_id, hidden=False)


ROUTES = [export_data, delete_trip, delete_fixes, erase, pause, resume, hide, unhide]
