"""Carpool matching use cases: offers per tester, matching, answers, confirmed carpools, corridors.

The run (``sillage carpool match``, or :func:`scheduled_run` from the app):

1. for each tester consenting to ``carpool_matching``, in their own role and transaction: read
   their recent sections and stays, find their recurring trips (core.coaching), reduce them to
   offers (core.carpool.offers) and replace their rows in ``sillage.carpool_offers`` (row-level
   security: a tester role writes only its own rows);
2. as the API login, in one transaction: drop offers whose consent was revoked, match the rest
   with a spatial index (core.carpool.matching) and replace the proposals; declined and blocked
   pairs are excluded;
3. for testers with a confirmed (mutual) match: mark their car sections on the shared commute as
   carpools (occupants 2) and recompute their footprint.

What a tester sees is re-checked against both testers' consents at every request.

A run is idempotent: offers and proposals are replaced whole, a match's id is derived from its two
testers (so answers, kept by match id, survive every run) and a section already counted as a
carpool is left alone. Runs take a lock: a run that finds another under way is refused (the API's
scheduled run skips), since two at once collide on the offers' and proposals' keys.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

import msgspec

from core.carpool import (
    DEFAULT_MATCH_PARAMS,
    DEFAULT_OFFER_PARAMS,
    CarpoolSectionParams,
    CorridorContribution,
    MatchParams,
    OfferParams,
    Proposal,
    SharedCommute,
    carpool_sections,
    corridor_contributions,
    match_offers,
    offers_from_trips,
)
from core.carpool.corridors import ZoneOf
from core.co2 import VehicleProfile, factor_key_for
from core.co2.modes import Mode
from core.co2.registry import Registry
from core.coaching import guess_places, recompute_section, recurring_trips, trips_from_sections
from core.errors import ConfigurationError, Conflict, NotFound, Unauthorized
from ingest.coaching import adopted_registry
from store import carpool as db
from store import trips as trips_db
from store.partition import Conn, as_user
from store.pool import Database
from store.testers import Principal

log = logging.getLogger("sillage.carpool")

INTERESTED = "interested"
DECLINED = "declined"
BLOCKED = "blocked"


class RunUnderWay(Conflict):
    """Another matching run holds the lock (:func:`run`)."""


class CarpoolRun(msgspec.Struct, frozen=True, kw_only=True):
    testers: int
    offers: int
    proposals: int
    carpool_sections: int


async def _vehicle(conn: Conn) -> VehicleProfile:
    try:
        return await trips_db.vehicle_profile(conn)
    except ConfigurationError:
        return VehicleProfile()  # a profile the coaching API would refuse: price with the defaults


async def refresh_offers(
    conn: Conn,
    tester: db.Tester,
    *,
    now: datetime,
    registry: Registry,
    params: OfferParams = DEFAULT_OFFER_PARAMS,
) -> int:
    """Recompute one tester's offers from their recurring trips, inside their own role."""
    can_drive = await db.declared_can_drive(conn, tester.user_id)
    since = now - timedelta(days=params.lookback_days)
    async with as_user(conn, tester.role):
        trips = trips_from_sections(await db.sections_since(conn, since))
        places = guess_places(await db.stays_since(conn, since))
        recurring = sorted(recurring_trips(trips, places), key=lambda r: r.commute is None)
        profile = await _vehicle(conn)
        car = registry.factor(factor_key_for(Mode.CAR, 0.0, profile, registry))
        offers = offers_from_trips(
            tester.user_id,
            trips,
            recurring,
            can_drive=can_drive,
            car_kg_per_km=car.kg_per_km,
            params=params,
        )
        await db.replace_my_offers(conn, offers, now)
    return len(offers)


