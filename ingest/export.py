"""A tester's export of everything Sillage holds about them (GDPR articles 15 and 20).

``zip`` is the complete export: a README describing every file and its units, ``account.json``,
one CSV per shared table about the tester (consents and their history, devices without token
digests, queued work, the audit entries about them) and one CSV per table of their partition
(raw fixes, stays, trips, sections with modes and footprints, labels, hidden trips, and whatever
later features add, such as coaching). ``csv`` (raw fixes), ``geojson`` (stays, sections and
fixes) and ``gpx`` (stays as waypoints, fixes as a track) are portable views for other tools.

Everything streams: a pooled connection of its own (the request's is released before the body
is sent), one read-only snapshot, server-side cursors, and a zip written on the fly (data
descriptors, ZIP64), so memory does not grow with the number of fixes (``bench/export.py``).
The route sends it through :func:`ingest.spool.spooled`, so the snapshot ends when the export is
made, whatever the pace of the download.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import msgspec

from core.errors import Unauthorized
from core.history import AnswerWeighing
from ingest import trips
from ingest.readme import readme
from store import export as ex
from store.partition import ACCOUNT_GONE, keep_tester
from store.pool import Database
from store.rights import Actor, audit
from store.testers import Principal

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

    from store.partition import Conn


class ExportFormat(StrEnum):
    ZIP = "zip"
    GEOJSON = "geojson"
    GPX = "gpx"
    CSV = "csv"


MEDIA_TYPES = {
    ExportFormat.ZIP: "application/zip",
    ExportFormat.GEOJSON: "application/geo+json",
    ExportFormat.GPX: "application/gpx+xml",
    ExportFormat.CSV: "text/csv",  # Litestar adds "; charset=utf-8" to text types
}


class ExportParams(msgspec.Struct, frozen=True, kw_only=True):
    batch_rows: int = 5000  # rows per cursor fetch
    flush_bytes: int = 256 * 1024  # send once this much output is ready
    zip_compresslevel: int = 6


DEFAULT_PARAMS = ExportParams()


def filename(fmt: ExportFormat, now: datetime) -> str:
    return f"sillage-export-{now:%Y%m%dT%H%M%SZ}.{fmt.value}"


# The names filename() gives, as the OpenAPI document states them: a pattern, and one of them.
FILENAME_PATTERN = r"sillage-export-\d{8}T\d{6}Z\.(" + "|".join(f.value for f in ExportFormat) + ")"
FILENAME_EXAMPLE = "sillage-export-20260914T070000Z.zip"


async def record_export(conn: Conn, principal: Principal, fmt: ExportFormat) -> None:
    """The audit entry of an export (written before the export's snapshot, which then holds it),
    never for a tester erased meanwhile (the entry would carry their pseudonym past the erasure)."""
    async with conn.transaction():
        await keep_tester(conn, principal.role)
        await audit(
            conn,
            Actor.tester(principal.user_id),
            "export.download",
            subject=principal.user_id,
            detail={"format": fmt.value},
        )


async def stream(
    db: Database,
    caller: Callable[[Conn], Awaitable[Principal]],
    fmt: ExportFormat,
    *,
    now: datetime,
    params: ExportParams = DEFAULT_PARAMS,
) -> AsyncIterator[bytes]:
    """The export's bytes, in pieces of about ``params.flush_bytes``, for the tester ``caller``
    authenticates. One pooled connection does it all, one step after the other: authentication,
    the audit entry (:func:`record_export`), then the snapshot. A request that held a connection of
    its own while the export took another could empty the pool: with as many exports at once as
    connections, each waited for a second one, and all got 503. The tester's erasure waits for the
    last piece to be made; unauthenticated, or erased before it began, :class:`Unauthorized` before
    the first piece (the route reads it before it answers: :func:`primed`)."""
    async with db.connection() as conn:
        principal = await caller(conn)
        await record_export(conn, principal, fmt)
        async for chunk in _snapshot(conn, principal, fmt, now, params):
            yield chunk


async def _snapshot(
    conn: Conn, principal: Principal, fmt: ExportFormat, now: datetime, params: ExportParams
) -> AsyncIterator[bytes]:
    async with ex.snapshot(conn):
        await keep_tester(conn, principal.role)
        account = await ex.account(conn, principal.user_id)
        if account is None:  # erased between authentication and now
            raise Unauthorized(ACCOUNT_GONE)
        writer = {
            ExportFormat.ZIP: _zip,
            ExportFormat.CSV: _csv,
            ExportFormat.GEOJSON: _geojson,
            ExportFormat.GPX: _gpx,
        }[fmt]
        async for chunk in writer(conn, principal, account, now, params):
            yield chunk


async def primed(pieces: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``pieces``, its first one read now: what fails before the first byte (the tester erased
    meanwhile) is an error answer, not a 200 cut short."""
    first = await anext(pieces, None)

    async def rest() -> AsyncIterator[bytes]:
        try:
            if first is not None:
                yield first
            async for piece in pieces:
                yield piece
        finally:  # closed early (the download dropped): the export's transaction ends now
            aclose = getattr(pieces, "aclose", None)
            if aclose is not None:
                await aclose()

    return rest()


class _Spool(io.RawIOBase):
    """A write-only sink the zip writer fills and the stream empties (never seekable, so
    ``zipfile`` writes data descriptors instead of seeking back)."""

    def __init__(self) -> None:
        super().__init__()
        self._buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: ReadableBuffer, /) -> int:
        data = bytes(b)
        self._buf += data
        return len(data)

    def __len__(self) -> int:
        return len(self._buf)

    def take(self) -> bytes:
        out = bytes(self._buf)
        self._buf.clear()
        return out


