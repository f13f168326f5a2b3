"""What Litestar cannot see in the handlers, added to the OpenAPI document they are generated from.

Clients are generated from this document (the mobile app's among them), so it is completed here, in
one place, once Litestar has built it:

- :func:`document_problems`: the error responses, as the RFC 9457 problems :mod:`api.problems`
  really sends. Left alone, Litestar documents a 400 for every handler with parameters or a body,
  shaped as its own ``ValidationException`` body (``{status_code, detail, extra}`` as
  ``application/json``) that no client ever receives, even where the only parameter is in the path
  (a malformed id there is a 404), and no other error status. Every operation gets the statuses it
  answers for what it is (it takes a token, a body, an id in its path, a database connection), all
  with the one ``Problem`` schema as ``application/problem+json``. Statuses that only some routes
  answer, for reasons of their own (404 for an unknown invite code, 409 when revoking the coaching
  consent, 422 for a batch of an unknown shape), follow no rule over what a handler takes: each
  such route declares them (``opt=own_problems(...)``), and they are listed with the others.
- :func:`document_security`: how each operation takes its credentials. The device token is a
  dependency (``principal``, :mod:`api.deps`) that Litestar does not read as a credential; the
  ingestion handlers, which read the token themselves wherever their tracker app puts it, and the
  dashboard's router declare theirs (``security=``) with the schemes defined here.
- :func:`document_bodies`: the ingestion endpoints read their bodies themselves (no ``data``), so
  Litestar documents none: our app's batch of fixes is documented field by field, as
  :mod:`ingest.formats.native` decodes it; the trackers' bodies by their media types and a pointer
  to their format, whose fields are the apps' own; a request Struct that refuses unknown fields
  (``forbid_unknown_fields``) says so (``additionalProperties: false``), which Litestar leaves out;
  and a body the handler can go without (its ``data`` has a default) is not ``required``.
- :func:`document_downloads`: a handler that answers a file declares its media types and the name it
  gives the file (``opt=downloads(...)``); Litestar documents a ``Stream`` or ``bytes`` answer as
  JSON, and no ``Content-Disposition``.
- :func:`document_answers`: a field an answer always holds is ``required`` (Litestar requires only
  those without a default); :func:`document_headers`: every response header field has a schema.

Each operation's ``operationId`` is given on its route (``operation_id=``): Litestar's own are made
from the path and the handler's name, and change with either.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import msgspec
from litestar import Litestar, Response
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.routes import HTTPRoute

from api.dashboard.web import SESSION_COOKIE
from api.problems import PROBLEM_MEDIA_TYPE, TYPE_BASE
from core.co2.modes import Mode
from core.fixes import Activity


def _int(description: str) -> Schema:
    return Schema(type=OpenAPIType.INTEGER, description=description)


def _str(description: str) -> Schema:
    return Schema(type=OpenAPIType.STRING, description=description)


# Exactly the members the handlers of api.problems write: the five of RFC 9457, in every problem,
# then the extensions that some errors carry (Litestar's validation errors, ``SillageError.extra``).
PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    title="Problem",
    description="An RFC 9457 problem document: the body of every error answer (4xx and 5xx).",
    required=["type", "title", "status", "detail", "instance"],
    properties={
        "type": Schema(
            type=OpenAPIType.STRING,
            format=OpenAPIFormat.URI,
            description=f"The kind of problem, {TYPE_BASE}<kind>, one per kind of mistake (validation for "
            "every 400, unprocessable for every 422, unauthorized, not-found, rate-limited, database-busy, "
            "...): what a client branches on.",
        ),
        "title": _str("A short summary of the kind, the same for every problem of it."),
        "status": _int("The HTTP status code."),
        "detail": _str("What was wrong with this request, for a person to read."),
        "instance": _str("The path of the request."),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            description="400 for invalid parameters or body fields: one entry each.",
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["message"],
                properties={
                    "message": _str("What is wrong with it."),
                    "key": _str("Its name, as the client sends it."),
                    "source": _str("Where it was: query, path, header, cookie or body."),
                },
            ),
        ),
        "line": _int("400 for malformed JSON, XML or CSV: the line of the fault (from 1)."),
        "column": _int("400 for malformed JSON or XML: the column of the fault (from 1)."),
        "offset": _int("400 for malformed JSON: the position of the fault (from 0)."),
        "max_fixes": _int("413 for too many fixes in a batch: how many one may hold."),
        "fixes": _int("413 for too many fixes in a batch: how many it held."),
        "leave": _str("409 for revoking the coaching consent: the request that leaves."),
    },
)

_DESCRIPTIONS = {
    400: "Invalid request (validation): a parameter or the body fails its schema (a type, a bound, a length, "
    "a value not in its enumeration; malformed JSON, XML or CSV; text that is not Unicode or holds U+0000); "
    "in the JSON bodies of the API's own formats, read strictly, a number or a boolean sent as a string, "
    "and a whole number written with a fraction (2.0) where the field is an integer. `errors[].key` names "
    "each field by its path. An unknown consent purpose or section mode is not a 400 but a 422 (checked "
    "against the deployment's lists).",
    401: "Missing, malformed, invalid or revoked credentials (a device token; the dashboard's session).",
    404: "Nothing the caller may see at this path (a malformed id included); where the path has no id, "
    "what the request names is not there (an unknown invite code, no carpool profile yet, an account "
    "erased meanwhile).",
    409: "The request conflicts with the state of things, the detail says which (revoking the coaching "
    "consent, or the last active device: leave instead; a closed campaign; interest before a carpool "
    "profile).",
    413: "The body is larger than the server accepts (or, for a batch of fixes, holds more than one may).",
    415: "The body is compressed (Content-Encoding): send it uncompressed; or, where the body is JSON, "
    "its Content-Type names another media type (send application/json).",
    422: "Well-formed but not usable (unprocessable): a body of another shape than its format's, an unknown "
    "name (a consent purpose, a mode), or a time range whose end is not after its start.",
    429: "Too many requests from this device: Retry-After says when to try again.",
    500: "An unexpected error (logged on the server).",
    503: "The database is unreachable (database-unavailable), every connection of this process stayed "
    "busy (database-busy, with Retry-After), or the request gave way to a concurrent change and changed "
    "nothing (concurrent-change, with Retry-After).",
}
_RETRY_AFTER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.INTEGER), description="Seconds to wait before trying again."
)


_WWW_AUTHENTICATE = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.STRING),
    description='The scheme the credentials take: `Bearer realm="sillage"` (RFC 9110 section 15.5.2).',
)


def _problem_response(status: int) -> OpenAPIResponse:
    headers: dict[str, OpenAPIHeader | Reference] | None = (
        {"Retry-After": _RETRY_AFTER} if status in {429, 503} else None
    )
    if status == 401:
        headers = {"WWW-Authenticate": _WWW_AUTHENTICATE}
    return OpenAPIResponse(
        description=_DESCRIPTIONS[status],
        content={PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))},
        headers=headers,
    )


# A handler's ``opt`` key: the error statuses it answers for reasons of its own.
OWN_PROBLEMS = "own_problems"


def own_problems(*statuses: int) -> dict[str, Any]:
    """``opt=own_problems(404, 422)`` on a route: the statuses it answers for reasons of its own
    (what the request names is not there, a conflict, a well-formed but unusable body), which no rule
    over what its handler takes can tell; documented with the others (:func:`document_problems`)."""
    unknown = set(statuses) - set(_DESCRIPTIONS)
    if unknown:
        raise ValueError(f"no description for status {sorted(unknown)}")  # a typo, at import time
    return {OWN_PROBLEMS: statuses}


def _problem_statuses(handler: HTTPRouteHandler, method: str, operation: Operation) -> list[int]:
    """The error statuses one operation can answer, from its document and what its handler takes,
    and those its route declares (:func:`own_problems`).

    The ``ingestion`` endpoints take no ``principal`` (see :mod:`api.deps`) and no ``data``: each
    reads the device token from wherever its tracker app puts it, and its body itself, so their tag
    is what says they do. The ``dashboard``'s JSON needs the team's session cookie, and has no rate
    limit.
    """
    takes = handler.parsed_fn_signature.parameters
    tags = operation.tags or []
    places = {p.param_in for p in operation.parameters or [] if isinstance(p, Parameter)}
    body = operation.request_body is not None or ("ingestion" in tags and method != "GET")
    device = "principal" in takes or "ingestion" in tags or bool(handler.opt.get(AUTHENTICATES_ITSELF))
    statuses = {415, 500}  # app.identity_bodies refuses a compressed body before any handler runs
    statuses.update(handler.opt.get(OWN_PROBLEMS, ()))
    if body or places - {"path"}:
        statuses.add(400)
    if device or "dashboard" in tags:
        statuses.add(401)
    if "path" in places:
        statuses.add(404)
    if body:
        statuses.add(413)
    if device:
        statuses.add(429)
    if device or "conn" in takes:
        statuses.add(503)
    return sorted(statuses)


def document_problems(app: Litestar) -> None:
    """Give every operation of ``app``'s OpenAPI document the problem responses it can answer, in
    place of Litestar's; a response a handler declares itself (``responses=``) is kept."""
    document = app.openapi_schema  # built now and kept: the served JSON is made from this object
    document.components.schemas = {**(document.components.schemas or {}), "Problem": PROBLEM}
    for handler, method, operation in _operations(app):
        if operation.responses is None:
            continue
        declared = {str(status) for status in handler.responses or {}}
        responses = {
            code: response
            for code, response in operation.responses.items()
            if int(code) < 400 or code in declared
        }
        for status in _problem_statuses(handler, method, operation):
            responses.setdefault(str(status), _problem_response(status))
        operation.responses = dict(sorted(responses.items()))


