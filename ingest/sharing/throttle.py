"""Failed dashboard logins, throttled in the database so that every API process counts them.

At most ``per_minute`` failed logins a minute per client address and per e-mail address (OWASP
Authentication Cheat Sheet, "Login Throttling"), as token buckets: a bucket holds up to
``per_minute`` tokens and refills at ``per_minute`` a minute. The buckets are rows of
``sillage.login_throttle`` (migration 0022), updated atomically, so the limit holds behind any
number of API processes (``SILLAGE_WORKERS``) and across restarts. A bucket is keyed by the SHA-256
of what it counts: neither client addresses nor attempted e-mail addresses are stored in clear.

Each attempt takes its tokens before the password is checked and gives them back if the login
succeeds, so a burst of concurrent attempts is counted in full rather than all slipping in before
the first of them has failed. The e-mail limit also holds against an attacker spread over many
addresses; its price is that the account's owner waits as well (a minute at most).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import TooManyRequests
from store import sharing as db
from store.pool import Database


def _key(kind: str, value: str) -> bytes:
    return hashlib.sha256(f"{kind}:{value}".encode()).digest()


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    per_minute: int = 10
    # A bucket untouched this long is full again: its row is deleted at the next login.
    forget_after: timedelta = timedelta(hours=1)

    @property
    def _per_s(self) -> float:
        return self.per_minute / 60.0

    async def attempt(self, database: Database, address: str, email: str, *, now: datetime) -> None:
        """Count an attempt as failed until :meth:`succeeded`; raise TooManyRequests, with the wait
        until the next attempt may be made, when either limit is reached (and count nothing)."""
        if self.per_minute <= 0:
            return
        cap = float(self.per_minute)
        by_address, by_email = _key("address", address), _key("email", email)
        async with database.connection() as conn:
            await db.sweep_login_throttle(conn, now - self.forget_after)
            refused, tokens = await db.take_login_token(conn, by_address, cap, self._per_s, now)
            what = "from this address"
            if not refused:
                refused, tokens = await db.take_login_token(conn, by_email, cap, self._per_s, now)
                what = "for this account"
                if refused:
                    await db.give_back_login_token(conn, by_address, cap)
        if refused:
            wait = max(1, math.ceil((1.0 - tokens) / self._per_s))
            raise TooManyRequests(f"too many failed logins {what}; retry in {wait} s", retry_after_s=wait)

    async def succeeded(self, database: Database, address: str, email: str) -> None:
        """Give back what :meth:`attempt` took: a successful login does not count."""
        if self.per_minute <= 0:
            return
        async with database.connection() as conn:
            for key in (_key("address", address), _key("email", email)):
                await db.give_back_login_token(conn, key, float(self.per_minute))
