"""``GET /health``: liveness plus the database's reachability and versions."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

import msgspec
from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec

from core.errors import DatabaseBusy, DatabaseUnavailable
from ingest.calibration import shows
from store import pipeline as pipeline_db
from store.health import server_info
from store.migrate import discover
from store.pool import UNAVAILABLE_ERRORS, error_text


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    database: str
    postgresql: str | None = None
    timescaledb: str | None = None
    # The newest migration the database has, and the newest this code ships (such as "0023").
    schema: str | None = None
    schema_expected: str | None = None
    # The calibration of the probability shown (SILLAGE_CALIBRATION): the model version it was fitted
    # for (None: none installed), and whether every stored section shows it yet, or shows the
    # model's own figures without one (false while the API maps them after a change, at start).
    calibration: str | None = None
    sections_show_calibration: bool | None = None
    detail: str | None = None


SHOWN_CALIBRATION_MIGRATION = 29  # sillage.shown_calibration


@cache
def expected_schema() -> int:
    """The newest migration this code ships: the database must have it."""
    return max(m.version for m in discover())


def _version(v: int | None) -> str | None:
    return None if v is None else f"{v:04d}"


@get(
    "/health",
    tags=["operations"],
    operation_id="getHealth",
    responses={
        503: ResponseSpec(
            Health,
            description="The database is down or busy, lacks TimescaleDB, or lacks the code's migrations.",
        )
    },
)
async def health(state: State) -> Response[Health]:
    """200 with PostgreSQL and TimescaleDB versions and the schema's migration when the database
    answers and has every migration this code ships; 503 otherwise."""
    settings: Any = state.settings
    try:
        async with asyncio.timeout(settings.health_timeout_s):
            async with state.db.connection() as conn:
                info = await server_info(conn)
                sections_show: bool | None = None  # unknown before the migration that records it
                if info.schema is not None and info.schema >= SHOWN_CALIBRATION_MIGRATION:
                    sections_show = shows(await pipeline_db.shown_calibration(conn), settings.calibration)
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
    expected = expected_schema()
    up = Health(
        status="ok",
        database="up",
        postgresql=info.postgresql,
        timescaledb=info.timescaledb,
        schema=_version(info.schema),
        schema_expected=_version(expected),
        calibration=None if settings.calibration is None else settings.calibration.model_version,
        sections_show_calibration=sections_show,
    )
    if info.timescaledb is None:
        detail = "the timescaledb extension is missing"
    elif info.schema is None or info.schema < expected:
        detail = (
            f"the database is at migration {up.schema or 'none'} and this code needs {up.schema_expected}:"
            " run sillage db migrate"
        )
    else:
        return Response(up)
    return Response(msgspec.structs.replace(up, status="unavailable", detail=detail), status_code=503)