def _operations(app: Litestar) -> Iterator[tuple[HTTPRouteHandler, str, Operation]]:
    """Each operation of ``app``'s OpenAPI document with the handler and method it documents."""
    paths = app.openapi_schema.paths or {}
    for route in app.routes:
        path_item = paths.get(route.path_format)
        if not isinstance(route, HTTPRoute) or path_item is None:
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                operation: Operation | None = getattr(path_item, method.lower(), None)
                if operation is not None:
                    yield handler, method, operation


# --- Credentials ---------------------------------------------------------------------------------

# The security requirements a handler declares (``security=[...]``), one per way it reads a token;
# any one of them is enough (an OpenAPI requirement list is a choice).
DEVICE_TOKEN: SecurityRequirement = {"deviceToken": []}
DEVICE_TOKEN_BASIC: SecurityRequirement = {"deviceTokenBasic": []}
TOKEN_QUERY: SecurityRequirement = {"tokenQuery": []}
DEVICE_ID_QUERY: SecurityRequirement = {"deviceIdQuery": []}
TEAM_SESSION: SecurityRequirement = {"teamSession": []}

SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    "deviceToken": SecurityScheme(
        type="http",
        scheme="bearer",
        description="The device token `POST /v1/enrol` (or `POST /v1/me/devices`) answered, as "
        "`Authorization: Bearer <token>`. Wherever it is taken, HTTP Basic with the token as the "
        "password is taken too (see deviceTokenBasic).",
    ),
    "deviceTokenBasic": SecurityScheme(
        type="http",
        scheme="basic",
        description="HTTP Basic with the device token as the password and any user name: how "
        "OwnTracks sends it.",
    ),
    "tokenQuery": SecurityScheme(
        type="apiKey",
        name="token",
        security_scheme_in="query",
        description="The device token as the `token` query parameter (GPSLogger's URL template, "
        "Overland's receiver URL); GPSLogger's POST may send it as a `token` form field instead.",
    ),
    "deviceIdQuery": SecurityScheme(
        type="apiKey",
        name="id",
        security_scheme_in="query",
        description="Traccar Client and OsmAnd: the device identifier set to the device token, sent as "
        "`id` (or `deviceid`) in the query or a form body, or as `device_id` in Traccar Client's JSON.",
    ),
    "teamSession": SecurityScheme(
        type="apiKey",
        name=SESSION_COOKIE,
        security_scheme_in="cookie",
        description="The mobility team's dashboard session, set by logging in at `/dashboard/login`.",
    ),
}


