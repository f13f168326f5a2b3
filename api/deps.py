"""Request dependencies: a pooled connection per request, and the caller's identity."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from asyncpg.pool import PoolConnectionProxy
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from api.ratelimit import RateLimiter
from ingest.testers import authenticate
from store.partition import Conn
from store.testers import Principal

# Handler parameter types for the injected dependencies (one concrete type each, as Litestar's
# signature model requires).
DbConn = NamedDependency[PoolConnectionProxy]
Caller = NamedDependency[Principal]


async def provide_conn(state: State) -> AsyncIterator[Conn]:
    async with state.db.connection() as conn:
        yield conn


def token_from_headers(request: Request[Any, Any, Any]) -> str | None:
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


@asynccontextmanager
async def caller_connection(request: Request[Any, Any, Any]) -> AsyncIterator[tuple[Conn, Principal]]:
    """A pooled connection and the authenticated caller, as ``DbConn`` and ``Caller`` give them.

    For the ingestion hot path, which runs hundreds of times a second: the same steps without
    Litestar's per-request dependency resolution (about a tenth of that handler's CPU).
    """
    state: State = request.app.state
    async with state.db.connection() as conn:
        yield conn, await identify(request, conn, token_from_headers(request))


async def provide_principal(request: Request[Any, Any, Any], conn: DbConn) -> Principal:
    return await identify(request, conn, token_from_headers(request))


def utcnow() -> datetime:
    return datetime.now(UTC)


DEPENDENCIES = {
    "conn": Provide(provide_conn),
    "principal": Provide(provide_principal),
}
