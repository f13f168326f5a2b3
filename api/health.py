"""``GET /health``: liveness plus the database's reachability and versions."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec

from core.errors import DatabaseBusy, DatabaseUnavailable
from store.health import server_info
from store.pool import UNAVAILABLE_ERRORS, error_text


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    database: str
    postgresql: str | None = None
    timescaledb: str | None = None
    detail: str | None = None


@get(
    "/health",
    tags=["operations"],
    responses={503: ResponseSpec(Health, description="The database is down or busy, or lacks TimescaleDB.")},
)
async def health(state: State) -> Response[Health]:
    """200 with PostgreSQL and TimescaleDB versions when the database answers, 503 otherwise."""
    settings: Any = state.settings
    try:
        async with asyncio.timeout(settings.health_timeout_s):
            async with state.db.connection() as conn:
                info = await server_info(conn)
    except (DatabaseUnavailable, *UNAVAILABLE_ERRORS) as exc:  # type: ignore[misc]
        detail = exc.detail if isinstance(exc, DatabaseUnavailable) else error_text(exc)
        # Busy: the database is up and this process has no free connection (say so: an operator
        # must not take saturation for an outage); down: it could not be reached.
        busy = isinstance(exc, DatabaseBusy)
        return Response(
            Health(status="unavailable", database="busy" if busy else "down", detail=detail),
            status_code=503,
            headers={"Retry-After": str(exc.retry_after_s)} if busy else None,
        )
    if info.timescaledb is None:
        return Response(
            Health(
                status="unavailable",
                database="up",
                postgresql=info.postgresql,
                detail="the timescaledb extension is missing",
            ),
            status_code=503,
        )
    return Response(
        Health(status="ok", database="up", postgresql=info.postgresql, timescaledb=info.timescaledb)
    )
