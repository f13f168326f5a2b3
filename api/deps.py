"""Request dependencies: a pooled connection per request, and the caller's identity."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from asyncpg.pool import PoolConnectionProxy
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler

from api.ratelimit import RateLimiter
from core import tokens
from ingest.testers import authenticate, presented
from store.partition import Conn, DeviceKey
from store.testers import Principal

# Handler parameter types for the injected dependencies (one concrete type each, as Litestar's
# signature model requires).
DbConn = NamedDependency[PoolConnectionProxy]
Caller = NamedDependency[Principal]


async def provide_conn(state: State) -> AsyncIterator[Conn]:
    async with state.db.connection() as conn:
        yield conn


def token_from_headers(request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """``Authorization: Bearer <token>``, or Basic auth whose password is the token (OwnTracks)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return value.strip() or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, _, password = decoded.partition(":")
        return password or None
    return None


async def identify(request: Request[Any, Any, Any], conn: Conn, token: str | None) -> Principal:
    """Authenticate ``token`` and apply the per-device rate limit."""
    principal = await authenticate(conn, token, now=utcnow())
    limiter: RateLimiter = request.app.state.limiter
    limiter.check(principal.device_id)
    return principal


def ask_below(request: Request[Any, Any, Any]) -> float:
    """The deployment's threshold for asking a tester about a section (``SILLAGE_ASK_BELOW``)."""
    return float(request.app.state.settings.ask_below)


def audit_share(request: Request[Any, Any, Any]) -> float:
    """The share of sure sections the deployment asks about too (``SILLAGE_AUDIT_SHARE``)."""
    return float(request.app.state.settings.audit_share)


async def provide_principal(request: Request[Any, Any, Any], conn: DbConn) -> Principal:
    return await identify(request, conn, token_from_headers(request))


def token_presented(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The app's guard: a route that takes the caller (``principal``) answers a request without a
    token it could accept (none, or one that cannot be ours) with its 401 before anything else.
    Litestar reads a ``data`` body (:mod:`api.bodies`) before it resolves the dependencies, so a
    logged-out app was told about its body (a 400) instead of to log in. Only the token's form is
    checked here, without the database: the one lookup stays in :func:`provide_principal`, so a token
    of our form that is unknown or revoked gets its 401 there, after the body was read."""
    if "principal" in handler.parsed_fn_signature.parameters:
        presented(token_from_headers(connection))


class KnownDevices:
    """Devices that authenticated in this process: they may take the ingestion fast lane.

    Only *which* device ids have authenticated is remembered, never a verdict: the fast lane sends
    the presented secret's digest to the database, which checks it, revocation and pause in the
    transaction that stores the batch (``sillage.enter_device``), so a revocation in any process
    takes effect on the next request. Keeping the lane to known devices means the per-device
    rate limit, checked before that transaction, only ever keys on ids that authenticated once,
    as it does on the ordinary path. Bounded: least recently used ids are forgotten first.
    """

    def __init__(self, max_devices: int = 200_000) -> None:
        self.max_devices = max_devices
        self._ids: OrderedDict[uuid.UUID, None] = OrderedDict()

    def key(self, token: str | None) -> DeviceKey | None:
        """The presented credentials as a key for the fast lane, if the device is known here."""
        parsed = tokens.parse(token) if token else None
        if parsed is None or parsed.device_id not in self._ids:
            return None
        self._ids.move_to_end(parsed.device_id)
        return DeviceKey(device_id=parsed.device_id, secret_sha256=tokens.digest(parsed.secret))

    def add(self, device_id: uuid.UUID) -> None:
        self._ids[device_id] = None
        self._ids.move_to_end(device_id)
        while len(self._ids) > self.max_devices:
            self._ids.popitem(last=False)

    def forget(self, device_id: uuid.UUID) -> None:
        self._ids.pop(device_id, None)


def utcnow() -> datetime:
    return datetime.now(UTC)


def sent_media_type(request: Request[Any, Any, Any]) -> str | None:
    """The request body's media type (the Content-Type without its parameters, lowercased); None
    when none was sent."""
    sent = request.headers.get("content-type")
    return None if sent is None else sent.split(";", 1)[0].strip().lower()


def is_json(media: str | None) -> bool:
    """``application/json`` or ``application/*+json``."""
    return media is not None and (
        media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
    )


DEPENDENCIES = {
    "conn": Provide(provide_conn),
    "principal": Provide(provide_principal),
}
