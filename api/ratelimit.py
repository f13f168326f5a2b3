"""Request rate limiting in the API process: token buckets per device (failed dashboard logins are
throttled in the database: :mod:`ingest.sharing.throttle`).

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
