"""A tester's consents: read them, grant or revoke them, with the history kept.

Revoking ``share_aggregates`` excludes the tester from every release computed afterwards (a
release locks the consent rows it relies on, so a revocation either precedes it and is honoured,
or waits for it and counts from the next one). What was already released stays: it is anonymous
and cannot be traced back to anyone, so nothing can be withdrawn from it; the app is told so in
each purpose's ``revoke_notice`` before the tester confirms. ``coaching`` is what taking part
means: it is revoked only by leaving (``DELETE /v1/me``, which erases the tester's data).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec

from core.errors import Conflict, Unprocessable
from ingest.testers import CURRENT_TERMS, PURPOSES, check_terms_version
from store import carpool as carpool_db
from store import sharing as db
from store import testers as testers_db
from store.partition import Conn, keep_tester, tester_role
from store.rights import Actor, audit

LEAVE_ENDPOINT = "DELETE /v1/me"

REVOKE_NOTICES = {
    "coaching": (
        "Coaching is what taking part means and cannot be revoked on its own: to stop, leave the "
        f"experiment ({LEAVE_ENDPOINT}), which erases your data."
    ),
    "share_aggregates": (
        "You will be left out of every release of aggregates from now on. Aggregates already "
        "released stay published: they are anonymous, nobody can single out your part in them, so "
        "it cannot be taken out."
    ),
    "research_labels": "Your confirmed modes will no longer be used to improve the mode model.",
    "carpool_matching": "You will no longer be suggested for, or shown, carpool matches.",
}


class ConsentState(msgspec.Struct, frozen=True, kw_only=True):
    purpose: str
    granted: bool
    terms_version: str | None
    granted_at: datetime | None
    revoked_at: datetime | None
    revoke_notice: str


class ConsentChange(msgspec.Struct, frozen=True, kw_only=True):
    purpose: str
    granted: bool
    terms_version: str = CURRENT_TERMS


def _states(rows: Sequence[db.ConsentRow]) -> list[ConsentState]:
    by_purpose = {r.purpose: r for r in rows}
    out = []
    for p in PURPOSES:
        r = by_purpose.get(p)
        out.append(
            ConsentState(
                purpose=p,
                granted=r is not None and r.revoked_at is None,
                terms_version=None if r is None else r.terms_version,
                granted_at=None if r is None else r.granted_at,
                revoked_at=None if r is None else r.revoked_at,
                revoke_notice=REVOKE_NOTICES[p],
            )
        )
    return out


async def consent_states(conn: Conn, user_id: uuid.UUID) -> tuple[list[ConsentState], list[db.ConsentEvent]]:
    """Every purpose's state and the full history of grants and revocations."""
    async with conn.transaction():
        rows = await db.consents_for_update(conn, user_id)
        history = await db.consent_history(conn, user_id)
    return _states(rows), history


def _check(changes: Sequence[ConsentChange]) -> None:
    for c in changes:  # a text out of bounds (400) before a name unknown or repeated (422)
        check_terms_version(c.terms_version)
    seen: set[str] = set()
    for c in changes:
        if c.purpose not in PURPOSES:
            raise Unprocessable(f"unknown consent purpose {c.purpose!r}; known: {', '.join(PURPOSES)}")
        if c.purpose in seen:
            raise Unprocessable(f"consent purpose {c.purpose!r} given twice")
        seen.add(c.purpose)
        if c.purpose == "coaching" and not c.granted:
            raise Conflict(REVOKE_NOTICES["coaching"], leave=LEAVE_ENDPOINT)


async def _audited(conn: Conn, user_id: uuid.UUID, action: str, change: ConsentChange) -> None:
    """The audit entry of one consent change (it outlives the consent rows, which erasure deletes)."""
    detail = {"purpose": change.purpose}
    if change.granted:
        detail["terms_version"] = change.terms_version
    await audit(conn, Actor.tester(user_id), action, subject=user_id, detail=detail)


async def change_consents(
    conn: Conn, user_id: uuid.UUID, changes: Sequence[ConsentChange], *, now: datetime
) -> tuple[list[ConsentState], list[db.ConsentEvent]]:
    """Apply the listed changes (others are left as they are) in one transaction.

    Granting what is already granted under the same terms changes nothing; granting under new
    terms records a new grant.
    """
    _check(changes)
    async with conn.transaction():
        # The tester's erasure waits for this transaction: else it deleted the consent rows locked
        # here while this one waited for the tester's row it locked (a deadlock, one side a 503).
        await keep_tester(conn, tester_role(user_id))
        current = {r.purpose: r for r in await db.consents_for_update(conn, user_id)}
        for c in changes:
            row = current.get(c.purpose)
            in_force = row is not None and row.revoked_at is None
            if c.granted:
                if not (in_force and row is not None and row.terms_version == c.terms_version):
                    await testers_db.grant_consent(conn, user_id, c.purpose, c.terms_version, now)
                    await _audited(conn, user_id, "consent.grant", c)
            elif in_force:
                await db.revoke_consent(conn, user_id, c.purpose, now)
                if c.purpose == "carpool_matching":
                    await carpool_db.leave_matching(conn, user_id)
                await _audited(conn, user_id, "consent.revoke", c)
        rows = await db.consents_for_update(conn, user_id)
        history = await db.consent_history(conn, user_id)
    return _states(rows), history