def document_security(app: Litestar) -> None:
    """Add the credential schemes, and require the device token of every operation whose handler
    takes ``principal`` (the dependency that authenticates it) and declares no ``security`` itself.

    Operations left without a requirement take no credential: ``/health`` and ``/v1/enrol`` (the
    invite code is in its body).
    """
    document = app.openapi_schema
    document.components.security_schemes = {
        **(document.components.security_schemes or {}),
        **SECURITY_SCHEMES,
    }
    for handler, _, operation in _operations(app):
        if "principal" in handler.parsed_fn_signature.parameters and not operation.security:
            operation.security = [DEVICE_TOKEN]


# --- Request bodies ------------------------------------------------------------------------------


def _nullable(kind: OpenAPIType, description: str) -> Schema:
    return Schema(one_of=[Schema(type=kind), Schema(type=OpenAPIType.NULL)], description=description)


# One fix of our app's batch, as ingest.formats.native.NativeFix decodes it. A fix that breaks these
# rules (a field missing or of another type, an unknown field, a value out of range) is rejected on
# its own, in the report; optional values a phone cannot have are dropped and the fix kept, so they
# carry no bounds here (a client checking bounds would not send the fix at all).
FIX = Schema(
    type=OpenAPIType.OBJECT,
    title="Fix",
    description="One position fix. An unknown field rejects the fix.",
    required=["ts", "lat", "lon", "accuracy_m"],
    properties={
        "ts": Schema(
            one_of=[
                Schema(type=OpenAPIType.NUMBER, description="Epoch seconds (never milliseconds)."),
                Schema(type=OpenAPIType.STRING, description="ISO 8601 with a UTC offset (`Z`, `+02:00`)."),
            ],
            description="When the fix was taken. Rejected without a UTC offset, before 2000-01-01, or "
            "more than 5 minutes after the server's clock.",
            examples=["2024-05-14T07:45:12Z", 1715672772],
        ),
        "lat": Schema(
            type=OpenAPIType.NUMBER,
            minimum=-90,
            maximum=90,
            description="Latitude, degrees (WGS 84).",
            examples=[45.7578],
        ),
        "lon": Schema(
            type=OpenAPIType.NUMBER,
            minimum=-180,
            maximum=180,
            description="Longitude, degrees (WGS 84).",
            examples=[4.832],
        ),
        "accuracy_m": Schema(
            type=OpenAPIType.NUMBER,
            minimum=0,
            description="Horizontal accuracy, metres, as the phone reports it.",
            examples=[8.0],
        ),
        "altitude_m": _nullable(OpenAPIType.NUMBER, "Altitude, metres; dropped beyond ±100 km."),
        "speed_mps": _nullable(
            OpenAPIType.NUMBER, "Speed, metres per second; dropped when negative or over 1000."
        ),
        "bearing_deg": _nullable(
            OpenAPIType.NUMBER, "Bearing, degrees, taken modulo 360; dropped when negative."
        ),
        "activity": Schema(
            one_of=[
                Schema(type=OpenAPIType.STRING, enum=[a.value for a in Activity]),
                Schema(type=OpenAPIType.NULL),
            ],
            description="The phone's own motion class; another value rejects the fix.",
        ),
        "battery": _nullable(OpenAPIType.NUMBER, "Battery charge, a fraction from 0 to 1; dropped outside."),
    },
    additional_properties=False,
)


