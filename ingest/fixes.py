"""Taking in a batch of fixes: validate each, store the valid ones once, queue reprocessing.

A batch is one transaction: its valid fixes are all stored (or found already stored) together with
the widened dirty range of the tester, or nothing is. Duplicates (a retried upload, two trackers
on one phone) are recognised by their timestamp in the tester's partition and reported, not
stored twice.

The common batch (distinct timestamps, none stored yet) is written with a binary COPY; a batch that
meets an already stored timestamp is rolled back whole and written again with the insert that sorts
new fixes from duplicates. Either way one transaction holds all its valid fixes, and the report is
the same. Both lanes widen the tester's reprocessing range before they write a fix, so two
overlapping batches of one tester that arrive at once wait for each other rather than deadlock.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

import msgspec

from core.fixes import Fix, RawFix, Rejection, normalise, time_problem
from store import fixes as fixes_db
from store.partition import Conn, DeviceKey, in_partition
from store.testers import Principal


class FixStatus(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    PAUSED = "paused"


class ItemResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    index: int
    status: FixStatus
    reason: str | None = None


class BatchReport(msgspec.Struct, frozen=True, kw_only=True):
    stored: int
    duplicates: int
    rejected: int
    skipped: int
    results: list[ItemResult]


def validate(
    items: Sequence[RawFix | Fix | Rejection], now: datetime
) -> tuple[list[Fix], list[int], dict[int, str]]:
    """Split items into valid fixes (with their item index) and rejections by index.

    A :class:`Fix` item was already normalised by its decoder (the native fast lane); only its
    time is checked against ``now``. When every item is one, the earliest and latest times are
    checked for the whole batch, and each fix only if one of those two fails.
    """
    fixes = [item for item in items if isinstance(item, Fix)]
    if fixes and len(fixes) == len(items):
        stamps = [f.ts for f in fixes]
        if time_problem(min(stamps), now) is None and time_problem(max(stamps), now) is None:
            return fixes, list(range(len(fixes))), {}
    valid: list[Fix] = []
    valid_index: list[int] = []
    rejected: dict[int, str] = {}
    for i, item in enumerate(items):
        if isinstance(item, Fix):
            problem = time_problem(item.ts, now)
            result: Fix | Rejection = item if problem is None else Rejection(reason=problem)
        else:
            result = item if isinstance(item, Rejection) else normalise(item, now)
        if isinstance(result, Rejection):
            rejected[i] = result.reason
        else:
            valid.append(result)
            valid_index.append(i)
    return valid, valid_index, rejected


@functools.lru_cache(maxsize=1024)
def _all_stored(n: int) -> tuple[ItemResult, ...]:
    """The results of an n-fix batch stored whole (the structs are immutable, so they are shared)."""
    return tuple(ItemResult(index=i, status=FixStatus.STORED) for i in range(n))


async def _write(conn: Conn, who: str | DeviceKey, valid: list[Fix], source: str) -> set[datetime] | None:
    """Store ``valid``; the timestamps newly stored, or None when every one of them was.

    A time repeated within the batch makes the COPY fail like an already stored one (and the insert
    below keeps the first), so the common batch is not checked for repeats beforehand."""
    if await fixes_db.append_fixes(conn, who, valid, source):
        return None
    async with in_partition(conn, who):
        return set(await fixes_db.insert_fixes(conn, valid, source))


async def store_batch(
    conn: Conn,
    caller: Principal | DeviceKey,
    items: Sequence[RawFix | Fix | Rejection],
    *,
    source: str,
    now: datetime,
    skipped: int = 0,
) -> BatchReport:
    """Validate and store one batch for ``caller``; see the module docstring.

    ``caller`` is an authenticated :class:`Principal`, or a :class:`DeviceKey` that the database
    checks in the transaction that stores the batch: :class:`~store.partition.DeviceRefused`
    then means nothing was stored, and the caller should authenticate the ordinary way (which
    says why: a 401, or a paused tester's report).
    """
    valid, valid_index, rejected = validate(items, now)
    results: list[ItemResult] = [
        ItemResult(index=i, status=FixStatus.REJECTED, reason=reason) for i, reason in rejected.items()
    ]
    if isinstance(caller, Principal) and caller.paused:
        results += [
            ItemResult(index=i, status=FixStatus.PAUSED, reason="recording is paused") for i in valid_index
        ]
        results.sort(key=lambda r: r.index)
        return BatchReport(
            stored=0, duplicates=0, rejected=len(rejected), skipped=skipped + len(valid), results=results
        )
    who = caller.role if isinstance(caller, Principal) else caller
    stored_ts: set[datetime] | None
    if valid:
        stored_ts = await _write(conn, who, valid, source)
    else:
        stored_ts = set()
        if isinstance(who, DeviceKey):  # nothing to store, but the key must still be checked
            async with in_partition(conn, who):
                pass
    n_stored = 0
    if stored_ts is None and not rejected:  # all stored, as most batches are
        n_stored = len(valid)
        results = list(_all_stored(n_stored))
    elif stored_ts is None:
        n_stored = len(valid)
        results += [ItemResult(index=i, status=FixStatus.STORED) for i in valid_index]
    else:
        seen: set[datetime] = set()
        for i, fix in zip(valid_index, valid, strict=True):
            if fix.ts in stored_ts and fix.ts not in seen:
                seen.add(fix.ts)
                n_stored += 1
                results.append(ItemResult(index=i, status=FixStatus.STORED))
            else:
                results.append(ItemResult(index=i, status=FixStatus.DUPLICATE))
    if rejected:
        results.sort(key=lambda r: r.index)
    return BatchReport(
        stored=n_stored,
        duplicates=len(valid) - n_stored,
        rejected=len(rejected),
        skipped=skipped,
        results=results,
    )
