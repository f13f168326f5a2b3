"""Typed access to carpool offers, matches, answers and profiles (``sql/carpool.sql`` and
``sql/partition/carpool.sql``). Partition functions run inside :func:`store.partition.as_user`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

import msgspec

from core.carpool import Leg, Offer, Proposal
from core.co2.modes import Mode
from core.coaching.records import SectionRecord, StayRecord
from store.locks import advisory_lock
from store.partition import Conn
from store.queries import queries

_legs_encoder = msgspec.json.Encoder()
_legs_decoder = msgspec.json.Decoder(list[Leg])


def _q(name: str) -> str:
    return queries("carpool")[name]


def _p(name: str) -> str:
    return queries("partition/carpool")[name]


class MatchRow(msgspec.Struct, frozen=True, kw_only=True):
    """A match as one tester may see it; partner name and contact only under mutual interest."""

    id: uuid.UUID
    legs: list[Leg]
    i_am_low: bool
    computed_at: datetime
    my_response: str | None
    mutual: bool
    partner_name: str | None
    partner_contact: str | None


class ConfirmedMatch(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    legs: list[Leg]
    i_am_low: bool
    since: datetime


class CarpoolProfile(msgspec.Struct, frozen=True, kw_only=True):
    display_name: str
    contact: str
    can_drive: bool | None
    updated_at: datetime


class Tester(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    role: str


def _offer(user_id: uuid.UUID, r: Any) -> Offer:
    return Offer(
        user_id=user_id,
        seq=r["seq"],
        origin=(r["origin_lat"], r["origin_lon"]),
        destination=(r["destination_lat"], r["destination_lon"]),
        depart_from_min=r["depart_from_min"],
        depart_to_min=r["depart_to_min"],
        weekdays=r["weekdays"],
        distance_m=r["distance_m"],
        usual_co2_kg=r["usual_co2_kg"],
        usual_mode=Mode(r["usual_mode"]),
        can_drive=r["can_drive"],
        car_kg_per_km=r["car_kg_per_km"],
    )


# Shared schema, as the API login ------------------------------------------------------------


async def consenting_testers(conn: Conn) -> list[Tester]:
    return [Tester(user_id=r["id"], role=r["role_name"]) for r in await conn.fetch(_q("consenting_testers"))]


async def testers_with_confirmed_matches(conn: Conn) -> list[Tester]:
    rows = await conn.fetch(_q("testers_with_confirmed_matches"))
    return [Tester(user_id=r["id"], role=r["role_name"]) for r in rows]


async def consents_to_matching(conn: Conn, user_id: uuid.UUID) -> bool:
    granted: bool = await conn.fetchval(_q("consents_to_matching"), user_id)
    return granted


async def withdraw_matches(conn: Conn, user_id: uuid.UUID) -> None:
    await conn.execute(_q("withdraw_matches"), user_id)


async def leave_matching(conn: Conn, user_id: uuid.UUID) -> None:
    await conn.execute(_q("leave_matching"), user_id)


async def declared_can_drive(conn: Conn, user_id: uuid.UUID) -> bool | None:
    value: bool | None = await conn.fetchval(_q("declared_can_drive"), user_id)
    return value


def run_lock(conn: Conn) -> AbstractAsyncContextManager[bool]:
    """The advisory lock held by one matching run at a time across processes (API workers, `sillage
    carpool match`): two runs replacing the same offers and proposals at once collide on their keys.
    Yields whether it was taken, without waiting for it."""
    return advisory_lock(conn, "sillage.carpool", wait=False)


async def purge_offers_without_consent(conn: Conn) -> None:
    await conn.execute(_q("purge_offers_without_consent"))


async def consented_offers(conn: Conn) -> list[Offer]:
    return [_offer(r["user_id"], r) for r in await conn.fetch(_q("consented_offers"))]


async def excluded_matches(conn: Conn) -> set[uuid.UUID]:
    return {r["match_id"] for r in await conn.fetch(_q("excluded_matches"))}


async def replace_matches(conn: Conn, proposals: Sequence[Proposal], at: datetime) -> None:
    """Replace every proposal (call inside a transaction)."""
    await conn.execute(_q("clear_matches"))
    if proposals:
        await conn.executemany(
            _q("insert_match"),
            [
                (p.match_id, p.user_low, p.user_high, _legs_encoder.encode(list(p.legs)).decode(), at)
                for p in proposals
            ],
        )


async def visible_matches(
    conn: Conn, user_id: uuid.UUID, match_id: uuid.UUID | None = None
) -> list[MatchRow]:
    rows = await conn.fetch(_q("visible_matches"), user_id, match_id)
    return [
        MatchRow(
            id=r["id"],
            legs=_legs_decoder.decode(r["legs"]),
            i_am_low=r["i_am_low"],
            computed_at=r["computed_at"],
            my_response=r["my_response"],
            mutual=r["mutual"],
            partner_name=r["partner_name"],
            partner_contact=r["partner_contact"],
        )
        for r in rows
    ]


async def respond(conn: Conn, match_id: uuid.UUID, user_id: uuid.UUID, response: str) -> None:
    await conn.execute(_q("respond"), match_id, user_id, response)


async def confirmed_matches(conn: Conn, user_id: uuid.UUID) -> list[ConfirmedMatch]:
    rows = await conn.fetch(_q("confirmed_matches"), user_id)
    return [
        ConfirmedMatch(
            id=r["id"], legs=_legs_decoder.decode(r["legs"]), i_am_low=r["i_am_low"], since=r["since"]
        )
        for r in rows
    ]


async def live_proposals(conn: Conn) -> list[Proposal]:
    return [
        Proposal(
            match_id=r["id"],
            user_low=r["user_low"],
            user_high=r["user_high"],
            legs=tuple(_legs_decoder.decode(r["legs"])),
        )
        for r in await conn.fetch(_q("live_matches"))
    ]


async def sharing_testers(conn: Conn) -> set[uuid.UUID]:
    return {r["user_id"] for r in await conn.fetch(_q("sharing_testers"))}


def _profile(r: Any) -> CarpoolProfile:
    return CarpoolProfile(
        display_name=r["display_name"],
        contact=r["contact"],
        can_drive=r["can_drive"],
        updated_at=r["updated_at"],
    )


async def upsert_profile(
    conn: Conn, user_id: uuid.UUID, display_name: str, contact: str, can_drive: bool | None
) -> CarpoolProfile:
    r = await conn.fetchrow(_q("upsert_profile"), user_id, display_name, contact, can_drive)
    assert r is not None
    return _profile(r)


async def get_profile(conn: Conn, user_id: uuid.UUID) -> CarpoolProfile | None:
    r = await conn.fetchrow(_q("get_profile"), user_id)
    return None if r is None else _profile(r)


# Inside the tester's partition ----------------------------------------------------------------


async def sections_since(conn: Conn, start: datetime) -> list[SectionRecord]:
    """The tester's sections from ``start`` on (those whose mode is not a known :class:`Mode`
    are skipped), each with its trip's origin and destination."""
    out = []
    for r in await conn.fetch(_p("sections_since"), start):
        try:
            mode = Mode(r["mode"])
        except ValueError:
            continue
        out.append(
            SectionRecord(
                trip_id=str(r["trip_id"]),
                section_id=str(r["id"]),
                start=r["started_at"],
                end=r["ended_at"],
                mode=mode,
                distance_m=max(r["distance_m"], 0.0),
                co2_kg=max(r["co2_kg"], 0.0),
                origin=(r["origin_lat"], r["origin_lon"]),
                destination=(r["destination_lat"], r["destination_lon"]),
                purpose=r["purpose"],
                occupants=r["occupants"],
            )
        )
    return out


