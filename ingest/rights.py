"""Testers' rights: delete a trip or a time range, erase the account, pause, hide a trip.

Each use case is one transaction holding its change and its audit entry: the change in the
tester's partition (under their role), the audit entry as the API's login (entries are appended
through a SECURITY DEFINER function; the login cannot rewrite the log).

Erasure and the audit log. A tester appears in the audit log only as a pseudonym,
HMAC-SHA256(per-deployment secret, user id), computed by the database (migration 0006) from a
secret the API cannot read. ``DELETE /v1/me`` runs ``sillage.erase_user``, which, in one
transaction: re-keys every entry carrying the pseudonym to a fresh random *erasure receipt*,
appends ``account.erase`` under that receipt, deletes the tester's rows (devices and token
digests, consents and history, queued work: ON DELETE CASCADE, including later tables that
reference ``sillage.users``), drops their schema (every table and chunk) and role, and refreshes
the planner statistics of the tables that referenced them. The receipt is returned to the
tester once and stored nowhere else: the log still shows what was done and when, but nothing in
the database relates it to the user id any more, and ``sillage rights verify-erased`` (which
also looks for the pseudonym) finds nothing. Released aggregates are anonymous and remain.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec

from core.errors import NotFound, Unprocessable
from ingest import carpool
from store import rights as db
from store.carpool import Tester
from store.coaching import hold_tester_queue
from store.fixes import mark_my_dirty
from store.partition import Conn, enter, leave
from store.rights import Actor, audit
from store.testers import Principal

# A trip's last fix is at ``ended_at``; ranges are half-open, so its range ends just after.
_RESOLUTION = timedelta(microseconds=1)


class Erased(msgspec.Struct, frozen=True, kw_only=True):
    receipt: str


def _iso(d: datetime) -> str:
    return d.isoformat()


async def delete_trip(conn: Conn, principal: Principal, trip_id: uuid.UUID) -> db.RangeDeleted:
    """Delete a trip with the positions it was made of (else reprocessing would bring it back),
    and what else was derived from them; the pipeline then recomputes the stays around it."""
    async with conn.transaction():
        await hold_tester_queue(conn, principal.user_id)  # as the pipeline: no deadlock with a step
        await enter(conn, principal.role)
        bounds = await db.trip_bounds(conn, trip_id)
        if bounds is None:
            raise NotFound("no such trip")
        start, end = bounds.started_at, bounds.ended_at
        # A fix shared with the trip next door (a flight's ends) is theirs too: it stays, and so do
        # they; the range is half-open, so it ends just after the trip's last fix otherwise.
        deleted = await db.delete_range(
            conn,
            start + _RESOLUTION if bounds.shares_start else start,
            end if bounds.shares_end else end + _RESOLUTION,
        )
        # The trip's hidden interval goes with it, even where the range stops short of its ends.
        deleted = msgspec.structs.replace(
            deleted, hidden_trips=deleted.hidden_trips + await db.forget_hidden(conn, start, end)
        )
        # A flight is rebuilt from the fixes on either side of its gap: remember it was deleted.
        await db.remember_deleted(conn, start, end)
        await mark_my_dirty(conn, start, end)
        await leave(conn)
        await carpool.forget_removed(conn, _tester(principal), now=datetime.now(UTC))
        await audit(
            conn,
            Actor.tester(principal.user_id),
            "trip.delete",
            subject=principal.user_id,
            detail=_counts(deleted),
        )
    return deleted


async def delete_fixes(conn: Conn, principal: Principal, start: datetime, end: datetime) -> db.RangeDeleted:
    """Delete the positions of [start, end) and the trips, stays, labels derived from any of them;
    mark the range for reprocessing so what remains around it is recomputed."""
    if end <= start:
        raise Unprocessable("'to' must be after 'from'")
    async with conn.transaction():
        await hold_tester_queue(conn, principal.user_id)  # as the pipeline: no deadlock with a step
        await enter(conn, principal.role)
        deleted = await db.delete_range(conn, start, end)
        await mark_my_dirty(conn, start, end)
        await leave(conn)
        await carpool.forget_removed(conn, _tester(principal), now=datetime.now(UTC))
        await audit(
            conn,
            Actor.tester(principal.user_id),
            "fixes.delete",
            subject=principal.user_id,
            detail={"from": _iso(start), "to": _iso(end), **_counts(deleted)},
        )
    return deleted


def _tester(principal: Principal) -> Tester:
    return Tester(user_id=principal.user_id, role=principal.role)


def _counts(d: db.RangeDeleted) -> dict[str, int]:
    return {"fixes": d.fixes, "trips": d.trips, "stays": d.stays, "labels": d.labels}


async def erase_account(conn: Conn, principal: Principal) -> Erased:
    """Erase everything about the tester (see the module docstring); returns the receipt."""
    async with conn.transaction():
        await hold_tester_queue(conn, principal.user_id)  # a running step ends first
        receipt = await db.erase_user(conn, principal.user_id)
    if receipt is None:
        raise NotFound("this account no longer exists")
    return Erased(receipt=receipt)


async def set_paused(conn: Conn, principal: Principal, *, paused: bool) -> bool:
    """Pause (or resume) recording: new fixes are refused with status ``paused``, nothing is
    deleted. Idempotent; only a change is audited. Returns the new state."""
    async with conn.transaction():
        changed = await (db.pause if paused else db.resume)(conn, principal.user_id)
        if changed:
            await audit(
                conn,
                Actor.tester(principal.user_id),
                "recording.pause" if paused else "recording.resume",
                subject=principal.user_id,
            )
    return paused


async def set_hidden(conn: Conn, principal: Principal, trip_id: uuid.UUID, *, hidden: bool) -> None:
    """Hide a trip from coaching and sharing (or show it again); it stays hidden when recomputed."""
    async with conn.transaction():
        # A step running for this tester replaces the trip's row under the same id: wait for it
        # (else the row it deleted answered 404 for a trip that is there), as deleting a trip does.
        await hold_tester_queue(conn, principal.user_id)
        await enter(conn, principal.role)
        changed = await (db.hide_trip if hidden else db.unhide_trip)(conn, trip_id)
        if changed is None:
            raise NotFound("no such trip")
        await leave(conn)
        if not changed:  # hiding twice is harmless, and audited once (like pausing)
            return
        await carpool.forget_removed(conn, _tester(principal), now=datetime.now(UTC))
        await audit(
            conn,
            Actor.tester(principal.user_id),
            "trip.hide" if hidden else "trip.unhide",
            subject=principal.user_id,
        )
