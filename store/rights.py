"""Testers' rights in SQL: the audit log, pause, erasure, deletions, hiding, retention.

Statements are in ``sql/rights.sql`` (shared schema, run as the API's login) and
``sql/partition/rights.sql`` (run inside :func:`store.partition.as_user`). The privileged steps
(appending to the audit log, erasing an account, dropping chunks) are SECURITY DEFINER functions
of migration 0006: the API's login holds no privilege on the audit table and cannot rewrite it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

import msgspec

from store.partition import Conn
from store.queries import queries

AuditValue = str | int | bool | None

_json = msgspec.json.Encoder()


def _q(name: str) -> str:
    return queries("rights")[name]


def _p(name: str) -> str:
    return queries("partition/rights")[name]


class ActorKind(StrEnum):
    TESTER = "tester"
    OPERATOR = "operator"
    SYSTEM = "system"


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who acts: a tester (their user id, pseudonymised when written), an operator's login name,
    or a scheduled job's name."""

    kind: ActorKind
    id: str

    @classmethod
    def tester(cls, user_id: uuid.UUID) -> Actor:
        return cls(kind=ActorKind.TESTER, id=str(user_id))

    @classmethod
    def operator(cls, name: str) -> Actor:
        return cls(kind=ActorKind.OPERATOR, id=name)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(kind=ActorKind.SYSTEM, id=name)


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: datetime
    actor_kind: str
    action: str
    detail: dict[str, AuditValue]


async def audit(
    conn: Conn,
    actor: Actor,
    action: str,
    *,
    subject: uuid.UUID | None = None,
    detail: Mapping[str, AuditValue] | None = None,
) -> int:
    """Append one entry to the audit log (in the caller's transaction, if any); returns its id.

    ``action`` is dotted lower case (``export.download``, ``campaign.create``); ``subject`` is
    the tester concerned (pseudonymised in SQL); ``detail`` is flat and holds strings, integers
    and booleans only: no float can carry a coordinate, and the table refuses position-like keys.
    Call it outside a tester's partition (as the API's login).
    """
    values = dict(detail or {})
    for key, value in values.items():
        if isinstance(value, float) or not isinstance(value, str | int | bool | type(None)):
            raise TypeError(f"audit detail {key!r} must be a string, integer, boolean or null")
    entry_id: int = await conn.fetchval(
        _q("audit"), actor.kind.value, actor.id, action, subject, _json.encode(values).decode()
    )
    return entry_id


async def audit_about(conn: Conn, user_id: uuid.UUID) -> list[AuditEntry]:
    rows = await conn.fetch(_q("audit_about"), user_id)
    return [
        AuditEntry(
            id=r["id"],
            at=r["at"],
            actor_kind=r["actor_kind"],
            action=r["action"],
            detail=msgspec.json.decode(r["detail"]) if isinstance(r["detail"], str) else dict(r["detail"]),
        )
        for r in rows
    ]


async def pseudonym(conn: Conn, user_id: uuid.UUID) -> str:
    """The tester's audit pseudonym (HMAC of their id with the deployment's secret)."""
    value: str = await conn.fetchval(_q("pseudonym"), user_id)
    return value


async def pause(conn: Conn, user_id: uuid.UUID) -> bool:
    """Stop storing the tester's new fixes; False if they were already paused."""
    return await conn.fetchval(_q("pause"), user_id) is not None


async def resume(conn: Conn, user_id: uuid.UUID) -> bool:
    """Store their fixes again; False if they were not paused."""
    return await conn.fetchval(_q("resume"), user_id) is not None


async def erase_user(conn: Conn, user_id: uuid.UUID) -> str | None:
    """Erase the tester (rows, partition, role; audit entries re-keyed): the erasure receipt.
    Inside a transaction: it first waits for the transactions in the tester's partition (a
    request, an export, a pipeline step) to end, and keeps new ones out until it commits; they
    then find the tester gone (``store.partition.ACCOUNT_GONE``), never a table dropped under them."""
    await conn.execute(_q("hold_against_entries"), user_id)
    receipt: str | None = await conn.fetchval(_q("erase_user"), user_id)
    return receipt


class RangeDeleted(msgspec.Struct, frozen=True, kw_only=True):
    """What a deletion removed from the partition, by table (sections go with their trips)."""

    fixes: int
    trips: int
    stays: int
    labels: int
    hidden_trips: int


