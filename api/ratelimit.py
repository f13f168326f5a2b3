"""Request rate limiting in the API process: token buckets per device (failed dashboard logins are
throttled in the database: :mod:`ingest.sharing.throttle`), and a cap on what one tester has under
way at once (:class:`AtOnce`: exports).

Each device may make ``per_minute`` requests per minute on average, with bursts up to the same
number. The state is per process: behind several workers the effective limit is per worker.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

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


class AtOnce:
    """At most ``per_key`` of something under way at once per key (a tester's exports), in this
    process. A rate does not bound them: an export of a long history takes minutes to download and
    holds a temporary file as large as itself meanwhile (:mod:`ingest.spool`: 131 MB for a CSV of a
    million fixes), so a client that loops on the request, well within its rate, could fill the
    disk. The one past the cap is refused (429, retry when one ends) rather than queued: a queued
    download would hold its connection for as long."""

    def __init__(self, per_key: int, *, what: str, retry_after_s: int = 30) -> None:
        self.per_key = per_key
        self.what = what  # "<what> under way" in the refusal
        self.retry_after_s = retry_after_s
        self._under_way: dict[Hashable, int] = {}

    def take(self, key: Hashable) -> Callable[[], None]:
        """Count one more for ``key``, or raise TooManyRequests; returns the function that gives it
        back (once, whatever the number of calls: a download's end and its collection may both)."""
        n = self._under_way.get(key, 0)
        if n >= self.per_key:
            raise TooManyRequests(
                f"{n} {self.what} under way already; retry when one has ended",
                retry_after_s=self.retry_after_s,
            )
        self._under_way[key] = n + 1
        given = False

        def give_back() -> None:
            nonlocal given
            if given:
                return
            given = True
            left = self._under_way.get(key, 0) - 1
            if left > 0:
                self._under_way[key] = left
            else:
                self._under_way.pop(key, None)

        return give_back

    def under_way(self, key: Hashable) -> int:
        return self._under_way.get(key, 0)
