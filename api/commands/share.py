"""``sillage share release``: compute and store a privacy-protected release for the city."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from api.commands import connected, require_url
from core.errors import Unprocessable
from core.settings import Settings


def _zones(path: str | None) -> Any:
    if path is None:
        return None
    from core.privacy.zones import GeoJSONZones

    try:
        collection = json.loads(Path(path).read_text(encoding="utf-8"))
        return GeoJSONZones(collection)
    except (OSError, ValueError) as exc:
        raise Unprocessable(f"cannot use zones from {path}: {exc}") from exc


def cmd_release(args: argparse.Namespace, settings: Settings) -> int:

    from core.privacy.params import ReleaseParams
    from ingest.sharing.release import release
    from ingest.sharing.team import campaign_named

    url = require_url(settings.database_url)
    params = ReleaseParams(epsilon=args.epsilon, k=args.k, grid_cell_m=args.grid_cell_m)
    zones = _zones(args.zones)

    async def go() -> int:
        async with connected(url) as conn:
            scope = None if args.campaign is None else await campaign_named(conn, args.campaign)
            out = await release(
                conn,
                args.period,
                day=args.at,
                now=datetime.now(UTC),
                params=params,
                zones=zones,
                campaign=scope,
            )
        of = "every campaign" if out.campaign is None else f"the campaign {out.campaign!r}"
        print(
            f"release {out.release_id}: {out.period_kind} "
            f"{out.period_start.date()} to {out.period_end.date()}, testers of {of}"
        )
        print(
            f"  epsilon {out.epsilon:g}, k {out.k}, "
            f"participants {out.participants} ({out.contributors} exact)"
        )
        if out.excluded_for_budget:
            print(f"  {out.excluded_for_budget} consenting testers left out: privacy budget exhausted")
        for t in out.tables:
            withheld = (
                "withheld cells not counted" if t.suppressed is None else f"{t.suppressed} cells withheld"
            )
            print(f"  {t.table}: noise scale {t.noise_scale:.3g} {t.unit}, {withheld}")
        print(f"  {out.cells} cells published")
        return 0

    return asyncio.run(go())


def register(sub: Any) -> None:
    share = sub.add_parser("share", help="privacy-protected aggregates for the agglomeration")
    ssub = share.add_subparsers(dest="share_command", required=True)
    rel = ssub.add_parser("release", help="release the last complete period (or the one containing --at)")
    rel.add_argument("--period", choices=("week", "month"), required=True)
    rel.add_argument(
        "--at", type=date.fromisoformat, default=None, help="a date inside the period (YYYY-MM-DD)"
    )
    rel.add_argument("--epsilon", type=float, default=1.0, help="privacy loss of this release (default 1)")
    rel.add_argument("--k", type=int, default=10, help="minimum distinct testers per cell (default 10)")
    rel.add_argument("--zones", default=None, help="GeoJSON FeatureCollection of zones (default: a grid)")
    rel.add_argument("--grid-cell-m", type=float, default=1000.0, help="grid cell size in metres")
    rel.add_argument(
        "--campaign",
        default=None,
        help="release only this campaign's testers (by name), for its team; default: every campaign's",
    )
    rel.set_defaults(func=cmd_release)
