"""Coaching's typed queries: ``sql/partition/coaching.sql`` (inside :func:`store.partition.as_user`)
and ``sql/coaching.sql`` (shared settings, the tester list and the queue lock)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from core.history import AUDIT_SHARE
from store.partition import Conn
from store.queries import queries

_json = msgspec.json.Encoder()


def _p(name: str) -> str:
    return queries("partition/coaching")[name]


def _s(name: str) -> str:
    return queries("coaching")[name]


class SectionRow(msgspec.Struct, frozen=True, kw_only=True):
    """A section of a visible trip with its stored footprint and its trip's ends and purpose."""

    id: uuid.UUID
    trip_id: uuid.UUID
    started_at: datetime
    ended_at: datetime
    mode: str
    distance_m: float
    occupants: int
    co2_kg: float
    purpose: str | None
    origin: tuple[float, float]
    destination: tuple[float, float]
    to_confirm: bool = False


class StayRow(msgspec.Struct, frozen=True, kw_only=True):
    started_at: datetime
    ended_at: datetime
    lat: float
    lon: float


class FootprintInput(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    mode: str
    distance_m: float
    occupants: int


class NewFootprint(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kg: float
    factor: str
    registry: str


class ConfirmedPlace(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    lat: float
    lon: float
    updated_at: datetime


class TripEnds(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    origin: tuple[float, float]
    destination: tuple[float, float]
    purpose: str | None


class Goal(msgspec.Struct, frozen=True, kw_only=True):
    yearly_budget_kg: float
    updated_at: datetime


class Tester(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    role: str


async def sections_between(
    conn: Conn,
    start: datetime,
    end: datetime,
    *,
    ask_below: float | None = None,
    audit_share: float = AUDIT_SHARE,
) -> list[SectionRow]:
    """Sections of visible trips starting in [start, end); ``to_confirm`` below ``ask_below`` or
    drawn for audit (``ask_below`` ``None``: never, and the probabilities are not read)."""
    rows = await conn.fetch(_p("coaching_sections"), start, end, ask_below, audit_share)
    return [
        SectionRow(
            id=r["id"],
            trip_id=r["trip_id"],
            started_at=r["started_at"],
            ended_at=r["ended_at"],
            mode=r["mode"],
            distance_m=r["distance_m"],
            occupants=r["occupants"],
            co2_kg=r["co2_kg"],
            purpose=r["purpose"],
            origin=(r["origin_lat"], r["origin_lon"]),
            destination=(r["destination_lat"], r["destination_lon"]),
            to_confirm=r["to_confirm"],
        )
        for r in rows
    ]


async def stays_between(conn: Conn, start: datetime, end: datetime) -> list[StayRow]:
    rows = await conn.fetch(_p("coaching_stays"), start, end)
    return [
        StayRow(started_at=r["started_at"], ended_at=r["ended_at"], lat=r["lat"], lon=r["lon"]) for r in rows
    ]


async def footprint_inputs(conn: Conn, *, not_at_registry: str | None = None) -> list[FootprintInput]:
    """Every section (or those not priced with ``not_at_registry``) with what its footprint needs."""
    if not_at_registry is None:
        rows = await conn.fetch(_p("footprint_inputs"))
    else:
        rows = await conn.fetch(_p("footprint_inputs_not_at"), not_at_registry)
    return [
        FootprintInput(id=r["id"], mode=r["mode"], distance_m=r["distance_m"], occupants=r["occupants"])
        for r in rows
    ]


async def set_footprints(conn: Conn, footprints: Sequence[NewFootprint]) -> None:
    """Store new footprints in one statement (a year of sections is a few thousand rows)."""
    if not footprints:
        return
    await conn.execute(
        _p("set_footprints"),
        [f.id for f in footprints],
        [f.kg for f in footprints],
        [f.factor for f in footprints],
        [f.registry for f in footprints],
    )


async def save_vehicle_profile(conn: Conn, vehicle: dict[str, Any]) -> None:
    await conn.execute(_p("save_vehicle_profile"), _json.encode(vehicle).decode())


async def confirmed_places(conn: Conn) -> list[ConfirmedPlace]:
    rows = await conn.fetch(_p("confirmed_places"))
    return [
        ConfirmedPlace(kind=r["kind"], lat=r["lat"], lon=r["lon"], updated_at=r["updated_at"]) for r in rows
    ]


async def confirm_place(conn: Conn, kind: str, lat: float, lon: float) -> None:
    await conn.execute(_p("confirm_place"), kind, lat, lon)


async def forget_place(conn: Conn, kind: str) -> None:
    await conn.execute(_p("forget_place"), kind)


async def trip_ends(conn: Conn, since: datetime, until: datetime | None = None) -> list[TripEnds]:
    rows = await conn.fetch(_p("trip_ends"), since, until)
    return [
        TripEnds(
            id=r["id"],
            origin=(r["origin_lat"], r["origin_lon"]),
            destination=(r["destination_lat"], r["destination_lon"]),
            purpose=r["purpose"],
        )
        for r in rows
    ]


async def set_purposes(conn: Conn, purposes: Sequence[tuple[uuid.UUID, str | None]]) -> None:
    if not purposes:
        return
    await conn.execute(_p("set_purposes"), [p[0] for p in purposes], [p[1] for p in purposes])


async def first_data(conn: Conn) -> datetime | None:
    """The start of the tester's earliest trip or stay (None when they have none)."""
    first: datetime | None = await conn.fetchval(_p("first_data"))
    return first


async def goal(conn: Conn) -> Goal | None:
    r = await conn.fetchrow(_p("goal"))
    return None if r is None else Goal(yearly_budget_kg=r["yearly_budget_kg"], updated_at=r["updated_at"])


async def save_goal(conn: Conn, yearly_budget_kg: float) -> None:
    await conn.execute(_p("save_goal"), yearly_budget_kg)


async def forget_goal(conn: Conn) -> None:
    await conn.execute(_p("forget_goal"))


async def setting(conn: Conn, key: str) -> str | None:
    value: str | None = await conn.fetchval(_s("get_setting"), key)
    return value


async def put_setting(conn: Conn, key: str, value: str) -> None:
    await conn.execute(_s("put_setting"), key, value)


async def all_testers(conn: Conn) -> list[Tester]:
    rows = await conn.fetch(_s("all_testers"))
    return [Tester(user_id=r["id"], role=r["role_name"]) for r in rows]


async def hold_tester_queue(conn: Conn, user_id: uuid.UUID) -> None:
    """Wait for a step running for the tester and keep a new one from starting, until the
    transaction ends (``sql/coaching.sql``)."""
    await conn.execute(_s("hold_tester_queue"), user_id)
