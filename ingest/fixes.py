"""Taking in a batch of fixes: validate each, store the valid ones once, queue reprocessing.

A batch is one transaction: its valid fixes are all stored (or found already stored) together with
the widened dirty range of the tester, or nothing is. Duplicates (a retried upload, two trackers
on one phone) are recognised by their timestamp in the tester's partition and reported, not
stored twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

import msgspec

from core.fixes import Fix, RawFix, Rejection, normalise
from store import fixes as fixes_db
from store.partition import Conn, as_user
from store.testers import Principal


class Status(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    PAUSED = "paused"


class ItemResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    index: int
    status: Status
    reason: str | None = None


class BatchReport(msgspec.Struct, frozen=True, kw_only=True):
    stored: int
    duplicates: int
    rejected: int
    skipped: int
    results: list[ItemResult]


def validate(
    items: Sequence[RawFix | Rejection], now: datetime
) -> tuple[list[Fix], list[int], dict[int, str]]:
    """Split items into valid fixes (with their item index) and rejections by index."""
    valid: list[Fix] = []
    valid_index: list[int] = []
    rejected: dict[int, str] = {}
    for i, item in enumerate(items):
        result = item if isinstance(item, Rejection) else normalise(item, now)
        if isinstance(result, Rejection):
            rejected[i] = result.reason
        else:
            valid.append(result)
            valid_index.append(i)
    return valid, valid_index, rejected


async def store_batch(
    conn: Conn,
    principal: Principal,
    items: Sequence[RawFix | Rejection],
    *,
    source: str,
    now: datetime,
    skipped: int = 0,
) -> BatchReport:
    """Validate and store one batch for ``principal``; see the module docstring."""
    valid, valid_index, rejected = validate(items, now)
    results: list[ItemResult] = [
        ItemResult(index=i, status=Status.REJECTED, reason=reason) for i, reason in rejected.items()
    ]
    if principal.paused:
        results += [
            ItemResult(index=i, status=Status.PAUSED, reason="recording is paused") for i in valid_index
        ]
        results.sort(key=lambda r: r.index)
        return BatchReport(
            stored=0, duplicates=0, rejected=len(rejected), skipped=skipped + len(valid), results=results
        )
    stored_ts: set[datetime] = set()
    if valid:
        async with as_user(conn, principal.role):
            stored_ts = set(await fixes_db.insert_fixes(conn, valid, source))
    seen: set[datetime] = set()
    n_stored = 0
    for i, fix in zip(valid_index, valid, strict=True):
        if fix.ts in stored_ts and fix.ts not in seen:
            seen.add(fix.ts)
            n_stored += 1
            results.append(ItemResult(index=i, status=Status.STORED))
        else:
            results.append(ItemResult(index=i, status=Status.DUPLICATE))
    results.sort(key=lambda r: r.index)
    return BatchReport(
        stored=n_stored,
        duplicates=len(valid) - n_stored,
        rejected=len(rejected),
        skipped=skipped,
        results=results,
    )
