"""The app factory: wires routes, OpenAPI, error mapping and the database lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig

from api.allow import options_allow
from api.bodies import StrictBodyRequest, required_body
from api.deps import DEPENDENCIES, KnownDevices, is_json, sent_media_type, token_presented
from api.head import HeadAsGet
from api.health import health
from api.jobs import PeriodicJob
from api.logs import configure_logging, request_logger
from api.openapi import (
    document_answers,
    document_bodies,
    document_bounds,
    document_downloads,
    document_headers,
    document_modes,
    document_problems,
    document_security,
)
from api.problems import EXCEPTION_HANDLERS
from api.ratelimit import AtOnce, RateLimiter
from api.routes import all_routes
from core.errors import ConfigurationError
from core.settings import Settings, load_settings
from ingest import carpool
from ingest.pipeline import Pipeline, PipelineParams, PipelineWorker
from ingest.sharing.scheduler import ReleaseScheduler, SchedulerParams
from models.classifier import ModeClassifier, load_classifier
from store.pool import Database


async def identity_bodies(request: Request[Any, Any, Any]) -> None:
    """Refuse a compressed request body (415, RFC 9110 section 15.5.16) rather than read its bytes
    as text or JSON: no route decompresses, and trackers send plain bodies. Refuse too a body sent
    as another media type than JSON where the route reads JSON (:func:`json_bodies`), and an empty
    body where it requires one (400, :func:`api.bodies.required_body`)."""
    coding = request.headers.get("content-encoding", "").strip().lower()
    if coding not in {"", "identity"}:
        raise HTTPException(
            status_code=415,
            detail=f"Content-Encoding {coding[:40]!r} is not supported: send the body uncompressed",
            headers={"Accept-Encoding": "identity"},
        )
    json_bodies(request)
    await required_body(request)


# Where a route says what it accepts for its method (RFC 5789 Accept-Patch; W3C LDP Accept-Post).
_ACCEPT_HEADER = {"PATCH": "Accept-Patch", "POST": "Accept-Post", "PUT": "Accept-Put"}


def json_bodies(request: Request[Any, Any, Any]) -> None:
    """A route that reads a JSON body (``data``) refuses a body whose Content-Type names another
    media type (415): ``curl -d`` sends a form's, and the body was read as JSON all the same. JSON
    is ``application/json`` or ``application/*+json``, any parameters; a body without Content-Type
    is read as JSON. Trackers' routes (tagged ``ingestion``) read their bodies themselves, whatever
    the type their apps send."""
    handler = request.route_handler
    if "data" not in handler.parsed_fn_signature.parameters or "ingestion" in (handler.tags or ()):
        return
    media = sent_media_type(request)
    if media is None or is_json(media):
        return
    accept = _ACCEPT_HEADER.get(request.method)
    raise HTTPException(
        status_code=415,
        detail=f"Content-Type {media[:60]!r} is not JSON: send the body as application/json",
        headers={accept: "application/json"} if accept else None,
    )


def create_app(
    settings: Settings | None = None,
    *,
    pool: asyncpg.Pool | None = None,
    classifier: ModeClassifier | None = None,
) -> Litestar:
    """Build the ASGI app. ``pool`` lets tests share one pool (otherwise the app owns its own);
    ``classifier`` replaces the shipped mode model (loaded at start-up otherwise)."""
    settings = settings or load_settings()
    if settings.database_url is None and pool is None:
        raise ConfigurationError("SILLAGE_DATABASE_URL is not set (make run sets it for the local cluster)")
    configure_logging(settings.log_level, json=settings.log_json)
    db = Database(
        settings.database_url or "",
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        connect_timeout_s=settings.db_connect_timeout_s,
        pool=pool,
    )

    pipeline = Pipeline(
        classifier or load_classifier(),
        PipelineParams(
            poll_interval_s=settings.pipeline_poll_s,
            # Half the pool at most: requests keep the other half while a round runs.
            concurrent_testers=max(1, min(PipelineParams().concurrent_testers, settings.pool_max_size // 2)),
            calibration=settings.calibration,
        ),
    )
    worker = PipelineWorker(pipeline, db, calibration=settings.calibration, ask_below=settings.ask_below)
    releases = ReleaseScheduler(db, SchedulerParams(by_campaign=settings.release_scope == "campaign"))
    jobs = [
        PeriodicJob("releases", settings.release_every_h * 3600, releases.run_once),
        PeriodicJob(
            "carpool",
            settings.carpool_every_h * 3600,
            lambda: carpool.scheduled_run(db, now=datetime.now(UTC)),
        ),
    ]

    @asynccontextmanager
    async def database_lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.start()
        # Everything loaded so far (libraries, the model) lives as long as the process: move it
        # out of the collector's sight, so full collections triggered by request garbage stay
        # short instead of pausing requests for ~100 ms (measured with make bench-coach).
        gc.collect()
        gc.freeze()
        if settings.pipeline_enabled:
            worker.start()
        if settings.jobs_enabled:
            for job in jobs:
                job.start()
        try:
            yield
        finally:
            for job in jobs:
                await job.stop()
            await worker.stop()
            await db.close()

    app = HeadAsGet(
        route_handlers=[health, *all_routes()],
        dependencies=DEPENDENCIES,
        guards=[token_presented],  # a logged-out app is told so (401) before its body is read
        middleware=[request_logger, options_allow],
        before_request=identity_bodies,
        request_class=StrictBodyRequest,  # our JSON bodies: a number sent as text is a 400
        lifespan=[database_lifespan],
        state=State(
            {
                "settings": settings,
                "db": db,
                "limiter": RateLimiter(settings.rate_limit_per_minute),
                "exports": AtOnce(settings.exports_per_tester, what="exports of yours"),
                "known_devices": KnownDevices(),
                "pipeline": pipeline,
                "worker": worker,
            }
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Sillage",
            version="0.1.0",
            description="Self-data mobility coaching: GPS ingestion, trips and modes, CO2 coaching.",
            path="/schema",
            use_handler_docstrings=True,  # each operation's description: its handler's docstring
        ),
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,
        debug=False,
    )
    document_problems(app)
    document_security(app)
    document_bodies(app, max_fixes=settings.max_fixes_per_batch)
    document_downloads(app)
    document_bounds(app)
    document_modes(app)
    document_answers(app)
    document_headers(app)
    return app
