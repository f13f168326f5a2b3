"""A tester's derived data (``sql/partition/trips.sql``); call inside :func:`store.partition.as_user`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from asyncpg import Record

from core.co2.profile import VehicleProfile
from core.errors import ConfigurationError
from core.fixes import Fix
from core.history import ASK_BELOW, AUDIT_SHARE, Confirmation
from core.trips import Built, Label
from store.fixes import fix_from_row
from store.partition import Conn
from store.queries import queries

_json = msgspec.json.Encoder()
_path = msgspec.json.Decoder(tuple[tuple[float, float], ...])  # GeoJSON coordinates: [lon, lat]
_probabilities = msgspec.json.Decoder(dict[str, float])
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _q(name: str) -> str:
    return queries("partition/trips")[name]


class PurposesNaming(msgspec.Struct, frozen=True, kw_only=True):
    """What the last naming of the trips' purposes used: the key of its home and work, rounded
    (``ingest.coaching.places_key``, 0021), the time they were guessed as of, and the same places
    unrounded (0033). ``None``: not named yet, or named before the field existed."""

    key: str | None = None
    at: datetime | None = None
    places: str | None = None


class PipelineState(msgspec.Struct, frozen=True, kw_only=True):
    complete_until: datetime | None
    model_version: str | None
    # Derived rows that began before this are final: retention deleted their fixes (0018).
    frozen_before: datetime | None = None
    # The last naming of the trips' purposes (0021, 0033).
    purposes: PurposesNaming = PurposesNaming()


class SectionOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    seq: int
    started_at: datetime
    ended_at: datetime
    distance_m: float
    mode: str
    mode_source: str
    probabilities: dict[str, float]
    co2_kg: float | None
    geometry: dict[str, Any]
    # Fixes recorded along the section. 2 for a ride or a flight across a signal gap: only its ends
    # were observed, and its geometry is the straight line between them (a ride's distance is that
    # line times core.segmentation.rides.RIDE_CIRCUITY).
    n_fixes: int
    # Not confirmed by the tester, and its most likely mode below the deployment's ask_below
    # (SILLAGE_ASK_BELOW, core.history.ASK_BELOW), or drawn for audit (SILLAGE_AUDIT_SHARE,
    # core.history.audited): the app should ask the tester which mode it was.
    to_confirm: bool


_LAT_LON = "[latitude, longitude], WGS 84 degrees (a section's GeoJSON geometry is [longitude, latitude])."


class TripOut(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    started_at: datetime
    ended_at: datetime
    # [lat, lon], WGS 84 degrees; a section's GeoJSON geometry is [lon, lat], as GeoJSON has it.
    origin: Annotated[tuple[float, float], msgspec.Meta(description=_LAT_LON)]
    destination: Annotated[tuple[float, float], msgspec.Meta(description=_LAT_LON)]
    distance_m: float
    duration_s: float
    purpose: str | None
    sections: list[SectionOut]
    hidden: bool = False  # listed only when asked for (``hidden=true``), so that it can be unhidden


class SectionRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    trip_id: uuid.UUID
    started_at: datetime
    ended_at: datetime
    distance_m: float
    mode: str
    occupants: int
    co2_kg: float | None


async def pipeline_state(conn: Conn) -> PipelineState | None:
    row = await conn.fetchrow(_q("pipeline_state"))
    return (
        None
        if row is None
        else PipelineState(
            complete_until=row["complete_until"],
            model_version=row["model_version"],
            frozen_before=row["frozen_before"],
            purposes=PurposesNaming(
                key=row["purposes_places"], at=row["purposes_named_at"], places=row["purposes_named_places"]
            ),
        )
    )


async def save_pipeline_state(
    conn: Conn, complete_until: datetime | None, model_version: str, *, purposes: PurposesNaming
) -> None:
    await conn.execute(
        _q("save_pipeline_state"), complete_until, model_version, purposes.key, purposes.at, purposes.places
    )


class RestartPoints(msgspec.Struct, frozen=True, kw_only=True):
    """Where a step may segment again from, for a change at some time (``restart_point``)."""

    # The start of the last stay that ended before the change (None: from the first fix).
    stay_at: datetime | None
    # The last stays and trips begun from there to the change (started, ended), oldest first.
    rows: list[tuple[datetime, datetime]]


async def restart_point(conn: Conn, at: datetime) -> RestartPoints:
    """Where a step may restart for a change at ``at``: the start of the last stay that ended before
    it, and the last stays and trips begun from there to ``at`` (a later restart point may lie
    between two of them)."""
    row = await conn.fetchrow(_q("restart_point"), at)
    assert row is not None  # an aggregate: always one row
    starts, ends = row["starts"] or [], row["ends"] or []
    return RestartPoints(stay_at=row["stay_at"], rows=list(zip(starts, ends, strict=True)))


async def stay_under_way(
    conn: Conn, at: datetime, *, open_id: uuid.UUID
) -> tuple[datetime, uuid.UUID] | None:
    """Where the stay under way at ``at`` began and its id, as the rows stored before it say: the
    stored stay under way at ``at``, else, when the last trip begun before ``at`` arrives at
    ``open_id`` (the stay a windowed step ended in, open, begun at its watermark ``at``: no step
    stored it yet), ``at`` and ``open_id``; None when neither is."""
    row = await conn.fetchrow(_q("stay_under_way"), at)
    if row is not None:
        return row["started_at"], row["id"]
    arrival = await conn.fetchval(_q("last_arrival"), at)
    return (at, open_id) if arrival == open_id else None


async def trip_under_way(conn: Conn, at: datetime) -> datetime | None:
    """Where the stored trip under way at ``at`` began (begun before it, ended after it; None: none)."""
    started: datetime | None = await conn.fetchval(_q("trip_under_way"), at)
    return started


async def fixes_from(
    conn: Conn,
    start: datetime,
    limit: int,
    *,
    every_s: float | None = None,
    buckets_from: datetime | None = None,
) -> tuple[list[Fix], list[str]]:
    """At most ``limit`` fixes from ``start`` on, and the tracker that sent each (its ``source``);
    with ``every_s``, only the first of each ``every_s``-second bucket among the next
    ``limit x every_s`` fixes (as many as a phone logging every second would send), so that the
    same number of fixes spans a longer time. Buckets are counted from ``buckets_from`` (default
    ``start``): a fix there is always kept."""
    if every_s is None:
        rows = await conn.fetch(_q("fixes_from"), start, limit)
    else:
        rows = await conn.fetch(
            _q("fixes_from_thinned"),
            start,
            limit,
            every_s,
            int(limit * max(every_s, 1.0)),
            buckets_from or start,
        )
    return _with_sources(rows)


async def context_from(conn: Conn, start: datetime, context_s: float, context_fixes: int) -> datetime:
    """Where a step restarting at ``start`` reads from: ``context_s`` before it, or earlier to take
    the ``context_fixes`` fixes before it."""
    at: datetime = await conn.fetchval(_q("context_from"), start, context_s, context_fixes)
    return at


async def fixes_around(conn: Conn, at: datetime, side: int, context_s: float) -> tuple[list[Fix], list[str]]:
    """The ``side`` fixes before ``at`` and the ``side`` from it on, with every fix within
    ``context_s`` beyond them, and the tracker that sent each."""
    return _with_sources(await conn.fetch(_q("fixes_around"), at, side, context_s))


def _with_sources(rows: list[Record]) -> tuple[list[Fix], list[str]]:
    """Fix rows as fixes, and the tracker that sent each (its ``source``)."""
    return [fix_from_row(r) for r in rows], [r["source"] for r in rows]


async def deleted_trips_from(conn: Conn, start: datetime) -> list[tuple[datetime, datetime]]:
    """The intervals of trips the tester deleted that end at or after ``start``."""
    rows = await conn.fetch(_q("deleted_trips_from"), start)
    return [(r["started_at"], r["ended_at"]) for r in rows]


async def labels_from(conn: Conn, start: datetime) -> list[Label]:
    rows = await conn.fetch(_q("labels_from"), start)
    return [Label(started_at=r["started_at"], ended_at=r["ended_at"], mode=r["mode"]) for r in rows]


async def confirmations(conn: Conn, limit: int, with_paths: int) -> list[Confirmation]:
    """The tester's ``limit`` most recent confirmed sections (the latest answer per section), oldest
    first, with where each started and ended, its kinematics and the mode it showed when known, and
    for the ``with_paths`` most recent the path between when it is known (labels whose ends are
    unknown are left out)."""
    rows = await conn.fetch(_q("confirmations"), limit, with_paths)
    return [
        Confirmation(
            start_lat=r["start_lat"],
            start_lon=r["start_lon"],
            end_lat=r["end_lat"],
            end_lon=r["end_lon"],
            mode=r["mode"],
            path_lonlat=() if r["path"] is None else _path.decode(r["path"]),
            kinematics=() if r["kinematics"] is None else tuple(r["kinematics"]),
            shown_mode=r["shown_mode"],
            shown_probability=r["shown_probability"],
        )
        for r in rows
    ]


class ShownSection(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    probabilities: dict[str, float]
    uncalibrated: float | None
    model_version: str


async def shown_sections(conn: Conn) -> list[ShownSection]:
    """The current tester's sections whose probabilities the pipeline gave (not their answers)."""
    return [
        ShownSection(
            id=r["id"],
            probabilities=_probabilities.decode(r["p"]),
            uncalibrated=r["uncalibrated"],
            model_version=r["model_version"],
        )
        for r in await conn.fetch(_q("shown_sections"))
    ]