async def forget_removed(conn: Conn, tester: db.Tester, *, now: datetime) -> bool:
    """Bring what matching derived from a tester's trips up to date at once, after they deleted
    some (a trip, a time range) or hid or showed one: else their offers (home and work to 100 m,
    the times, the weekdays), the copy in their export and their partners' matches kept what was
    deleted until the next run (a day by default). Their offers are rebuilt from what remains
    (none without the consent). When that changes them, the proposals that involve them are
    withdrawn: the next run proposes again what the offers still support, under the same ids, with
    the answers given (kept by match id). A run under way meanwhile may still propose from what it
    read before; its next run does not. True when the offers changed. Inside the caller's
    transaction, as the API's login."""
    async with as_user(conn, tester.role):
        before = await db.my_offers(conn, tester.user_id)
    if await db.consents_to_matching(conn, tester.user_id):
        await refresh_offers(conn, tester, now=now, registry=await adopted_registry(conn))
    else:
        async with as_user(conn, tester.role):
            await db.replace_my_offers(conn, [], now)
    async with as_user(conn, tester.role):
        changed = await db.my_offers(conn, tester.user_id) != before
    if changed:
        await db.withdraw_matches(conn, tester.user_id)
    return changed


async def match(conn: Conn, *, now: datetime, params: MatchParams = DEFAULT_MATCH_PARAMS) -> list[Proposal]:
    """Match every consenting tester's offers and replace the proposals, in one transaction."""
    async with conn.transaction():
        await db.purge_offers_without_consent(conn)
        offers = await db.consented_offers(conn)
        proposals = match_offers(offers, params, excluded=await db.excluded_matches(conn))
        await db.replace_matches(conn, proposals, now)
    return proposals


async def apply_confirmed_carpools(
    conn: Conn,
    tester: db.Tester,
    *,
    registry: Registry,
    params: CarpoolSectionParams | None = None,
) -> int:
    """Count the tester's car trips on a confirmed shared commute as carpools (occupants 2) and
    recompute their footprint; returns how many sections changed. Idempotent.

    Call it after the pipeline has (re)built a tester's sections (reprocessing recreates them
    with one occupant) and after a match becomes mutual; :func:`run` does it for everyone."""
    confirmed = await db.confirmed_matches(conn, tester.user_id)
    if not confirmed:
        return 0
    async with as_user(conn, tester.role):
        own = {o.seq: o for o in await db.my_offers(conn, tester.user_id)}
        commutes = [
            SharedCommute(
                origin=own[seq].origin,
                destination=own[seq].destination,
                weekdays=leg.weekdays,
                depart_from_min=leg.depart_from_min,
                depart_to_min=leg.depart_to_min,
                since=m.since,
            )
            for m in confirmed
            for leg in m.legs
            if (seq := leg.low_seq if m.i_am_low else leg.high_seq) in own
        ]
        if not commutes:
            return 0
        sections = await db.sections_since(conn, min(c.since for c in commutes))
        changed = carpool_sections(sections, commutes, params or CarpoolSectionParams())
        profile = await _vehicle(conn)
        for s in changed:
            _, fp = recompute_section(s, profile, registry)
            await db.set_section_occupants(
                conn, s.section_id, s.occupants, (fp.kg, fp.factor_key, fp.registry_version)
            )
    return len(changed)


async def run(
    conn: Conn,
    *,
    now: datetime,
    offer_params: OfferParams = DEFAULT_OFFER_PARAMS,
    match_params: MatchParams = DEFAULT_MATCH_PARAMS,
) -> CarpoolRun:
    """The whole run (module docstring): offers, matching, confirmed carpools. Refused
    (:class:`RunUnderWay`) while another run holds the lock."""
    async with db.run_lock(conn) as taken:
        if not taken:
            raise RunUnderWay("another carpool matching run is under way; try again when it ends")
        registry = await adopted_registry(conn)
        testers = await db.consenting_testers(conn)
        offers = 0
        for tester in testers:
            with contextlib.suppress(Unauthorized):  # erased since the list was read: nothing to offer
                offers += await refresh_offers(conn, tester, now=now, registry=registry, params=offer_params)
        proposals = await match(conn, now=now, params=match_params)
        marked = 0
        for tester in await db.testers_with_confirmed_matches(conn):
            with contextlib.suppress(Unauthorized):  # erased meanwhile: their matches went with them
                marked += await apply_confirmed_carpools(conn, tester, registry=registry)
    return CarpoolRun(testers=len(testers), offers=offers, proposals=len(proposals), carpool_sections=marked)