async def stays_since(conn: Conn, start: datetime) -> list[StayRecord]:
    rows = await conn.fetch(_p("stays_since"), start)
    return [StayRecord(start=r["started_at"], end=r["ended_at"], lat=r["lat"], lon=r["lon"]) for r in rows]


async def my_offers(conn: Conn, user_id: uuid.UUID) -> list[Offer]:
    """The tester's own offers (row-level security returns no one else's)."""
    return [_offer(user_id, r) for r in await conn.fetch(_p("my_offers"))]


async def replace_my_offers(conn: Conn, offers: Sequence[Offer], at: datetime) -> None:
    await conn.execute(_p("delete_my_offers"))
    if offers:
        await conn.executemany(
            _p("insert_my_offer"),
            [
                (
                    o.seq,
                    o.origin[0],
                    o.origin[1],
                    o.destination[0],
                    o.destination[1],
                    o.depart_from_min,
                    o.depart_to_min,
                    o.weekdays,
                    o.distance_m,
                    o.usual_co2_kg,
                    o.usual_mode.value,
                    o.can_drive,
                    o.car_kg_per_km,
                    at,
                )
                for o in offers
            ],
        )


async def set_section_occupants(
    conn: Conn, section_id: str, occupants: int, co2: tuple[float, str, str]
) -> None:
    await conn.execute(_p("set_section_occupants"), uuid.UUID(section_id), occupants, *co2)