def _fix_batch(max_fixes: int) -> RequestBody:
    return RequestBody(
        required=True,
        description=f"A batch of at most {max_fixes} fixes (more is a 413 problem saying how many one "
        "may hold; so is a body over the server's size limit). Each fix is stored or rejected on its "
        "own, reported at its index; a retried batch stores nothing twice.",
        content={
            "application/json": OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.OBJECT,
                    title="FixBatch",
                    required=["fixes"],
                    properties={
                        "fixes": Schema(
                            type=OpenAPIType.ARRAY,
                            max_items=max_fixes,
                            items=Reference(ref="#/components/schemas/Fix"),
                        )
                    },
                    additional_properties=False,
                )
            )
        },
    )


def _raw(*media_types: str, description: str, required: bool = False) -> RequestBody:
    """A body documented by its media types alone: its fields are a tracker app's own format."""
    return RequestBody(
        description=description,
        content={media_type: OpenAPIMediaType() for media_type in media_types},
        required=required,
    )


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_USER_ONLY = _raw(
    "application/json",
    description='`{"user": <token>}`, as e-mission\'s apps send it; the body may be empty when a bearer '
    "header carries the token.",
)
TRACKER_BODIES: dict[tuple[str, str], RequestBody] = {
    ("post", "/v1/uploads"): _raw(
        "application/gpx+xml",
        "application/geo+json",
        "application/json",
        "text/csv",
        "text/plain",
        "application/octet-stream",
        required=True,
        description="One file as the raw body (not a multipart form), up to 64 MiB: GPX 1.0/1.1, "
        "GeoJSON, CSV with a header row, or GeoLife `.plt`. The content says which; the Content-Type "
        "and the `filename` query parameter only break ties.",
    ),
    ("post", "/usercache/put"): _raw(
        "application/json",
        required=True,
        description='e-mission\'s usercache upload, `{"user": <token>, "phone_to_server": [entries]}` '
        "(https://github.com/e-mission/e-mission-docs), up to 64 MiB.",
    ),
    ("post", "/usercache/get"): _USER_ONLY,
    ("post", "/pipeline/get_complete_ts"): _USER_ONLY,
    ("post", "/ingest/owntracks"): _raw(
        "application/json",
        description="One OwnTracks JSON message or an array of them "
        "(https://owntracks.org/booklet/tech/json/); only `location` messages are stored. An empty "
        "body (the app polling) is answered `[]`.",
    ),
    ("post", "/ingest/overland"): _raw(
        "application/json",
        required=True,
        description='Overland\'s batch, `{"locations": [GeoJSON Point features]}` (the API section of '
        "https://github.com/aaronpk/Overland-iOS).",
    ),
    ("post", "/ingest/gpslogger"): _raw(
        *_FORMS,
        description="GPSLogger's custom URL parameters (`lat`, `lon`, `time`, ...) as a form; they may "
        "be in the query string instead, with no body.",
    ),
    ("post", "/ingest/osmand"): _raw(
        *_FORMS,
        "application/json",
        description="The OsmAnd protocol's parameters (`id`, `lat`, `lon`, `timestamp`, ...) as a form "
        "(or in the query string, with no body), or Traccar Client's JSON location "
        '(`{"device_id", "location": {...}}`).',
    ),
}


