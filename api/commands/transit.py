"""``sillage transit``: the GTFS stops that weigh sections' transit modes (``core.transit``)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from api.commands import connected, require_url
from core.errors import NotFound
from core.settings import Settings


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import (or replace) a feed; sections processed from now on (or from ``--revisit-days`` ago)
    are weighed by it."""
    from ingest.transit import import_feed

    async def go() -> int:
        async with connected(require_url(settings.database_url)) as conn:
            done = await import_feed(
                conn,
                Path(args.path),
                args.feed,
                revisit_days=args.revisit_days,
                campaigns=args.campaign,
                complete=args.complete,
            )
        feed = done.feed
        complete = ", complete for its area" if feed.complete else ""
        print(f"imported {feed.feed}: {feed.stops} stops served by {feed.routes} routes{complete}")
        if args.revisit_days:
            print(f"queued the last {args.revisit_days} days of {done.revisited} testers for reprocessing")
        return 0

    return asyncio.run(go())


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    from store.transit import feeds

    async def go() -> int:
        async with connected(require_url(settings.database_url)) as conn:
            for f in await feeds(conn):
                when = f.imported_at.isoformat()
                complete = "complete" if f.complete else "-"
                print(f"{f.feed}\t{f.stops} stops\t{f.routes} routes\t{when}\t{f.source}\t{complete}")
        return 0

    return asyncio.run(go())


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from store.transit import remove_feed

    async def go() -> int:
        async with connected(require_url(settings.database_url)) as conn:
            if not await remove_feed(conn, args.feed):
                raise NotFound(f"no transit feed named {args.feed!r}")
        print(f"removed {args.feed}")
        return 0

    return asyncio.run(go())


def register(subparsers: Any) -> None:
    transit = subparsers.add_parser("transit", help="the transit network's stops (GTFS) that weigh modes")
    sub = transit.add_subparsers(dest="transit_command", required=True)
    imp = sub.add_parser("import", help="import a GTFS feed (zip or folder), replacing one of the same name")
    imp.add_argument("path", type=Path)
    imp.add_argument("--feed", help="the feed's name (default: the file name, lower case)")
    imp.add_argument(
        "--revisit-days",
        type=int,
        default=0,
        metavar="N",
        help="also process every tester's last N days again with the new network (default: only "
        "what is processed from now on)",
    )
    imp.add_argument(
        "--campaign",
        action="append",
        metavar="NAME",
        help="with --revisit-days: only the testers of this campaign (repeatable; default: all)",
    )
    imp.add_argument(
        "--complete",
        action="store_true",
        help="the imported feeds together hold every bus, tram, metro, train and ferry stop where this "
        "feed has stops: there, a mode with no stop near a section's ends is absent (a city without "
        "metro gets no metro rides)",
    )
    imp.set_defaults(func=cmd_import)
    listing = sub.add_parser("list", help="the imported feeds")
    listing.set_defaults(func=cmd_list)
    remove = sub.add_parser("remove", help="remove a feed and its stops")
    remove.add_argument("feed")
    remove.set_defaults(func=cmd_remove)
