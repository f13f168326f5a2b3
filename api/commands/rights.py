"""``sillage rights retention`` and ``sillage rights verify-erased USER_ID`` (operator commands)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.commands import connected, require_url
from core.settings import Settings


def operator_name() -> str:
    """Who runs an operator command, for the audit log: the OS login (``SILLAGE_OPERATOR`` overrides)."""
    name = os.environ.get("SILLAGE_OPERATOR")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.retention import apply_retention
    from store.rights import Actor

    now: datetime = args.as_of or datetime.now(UTC)

    async def go() -> int:
        async with connected(require_url(settings.database_url)) as conn:
            r = await apply_retention(conn, now=now, actor=Actor.operator(operator_name()))
        print(
            f"retention as of {now.isoformat()}: {r.testers} testers, {r.chunks_dropped} chunks dropped,"
            f" {r.fixes_deleted} fixes, {r.trips_deleted} trips, {r.stays_deleted} stays,"
            f" {r.labels_deleted} labels deleted"
        )
        return 0

    return asyncio.run(go())


def cmd_verify_erased(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.erasure import verify_erased

    logs = [Path(p) for p in args.log_file or ()]
    if not logs and os.environ.get("SILLAGE_LOG_FILE"):
        logs = [Path(os.environ["SILLAGE_LOG_FILE"])]

    async def go() -> int:
        async with connected(require_url(settings.migration_url, "SILLAGE_ADMIN_DATABASE_URL")) as conn:
            v = await verify_erased(conn, args.user_id, log_files=logs)
        for f in v.findings:
            print(f"FOUND {f.where}: {f.what}")
        print(
            f"scanned {v.relations_scanned} relations ({len(v.relations_unreadable)} not readable)"
            f" and {v.log_lines_scanned} log lines: "
            + ("nothing refers to the tester" if not v.findings else f"{len(v.findings)} finding(s)")
        )
        return 0 if not v.findings else 1

    return asyncio.run(go())


def _timestamp(text: str) -> datetime:
    d = datetime.fromisoformat(text)
    return d if d.tzinfo is not None else d.replace(tzinfo=UTC)


def register(sub: Any) -> None:
    rights = sub.add_parser("rights", help="testers' rights: retention, proof of erasure")
    rsub = rights.add_subparsers(dest="rights_command", required=True)
    ret = rsub.add_parser(
        "retention", help="apply campaigns' retention (drop old chunks, delete old fixes and trips)"
    )
    ret.add_argument("--as-of", type=_timestamp, default=None, help="ISO 8601 time to apply it as of")
    ret.set_defaults(func=cmd_retention)
    ver = rsub.add_parser("verify-erased", help="prove nothing refers to an erased tester (exit 1 if not)")
    ver.add_argument("user_id", type=uuid.UUID)
    ver.add_argument(
        "--log-file",
        action="append",
        help="a log file to search as well (repeatable; default: $SILLAGE_LOG_FILE if set)",
    )
    ver.set_defaults(func=cmd_verify_erased)
