"""Carpool matches: ``GET /v1/matches``, ``POST /v1/matches/{id}/interest|decline|block`` and
``GET|PUT /v1/me/carpool``.

A match shows only approximate zones (grid cells), weekdays, a departure window, the role and
what each tester would save per year: never a coordinate. The partner's chosen name and contact
appear only once both testers said yes; a match disappears for both as soon as either declines,
blocks or revokes their ``carpool_matching`` consent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from litestar import get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from api.deps import Caller, DbConn
from api.openapi import own_problems
from core.carpool import DEFAULT_MATCH_PARAMS, Side, clock, weekday_names
from ingest import carpool
from ingest.testers import require_text
from store.carpool import CarpoolProfile, MatchRow


class Role(StrEnum):
    DRIVER = "driver"
    PASSENGER = "passenger"


class MatchStatus(StrEnum):
    PROPOSED = "proposed"  # the caller has not answered
    INTERESTED = "interested"  # the caller said yes; the partner has not (or not yet)
    MUTUAL = "mutual"  # both said yes: contact details are shown


class LegOut(msgspec.Struct, frozen=True, kw_only=True):
    role: Role
    origin_zone: str
    destination_zone: str
    weekdays: list[str]
    depart_from: str  # local time, HH:MM
    depart_to: str
    your_co2_saved_kg_per_year: float
    partner_co2_saved_kg_per_year: float
    your_money_saved_eur_per_year: float
    partner_money_saved_eur_per_year: float


class ContactOut(msgspec.Struct, frozen=True, kw_only=True):
    display_name: str
    contact: str


class MatchOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: MatchStatus
    legs: list[LegOut]
    your_co2_saved_kg_per_year: float
    your_money_saved_eur_per_year: float
    partner_co2_saved_kg_per_year: float
    partner_money_saved_eur_per_year: float
    zone_size_m: float
    partner: ContactOut | None


DISPLAY_NAME_MAX_CHARS = 60
CONTACT_MAX_CHARS = 200


class CarpoolProfileIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=DISPLAY_NAME_MAX_CHARS)]
    contact: Annotated[str, msgspec.Meta(min_length=1, max_length=CONTACT_MAX_CHARS)]
    can_drive: bool | None = None


class CarpoolProfileOut(msgspec.Struct, frozen=True, kw_only=True):
    display_name: str
    contact: str
    can_drive: bool | None
    updated_at: datetime


def _match_out(m: MatchRow) -> MatchOut:
    legs = []
    for leg in m.legs:
        mine = Side.LOW if m.i_am_low else Side.HIGH
        co2 = (leg.low_co2_kg_per_year, leg.high_co2_kg_per_year)
        eur = (leg.low_eur_per_year, leg.high_eur_per_year)
        if not m.i_am_low:
            co2, eur = co2[::-1], eur[::-1]
        legs.append(
            LegOut(
                role=Role.DRIVER if leg.driver is mine else Role.PASSENGER,
                origin_zone=leg.origin_zone,
                destination_zone=leg.destination_zone,
                weekdays=weekday_names(leg.weekdays),
                depart_from=clock(leg.depart_from_min),
                depart_to=clock(leg.depart_to_min),
                your_co2_saved_kg_per_year=round(co2[0], 1),
                partner_co2_saved_kg_per_year=round(co2[1], 1),
                your_money_saved_eur_per_year=round(eur[0]),
                partner_money_saved_eur_per_year=round(eur[1]),
            )
        )
    status = (
        MatchStatus.MUTUAL
        if m.mutual
        else MatchStatus.INTERESTED
        if m.my_response == carpool.INTERESTED
        else MatchStatus.PROPOSED
    )
    partner = (
        ContactOut(display_name=m.partner_name, contact=m.partner_contact)
        if m.mutual and m.partner_name is not None and m.partner_contact is not None
        else None
    )
    return MatchOut(
        id=m.id,
        status=status,
        legs=legs,
        your_co2_saved_kg_per_year=round(sum(leg.your_co2_saved_kg_per_year for leg in legs), 1),
        your_money_saved_eur_per_year=round(sum(leg.your_money_saved_eur_per_year for leg in legs)),
        partner_co2_saved_kg_per_year=round(sum(leg.partner_co2_saved_kg_per_year for leg in legs), 1),
        partner_money_saved_eur_per_year=round(sum(leg.partner_money_saved_eur_per_year for leg in legs)),
        zone_size_m=DEFAULT_MATCH_PARAMS.zones.cell_m,
        partner=partner,
    )


def _profile_out(p: CarpoolProfile) -> CarpoolProfileOut:
    return CarpoolProfileOut(
        display_name=p.display_name, contact=p.contact, can_drive=p.can_drive, updated_at=p.updated_at
    )


@get("/v1/matches", tags=["carpool"], operation_id="listMatches")
async def list_matches(conn: DbConn, principal: Caller) -> list[MatchOut]:
    """The caller's carpool proposals (needs the `carpool_matching` consent; empty otherwise).

    Each shows approximate zones (grid cells of `zone_size_m`), weekdays, the departure window
    (local time), the caller's role per trip and what each tester would save per year (kgCO2e and
    euros). The partner's name and contact appear only when both said yes (`status` "mutual").
    """
    return [_match_out(m) for m in await carpool.list_matches(conn, principal)]


@post(
    "/v1/matches/{match_id:uuid}/interest",
    status_code=HTTP_200_OK,
    tags=["carpool"],
    operation_id="expressInterest",
    opt=own_problems(409),
)
async def interest(match_id: FromPath[uuid.UUID], conn: DbConn, principal: Caller) -> MatchOut:
    """Say yes to a match (409 until the caller has set a display name and contact)."""
    return _match_out(await carpool.express_interest(conn, principal, match_id))


@post(
    "/v1/matches/{match_id:uuid}/decline",
    status_code=HTTP_204_NO_CONTENT,
    tags=["carpool"],
    operation_id="declineMatch",
)
async def decline(match_id: FromPath[uuid.UUID], conn: DbConn, principal: Caller) -> None:
    """Decline a match: it disappears for both testers and is never proposed again."""
    await carpool.refuse(conn, principal, match_id, block=False)


@post(
    "/v1/matches/{match_id:uuid}/block",
    status_code=HTTP_204_NO_CONTENT,
    tags=["carpool"],
    operation_id="blockMatch",
)
async def block(match_id: FromPath[uuid.UUID], conn: DbConn, principal: Caller) -> None:
    """Block a match, also after contact was exchanged: the partner's details and the match
    disappear for both, and the pair is never proposed again."""
    await carpool.refuse(conn, principal, match_id, block=True)


@get("/v1/me/carpool", tags=["carpool"], operation_id="getCarpoolProfile", opt=own_problems(404))
async def get_carpool_profile(conn: DbConn, principal: Caller) -> CarpoolProfileOut:
    """What the caller shows a partner once both said yes (404 until set)."""
    return _profile_out(await carpool.get_profile(conn, principal))


@put("/v1/me/carpool", tags=["carpool"], operation_id="setCarpoolProfile")
async def put_carpool_profile(
    data: JSONBody[CarpoolProfileIn], conn: DbConn, principal: Caller
) -> CarpoolProfileOut:
    """Set the display name and contact (e-mail, phone, ...) shown to a partner only after mutual
    interest, and optionally whether the caller can drive (default: inferred from their trips)."""
    profile = await carpool.set_profile(
        conn,
        principal,
        display_name=require_text(data.display_name, "display_name", max_len=DISPLAY_NAME_MAX_CHARS),
        contact=require_text(data.contact, "contact", max_len=CONTACT_MAX_CHARS),
        can_drive=data.can_drive,
    )
    return _profile_out(profile)


ROUTES = [list_matches, interest, decline, block, get_carpool_profile, put_carpool_profile]
