"""The one mapper from errors to RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from api.logs import loggable_path
from core.errors import BadRequest, DatabaseBusy, SillageError, TooManyRequests, Unauthorized
from store.partition import ACCOUNT_GONE

log = logging.getLogger("sillage.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://sillage.example/problems/"


# RFC 9110 section 15.5.2: a 401 carries WWW-Authenticate with the scheme the resource takes (the
# device token as a bearer; trackers that put it in the URL or the body are told the same).
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="sillage"'}


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    if status == 401:
        headers = {**_CHALLENGE, **(headers or {})}
    body: dict[str, Any] = {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail}
    if instance is not None:
        body["instance"] = instance
    body.update(extra)
    return Response(content=body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def sillage_error_handler(request: Request[Any, Any, Any], exc: SillageError) -> Response[dict[str, Any]]:
    headers = None
    if isinstance(exc, TooManyRequests | DatabaseBusy):
        headers = {"Retry-After": str(exc.retry_after_s)}
    if exc.status >= 500:
        log.warning("request failed", extra={"path": loggable_path(request.url.path), "error": exc.detail})
    return problem(
        exc.status, exc.slug, exc.title, exc.detail, instance=request.url.path, headers=headers, **exc.extra
    )


_TITLES = {
    400: (BadRequest.slug, BadRequest.title),  # one kind for every 400, ours and Litestar's validation
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
}


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    slug, title = _TITLES.get(exc.status_code, ("http-error", "HTTP error"))
    extra: dict[str, Any] = {}
    if (isinstance(exc, ValidationException) or exc.status_code == 400) and exc.extra:
        extra["errors"] = _public_keys(request, exc.extra)
    return problem(
        exc.status_code,
        slug,
        title,
        str(exc.detail),
        instance=request.url.path,
        headers=dict(exc.headers) if exc.headers else None,
        **extra,
    )


def _public_keys(request: Request[Any, Any, Any], errors: Any) -> Any:
    """Validation errors naming each parameter as the client sent it: a handler's ``start`` is
    the query's ``from``."""
    if not isinstance(errors, list):
        return errors
    try:
        parameters = request.route_handler.parsed_fn_signature.parameters
    except (AttributeError, KeyError):  # no route (404s, 405s): nothing to rename
        return errors
    aliases = {
        name: alias
        for name, parameter in parameters.items()
        if (
            alias := getattr(parameter.kwarg_definition, "query", None)
            or getattr(parameter.kwarg_definition, "name", None)
        )
    }
    return [
        {**error, "key": aliases[error["key"]]}
        if isinstance(error, dict) and error.get("source") == "query" and error.get("key") in aliases
        else error
        for error in errors
    ]


def unstorable_text_handler(
    request: Request[Any, Any, Any], exc: asyncpg.DataError
) -> Response[dict[str, Any]]:
    """Text the database cannot store (U+0000, which PostgreSQL's text refuses: SQLSTATE 22021 and
    22P05) is the client's mistake, not ours: 400, for any input that no validator caught first."""
    return problem(
        BadRequest.status,
        BadRequest.slug,
        BadRequest.title,
        "the request contains text the database cannot store (such as the character U+0000)",
        instance=request.url.path,
    )


def concurrent_change_handler(
    request: Request[Any, Any, Any], exc: asyncpg.DeadlockDetectedError | asyncpg.SerializationError
) -> Response[dict[str, Any]]:
    """Two transactions that met each other and one was chosen to give way: nothing was changed by
    this request, and the same request a moment later goes through (503 with Retry-After)."""
    log.warning("request gave way to a concurrent change", extra={"path": loggable_path(request.url.path)})
    return problem(
        503,
        "concurrent-change",
        "Concurrent change",
        "another change to the same data was under way; nothing was changed, try again",
        instance=request.url.path,
        headers={"Retry-After": "1"},
    )


def vanished_account_handler(
    request: Request[Any, Any, Any], exc: asyncpg.ForeignKeyViolationError
) -> Response[dict[str, Any]]:
    """A row that names a tester who is no longer there: their account was erased between the
    request's authentication and its write (a consent, a device, a carpool answer). The tester is
    gone, so is the token: 401, as it answers from now on. Any other foreign key is our error."""
    if 'is not present in table "users"' not in (exc.detail or ""):
        return internal_error_handler(request, exc)
    log.info("request met an account erased meanwhile", extra={"path": loggable_path(request.url.path)})
    return problem(
        Unauthorized.status, Unauthorized.slug, Unauthorized.title, ACCOUNT_GONE, instance=request.url.path
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error", extra={"path": loggable_path(request.url.path)})
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        "an unexpected error occurred; it has been logged",
        instance=request.url.path,
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    SillageError: sillage_error_handler,
    HTTPException: http_error_handler,
    asyncpg.CharacterNotInRepertoireError: unstorable_text_handler,
    asyncpg.UntranslatableCharacterError: unstorable_text_handler,
    asyncpg.DeadlockDetectedError: concurrent_change_handler,
    asyncpg.SerializationError: concurrent_change_handler,
    asyncpg.ForeignKeyViolationError: vanished_account_handler,
    Exception: internal_error_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_MEDIA_TYPE", "MediaType", "problem"]