async def set_shown_probabilities(
    conn: Conn, changed: Sequence[tuple[uuid.UUID, dict[str, float], float | None]]
) -> None:
    """Store sections' probabilities as now shown, and their mode's before calibration."""
    await conn.executemany(
        _q("set_shown_probabilities"), [(i, _json.encode(p).decode(), u) for i, p, u in changed]
    )


async def recent_model_probabilities(conn: Conn, before: datetime, limit: int) -> list[dict[str, float]]:
    """The model's own probabilities of the tester's ``limit`` most recent sections that started
    before ``before``, oldest first."""
    rows = await conn.fetch(_q("recent_model_probabilities"), before, limit)
    return [_probabilities.decode(r["p"]) for r in reversed(rows)]


async def vehicle_profile(conn: Conn) -> VehicleProfile:
    """The tester's vehicle profile (defaults when none was saved); ConfigurationError if the stored
    one no longer validates."""
    raw = await conn.fetchval(_q("vehicle_profile"))
    data = {} if raw is None else (msgspec.json.decode(raw) if isinstance(raw, str | bytes) else raw)
    try:
        return msgspec.convert(data, VehicleProfile)
    except msgspec.ValidationError as exc:
        raise ConfigurationError(f"stored vehicle profile is invalid: {exc}") from exc


