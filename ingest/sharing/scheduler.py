"""Releases on a schedule, inside the API process.

The API's periodic jobs (``api/jobs.py``) call :meth:`ReleaseScheduler.run_once` every
``SILLAGE_RELEASE_EVERY_H`` hours: it releases the last complete week and month if they were not
released yet (``released.releases`` is unique per period, and release jobs take an advisory lock,
so several API processes may run it). A period with fewer than k consenting testers is skipped
and logged. Past periods are never back-filled automatically: the operator runs
``sillage share release --at DATE`` for those.

``by_campaign`` (``SILLAGE_RELEASE_SCOPE=campaign``) releases each campaign's testers apart, one
release per campaign and period, instead of one of every campaign pooled: each tester still counts
in one release per period, so their privacy budget is spent as before. A period already released
in the other kind of scope (the setting changed, or the operator released it by hand) is skipped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import msgspec

from core.errors import Conflict
from core.privacy.params import BudgetParams, ReleaseParams
from ingest.sharing.release import PeriodKind, ReleaseOutcome, release
from store import sharing as db
from store.pool import Database

log = logging.getLogger("sillage.sharing")


class SchedulerParams(msgspec.Struct, frozen=True, kw_only=True):
    kinds: tuple[PeriodKind, ...] = ("week", "month")
    by_campaign: bool = False
    release: ReleaseParams = ReleaseParams()
    budget: BudgetParams = BudgetParams()


class ReleaseScheduler:
    def __init__(self, db: Database, params: SchedulerParams | None = None) -> None:
        self.db = db
        self.params = params or SchedulerParams()

    async def run_once(self, now: datetime | None = None) -> list[ReleaseOutcome]:
        """Release every due period now; periods already released or too small are skipped."""
        at = now or datetime.now(UTC)
        done = []
        async with self.db.connection() as conn:
            scopes: list[db.CampaignRef | None] = (
                list(await db.campaigns(conn)) if self.params.by_campaign else [None]
            )
            for scope in scopes:
                for kind in self.params.kinds:
                    try:
                        done.append(
                            await release(
                                conn,
                                kind,
                                now=at,
                                params=self.params.release,
                                budget=self.params.budget,
                                campaign=scope,
                                one_scope_per_period=True,
                            )
                        )
                    except Conflict as exc:
                        log.info("no release", extra={"period": kind, "reason": exc.detail})
        return done
