"""Retention: each campaign keeps raw fixes and trips for a limited number of days.

TimescaleDB's Apache edition has no retention policies, so ``sillage rights retention`` (run it
daily, e.g. from a systemd timer or cron) applies them: for every tester of a campaign with a
limit, ``drop_chunks`` removes the whole chunks of their ``fixes`` hypertable that end before the
limit (cheap: a chunk is a table), then a DELETE removes the older rows of the chunk that
straddles it. Trips (with their sections), stays, labels and hidden-trip intervals that ended
before the trips limit are deleted. Nothing is marked for reprocessing: what remains is what the
campaign keeps. The trips kept past the fixes limit can no longer be rebuilt, so the run also
moves the tester's ``pipeline_state.frozen_before`` to the first stay or trip that began after the
fixes cutoff: the pipeline never restarts before it (a late upload or a confirmation reaching
back would otherwise delete those trips and find no fix to rebuild them from). Each tester is one
transaction; running it again removes nothing more.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from store import rights as db
from store.coaching import hold_tester_queue
from store.partition import Conn, enter, exists
from store.rights import Actor, audit


class RetentionReport(msgspec.Struct, frozen=True, kw_only=True):
    testers: int
    chunks_dropped: int
    fixes_deleted: int
    trips_deleted: int
    stays_deleted: int
    labels_deleted: int


async def apply_retention(conn: Conn, *, now: datetime, actor: Actor) -> RetentionReport:
    """Apply every campaign's retention as of ``now``; the run is audited (counts only)."""
    chunks = fixes = trips = stays = labels = 0
    targets = await db.retention_targets(conn)
    for t in targets:
        async with conn.transaction():
            # A step under way for the tester is waited for, and none starts until this commits:
            # else a step storing trips from fixes it read before retention ran left them past
            # the limit until the next run.
            await hold_tester_queue(conn, t.user_id)
            if not await exists(conn, t.role):  # erased since the list was read: nothing left
                continue
            fixes_cutoff = None
            if t.fixes_retention_days is not None:
                fixes_cutoff = now - timedelta(days=t.fixes_retention_days)
                chunks += await db.drop_fix_chunks(conn, t.role, fixes_cutoff)
            await enter(conn, t.role)
            if fixes_cutoff is not None:
                fixes += await db.delete_fixes_before(conn, fixes_cutoff)
            if t.trips_retention_days is not None:
                d = await db.delete_derived_before(conn, now - timedelta(days=t.trips_retention_days))
                trips += d.trips
                stays += d.stays
                labels += d.labels
    report = RetentionReport(
        testers=len(targets),
        chunks_dropped=chunks,
        fixes_deleted=fixes,
        trips_deleted=trips,
        stays_deleted=stays,
        labels_deleted=labels,
    )
    await audit(conn, actor, "retention.run", detail=msgspec.structs.asdict(report))
    return report