# How long a section's id is kept once a step replaced it (migration 0034): an answer sent with it
# still lands on its time span. A month covers an app that queued the answer while offline; steps
# keep ids that did not move, so the table holds only the sections late fixes moved since.
SUPERSEDED_KEPT_DAYS = 30


async def replace_from(conn: Conn, start: datetime, built: Built, *, until: datetime | None = None) -> None:
    """Delete what was derived from ``start`` on (up to ``until``, when a step read only a window
    of the history: what begins after it stays visible until the next step rebuilds it), and
    store ``built`` in its place. The ids of the sections deleted and not stored again are kept
    (``superseded_sections``) for ``SUPERSEDED_KEPT_DAYS``; older ones are forgotten."""
    stored = [s.id for t in built.trips for s in t.sections]
    await conn.execute(_q("forget_superseded"), SUPERSEDED_KEPT_DAYS, stored)
    await conn.execute(_q("supersede_sections_from"), start, until, stored)
    await conn.execute(_q("delete_trips_from"), start, until)
    await conn.execute(_q("delete_stays_from"), start, until)
    if built.stays:
        await conn.executemany(
            _q("insert_stay"),
            [(s.id, s.started_at, s.ended_at, s.lat, s.lon, s.n_fixes) for s in built.stays],
        )
    if built.trips:
        await conn.executemany(
            _q("insert_trip"),
            [
                (
                    t.id,
                    t.started_at,
                    t.ended_at,
                    t.origin[0],
                    t.origin[1],
                    t.destination[0],
                    t.destination[1],
                    t.origin_stay_id,
                    t.destination_stay_id,
                    t.distance_m,
                )
                for t in built.trips
            ],
        )
        await conn.executemany(
            _q("insert_section"),
            [
                (
                    s.id,
                    s.trip_id,
                    s.seq,
                    s.started_at,
                    s.ended_at,
                    s.distance_m,
                    s.n_fixes,
                    s.mode,
                    _json.encode(s.probabilities).decode(),
                    s.mode_source,
                    s.model_version,
                    _json.encode(s.geometry).decode(),
                    s.co2_kg,
                    s.co2_factor,
                    s.co2_registry,
                    None if s.model_probabilities is None else _json.encode(s.model_probabilities).decode(),
                    None if s.kinematics is None else list(s.kinematics),
                    s.uncalibrated,
                )
                for t in built.trips
                for s in t.sections
            ],
        )


