"""The deployment's transit network: GTFS stops imported by an operator (``sql/transit.sql``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec
from asyncpg import Record

from core.transit import TransitStop
from store.partition import Conn
from store.queries import queries


class FeedStop(msgspec.Struct, frozen=True, kw_only=True):
    """One stop of a feed and the routes serving it, with each route's mode (same order)."""

    stop_id: str
    lat: float
    lon: float
    route_ids: tuple[str, ...]
    modes: tuple[str, ...]


class Feed(msgspec.Struct, frozen=True, kw_only=True):
    feed: str
    source: str
    imported_at: datetime
    stops: int
    routes: int
    complete: bool = False


async def replace_feed(
    conn: Conn,
    feed: str,
    source: str,
    stops: Sequence[FeedStop],
    routes: int,
    *,
    revisit_from: datetime | None = None,
    campaigns: Sequence[str] | None = None,
    complete: bool = False,
) -> tuple[Feed, int]:
    """Replace ``feed`` as a whole, in one transaction: readers see the old stops or the new ones.
    ``complete``: the imported feeds together hold every transit stop where this one has stops.
    With ``revisit_from``, the time from then on of every tester (of ``campaigns``, if given) is
    queued for reprocessing in the same transaction. The stored feed, and how many testers were
    queued."""
    q = queries("transit")
    async with conn.transaction():
        await conn.execute(q["delete_feed"], feed)
        row = await conn.fetchrow(q["insert_feed"], feed, source, len(stops), routes, complete)
        assert row is not None  # INSERT ... RETURNING returns its row
        stored = _feed(row)
        await conn.copy_records_to_table(
            "transit_stops",
            schema_name="sillage",
            columns=("feed", "stop_id", "lat", "lon", "route_ids", "modes"),
            records=[(feed, s.stop_id, s.lat, s.lon, list(s.route_ids), list(s.modes)) for s in stops],
        )
        if revisit_from is None:
            return stored, 0
        named = None if campaigns is None else list(campaigns)
        return stored, int(await conn.fetchval(q["revisit"], revisit_from, named))


async def unknown_campaigns(conn: Conn, names: Sequence[str]) -> list[str]:
    """Those of ``names`` that name no campaign."""
    return [r["given"] for r in await conn.fetch(queries("transit")["unknown_campaigns"], list(names))]


async def remove_feed(conn: Conn, feed: str) -> bool:
    """Remove ``feed`` and its stops; False if there was no such feed."""
    return str(await conn.execute(queries("transit")["delete_feed"], feed)) != "DELETE 0"


async def feeds(conn: Conn) -> list[Feed]:
    return [_feed(r) for r in await conn.fetch(queries("transit")["feeds"])]


def _feed(r: Record) -> Feed:
    return Feed(
        feed=r["feed"],
        source=r["source"],
        imported_at=r["imported_at"],
        stops=r["stops"],
        routes=r["routes"],
        complete=r["complete"],
    )


async def version(conn: Conn) -> str:
    """A token that changes whenever the network does ("" when no feed was imported)."""
    return str(await conn.fetchval(queries("transit")["version"]))


async def network(conn: Conn) -> list[TransitStop]:
    """Every stop of every feed, routes keyed ``feed:route_id`` (unique across feeds), each saying
    whether its feed was declared complete."""
    rows = await conn.fetch(queries("transit")["stops"])
    return [
        TransitStop(
            lat=r["lat"],
            lon=r["lon"],
            routes=tuple(
                (f"{r['feed']}:{route}", mode) for route, mode in zip(r["route_ids"], r["modes"], strict=True)
            ),
            complete=r["complete"],
        )
        for r in rows
    ]
