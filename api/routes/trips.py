"""The tester's trips: ``GET /v1/trips``, ``GET /v1/trips/{id}``, ``PATCH /v1/sections/{id}``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec
from litestar import get, patch
from litestar.params import FromPath, JSONBody, QueryParameter

from api.deps import Caller, DbConn, utcnow
from ingest import trips
from store.trips import TripOut


class ConfirmIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mode: str


class SectionConfirmed(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    trip_id: uuid.UUID
    mode: str
    mode_source: str
    distance_m: float


@get("/v1/trips", tags=["trips"])
async def list_trips(
    conn: DbConn,
    principal: Caller,
    start: Annotated[datetime | None, QueryParameter(name="from")] = None,
    end: Annotated[datetime | None, QueryParameter(name="to")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=trips.MAX_TRIPS)] = 100,
) -> list[TripOut]:
    """The caller's trips overlapping [from, to) (ISO 8601; default: the last 7 days), newest first.

    Each trip has its start and end (time, place), distance, duration and sections with the mode,
    class probabilities, CO2 and a simplified GeoJSON geometry.
    """
    now = utcnow()
    end_at = end or now + timedelta(days=1)
    start_at = start or now - timedelta(days=7)
    return await trips.list_trips(conn, principal, _aware(start_at), _aware(end_at), limit)


def _aware(d: datetime) -> datetime:
    return d if d.tzinfo is not None else d.replace(tzinfo=UTC)


@get("/v1/trips/{trip_id:uuid}", tags=["trips"])
async def get_trip(trip_id: FromPath[uuid.UUID], conn: DbConn, principal: Caller) -> TripOut:
    """One of the caller's trips."""
    return await trips.get_trip(conn, principal, trip_id)


@patch("/v1/sections/{section_id:uuid}", tags=["trips"])
async def confirm_section(
    section_id: FromPath[uuid.UUID], data: JSONBody[ConfirmIn], conn: DbConn, principal: Caller
) -> SectionConfirmed:
    """Confirm (or correct) a section's mode. Kept as a label that survives reprocessing; the
    footprint is recomputed."""
    s = await trips.confirm_mode(conn, principal, section_id, data.mode)
    return SectionConfirmed(
        id=s.id, trip_id=s.trip_id, mode=s.mode, mode_source="user", distance_m=s.distance_m
    )


ROUTES = [list_trips, get_trip, confirm_section]