def _csv_body(header: str, lines: list[str]) -> bytes:
    return (header + "\n" + "".join(line + "\n" for line in lines)).encode()


def _iso(d: datetime | None) -> str | None:
    return None if d is None else d.isoformat().replace("+00:00", "Z")


async def _zip(
    conn: Conn, principal: Principal, account: ex.Account, now: datetime, params: ExportParams
) -> AsyncIterator[bytes]:
    uid = principal.user_id
    # Shared rows first, as the API's login (they are few), then the partition as the tester.
    shared = await ex.shared_relations(conn)
    shared_files: list[tuple[str, bytes]] = []
    for rel in shared:
        rows = [line async for batch in ex.relation_lines(conn, rel, uid) for line in batch]
        shared_files.append((_shared_name(rel), _csv_body(ex.csv_header(rel.columns), rows)))
    audit_rows = [line async for batch in ex.audit_lines(conn, uid) for line in batch]
    shared_files.append(
        ("account/audit_log.csv", _csv_body(ex.csv_header(ex.AUDIT_RELATION.columns), audit_rows))
    )
    await ex.enter_partition(conn, principal.role)
    summary = _account_json(account, now, await trips.answers_here(conn))
    partition = await ex.partition_relations(conn)

    spool = _Spool()
    with zipfile.ZipFile(
        spool, mode="w", compression=zipfile.ZIP_DEFLATED, compresslevel=params.zip_compresslevel
    ) as zf:
        docs = readme(account, [(_shared_name(r), r) for r in shared], partition, now)
        for name, data in (("README.md", docs.encode()), ("account.json", summary), *shared_files):
            zf.writestr(name, data)
            yield spool.take()
        for rel in partition:
            with zf.open(f"data/{rel.name}.csv", mode="w", force_zip64=True) as f:
                f.write((ex.csv_header(rel.columns) + "\n").encode())
                async for batch in ex.lines(conn, ex.csv_select(rel), batch_rows=params.batch_rows):
                    f.write("".join(line + "\n" for line in batch).encode())
                    if len(spool) >= params.flush_bytes:
                        yield spool.take()
            yield spool.take()
    yield spool.take()


def _shared_name(rel: ex.Relation) -> str:
    prefix = "" if rel.schema == "sillage" else f"{rel.schema}."
    by = f".{rel.user_column}" if rel.shares_table else ""
    return f"account/{prefix}{rel.name}{by}.csv"