def _trip(row: Any) -> TripOut:
    return TripOut(
        id=row["id"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        origin=(row["origin_lat"], row["origin_lon"]),
        destination=(row["destination_lat"], row["destination_lon"]),
        distance_m=row["distance_m"],
        duration_s=(row["ended_at"] - row["started_at"]).total_seconds(),
        purpose=row["purpose"],
        sections=msgspec.json.decode(row["sections"], type=list[SectionOut]),
        hidden=row["hidden"],
    )


async def trips_between(
    conn: Conn,
    start: datetime,
    end: datetime,
    *,
    limit: int,
    hidden: bool = False,
    to_confirm: bool = False,
    ask_below: float = ASK_BELOW,
    audit_share: float = AUDIT_SHARE,
) -> list[TripOut]:
    """Trips overlapping [start, end), newest first; those the tester hid only with ``hidden``;
    with ``to_confirm``, only those with a section to confirm (not confirmed, its most likely mode
    below ``ask_below`` or the section drawn for audit, :func:`core.history.audited`)."""
    rows = await conn.fetch(
        _q("trips_json"), None, start, end, limit, hidden, ask_below, to_confirm, audit_share
    )
    return [_trip(r) for r in rows]


async def trip(
    conn: Conn, trip_id: uuid.UUID, *, ask_below: float = ASK_BELOW, audit_share: float = AUDIT_SHARE
) -> TripOut | None:
    rows = await conn.fetch(
        _q("trips_json"), trip_id, _EARLIEST, _LATEST, 1, False, ask_below, False, audit_share
    )
    return _trip(rows[0]) if rows else None


async def section(conn: Conn, section_id: uuid.UUID) -> SectionRow | None:
    r = await conn.fetchrow(_q("get_section"), section_id)
    return None if r is None else _section_row(r)


class Superseded(msgspec.Struct, frozen=True, kw_only=True):
    """A section id a step replaced (migration 0034): of the sections shown now, the one that
    overlaps most the time span it had (None: none does)."""

    now: SectionRow | None


async def superseded_section(conn: Conn, section_id: uuid.UUID) -> Superseded | None:
    """What became of a superseded section id; None when the tester has no such id (never had, or
    kept it past ``SUPERSEDED_KEPT_DAYS``). The section shown now is held as :func:`section` holds
    it."""
    r = await conn.fetchrow(_q("superseded_section"), section_id)
    if r is None:
        return None
    return Superseded(now=None if r["id"] is None else _section_row(r))


async def unconfirmed_sections(conn: Conn, trip_id: uuid.UUID) -> list[SectionRow] | None:
    """The sections of the trip the tester has not confirmed, in order; None when the tester has
    no such trip shown (one query)."""
    rows = await conn.fetch(_q("unconfirmed_sections"), trip_id)
    if not rows:
        return None
    return [_section_row(r) for r in rows if r["id"] is not None]


def _section_row(r: Record) -> SectionRow:
    return SectionRow(
        id=r["id"],
        trip_id=r["trip_id"],
        started_at=r["started_at"],
        ended_at=r["ended_at"],
        distance_m=r["distance_m"],
        mode=r["mode"],
        occupants=r["occupants"],
        co2_kg=r["co2_kg"],
    )


async def confirm_mode(
    conn: Conn,
    s: SectionRow,
    mode: str,
    co2: tuple[float, str, str],
    *,
    ask_below: float = ASK_BELOW,
    audit_share: float = AUDIT_SHARE,
) -> None:
    """Keep the confirmation as a label (it survives reprocessing), replacing earlier answers about
    the same section, and update the section. ``ask_below`` and ``audit_share`` say why the section
    was to confirm, which the label keeps (``labels.asked``, migration 0028)."""
    await conn.execute(_q("forget_earlier_labels"), s.started_at, s.ended_at, s.id)
    await conn.execute(_q("insert_label"), s.started_at, s.ended_at, mode, s.id, ask_below, audit_share)
    await conn.execute(_q("set_section_mode"), s.id, mode, *co2)