def document_bodies(app: Litestar, *, max_fixes: int) -> None:
    """Document the bodies the ingestion handlers read themselves, and the report they answer;
    ``max_fixes`` is the batch limit this server enforces (``SILLAGE_MAX_FIXES_PER_BATCH``)."""
    document = app.openapi_schema
    schemas = document.components.schemas = {**(document.components.schemas or {}), "Fix": FIX}
    paths = document.paths or {}
    for (method, path), body in {("post", "/v1/fixes"): _fix_batch(max_fixes), **TRACKER_BODIES}.items():
        operation: Operation = getattr(paths[path], method)  # a KeyError when a route moved: tests fail
        operation.request_body = body
    _describe(schemas["BatchReport"], REPORT_FIELDS)
    _describe(schemas["ItemResult"], RESULT_FIELDS)
    for handler, _, operation in _operations(app):
        data = handler.parsed_fn_signature.parameters.get("data")
        # Litestar requires every body; one whose ``data`` has a default may be left out (a new device)
        if data is not None and data.has_default and isinstance(operation.request_body, RequestBody):
            operation.request_body.required = False
    bodies = [
        handler.parsed_fn_signature.parameters["data"].annotation
        for handler, _, _ in _operations(app)
        if "data" in handler.parsed_fn_signature.parameters
    ]
    for info in _body_structs(bodies):
        cls = info.cls
        # Litestar's key for the Struct's schema: its name, or its module's and name when two share it
        qualified = f"{cls.__module__.replace('.', '_')}_{cls.__name__}"
        schema = schemas.get(cls.__name__, schemas.get(qualified))
        if isinstance(schema, Schema) and schema.title == cls.__name__:
            if info.forbid_unknown_fields:  # an unknown field in such a body is a 400
                schema.additional_properties = False
            for field in info.fields:
                _bound(schema, field)