class TripBounds(msgspec.Struct, frozen=True, kw_only=True):
    started_at: datetime
    ended_at: datetime
    # A stay or trip ends where this one starts (around a flight or a ride across a gap): that fix
    # is theirs too. ``shares_end`` the same at its end, the open tail (the watermark) included.
    shares_start: bool
    shares_end: bool


async def trip_bounds(conn: Conn, trip_id: uuid.UUID) -> TripBounds | None:
    row = await conn.fetchrow(_p("trip_bounds"), trip_id)
    return None if row is None else msgspec.convert(dict(row), TripBounds)


async def delete_range(conn: Conn, start: datetime, end: datetime) -> RangeDeleted:
    """Delete the fixes of [start, end) and everything derived from any of them (in the partition)."""

    async def n(name: str) -> int:
        count: int = await conn.fetchval(_p(name), start, end)
        return count

    # Not counted, like the sections they were: their ids and times go with the trips.
    await conn.execute(_p("delete_superseded_overlapping"), start, end)
    return RangeDeleted(
        fixes=await n("delete_fixes"),
        trips=await n("delete_trips_overlapping"),
        stays=await n("delete_stays_overlapping"),
        labels=await n("delete_labels_overlapping"),
        hidden_trips=await n("delete_hidden_within"),
    )


async def remember_deleted(conn: Conn, start: datetime, end: datetime) -> None:
    """Keep a deleted trip's interval: the pipeline builds no trip across it (migration 0019)."""
    await conn.execute(_p("remember_deleted"), start, end)


async def hide_trip(conn: Conn, trip_id: uuid.UUID) -> bool | None:
    """Hide the trip and remember its interval: whether that changed anything (False: it was
    hidden already), None if there is no such trip."""
    row = await conn.fetchrow(_p("hide_trip"), trip_id)
    if row is None:
        return None
    await conn.execute(_p("remember_hidden"), row["started_at"], row["ended_at"])
    return not row["was_hidden"]


async def unhide_trip(conn: Conn, trip_id: uuid.UUID) -> bool | None:
    """Show the trip again: whether that changed anything, None if there is no such trip."""
    row = await conn.fetchrow(_p("unhide_trip"), trip_id)
    if row is None:
        return None
    await forget_hidden(conn, row["started_at"], row["ended_at"])
    return bool(row["was_hidden"])


async def forget_hidden(conn: Conn, start: datetime, end: datetime) -> int:
    """Forget the hidden intervals of the trip of [start, end] (none of the trips it only touches);
    how many there were."""
    n: int = await conn.fetchval(_p("forget_hidden"), start, end)
    return n


class RetentionTarget(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    role: str
    fixes_retention_days: int | None
    trips_retention_days: int | None


async def retention_targets(conn: Conn) -> list[RetentionTarget]:
    rows = await conn.fetch(_q("retention_targets"))
    return [
        RetentionTarget(
            user_id=r["id"],
            role=r["role_name"],
            fixes_retention_days=r["fixes_retention_days"],
            trips_retention_days=r["trips_retention_days"],
        )
        for r in rows
    ]


async def drop_fix_chunks(conn: Conn, role: str, older_than: datetime) -> int:
    """Drop the chunks of the tester's fixes entirely before ``older_than`` (as the API's login)."""
    n: int = await conn.fetchval(_q("drop_fix_chunks"), role, older_than)
    return n


async def delete_fixes_before(conn: Conn, cutoff: datetime) -> int:
    """Delete the fixes before ``cutoff`` and freeze what was derived from them (the pipeline will
    not rebuild before the first stay or trip that began at or after it: migration 0018)."""
    n: int = await conn.fetchval(_p("fixes_before"), cutoff)
    await conn.execute(_p("freeze_before"), cutoff)
    return n


class DerivedDeleted(msgspec.Struct, frozen=True, kw_only=True):
    trips: int
    stays: int
    labels: int
    hidden_trips: int
    deleted_trips: int


async def delete_derived_before(conn: Conn, cutoff: datetime) -> DerivedDeleted:
    """Delete trips (with sections), stays, labels, and hidden and deleted trips' intervals, that
    ended before ``cutoff``, with the ids of sections a step replaced there (uncounted, like the
    sections)."""

    async def n(name: str) -> int:
        count: int = await conn.fetchval(_p(name), cutoff)
        return count

    await conn.execute(_p("superseded_before"), cutoff)
    return DerivedDeleted(
        trips=await n("trips_before"),
        stays=await n("stays_before"),
        labels=await n("labels_before"),
        hidden_trips=await n("hidden_before"),
        deleted_trips=await n("deleted_trips_before"),
    )
