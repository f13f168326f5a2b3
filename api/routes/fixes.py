"""GPS ingestion endpoints: our native batch format, file uploads, and the trackers people use.

Every endpoint authenticates from the token alone, decodes with ``ingest.formats``, and stores
through :func:`ingest.fixes.store_batch` (one transaction per batch). How to point each app at
these endpoints is in the README.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State

from api.deps import (
    Caller,
    DbConn,
    KnownDevices,
    identify,
    is_json,
    sent_media_type,
    token_from_headers,
    utcnow,
)
from api.openapi import DEVICE_ID_QUERY, DEVICE_TOKEN, DEVICE_TOKEN_BASIC, TOKEN_QUERY, own_problems
from core.errors import SillageError, Unprocessable
from core.fixes import Fix, RawFix, Rejection
from ingest import formats
from ingest.fixes import BatchReport, FixStatus, store_batch
from ingest.formats import jsonbody
from ingest.formats.native import decode_clean_native
from ingest.testers import authenticate
from store.partition import Conn, DeviceKey, DeviceRefused
from store.testers import Principal

log = logging.getLogger("sillage.ingest")

UPLOAD_MAX_BYTES = 64 * 1024 * 1024
T = TypeVar("T")


async def _store(
    request: Request[Any, Any, State],
    conn: Conn,
    principal: Principal,
    decoded: formats.Decoded,
    source: str,
) -> BatchReport:
    return await _store_items(request, conn, principal, decoded.items, source, skipped=decoded.skipped)


async def _store_items(
    request: Request[Any, Any, State],
    conn: Conn,
    caller: Principal | DeviceKey,
    items: Sequence[RawFix | Fix | Rejection],
    source: str,
    *,
    skipped: int = 0,
) -> BatchReport:
    # Stored with the device, so that the pipeline tells two phones running the same app apart
    # (cleaning's choice between trackers logging at once, core.segmentation.cleaning).
    stored_as = f"{source}:{caller.device_id.hex[:8]}"
    report = await store_batch(conn, caller, items, source=stored_as, now=utcnow(), skipped=skipped)
    if report.stored:
        request.app.state.worker.poke()  # new fixes: let the pipeline look now
    return report


Items = Sequence[RawFix | Fix | Rejection]


async def _ingest(
    request: Request[Any, Any, State],
    conn: Conn,
    token: str | None,
    read: Callable[[], Awaitable[tuple[Items, int]]],
    source: str,
) -> BatchReport:
    """Authenticate ``token``, ``read`` the items (and how many were skipped), store them.

    A device that has authenticated in this process before takes the fast lane: its token is
    checked by the database in the statement that opens the batch's transaction (one round trip
    less, see ``store.partition.DeviceKey``); a refusal there falls back to ordinary
    authentication, which says why (401, or a paused tester's report). Other devices authenticate
    first, as every endpoint did before, and are known from then on.
    """
    state: State = request.app.state
    known: KnownDevices = state.known_devices
    key = known.key(token)
    caller: Principal | DeviceKey
    if key is None:
        caller = await identify(request, conn, token)
    else:
        state.limiter.check(key.device_id)
        caller = key
    try:
        items, skipped = await read()
    except SillageError:
        if isinstance(caller, DeviceKey):  # a bad token is a 401 before a bad body is a 400
            await authenticate(conn, token, now=utcnow())
        raise
    try:
        report = await _store_items(request, conn, caller, items, source, skipped=skipped)
    except DeviceRefused:
        assert key is not None
        known.forget(key.device_id)
        caller = await authenticate(conn, token, now=utcnow())
        report = await _store_items(request, conn, caller, items, source, skipped=skipped)
    if isinstance(caller, Principal) and not caller.paused:
        known.add(caller.device_id)
    # Every statement above ran in autocommit or in SET LOCAL transactions: nothing to reset.
    state.db.session_unchanged(conn)
    if report.rejected:
        _log_rejections(report, source)
    return report


# A reason's values (a tester's coordinates or times, as sent) are not for the log: its kind is.
# Quoted text, and numbers with a decimal point, a time's separators or over four digits (a
# coordinate, a time, an epoch); "ISO 8601" and "[-90, 90]" stay.
_VALUES = re.compile(r"'[^']*'|\"[^\"]*\"|[-+]?\d+[.:T-][\w.:+-]*|[-+]?\d{5,}")


def _reason_kind(reason: str) -> str:
    """``lat '46,2' is not a number`` -> ``lat <value> is not a number``."""
    return _VALUES.sub("<value>", reason)


def _log_rejections(report: BatchReport, source: str) -> None:
    """Trackers' apps (OwnTracks, GPSLogger, ...) show no per-fix report: an operator sees in the
    log that a batch had fixes refused, how many, and why (no identifier, and no value: the reasons
    name fields, with the values a tester sent masked)."""
    reasons = Counter(_reason_kind(r.reason or "") for r in report.results if r.status == FixStatus.REJECTED)
    log.warning(
        "fixes rejected",
        extra={
            "source": source,
            "stored": report.stored,
            "rejected": report.rejected,
            "reasons": dict(reasons.most_common(3)),
        },
    )


_ON_LOOP_BYTES = 256 * 1024  # larger bodies are decoded in a thread: the loop serves others meanwhile


async def _decoded_off_loop(decode: Callable[..., T], body: bytes, **kwargs: Any) -> T:
    """``decode(body, **kwargs)``, in a worker thread when the body is large (a history file, a
    phone's cache after days offline take about a second for 60 MiB)."""
    if len(body) <= _ON_LOOP_BYTES:
        return decode(body, **kwargs)
    return await asyncio.to_thread(decode, body, **kwargs)


def _decoded(decoded: formats.Decoded) -> Callable[[], Awaitable[tuple[Items, int]]]:
    """A ``read`` for :func:`_ingest` when the payload had to be decoded before authentication."""

    async def read() -> tuple[Items, int]:
        return decoded.items, decoded.skipped

    return read


def _body(
    request: Request[Any, Any, State], decode: Callable[[bytes], formats.Decoded]
) -> Callable[[], Awaitable[tuple[Items, int]]]:
    """A ``read`` for :func:`_ingest` that decodes the request body after authentication."""

    async def read() -> tuple[Items, int]:
        decoded = decode(await request.body())
        return decoded.items, decoded.skipped

    return read


# A well-formed body of another shape than the format's is a 422, at every endpoint that reads JSON or a file.
UNKNOWN_SHAPE = own_problems(422)


@post(
    "/v1/fixes",
    tags=["ingestion"],
    status_code=200,
    security=[DEVICE_TOKEN],
    operation_id="postFixes",
    opt=UNKNOWN_SHAPE,
)
async def post_fixes(request: Request[Any, Any, State]) -> BatchReport:
    """Our app's batch: `{"fixes": [{"ts", "lat", "lon", "accuracy_m", ...}]}`, at most 1000 fixes.

    Answers a per-fix report (`stored`, `duplicate`, `rejected` with a reason). A retried batch
    stores nothing twice and still succeeds; invalid fixes are rejected one by one. Requires
    `Authorization: Bearer <token>`.
    """
    # The hot path, hundreds of times a second: no dependency injection.
    state: State = request.app.state
    max_fixes = state.settings.max_fixes_per_batch

    async def read() -> tuple[Items, int]:
        body = await request.body()
        clean = decode_clean_native(body, max_fixes=max_fixes)
        if clean is not None:
            return clean, 0
        decoded = formats.decode_native(body, max_fixes=max_fixes)
        return decoded.items, decoded.skipped

    async with state.db.connection() as conn:
        return await _ingest(request, conn, token_from_headers(request), read, "native")


@post(
    "/v1/uploads",
    operation_id="uploadFixes",
    tags=["ingestion"],
    status_code=200,
    request_max_body_size=UPLOAD_MAX_BYTES,
    opt=UNKNOWN_SHAPE,
)
async def post_upload(
    request: Request[Any, Any, State],
    conn: DbConn,
    principal: Caller,
) -> BatchReport:
    """A file of fixes (GPX, GeoJSON, CSV or GeoLife `.plt`) as the raw request body.

    The format is recognised from the content (the `filename` query parameter and the
    Content-Type are hints). History imports are welcome: old fixes mark their time range for
    reprocessing like any late upload. The report counts every fix but lists only those not
    stored (duplicates, rejections), by index: a year of history is a million fixes, and a result
    for each made the answer half the size of the file.
    """
    decoded = await _decoded_off_loop(
        formats.decode_upload,
        await request.body(),
        filename=request.query_params.get("filename"),
        content_type=request.headers.get("content-type"),
    )
    report = await _store(request, conn, principal, decoded, "upload")
    return msgspec.structs.replace(report, results=[r for r in report.results if r.status != "stored"])


class EmissionAck(msgspec.Struct, frozen=True, kw_only=True):
    stored: int
    duplicates: int
    rejected: int
    skipped: int


# OpenPATH sends its whole pending cache in one `usercache/put` and never splits it: a phone that
# was offline for days, or logged a long day densely, sends megabytes (e-mission's own server lifts
# the limit, e-mission-docs#443). Refusing it with 413 would refuse that phone at every sync.
EMISSION_MAX_BYTES = UPLOAD_MAX_BYTES


@post(
    "/usercache/put",
    operation_id="putEmissionUsercache",
    tags=["ingestion"],
    status_code=200,
    request_max_body_size=EMISSION_MAX_BYTES,
    security=[DEVICE_TOKEN],  # or the body's `user`, which no OpenAPI scheme can name
    opt=UNKNOWN_SHAPE,
)
async def emission_put(request: Request[Any, Any, State], conn: DbConn) -> EmissionAck:
    """OpenPATH / e-mission `usercache/put`: the token is the body's `user` field (or a bearer header).

    Location entries are stored; other keys are counted as skipped, never failing the batch. The
    app sends all it holds in one request: up to 64 MiB is taken (about 75,000 fixes with their
    filtered copies).
    """
    user, decoded = await _decoded_off_loop(formats.decode_emission, await request.body())
    report = await _ingest(request, conn, token_from_headers(request) or user, _decoded(decoded), "emission")
    return EmissionAck(
        stored=report.stored, duplicates=report.duplicates, rejected=report.rejected, skipped=report.skipped
    )


@post(
    "/ingest/owntracks",
    operation_id="ingestOwnTracks",
    tags=["ingestion"],
    status_code=200,
    security=[DEVICE_TOKEN_BASIC, DEVICE_TOKEN],
    opt=UNKNOWN_SHAPE,
)
async def owntracks(request: Request[Any, Any, State], conn: DbConn) -> list[Any]:
    """OwnTracks HTTP mode: HTTP basic auth with the token as password (or a bearer header).

    Answers `[]` (no friends' locations to return).
    """

    await _ingest(
        request, conn, token_from_headers(request), _body(request, formats.decode_owntracks), "owntracks"
    )
    return []


class OverlandAck(msgspec.Struct, frozen=True, kw_only=True):
    result: str


@post(
    "/ingest/overland",
    operation_id="ingestOverland",
    tags=["ingestion"],
    status_code=200,
    security=[DEVICE_TOKEN, TOKEN_QUERY],
    opt=UNKNOWN_SHAPE,
)
async def overland(
    request: Request[Any, Any, State],
    conn: DbConn,
) -> OverlandAck:
    """Overland (iOS): `{"locations": [GeoJSON features]}`; answers `{"result":"ok"}` once stored.

    Overland's "Access Token" setting sends a bearer header; `?token=` in the receiver URL works too.
    """

    token = token_from_headers(request) or request.query_params.get("token")
    await _ingest(request, conn, token, _body(request, formats.decode_overland), "overland")
    return OverlandAck(result="ok")


def _is_form(request: Request[Any, Any, State]) -> bool:
    ctype = request.headers.get("content-type", "")
    return request.method == "POST" and (
        ctype.startswith("application/x-www-form-urlencoded") or ctype.startswith("multipart/form-data")
    )


def _is_json(request: Request[Any, Any, State]) -> bool:
    return request.method == "POST" and is_json(sent_media_type(request))


async def _query_and_form(request: Request[Any, Any, State], *, json_object: bool = False) -> dict[str, str]:
    """The query's parameters, and a form body's; with ``json_object``, a JSON object body's too
    (GPSLogger's "HTTP Body" may be set to ``{"lat": %LAT, ...}``: ignored, the fix was lost with
    an OK)."""
    params = dict(request.query_params.items())
    if _is_form(request):
        form = await request.form()
        params.update({k: str(v) for k, v in form.items()})
    elif json_object and _is_json(request):
        document = jsonbody.loads(await request.body())
        if not isinstance(document, dict):
            raise Unprocessable('a JSON body holds the parameters as one object: {"lat": ..., "lon": ...}')
        params.update({str(k): str(v) for k, v in document.items() if isinstance(v, str | int | float)})
    return params


@get(
    "/ingest/gpslogger",
    operation_id="ingestGpsLoggerQuery",
    tags=["ingestion"],
    media_type="text/plain",
    security=[TOKEN_QUERY, DEVICE_TOKEN],
)
async def gpslogger_get(request: Request[Any, Any, State], conn: DbConn) -> Response[str]:
    """GPSLogger (Android) custom URL: one fix per request; the token as `token=` (or a bearer header)."""
    return await _gpslogger(request, conn)


@post(
    "/ingest/gpslogger",
    operation_id="ingestGpsLogger",
    tags=["ingestion"],
    media_type="text/plain",
    status_code=200,
    security=[TOKEN_QUERY, DEVICE_TOKEN],
    opt=UNKNOWN_SHAPE,  # a JSON body that is not one object
)
async def gpslogger_post(request: Request[Any, Any, State], conn: DbConn) -> Response[str]:
    """GPSLogger with HTTP POST: the same parameters in the query string or a form body."""
    return await _gpslogger(request, conn)


async def _gpslogger(request: Request[Any, Any, State], conn: DbConn) -> Response[str]:
    params = await _query_and_form(request, json_object=True)
    token = token_from_headers(request) or params.get("token")
    await _ingest(request, conn, token, _decoded(formats.decode_gpslogger(params)), "gpslogger")
    return Response("OK", media_type="text/plain")


@get(
    "/ingest/osmand",
    operation_id="ingestOsmAndQuery",
    tags=["ingestion"],
    media_type="text/plain",
    security=[DEVICE_ID_QUERY, DEVICE_TOKEN],
)
async def osmand_get(request: Request[Any, Any, State], conn: DbConn) -> Response[str]:
    """Traccar Client / OsmAnd protocol: the token is the app's device identifier (`id`)."""
    return await _osmand(request, conn)


@post(
    "/ingest/osmand",
    operation_id="ingestOsmAnd",
    tags=["ingestion"],
    media_type="text/plain",
    status_code=200,
    security=[DEVICE_ID_QUERY, DEVICE_TOKEN],
    opt=UNKNOWN_SHAPE,
)
async def osmand_post(request: Request[Any, Any, State], conn: DbConn) -> Response[str]:
    """Traccar Client / OsmAnd protocol by POST (query, form or Traccar's JSON body)."""
    return await _osmand(request, conn)


async def _osmand(request: Request[Any, Any, State], conn: DbConn) -> Response[str]:
    params = await _query_and_form(request)
    # Traccar's JSON comes as a POST's body; a form was read into the parameters (a keep-alive has no
    # lat). A GET's body means nothing (RFC 9110 section 9.3.1): it is not read, so not refused either.
    posted = request.method == "POST" and "lat" not in params and not _is_form(request)
    body = await request.body() if posted else b""
    device, decoded = formats.decode_osmand(params, body)
    await _ingest(request, conn, token_from_headers(request) or device, _decoded(decoded), "osmand")
    return Response("OK", media_type="text/plain")


ROUTES = [
    post_fixes,
    post_upload,
    emission_put,
    owntracks,
    overland,
    gpslogger_get,
    gpslogger_post,
    osmand_get,
    osmand_post,
]
