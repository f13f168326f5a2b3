"""Periodic jobs run by the API process (TimescaleDB's Apache edition has no job scheduler).

Each job runs every ``every_s`` seconds, first after one period; a failure is logged and retried at
the next period. Jobs are idempotent and safe to run from several processes at once (they lock
what they change), so running more than one API worker only repeats work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger("sillage.jobs")


@dataclass
class PeriodicJob:
    name: str
    every_s: float
    run: Callable[[], Awaitable[object]]
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
        while True:
            await asyncio.sleep(self.every_s)
            try:
                result = await self.run()
                log.info("job done", extra={"job": self.name, "result": str(result)})
            except Exception:
                log.exception("job failed; retrying next period", extra={"job": self.name})