# msgspec's numeric bounds and the JSON Schema keywords that say them.
_BOUNDS = {"gt": "exclusive_minimum", "ge": "minimum", "lt": "exclusive_maximum", "le": "maximum"}


def _bound(struct: Schema, field: msgspec.inspect.Field) -> None:
    """Put the numeric bounds of ``field`` (``msgspec.Meta(gt=..., le=...)``) on its property schema:
    Litestar drops a bound of 0 (``gt=0`` reads as no bound). :func:`document_bounds` then moves
    them to the number's branch of an optional field."""
    kinds = field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else (field.type,)
    kinds = tuple(k.type if isinstance(k, msgspec.inspect.Metadata) else k for k in kinds)
    number = next(
        (k for k in kinds if isinstance(k, msgspec.inspect.IntType | msgspec.inspect.FloatType)), None
    )
    prop = (struct.properties or {}).get(field.encode_name)
    if number is not None and isinstance(prop, Schema):
        for name, key in _BOUNDS.items():
            if getattr(number, name) is not None:
                setattr(prop, key, getattr(number, name))


def document_bounds(app: Litestar) -> None:
    """Move the numeric bounds that Litestar sets beside an optional value's ``oneOf`` (number or
    null) onto the number, in every schema of the document (bodies and parameters): beside it, a
    validator applies them to null too, and tools that generate clients drop them."""
    seen: set[int] = set()
    pending: list[Any] = [app.openapi_schema]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, list | tuple):
            pending.extend(node)
        elif isinstance(node, dict):
            pending.extend(node.values())
        elif dataclasses.is_dataclass(node):
            pending.extend(getattr(node, f.name) for f in dataclasses.fields(node))
            if isinstance(node, Schema) and node.one_of:
                branches = [b for b in node.one_of if isinstance(b, Schema) and b.type != OpenAPIType.NULL]
                if len(branches) == 1:
                    for key in _BOUNDS.values():
                        if getattr(node, key) is not None:
                            setattr(branches[0], key, getattr(node, key))
                            setattr(node, key, None)


# ingest.fixes.BatchReport and ItemResult, which Litestar documents without a word.
REPORT_FIELDS = {
    "": "What became of a batch: counts, and one result per fix read from the body.",
    "stored": "Fixes stored now.",
    "duplicates": "Fixes at a time the tester already has (a retried batch), or repeated in the batch.",
    "rejected": "Fixes refused, each with its reason in `results`.",
    "skipped": "Elements that are not fixes (another kind of message), and fixes not recorded because "
    "the tester paused recording.",
    "results": "One per fix read, by index; for a file (POST /v1/uploads), only the fixes not stored.",
}
RESULT_FIELDS = {
    "": "What became of one fix.",
    "index": "The fix's position among those read from the body, from 0 (in `fixes`, for POST /v1/fixes).",
    "status": "stored, duplicate, rejected, or paused (recording is paused: not stored).",
    "reason": "Why it was rejected or paused; absent otherwise.",
}


