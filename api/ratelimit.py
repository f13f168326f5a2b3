"""Request rate limiting in the API process: token buckets per device, and for dashboard logins.

Each device may make ``per_minute`` requests per minute on average, with bursts up to the same
number. The state is per process: behind several workers the effective limit is per worker.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Hashable

from core.errors import TooManyRequests


class RateLimiter:
    def __init__(
        self, per_minute: int, *, max_keys: int = 200_000, what: str = "requests for this device"
    ) -> None:
        self.rate_per_s = per_minute / 60.0
        self.capacity = float(per_minute)
        self.max_keys = max_keys
        self.what = what  # "too many <what>" in the refusal
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()

    def check(self, key: Hashable, now: float | None = None) -> None:
        """Take one token for ``key`` or raise TooManyRequests with the wait in seconds."""
        if self.capacity <= 0:
            return
        t = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self.capacity, t))
        tokens = min(self.capacity, tokens + (t - last) * self.rate_per_s)
        if tokens < 1.0:
            self._buckets[key] = (tokens, t)
            wait = math.ceil((1.0 - tokens) / self.rate_per_s)
            raise TooManyRequests(f"too many {self.what}; retry in {wait} s", retry_after_s=max(wait, 1))
        self._buckets[key] = (tokens - 1.0, t)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)

    def give_back(self, key: Hashable) -> None:
        """Return the token a :meth:`check` took, for an attempt that turned out not to count."""
        if key in self._buckets:
            tokens, last = self._buckets[key]
            self._buckets[key] = (min(self.capacity, tokens + 1.0), last)


class LoginThrottle:
    """Failed dashboard logins: at most ``per_minute`` a minute per client address and per e-mail
    address (OWASP Authentication Cheat Sheet, "Login Throttling").

    Each attempt takes its token before the password is checked and gives it back if the login
    succeeds, so a burst of concurrent attempts is counted in full rather than all slipping in
    before the first of them has failed. The e-mail limit also holds against an attacker spread
    over many addresses; its price is that the account's owner waits as well (a minute at most).
    """

    def __init__(self, per_minute: int = 10, *, max_keys: int = 100_000) -> None:
        self.by_address = RateLimiter(per_minute, max_keys=max_keys, what="failed logins from this address")
        self.by_email = RateLimiter(per_minute, max_keys=max_keys, what="failed logins for this account")

    def attempt(self, address: str, email: str) -> None:
        """Count an attempt as failed until :meth:`succeeded`; raise TooManyRequests when either
        limit is reached."""
        self.by_address.check(address)
        try:
            self.by_email.check(email)
        except TooManyRequests:
            self.by_address.give_back(address)
            raise

    def succeeded(self, address: str, email: str) -> None:
        self.by_address.give_back(address)
        self.by_email.give_back(email)
