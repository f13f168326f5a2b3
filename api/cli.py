"""The ``sillage`` command line: serve, database migrations, and operator commands."""

from __future__ import annotations

import argparse
import asyncio
import sys
import unicodedata
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import asyncpg

from api.commands import connected, require_url
from core.errors import SillageError
from core.settings import Settings, load_settings
from store.migrate import migrate

Command = Callable[[argparse.Namespace, Settings], int]


def _run(coro: Coroutine[Any, Any, int]) -> int:
    return asyncio.run(coro)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    host, port = args.host or settings.host, args.port or settings.port
    common: dict[str, Any] = {"log_config": None, "access_log": False, "server_header": False}
    if settings.workers > 1:
        # Each worker process builds its own app (and pool) from the same SILLAGE_* environment.
        uvicorn.run(
            "api.app:create_app", factory=True, host=host, port=port, workers=settings.workers, **common
        )
    else:
        uvicorn.run(create_app(settings), host=host, port=port, **common)
    return 0


def cmd_db_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> int:
        async with connected(require_url(settings.migration_url, "SILLAGE_ADMIN_DATABASE_URL")) as conn:
            done = await migrate(conn)
        for mig in done:
            print(f"applied {mig.version:04d}_{mig.name}")
        print(f"database is at migration {done[-1].version:04d}" if done else "database is up to date")
        return 0

    return _run(go())


def cmd_campaign_create(args: argparse.Namespace, settings: Settings) -> int:
    from api.commands.rights import operator_name
    from ingest.testers import create_campaign
    from store.rights import Actor

    async def go() -> int:
        async with connected(require_url(settings.database_url)) as conn:
            campaign = await create_campaign(
                conn,
                args.name,
                actor=Actor.operator(operator_name()),
                fixes_retention_days=args.fixes_retention_days,
                trips_retention_days=args.trips_retention_days,
            )
        print(f"campaign {campaign.name!r} created ({campaign.id})")
        print(f"invite code: {campaign.invite_code}")
        return 0

    return _run(go())


def cmd_pipeline_run(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.pipeline import Pipeline, PipelineParams
    from models.classifier import load_classifier
    from store.pool import Database

    async def go() -> int:
        params = PipelineParams(calibration=settings.calibration)
        db = Database(require_url(settings.database_url), min_size=1, max_size=params.concurrent_testers)
        pipeline = Pipeline(load_classifier(), params)
        total = 0
        try:
            while done := await pipeline.run_due(db):
                total += len(done)
                for o in done:
                    print(
                        f"{o.user_id}: {o.fixes} fixes from {o.reprocessed_from.isoformat()}, {o.trips} trips"
                    )
        finally:
            await db.close()
        print(f"processed {total} pending ranges")
        return 0

    return _run(go())


def cmd_pipeline_recalibrate(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.calibration import described, questions_line, recalibrate

    fitted = settings.calibration

    async def go() -> int:
        async with connected(require_url(settings.database_url)) as conn:
            done = await recalibrate(conn, fitted, ask_below=settings.ask_below)
        print(described(done, fitted))
        print(questions_line(done))
        return 0

    return _run(go())


def command_modules() -> list[Callable[[Any], None]]:
    """``register(subparsers)`` of every module in ``api.commands`` (one per operator noun)."""
    import importlib
    import pkgutil

    import api.commands

    found = []
    for info in sorted(pkgutil.iter_modules(api.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"api.commands.{info.name}")
        found.append(module.register)
    return found


CAMPAIGN_NAME_MAX_CHARS = 200  # sillage.campaigns.name's CHECK
# Retention is subtracted from today's date: beyond some 700,000 days that is before year 1 and
# `sillage rights retention` could not compute it. A century is more than any campaign keeps.
RETENTION_DAYS_MAX = 36_500


def campaign_name(text: str) -> str:
    """A campaign's name, checked here rather than by the table's constraint (whose raw text is no
    message for an operator): 1 to 200 characters, not only blanks, no control character (a tab
    or a line break shifted the columns of `sillage team list`, and the dashboard shows the name)."""
    if not text.strip() or len(text) > CAMPAIGN_NAME_MAX_CHARS:
        raise argparse.ArgumentTypeError(
            f"a campaign name must be 1 to {CAMPAIGN_NAME_MAX_CHARS} characters, not only blanks"
        )
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise argparse.ArgumentTypeError("a campaign name must hold no control character (tab, line break)")
    return text


def retention_days(text: str) -> int:
    """A retention period: a whole number of days from 1 to :data:`RETENTION_DAYS_MAX`."""
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= RETENTION_DAYS_MAX:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of days from 1 to {RETENTION_DAYS_MAX:,}, got {text!r}"
        )
    return days


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sillage", description="Sillage self-data mobility backend")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the HTTP API (SILLAGE_HOST, SILLAGE_PORT)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database administration")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    mig = dbsub.add_parser("migrate", help="apply pending migrations")
    mig.set_defaults(func=cmd_db_migrate)

    campaign = sub.add_parser("campaign", help="campaigns (operator)")
    csub = campaign.add_subparsers(dest="campaign_command", required=True)
    create = csub.add_parser("create", help="create a campaign and print its invite code")
    create.add_argument("name", type=campaign_name)
    create.add_argument("--fixes-retention-days", type=retention_days, default=None)
    create.add_argument("--trips-retention-days", type=retention_days, default=None)
    create.set_defaults(func=cmd_campaign_create)

    pipe = sub.add_parser("pipeline", help="the incremental trips-and-modes pipeline")
    psub = pipe.add_subparsers(dest="pipeline_command", required=True)
    run = psub.add_parser("run", help="process every pending range now (the API does this continuously)")
    run.set_defaults(func=cmd_pipeline_run)
    recal = psub.add_parser(
        "recalibrate",
        help="show every section's probability as SILLAGE_CALIBRATION says, or uncalibrated without it"
        " (the API does this at start when the calibration changed)",
    )
    recal.set_defaults(func=cmd_pipeline_recalibrate)

    from models.cli import register as register_models

    register_models(sub)
    for register in command_modules():
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Command = args.func
    try:
        return func(args, load_settings())
    except SillageError as exc:
        print(f"sillage: {exc.title.lower()}: {exc.detail}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.filename is not None:
            # A file the operator named (an output directory that does not exist, a file not
            # readable): their input to fix, not the database's state. Connection failures carry
            # no file name.
            print(f"sillage: file error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"sillage: database error: {exc}", file=sys.stderr)
        return 1
    except asyncpg.PostgresError as exc:
        print(f"sillage: database error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