def _body_structs(types: Iterable[Any]) -> list[msgspec.inspect.StructType]:
    """The Structs among ``types`` and their fields, at any depth, once each."""
    found: dict[type[msgspec.Struct], msgspec.inspect.StructType] = {}
    seen: set[int] = set()
    pending: list[msgspec.inspect.Type] = list(msgspec.inspect.multi_type_info(list(types)))
    while pending:
        info = pending.pop()
        if id(info) in seen:
            continue
        seen.add(id(info))
        if isinstance(info, msgspec.inspect.StructType):
            found.setdefault(info.cls, info)
            pending.extend(field.type for field in info.fields)
        elif isinstance(info, msgspec.inspect.UnionType):
            pending.extend(info.types)
        elif isinstance(info, msgspec.inspect.Metadata):
            pending.append(info.type)
        elif isinstance(info, msgspec.inspect.CollectionType):  # list, set, frozenset, tuple[T, ...]
            pending.append(info.item_type)
        elif isinstance(info, msgspec.inspect.TupleType):
            pending.extend(info.item_types)
        elif isinstance(info, msgspec.inspect.DictType):
            pending.append(info.value_type)
    return list(found.values())


def _describe(schema: Schema | Reference, descriptions: dict[str, str]) -> None:
    assert isinstance(schema, Schema)  # Litestar's component for a msgspec Struct: never a reference
    schema.description = descriptions[""]
    for name, field in (schema.properties or {}).items():
        field.description = descriptions.get(name, field.description)


# --- Downloads -----------------------------------------------------------------------------------

# A handler's ``opt`` key: it authenticates the device token itself, taking no ``principal`` (the
# export, which does it on the connection it reads with), and answers as one that takes it.
AUTHENTICATES_ITSELF = "authenticates_itself"

# A handler's ``opt`` keys: the media types of the files it answers, and the name it gives them.
DOWNLOADS = "downloads"
FILENAME = "download_filename"


def downloads(*media_types: str, filename: str, example: str) -> dict[str, Any]:
    """``opt=downloads("application/zip", ..., filename=r"x-\\d{4}\\.zip", example="x-2026.zip")`` on
    a route that answers a file: the media types its 200 may have, and the file's name in its
    ``Content-Disposition`` (a regular expression, and one name it matches), documented by
    :func:`document_downloads`."""
    if not re.fullmatch(filename, example):
        raise ValueError(f"{example!r} does not match {filename!r}")  # a typo, at import time
    return {DOWNLOADS: media_types, FILENAME: (filename, example)}


def document_downloads(app: Litestar) -> None:
    """Document the 200 of each route that declares :func:`downloads` as those media types: Litestar
    documents a ``Stream`` or ``bytes`` answer as ``application/json``, which a client generated from
    the document would try to parse. Its ``Content-Disposition`` (an attachment, and the file's name,
    RFC 6266) is documented with the name's pattern, which the handler sets itself."""
    for handler, _, operation in _operations(app):
        media_types = handler.opt.get(DOWNLOADS)
        ok = (operation.responses or {}).get("200")
        if media_types and isinstance(ok, OpenAPIResponse):
            ok.content = {
                media_type: OpenAPIMediaType(schema=_file(media_type)) for media_type in media_types
            }
            filename, example = handler.opt[FILENAME]
            ok.headers = {**(ok.headers or {}), "Content-Disposition": _attachment(filename, example)}


def _attachment(filename: str, example: str) -> OpenAPIHeader:
    value = f'attachment; filename="{example}"'
    return OpenAPIHeader(
        schema=Schema(
            type=OpenAPIType.STRING, pattern=f'^attachment; filename="{filename}"$', examples=[value]
        ),
        description=f"A download, to save under its name (RFC 6266), such as `{value}`: the name "
        "matches the pattern.",
        required=True,
    )