def _account_json(account: ex.Account, now: datetime, answers: AnswerWeighing) -> bytes:
    doc: dict[str, Any] = {
        "user_id": str(account.user_id),
        "campaign": account.campaign,
        "enrolled_at": _iso(account.enrolled_at),
        "paused_at": _iso(account.paused_at),
        "fixes_retention_days": account.fixes_retention_days,
        "trips_retention_days": account.trips_retention_days,
        "exported_at": _iso(now),
        # An inference about the tester, computed from data/labels.csv: theirs to see.
        "answers": msgspec.to_builtins(answers),
    }
    return msgspec.json.format(msgspec.json.encode(doc), indent=2) + b"\n"


class _Buffer:
    """Accumulates text and hands it out as bytes once ``flush_bytes`` is reached."""

    def __init__(self, flush_bytes: int) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._flush = flush_bytes

    def add(self, text: str) -> Iterator[bytes]:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= self._flush:
            yield from self.drain()

    def drain(self) -> Iterator[bytes]:
        if self._parts:
            out = "".join(self._parts).encode()
            self._parts.clear()
            self._size = 0
            yield out


async def _csv(
    conn: Conn, principal: Principal, account: ex.Account, now: datetime, params: ExportParams
) -> AsyncIterator[bytes]:
    await ex.enter_partition(conn, principal.role)
    fixes = next(r for r in await ex.partition_relations(conn) if r.name == "fixes")
    buf = _Buffer(params.flush_bytes)
    for chunk in buf.add(ex.csv_header(fixes.columns) + "\n"):
        yield chunk
    async for batch in ex.lines(conn, ex.csv_select(fixes), batch_rows=params.batch_rows):
        for chunk in buf.add("".join(line + "\n" for line in batch)):
            yield chunk
    for chunk in buf.drain():
        yield chunk


async def _geojson(
    conn: Conn, principal: Principal, account: ex.Account, now: datetime, params: ExportParams
) -> AsyncIterator[bytes]:
    await ex.enter_partition(conn, principal.role)
    meta = msgspec.json.encode({"user_id": str(account.user_id), "exported_at": _iso(now)}).decode()
    buf = _Buffer(params.flush_bytes)
    for chunk in buf.add('{"type":"FeatureCollection","sillage":' + meta + ',"features":[\n'):
        yield chunk
    first = True
    for query in ("geojson_stays", "geojson_sections", "geojson_fixes"):
        async for batch in ex.partition_query_lines(conn, query):
            text = ",\n".join(batch)
            for chunk in buf.add(text if first else ",\n" + text):
                yield chunk
            first = False
    for chunk in buf.add("\n]}\n"):
        yield chunk
    for chunk in buf.drain():
        yield chunk


async def _gpx(
    conn: Conn, principal: Principal, account: ex.Account, now: datetime, params: ExportParams
) -> AsyncIterator[bytes]:
    await ex.enter_partition(conn, principal.role)
    buf = _Buffer(params.flush_bytes)
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="Sillage" xmlns="http://www.topografix.com/GPX/1/1">\n'
        f"<metadata><name>Sillage export</name><time>{_iso(now)}</time></metadata>\n"
    )
    for chunk in buf.add(head):
        yield chunk
    async for batch in ex.partition_query_lines(conn, "gpx_waypoints"):
        for chunk in buf.add("\n".join(batch) + "\n"):
            yield chunk
    for chunk in buf.add("<trk><name>Raw positions</name><trkseg>\n"):
        yield chunk
    async for batch in ex.partition_query_lines(conn, "gpx_points"):
        for chunk in buf.add("\n".join(batch) + "\n"):
            yield chunk
    for chunk in buf.add("</trkseg></trk>\n</gpx>\n"):
        yield chunk
    for chunk in buf.drain():
        yield chunk


__all__ = ["MEDIA_TYPES", "ExportFormat", "ExportParams", "filename", "record_export", "stream"]
