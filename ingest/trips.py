"""Reading a tester's trips and confirming a section's mode."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from core.co2 import footprint_kg
from core.co2.modes import Mode
from core.coaching import occupants_for
from core.errors import NotFound, Unprocessable
from core.history import ASK_BELOW, AUDIT_SHARE, DEFAULT_HISTORY, AnswerWeighing, answer_weighing
from ingest import coaching
from store import coaching as coaching_db
from store import fixes as fixes_db
from store import trips as trips_db
from store.partition import Conn, as_user
from store.testers import Principal

MAX_TRIPS = 500


async def list_trips(
    conn: Conn,
    principal: Principal,
    start: datetime,
    end: datetime,
    limit: int,
    *,
    hidden: bool = False,
    to_confirm: bool = False,
    ask_below: float = ASK_BELOW,
    audit_share: float = AUDIT_SHARE,
) -> list[trips_db.TripOut]:
    if end <= start:
        raise Unprocessable("'to' must be after 'from'")
    async with as_user(conn, principal.role):
        return await trips_db.trips_between(
            conn,
            start,
            end,
            limit=min(max(limit, 1), MAX_TRIPS),
            hidden=hidden,
            to_confirm=to_confirm,
            ask_below=ask_below,
            audit_share=audit_share,
        )


async def get_trip(
    conn: Conn,
    principal: Principal,
    trip_id: uuid.UUID,
    *,
    ask_below: float = ASK_BELOW,
    audit_share: float = AUDIT_SHARE,
) -> trips_db.TripOut:
    async with as_user(conn, principal.role):
        found = await trips_db.trip(conn, trip_id, ask_below=ask_below, audit_share=audit_share)
    if found is None:
        raise NotFound("no such trip")
    return found


async def answers(conn: Conn, principal: Principal) -> AnswerWeighing:
    """What the caller's answers count for in their history (:func:`core.history.answer_weighing`),
    over the answers the pipeline reads (the latest per section, the most recent
    ``max_confirmations``), as it weighs them."""
    async with as_user(conn, principal.role):
        return await answers_here(conn)


async def answers_here(conn: Conn) -> AnswerWeighing:
    """:func:`answers` for the tester whose partition ``conn`` is in."""
    mine = await trips_db.confirmations(conn, DEFAULT_HISTORY.max_confirmations, 0)
    return answer_weighing(mine, DEFAULT_HISTORY.agreement_pseudocount)


async def confirm_mode(
    conn: Conn,
    principal: Principal,
    section_id: uuid.UUID,
    mode: str,
    *,
    ask_below: float = ASK_BELOW,
    audit_share: float = AUDIT_SHARE,
) -> trips_db.SectionRow:
    """Set the mode the tester confirms: kept as a label, footprint recomputed at once. The label
    keeps why the section was to confirm (``ask_below``, ``audit_share``; migration 0028). An id a
    step has since replaced (the section's ends moved) confirms the section shown now that overlaps
    its time most (:func:`_superseded`), which is returned: the app learns its current id.

    The tester's trips from ``revisit_days`` before the section on are queued for reprocessing, in
    the same transaction, so that their other sections on the same route take the confirmation
    into account (:mod:`core.history`); the worker picks them up within seconds."""
    try:
        m = Mode(mode)
    except ValueError as exc:
        sent = mode if len(mode) <= 40 else f"{mode[:40]}..."  # not a megabyte echoed back
        raise Unprocessable(f"unknown mode {sent!r}; known: {', '.join(x.value for x in Mode)}") from exc
    async with conn.transaction():
        # The tester's queue row first, as the pipeline takes it: a step running for this tester
        # (it holds the row, then rewrites the sections) is waited for, never deadlocked with.
        await coaching_db.hold_tester_queue(conn, principal.user_id)
        return await _confirm(conn, principal, section_id, m, asking=(ask_below, audit_share))


async def confirm_trip(
    conn: Conn,
    principal: Principal,
    trip_id: uuid.UUID,
    *,
    ask_below: float = ASK_BELOW,
    audit_share: float = AUDIT_SHARE,
) -> trips_db.TripOut:
    """The tester says the trip's modes are right as shown: every section not yet confirmed is
    confirmed with the mode it shows, as ``PATCH /v1/sections/{id}`` with that mode would, all in
    one transaction. The trip as it then is."""
    async with conn.transaction():
        await coaching_db.hold_tester_queue(conn, principal.user_id)
        async with as_user(conn, principal.role):
            shown = await trips_db.unconfirmed_sections(conn, trip_id)
            if shown is None:
                raise NotFound("no such trip")
            await _keep_confirmations(
                conn, [(s, Mode(s.mode)) for s in shown], asking=(ask_below, audit_share)
            )
            confirmed = await trips_db.trip(conn, trip_id, ask_below=ask_below, audit_share=audit_share)
            assert confirmed is not None  # held since unconfirmed_sections read it: not hidden since
    return confirmed


async def _confirm(
    conn: Conn, principal: Principal, section_id: uuid.UUID, m: Mode, *, asking: tuple[float, float]
) -> trips_db.SectionRow:
    async with as_user(conn, principal.role):
        section = await trips_db.section(conn, section_id) or await _superseded(conn, section_id)
        await _keep_confirmations(conn, [(section, m)], asking=asking)
        updated = await trips_db.section(conn, section.id)
    assert updated is not None
    return updated


async def _superseded(conn: Conn, section_id: uuid.UUID) -> trips_db.SectionRow:
    """The section an answer sent with an id a step has since replaced is about (late fixes moved
    the section's ends: migration 0034): of the sections shown now, the one that overlaps most the
    time span the id had. The answer confirms it as it now is, as if sent with its current id: the
    label covers it, and not the rest of the former span (late fixes that showed a bike ride at
    the start of what was one car ride leave the bike ride as inferred, not "car"; a label over the
    former span made it "car" at the next step), nor only that span (once a section had more than
    doubled, a label over its former span decided nothing). NotFound for an id never had or
    forgotten, or whose time no section shown now overlaps (a stay, a hidden trip)."""
    was = await trips_db.superseded_section(conn, section_id)
    if was is None:
        raise NotFound("no such section")
    if was.now is None:
        raise NotFound("the section was replaced, and no section shown now covers its time")
    return was.now


async def _keep_confirmations(
    conn: Conn, confirmed: list[tuple[trips_db.SectionRow, Mode]], *, asking: tuple[float, float]
) -> None:
    """Keep each section's confirmed mode as a label with its footprint, and queue the tester's
    trips from ``revisit_days`` before the first of them for reprocessing. Inside the tester's
    partition; the vehicle profile and the registry are read once for all of them. ``asking``
    holds the deployment's ``ask_below`` and ``audit_share``: each label keeps why its section was
    to confirm."""
    ask_below, audit_share = asking
    if not confirmed:
        return
    profile = await trips_db.vehicle_profile(conn)
    registry = await coaching.adopted_registry(conn)
    for section, m in confirmed:
        occupants = occupants_for(section.occupants, profile)
        fp = footprint_kg(m, section.distance_m, profile, registry, occupants=occupants)
        await trips_db.confirm_mode(
            conn,
            section,
            m.value,
            (fp.kg, fp.factor_key, fp.registry_version),
            ask_below=ask_below,
            audit_share=audit_share,
        )
    revisit = timedelta(days=DEFAULT_HISTORY.revisit_days)
    first = min(section.started_at for section, _ in confirmed)
    last = max(section.ended_at for section, _ in confirmed)
    await fixes_db.mark_my_dirty(conn, first - revisit, last)
