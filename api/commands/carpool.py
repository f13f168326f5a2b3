"""``sillage carpool match``: offers for every consenting tester, then matching (operator/cron)."""

from __future__ import annotations

import argparse
import asyncio
import math
from datetime import UTC, datetime
from typing import Any

from api.commands import connected, require_url
from core.carpool import DEFAULT_MATCH_PARAMS
from core.settings import Settings


def positive_number(text: str) -> float:
    """A distance or a gap: a finite number above zero (NaN or a negative radius matches nobody,
    silently)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def cmd_match(args: argparse.Namespace, settings: Settings) -> int:
    """Recompute offers and proposals; prints what was done."""
    import msgspec

    from ingest.carpool import run

    params = msgspec.structs.replace(
        DEFAULT_MATCH_PARAMS,
        origin_radius_m=args.radius_m,
        destination_radius_m=args.radius_m,
        max_departure_gap_min=args.departure_gap_min,
        max_detour_m=args.max_detour_m,
    )

    async def go() -> int:
        async with connected(require_url(settings.database_url)) as conn:
            done = await run(conn, now=datetime.now(UTC), match_params=params)
        print(
            f"{done.testers} consenting testers, {done.offers} offers, {done.proposals} proposals,"
            f" {done.carpool_sections} sections counted as carpools"
        )
        return 0

    return asyncio.run(go())


def register(subparsers: Any) -> None:
    carpool = subparsers.add_parser("carpool", help="carpool matching among consenting testers")
    sub = carpool.add_subparsers(dest="carpool_command", required=True)
    match = sub.add_parser("match", help="recompute every consenting tester's offers and the proposals")
    d = DEFAULT_MATCH_PARAMS
    match.add_argument(
        "--radius-m", type=positive_number, default=d.origin_radius_m, help="origins and destinations"
    )
    match.add_argument("--departure-gap-min", type=positive_number, default=d.max_departure_gap_min)
    match.add_argument("--max-detour-m", type=positive_number, default=d.max_detour_m)
    match.set_defaults(func=cmd_match)
