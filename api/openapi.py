"""The OpenAPI document's error responses: the RFC 9457 problems :mod:`api.problems` really sends.

Left alone, Litestar documents a 400 for every handler with parameters or a body, shaped as its own
``ValidationException`` body (``{status_code, detail, extra}`` as ``application/json``) that no
client ever receives, even where the only parameter is in the path (a malformed id there is a 404),
and no other error status. Clients are generated from this document (the mobile app's among
them), so :func:`document_problems` rewrites every operation's error responses in one place, once
Litestar has built the document: the statuses an operation answers for what it is (it takes a
token, a body, an id in its path, a database connection), all with the one ``Problem`` schema as
``application/problem+json``. Statuses that only
some routes answer, for reasons of their own (409 when revoking the coaching consent, 422 for a
batch of an unknown shape), follow no rule that could list them truthfully: they are left out.
"""

from __future__ import annotations

from litestar import Litestar
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
    Schema,
)
from litestar.routes import HTTPRoute

from api.problems import PROBLEM_MEDIA_TYPE, TYPE_BASE


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
            description=f"The kind of problem, {TYPE_BASE}<kind> (validation, bad-request, unauthorized, "
            "not-found, rate-limited, database-busy, ...): what a client branches on.",
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
    400: "Invalid request: a parameter or the body is malformed or invalid.",
    401: "Missing, malformed, invalid or revoked credentials (a device token; the dashboard's session).",
    404: "Nothing the caller may see at this path (a malformed id included).",
    413: "The body is larger than the server accepts (or, for a batch of fixes, holds more than one may).",
    415: "The body is compressed (Content-Encoding): send it uncompressed.",
    429: "Too many requests from this device: Retry-After says when to try again.",
    500: "An unexpected error (logged on the server).",
    503: "The database is unreachable (database-unavailable), every connection of this process stayed "
    "busy (database-busy, with Retry-After), or the request gave way to a concurrent change and changed "
    "nothing (concurrent-change, with Retry-After).",
}
_RETRY_AFTER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.INTEGER), description="Seconds to wait before trying again."
)


def _problem_response(status: int) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=_DESCRIPTIONS[status],
        content={PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))},
        headers={"Retry-After": _RETRY_AFTER} if status in {429, 503} else None,
    )


def _problem_statuses(handler: HTTPRouteHandler, method: str, operation: Operation) -> list[int]:
    """The error statuses one operation can answer, from its document and what its handler takes.

    The ``ingestion`` endpoints take no ``principal`` (see :mod:`api.deps`) and no ``data``: each
    reads the device token from wherever its tracker app puts it, and its body itself, so their tag
    is what says they do. The ``dashboard``'s JSON needs the team's session cookie, and has no rate
    limit.
    """
    takes = handler.parsed_fn_signature.parameters
    tags = operation.tags or []
    places = {p.param_in for p in operation.parameters or [] if isinstance(p, Parameter)}
    body = operation.request_body is not None or ("ingestion" in tags and method != "GET")
    device = "principal" in takes or "ingestion" in tags
    statuses = {415, 500}  # app.identity_bodies refuses a compressed body before any handler runs
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
    for route in app.routes:
        path_item = (document.paths or {}).get(route.path_format)
        if not isinstance(route, HTTPRoute) or path_item is None:
            continue
        for handler in route.route_handlers:
            declared = {str(status) for status in handler.responses or {}}
            for method in handler.http_methods:
                operation: Operation | None = getattr(path_item, method.lower(), None)
                if operation is None or operation.responses is None:
                    continue
                responses = {
                    code: response
                    for code, response in operation.responses.items()
                    if int(code) < 400 or code in declared
                }
                for status in _problem_statuses(handler, method, operation):
                    responses.setdefault(str(status), _problem_response(status))
                operation.responses = dict(sorted(responses.items()))