def _file(media_type: str) -> Schema:
    """A JSON file (``application/geo+json``) is a JSON document; any other, bytes."""
    if media_type == "application/json" or media_type.endswith("+json"):
        return Schema(type=OpenAPIType.OBJECT)
    return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)


# Where a section's mode came from (sections.mode_source, migration 0012).
MODE_SOURCES = ("model", "heuristic", "history", "user")


def document_modes(app: Litestar) -> None:
    """A listed section's ``mode`` and ``mode_source`` with the values they take: the section is
    decoded from the database's JSON as text (``store.trips.SectionOut``), so its schema said
    any string, and an app generated from the document could not offer the list."""
    schemas = app.openapi_schema.components.schemas or {}
    section = schemas.get("SectionOut")
    if not isinstance(section, Schema) or section.properties is None:
        return
    for name, values in (("mode", [m.value for m in Mode]), ("mode_source", list(MODE_SOURCES))):
        prop = section.properties.get(name)
        if isinstance(prop, Schema):
            prop.enum = values


# --- Answers -------------------------------------------------------------------------------------


def document_answers(app: Litestar) -> None:
    """List as ``required`` every field of an answer's Struct that its JSON always holds.

    Litestar requires the fields without a default, as a request body has them; but msgspec writes
    every field of a Struct it encodes, a default value too, unless the Struct says
    ``omit_defaults`` (then a field at its default is left out, and stays optional). A client
    generated from the document read such a field (a trip's ``hidden``) as one that may be absent.
    A Struct that is also a request body keeps Litestar's reading.
    """
    operations = list(_operations(app))
    requests = {
        info.cls
        for info in _body_structs(
            handler.parsed_fn_signature.parameters["data"].annotation
            for handler, _, _ in operations
            if "data" in handler.parsed_fn_signature.parameters
        )
    }
    schemas = app.openapi_schema.components.schemas or {}
    for info in _body_structs(t for handler, _, _ in operations for t in _answer_types(handler)):
        schema = _struct_schema(schemas, info.cls)
        if schema is None or info.cls in requests:
            continue
        omitted = info.cls.__struct_config__.omit_defaults
        always = {f.encode_name for f in info.fields if f.required or not omitted}
        schema.required = sorted(always & set(schema.properties or {})) or None


def _answer_types(handler: HTTPRouteHandler) -> list[Any]:
    """The types a handler's answers are encoded from: what it returns (the ``T`` of a
    ``Response[T]``) and the responses it declares (``responses=``)."""
    returned = handler.parsed_fn_signature.return_type
    if returned.is_subclass_of(Response):
        types = [t.annotation for t in returned.inner_types]
    else:
        types = [returned.annotation]
    return types + [spec.data_container for spec in (handler.responses or {}).values()]


def _struct_schema(schemas: Mapping[str, Schema | Reference], cls: type[msgspec.Struct]) -> Schema | None:
    """The component Litestar made for the Struct ``cls``: keyed by its name, or by its module's
    and its name when two Structs share the name."""
    qualified = f"{cls.__module__.replace('.', '_')}_{cls.__name__}"
    schema = schemas.get(cls.__name__, schemas.get(qualified))
    return schema if isinstance(schema, Schema) and schema.title == cls.__name__ else None


def document_headers(app: Litestar) -> None:
    """Give a schema to every response header field that has none: Litestar writes none for one
    declared for the document only (``ResponseHeader(documentation_only=True)``, the trips list's
    ``Link``), where OpenAPI wants a ``schema`` (or a ``content``). A field's value is text (RFC 9110
    section 5.5)."""
    for _, _, operation in _operations(app):
        for response in (operation.responses or {}).values():
            headers = response.headers if isinstance(response, OpenAPIResponse) else None
            for header in (headers or {}).values():
                if isinstance(header, OpenAPIHeader) and header.schema is None and header.content is None:
                    header.schema = Schema(type=OpenAPIType.STRING)