async def scheduled_run(database: Database, *, now: datetime) -> CarpoolRun | None:
    """The hook for the app's scheduler (e.g. nightly): one pooled connection, one :func:`run`;
    None when another process's run was under way (every API worker schedules one at start-up)."""
    async with database.connection() as conn:
        try:
            return await run(conn, now=now)
        except RunUnderWay as exc:
            log.info("no carpool matching run", extra={"reason": exc.detail})
            return None


# ---- a tester's own matches -------------------------------------------------------------------


async def list_matches(conn: Conn, principal: Principal) -> list[db.MatchRow]:
    return await db.visible_matches(conn, principal.user_id)


async def _visible(conn: Conn, principal: Principal, match_id: uuid.UUID) -> db.MatchRow:
    found = await db.visible_matches(conn, principal.user_id, match_id)
    if not found:
        raise NotFound("no such match")
    return found[0]


async def express_interest(conn: Conn, principal: Principal, match_id: uuid.UUID) -> db.MatchRow:
    """Say yes to a match. Contact details are exchanged only once both testers said yes, so the
    caller must first choose what to show (``PUT /v1/me/carpool``)."""
    async with conn.transaction():
        await _visible(conn, principal, match_id)  # 404 first: someone else's match is not there
        if await db.get_profile(conn, principal.user_id) is None:
            raise Conflict("choose a display name and a contact to share first (PUT /v1/me/carpool)")
        await db.respond(conn, match_id, principal.user_id, INTERESTED)
    return await _visible(conn, principal, match_id)


async def refuse(conn: Conn, principal: Principal, match_id: uuid.UUID, *, block: bool) -> None:
    """Decline (or block) a match: it disappears for both testers and never comes back."""
    async with conn.transaction():
        await _visible(conn, principal, match_id)
        await db.respond(conn, match_id, principal.user_id, BLOCKED if block else DECLINED)


async def set_profile(
    conn: Conn, principal: Principal, *, display_name: str, contact: str, can_drive: bool | None
) -> db.CarpoolProfile:
    return await db.upsert_profile(conn, principal.user_id, display_name, contact, can_drive)


async def get_profile(conn: Conn, principal: Principal) -> db.CarpoolProfile:
    found = await db.get_profile(conn, principal.user_id)
    if found is None:
        raise NotFound("no carpool profile yet (PUT /v1/me/carpool)")
    return found


# ---- the agglomeration ------------------------------------------------------------------------


async def corridors(
    conn: Conn, zone_of: ZoneOf, *, band_min: int = 60, among: Collection[uuid.UUID] | None = None
) -> list[CorridorContribution]:
    """Per tester, corridor (zone to zone, in the release's zones) and time band: potential matches
    and the CO2 they would save, for testers who consent to both carpool matching and shared
    aggregates; with ``among``, only from the pairs whose two testers are both in it (a campaign's
    release: matching pairs testers across campaigns, and a partner from another campaign did not
    agree to share with this one's team). Input for the sharing release (k-threshold, bounding and
    noise are its job)."""
    proposals: Sequence[Proposal] = await db.live_proposals(conn)
    ends = {(o.user_id, o.seq): (o.origin, o.destination) for o in await db.consented_offers(conn)}
    sharing = await db.sharing_testers(conn)
    if among is not None:
        sharing &= set(among)
    return corridor_contributions(proposals, ends, zone_of, sharing, band_min=band_min)
