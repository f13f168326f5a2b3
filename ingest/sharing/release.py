"""Computing a release: from consenting testers only, inside each tester's own partition.

Steps (``release``):

1. Serialise with other release jobs (advisory lock), refuse a period already released or not
   over yet.
2. Testers who granted ``share_aggregates`` before the period's end and have not revoked it: of
   one campaign for a campaign's release (its team reads it: migration 0032), else of every one.
3. Leave out every tester whose privacy budget (``sillage.privacy_ledger`` over the budget window)
   cannot pay this release's epsilon; they are counted in the outcome, never in the release.
4. For each remaining tester, enter their partition (their own role, :func:`store.partition.as_user`)
   and read their not-hidden trips of the period; bound their contribution there and then (only
   the bounded sums leave the loop). Their carpool potential joins the same contribution: the
   corridor rows of the latest matching run (:func:`ingest.carpool.corridors`, zoned with the
   release's own zones), only for testers who also consent to ``carpool_matching``. Proposals are
   not kept per period, so a release carries the carpool potential as it stands when it is made.
5. Compose (suppression, OpenDP noise), then in ONE transaction: re-check that every contributor
   still consents (rows locked, so a concurrent revocation waits), and that every tester whose
   corridors were counted still consents to carpool matching; store the release, its cells and
   zones, and charge each contributor's budget. If someone revoked meanwhile, start over without
   them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec

from core.carpool import CorridorContribution
from core.coaching.periods import Period, local_date, local_midnight, period_start, shift
from core.errors import Conflict, Unauthorized, Unprocessable
from core.fixes import EARLIEST
from core.privacy.contribution import Contribution, contribution
from core.privacy.corridors import CARPOOL_TABLES
from core.privacy.params import MIN_EPSILON, BudgetParams, ReleaseParams
from core.privacy.release import Composed, TableInfo, compose
from core.privacy.zones import GridZones, Zones
from ingest.carpool import corridors as carpool_corridors
from store import sharing as db
from store.partition import Conn, as_user

log = logging.getLogger("sillage.sharing")

PeriodKind = Literal["week", "month"]
MECHANISM = "contribution bounding + k-threshold with complementary suppression + discrete Laplace (OpenDP)"
ATTEMPTS = 3


class ReleaseOutcome(msgspec.Struct, frozen=True, kw_only=True):
    release_id: uuid.UUID
    period_kind: str
    period_start: datetime
    period_end: datetime
    contributors: int  # exact, for the operator only; the release publishes a bucket
    excluded_for_budget: int
    participants: str
    epsilon: float
    k: int
    cells: int
    tables: list[TableInfo]
    campaign: str | None = None  # the campaign whose testers it is made of; None: every campaign


def period_bounds(kind: PeriodKind, day: date, tz: ZoneInfo) -> tuple[datetime, datetime, int]:
    """Local-midnight bounds of the week (Monday first) or month containing ``day``, and its length
    in days."""
    p = Period(kind)
    first = period_start(day, p)
    after = shift(first, p, 1)
    return local_midnight(first, tz), local_midnight(after, tz), (after - first).days


def last_complete_day(kind: PeriodKind, now: datetime, tz: ZoneInfo) -> date:
    """A day of the last period that is over at ``now``."""
    today = local_date(now, tz)
    return shift(period_start(today, Period(kind)), Period(kind), -1)


async def release_corridors(
    conn: Conn,
    sharers: list[db.Sharer],
    zones: Zones,
    params: ReleaseParams,
    *,
    campaign: db.CampaignRef | None = None,
) -> dict[uuid.UUID, list[CorridorContribution]]:
    """The carpool corridor rows of the release's testers, by tester, in the release's zones.

    :func:`ingest.carpool.corridors` already keeps only testers consenting to both carpool
    matching and shared aggregates now; this also drops anyone outside this release (consent
    given after the period, or budget exhausted). A campaign's release counts only the pairs of
    its own testers: a match with a tester of another campaign is left out."""
    eligible = {s.user_id for s in sharers}
    rows = await carpool_corridors(
        conn, zones.zone_of, band_min=params.carpool.band_min, among=None if campaign is None else eligible
    )
    by_user: dict[uuid.UUID, list[CorridorContribution]] = defaultdict(list)
    for r in rows:
        if r.user_id in eligible:
            by_user[r.user_id].append(r)
    return dict(by_user)


async def _contributions(
    conn: Conn,
    *,
    sharers: list[db.Sharer],
    start: datetime,
    end: datetime,
    params: ReleaseParams,
    zones: Zones,
    seed: bytes,
    corridors: dict[uuid.UUID, list[CorridorContribution]],
) -> list[tuple[uuid.UUID, Contribution]]:
    out = []
    for s in sharers:
        # Since a revocation, only the trips made from the next grant on: not one made meanwhile.
        since = start if s.shares_since is None else max(start, s.shares_since)
        try:
            async with as_user(conn, s.role):
                trips = await db.period_trips(conn, since, end)
        except Unauthorized:  # erased since the list was read: nothing of theirs is released
            continue
        mine = corridors.get(s.user_id, [])
        out.append((s.user_id, contribution(trips, params, zone_of=zones.zone_of, seed=seed, corridors=mine)))
    return out


async def _eligible(
    conn: Conn,
    end: datetime,
    now: datetime,
    epsilon: float,
    budget: BudgetParams,
    *,
    campaign: db.CampaignRef | None,
) -> tuple[list[db.Sharer], int]:
    sharers = await db.sharing_testers(conn, end, None if campaign is None else campaign.id)
    since = now - timedelta(days=budget.window_days)
    spent = await db.budget_spent(conn, [s.user_id for s in sharers], since)
    ok = [s for s in sharers if spent.get(s.user_id, 0.0) + epsilon <= budget.epsilon_per_window + 1e-9]
    return ok, len(sharers) - len(ok)


ZONED_TABLES = ("od_flows", *CARPOOL_TABLES)


def _zone_rows(composed: Composed, zones: Zones) -> list[db.ZoneRow]:
    ids = sorted({z for c in composed.cells if c.table in ZONED_TABLES for z in (c.dim_a, c.dim_b)})
    rows = []
    for zid in ids:
        z = zones.zone(zid)
        rows.append(db.ZoneRow(zone_id=z.id, name=z.name, geometry=z.geometry, centroid=z.centroid))
    return rows


async def release(
    conn: Conn,
    kind: PeriodKind,
    *,
    day: date | None = None,
    now: datetime,
    params: ReleaseParams | None = None,
    budget: BudgetParams | None = None,
    zones: Zones | None = None,
    campaign: db.CampaignRef | None = None,
    one_scope_per_period: bool = False,
) -> ReleaseOutcome:
    """Compute and store the release of the ``kind`` period containing ``day`` (default: the last
    complete one), made of one ``campaign``'s testers or of every campaign's (None). A period is
    released once per scope; with ``one_scope_per_period`` (the scheduler), a period already
    released in the other kind of scope (pooled, or per campaign) is not released again, so that
    changing ``SILLAGE_RELEASE_SCOPE`` never charges a tester twice for one period.
    ``conn`` must not be inside a transaction."""
    params = params or ReleaseParams()
    budget = budget or BudgetParams()
    if not MIN_EPSILON <= params.epsilon <= budget.epsilon_per_window:  # NaN fails too
        raise Unprocessable(
            f"epsilon must be from {MIN_EPSILON:g} to {budget.epsilon_per_window:g}, got {params.epsilon:g}"
        )
    if params.k < 2:
        raise Unprocessable("k must be at least 2")
    cp = params.carpool
    if (
        min(cp.max_corridors_per_tester, cp.max_matches_per_corridor, cp.band_min) < 1
        or min(cp.max_co2_kg_per_year_per_corridor, cp.co2_unit_kg) <= 0
    ):
        raise Unprocessable("carpool caps must be positive")
    try:
        zones = zones or GridZones(params.grid_cell_m)
    except ValueError as exc:
        raise Unprocessable(str(exc)) from exc
    tz = ZoneInfo(params.timezone)
    if day is not None and day < EARLIEST.date():
        raise Unprocessable(f"the day must be {EARLIEST.date()} or later (no fix is older), got {day}")
    if day is not None and day > local_date(now, tz):
        raise Conflict(f"the {kind} containing {day} is not over")
    start, end, n_days = period_bounds(kind, day or last_complete_day(kind, now, tz), tz)
    if end > now:
        raise Conflict(f"the {kind} from {start.date()} is not over until {end.isoformat()}")
    async with db.release_lock(conn):
        scope = "" if campaign is None else f" for the campaign {campaign.name!r}"
        if await db.release_exists(conn, kind, start, None if campaign is None else campaign.id):
            raise Conflict(
                f"the {kind} from {start.date()} was already released{scope} (a period is released once)"
            )
        if one_scope_per_period and await db.released_in_other_scope(
            conn, kind, start, pooled=campaign is None
        ):
            other = "per campaign" if campaign is None else "of every campaign pooled"
            raise Conflict(
                f"the {kind} from {start.date()} was already released {other} (one scope a period)"
            )
        for _ in range(ATTEMPTS):
            sharers, excluded = await _eligible(conn, end, now, params.epsilon, budget, campaign=campaign)
            if len(sharers) < params.k:
                raise Conflict(
                    f"fewer than k={params.k} testers share aggregates for this period{scope}: "
                    "nothing released"
                )
            seed = secrets.token_bytes(16)
            corridors = await release_corridors(conn, sharers, zones, params, campaign=campaign)
            contribs = await _contributions(
                conn,
                sharers=sharers,
                start=start,
                end=end,
                params=params,
                zones=zones,
                seed=seed,
                corridors=corridors,
            )
            composed = await asyncio.to_thread(compose, [c for _, c in contribs], params, n_days=n_days)
            ids = [u for u, _ in contribs]
            async with conn.transaction():
                if await db.still_sharing(conn, ids) != set(ids) or await db.still_carpooling(
                    conn, list(corridors)
                ) != set(corridors):
                    log.info("a tester revoked consent during the release; recomputing without them")
                    continue
                release_id = await db.insert_release(
                    conn,
                    db.NewRelease(
                        period_kind=kind,
                        period_start=start,
                        period_end=end,
                        released_at=now,
                        epsilon=params.epsilon,
                        k=params.k,
                        participants=composed.participants_bucket,
                        caps={
                            **msgspec.to_builtins(params.caps),
                            "carpool": msgspec.to_builtins(params.carpool),
                        },
                        tables=msgspec.to_builtins(composed.tables),
                        zones_source=zones.source,
                        mechanism=MECHANISM,
                        campaign=campaign,
                    ),
                    [(c.table, c.dim_a, c.dim_b, c.dim_c, c.value) for c in composed.cells],
                    _zone_rows(composed, zones),
                    ids,
                )
            return ReleaseOutcome(
                release_id=release_id,
                period_kind=kind,
                period_start=start,
                period_end=end,
                contributors=len(ids),
                excluded_for_budget=excluded,
                participants=composed.participants_bucket,
                epsilon=params.epsilon,
                k=params.k,
                cells=len(composed.cells),
                tables=composed.tables,
                campaign=None if campaign is None else campaign.name,
            )
    raise Conflict("consents kept changing during the release; try again")
