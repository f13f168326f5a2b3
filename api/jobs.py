"""Periodic jobs run by the API process (TimescaleDB's Apache edition has no job scheduler).

Each job runs first soon after start-up (``first_after_s``, a minute by default, so the API is
serving before the jobs load the database), then every ``every_s`` seconds; a failure is logged
and retried at the next period. Waiting a whole period before the first run would mean an API
restarted more often than that (every deployment) never runs the job at all. Running at every
start is safe because jobs are idempotent and lock what they change, so several processes may run
them at once: releases wait for each other and publish each period once, a carpool matching run
finding another one under way is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger("sillage.jobs")


FIRST_AFTER_S = 60.0


@dataclass
class PeriodicJob:
    """``run`` every ``every_s`` seconds, first after ``first_after_s`` (or one period if shorter)."""

    name: str
    every_s: float
    run: Callable[[], Awaitable[object]]
    first_after_s: float = FIRST_AFTER_S
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"sillage-job-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        await asyncio.sleep(min(self.first_after_s, self.every_s))
        while True:
            try:
                result = await self.run()
                log.info("job done", extra={"job": self.name, "result": str(result)})
            except Exception:
                log.exception("job failed; retrying next period", extra={"job": self.name})
            await asyncio.sleep(self.every_s)
