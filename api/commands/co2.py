"""``sillage co2``: the emission-factor registry versions, and adopting one for every tester."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from api.commands import connected, require_url
from core.settings import Settings


def cmd_versions(args: argparse.Namespace, settings: Settings) -> int:
    """List the shipped registry versions and mark the adopted one."""
    from core.co2 import available_versions
    from ingest.coaching import adopted_version

    async def go() -> str:
        async with connected(require_url(settings.database_url)) as conn:
            return await adopted_version(conn)

    adopted = asyncio.run(go())
    for version in available_versions():
        print(f"{'*' if version == adopted else ' '} {version}")
    return 0


def cmd_adopt(args: argparse.Namespace, settings: Settings) -> int:
    """Adopt a registry version: recorded for the pipeline, every tester's footprints recomputed."""
    from api.commands.rights import operator_name
    from ingest.coaching import adopt
    from store.rights import Actor

    async def go() -> int:
        async with connected(require_url(settings.database_url)) as conn:
            done = await adopt(conn, args.version, actor=Actor.operator(operator_name()))
        print(f"adopted {done.version}: {done.sections} sections of {done.testers} testers recomputed")
        return 0

    return asyncio.run(go())


def register(subparsers: Any) -> None:
    co2 = subparsers.add_parser("co2", help="emission-factor registry versions")
    sub = co2.add_subparsers(dest="co2_command", required=True)
    versions = sub.add_parser("versions", help="list shipped registry versions (* = adopted)")
    versions.set_defaults(func=cmd_versions)
    adopt = sub.add_parser("adopt", help="adopt a registry version and recompute every tester's footprints")
    adopt.add_argument("version")
    adopt.set_defaults(func=cmd_adopt)
