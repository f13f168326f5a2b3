"""The one error vocabulary of Sillage.

Every domain error carries what an RFC 9457 problem document needs (a status, a stable type slug,
a title); ``api.problems`` is the single place that turns them into HTTP responses.
"""

from __future__ import annotations

from typing import Any, ClassVar


class SillageError(Exception):
    """Base of all expected errors; ``detail`` is safe to show to the client."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ConfigurationError(SillageError):
    """The service was started with settings it cannot use."""

    slug = "configuration"
    title = "Invalid configuration"


class DatabaseUnavailable(SillageError):
    status = 503
    slug = "database-unavailable"
    title = "Database unavailable"


class DatabaseBusy(DatabaseUnavailable):
    """Every pooled connection of this process stayed in use for the whole wait: the database is up,
    the process is saturated (a moment later, the request goes through)."""

    slug = "database-busy"
    title = "Database connections busy"
    retry_after_s = 1  # a moment: connections are released as requests end


class MissingExtension(SillageError):
    """The database lacks TimescaleDB: there is no silent fallback to plain PostgreSQL."""

    status = 503
    slug = "missing-extension"
    title = "TimescaleDB extension missing"


class BadRequest(SillageError):
    """A request that fails its schema: a type, a bound, a length, malformed JSON, XML or CSV, text
    that is not Unicode. One kind with Litestar's own validation errors (``api.problems``)."""

    status = 400
    slug = "validation"
    title = "Invalid request"


class Unauthorized(SillageError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"


class Forbidden(SillageError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(SillageError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(SillageError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class PayloadTooLarge(SillageError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class Unprocessable(SillageError):
    """A well-formed request that cannot be used: a body of another shape than its format's, an
    unknown name (a consent purpose, a mode), a time range whose end is not after its start."""

    status = 422
    slug = "unprocessable"
    title = "Unprocessable content"


class TooManyRequests(SillageError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after_s: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after_s = retry_after_s
