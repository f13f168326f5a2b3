"""``sillage labels export``: consenting testers' confirmed modes, for ``sillage models train --labels``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any, TextIO

from api.commands import connected, require_url
from core.settings import Settings


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from api.commands.rights import operator_name
    from ingest.labels import LabelsExport, export_labels
    from store.rights import Actor

    url = require_url(settings.database_url)

    async def go(out: TextIO) -> LabelsExport:
        async with connected(url) as conn:
            return await export_labels(conn, out, actor=Actor.operator(operator_name()))

    # Written beside the target and renamed once complete: a failure (the database away) leaves
    # any earlier export as it was, never an empty or half-written file.
    target = Path(args.out)
    partial = target.with_name(f".{target.name}.partial")
    try:
        out = partial.open("w", newline="", encoding="utf-8")
    except OSError as exc:  # named as the operator gave it
        raise OSError(exc.errno, exc.strerror, str(target)) from exc
    try:
        with out:
            done = asyncio.run(go(out))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    print(f"{done.labels} labels ({done.fixes} fixes) from {done.testers} consenting testers in {args.out}")
    return 0


def register(subparsers: Any) -> None:
    labels = subparsers.add_parser("labels", help="testers' confirmed modes (research_labels consent only)")
    sub = labels.add_subparsers(dest="labels_command", required=True)
    export = sub.add_parser("export", help="write them as a CSV for `sillage models train --labels`")
    export.add_argument("--out", type=Path, required=True)
    export.set_defaults(func=cmd_export)
