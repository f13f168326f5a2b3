"""Importing a GTFS feed's stops as the deployment's transit network, and reading it back.

GTFS (https://gtfs.org/schedule/reference/) is how networks publish their timetables; French
networks' feeds are on transport.data.gouv.fr. An operator downloads the feed of the network the
testers ride and imports it (``sillage transit import FEED.zip``); nothing is fetched at run time.

Only what :mod:`core.transit` needs is kept: the stops served by a route of a mode it weighs, and
the routes serving each one. ``routes.txt`` gives each route's mode by its ``route_type`` (the
basic types and the extended Hierarchical Vehicle Types, :data:`ROUTE_TYPES`); ``trips.txt`` and
``stop_times.txt`` say which routes call at which stops. A stop inside a station
(``parent_station``) also makes the station, and the station's entrances (``location_type`` 2),
stops of its routes: a tester leaving the metro is first seen at an exit, not on the platform.
Aerial lifts, funiculars, taxis and unknown types are left out.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from core.co2.modes import Mode
from core.errors import BadRequest, NotFound
from core.fixes import EARLIEST as EARLIEST_FIX
from core.slug import slug
from core.transit import TransitParams, TransitStops
from models.sections import Network
from store import transit as transit_db
from store.partition import Conn
from store.transit import FeedStop

# GTFS route_type -> Sillage mode. Basic types: 0 tram, 1 subway/metro, 2 rail, 3 bus, 4 ferry,
# 5 cable tram, 11 trolleybus, 12 monorail. Extended types by hundreds: 1xx railway, 2xx coach,
# 4xx urban railway (401 metro, 402 underground), 7xx bus, 8xx trolleybus, 9xx tram, 10xx water
# transport, 12xx ferry.
ROUTE_TYPES: dict[int, str] = {0: Mode.TRAM, 1: Mode.METRO, 2: Mode.TRAIN, 3: Mode.BUS, 4: Mode.FERRY}
ROUTE_TYPES |= {5: Mode.TRAM, 11: Mode.BUS, 12: Mode.METRO}
_HUNDREDS: dict[int, str] = {1: Mode.TRAIN, 2: Mode.BUS, 4: Mode.METRO, 7: Mode.BUS, 8: Mode.BUS}
_HUNDREDS |= {9: Mode.TRAM, 10: Mode.FERRY, 12: Mode.FERRY}
FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


def route_mode(route_type: int) -> str | None:
    """The mode of a GTFS ``route_type``, or None for one :mod:`core.transit` does not weigh."""
    if route_type in ROUTE_TYPES:
        return ROUTE_TYPES[route_type]
    return _HUNDREDS.get(route_type // 100) if route_type >= 100 else None


@dataclass(frozen=True, slots=True)
class GtfsStops:
    """What a feed gives :mod:`core.transit`: its served stops, and how many routes serve them."""

    stops: list[FeedStop]
    routes: int


class _Feed:
    """The text files of a GTFS feed, in a zip archive or a folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            self.archive: zipfile.ZipFile | None = None
            self.names = {p.name: p.name for p in path.iterdir()}
        else:
            try:
                self.archive = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise BadRequest(f"{path}: not a GTFS zip archive or folder ({exc})") from exc
            # Some producers zip the files inside a folder: accept one level.
            self.names = {Path(n).name: n for n in self.archive.namelist() if not n.endswith("/")}

    @contextmanager
    def rows(self, name: str, required: tuple[str, ...]) -> Iterator[Iterator[tuple[int, dict[str, str]]]]:
        """``(line number, row)`` of ``name``, after checking its header has ``required``."""
        if name not in self.names:
            raise BadRequest(f"{self.path}: the GTFS feed has no {name}")
        if self.archive is not None:
            raw = self.archive.open(self.names[name])
        else:
            raw = (self.path / self.names[name]).open("rb")
        with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
            reader = csv.DictReader(text)
            try:
                missing = [c for c in required if c not in (reader.fieldnames or [])]
                if missing:
                    raise BadRequest(f"{self.path}: {name} has no column {', '.join(missing)}")
                yield (
                    (k, {key: (value or "").strip() for key, value in row.items() if key})
                    for k, row in enumerate(reader, 2)
                )
            except UnicodeDecodeError as exc:  # decoded by blocks: no line number to give
                hint = "as GTFS requires (e.g. iconv -f latin1 -t utf-8)"
                raise BadRequest(f"{self.path}: {name} is not UTF-8 text, {hint}") from exc
            except (csv.Error, zipfile.BadZipFile) as exc:
                raise BadRequest(f"{self.path}: {name} line {reader.line_num}: {exc}") from exc

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def read_gtfs(path: Path) -> GtfsStops:
    """The stops of the feed at ``path`` (zip or folder) served by routes of a weighed mode.

    Raises :class:`BadRequest` naming the file and line of anything it cannot read: a missing file
    or column, a route type or coordinate that is not a number, a coordinate off the globe, text
    that is not UTF-8 or not CSV, or a feed with no stop of a bus, tram, metro, train or ferry
    route.
    """
    feed = _Feed(path)
    try:
        modes: dict[str, str] = {}
        with feed.rows("routes.txt", ("route_id", "route_type")) as rows:
            for line, row in rows:
                mode = route_mode(_number(row["route_type"], int, "routes.txt", line, "route_type"))
                if mode is not None:
                    modes[row["route_id"]] = mode
        trip_route: dict[str, str] = {}
        with feed.rows("trips.txt", ("route_id", "trip_id")) as rows:
            for _, row in rows:
                if row["route_id"] in modes:
                    trip_route[row["trip_id"]] = row["route_id"]
        served: dict[str, set[str]] = {}
        with feed.rows("stop_times.txt", ("trip_id", "stop_id")) as rows:
            for _, row in rows:
                route = trip_route.get(row["trip_id"])
                if route is not None:
                    served.setdefault(row["stop_id"], set()).add(route)
        stops = _stops(feed, served, modes)
    finally:
        feed.close()
    if not stops:
        raise BadRequest(f"{path}: no stop of a bus, tram, metro, train or ferry route in the feed")
    return GtfsStops(stops=stops, routes=len({r for s in stops for r in s.route_ids}))


def _stops(feed: _Feed, served: dict[str, set[str]], modes: dict[str, str]) -> list[FeedStop]:
    """``stops.txt`` rows with their routes: served directly, or through their station."""
    places: dict[str, tuple[float, float, str, str]] = {}  # stop_id -> lat, lon, location_type, parent
    with feed.rows("stops.txt", ("stop_id",)) as rows:
        for line, row in rows:
            if not row.get("stop_lat") and not row.get("stop_lon"):
                continue  # generic nodes and boarding areas may have no position
            lat = _number(row.get("stop_lat", ""), float, "stops.txt", line, "stop_lat")
            lon = _number(row.get("stop_lon", ""), float, "stops.txt", line, "stop_lon")
            if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
                raise BadRequest(f"{feed.path}: stops.txt line {line}: {lat}, {lon} is off the globe")
            places[row["stop_id"]] = (lat, lon, row.get("location_type", ""), row.get("parent_station", ""))
    stations: dict[str, set[str]] = {}
    for stop_id, routes in served.items():
        parent = places.get(stop_id, (0.0, 0.0, "", ""))[3]
        if parent:
            stations.setdefault(parent, set()).update(routes)
    out: list[FeedStop] = []
    for stop_id, (lat, lon, kind, parent) in places.items():
        routes = set(served.get(stop_id, ())) | stations.get(stop_id, set())
        if kind == "2" and parent:
            routes |= stations.get(parent, set())
        if routes:
            ids = tuple(sorted(routes))
            kinds = tuple(modes[r] for r in ids)
            out.append(FeedStop(stop_id=stop_id, lat=lat, lon=lon, route_ids=ids, modes=kinds))
    return out


_N = TypeVar("_N", int, float)


def _number(text: str, kind: type[_N], name: str, line: int, column: str) -> _N:
    try:
        return kind(text)
    except ValueError:
        raise BadRequest(f"{name} line {line}: {column} {text!r} is not a number") from None


def feed_name(path: Path, given: str | None) -> str:
    """The feed's name: ``given``, else the file's stem in lower case, checked against
    :data:`FEED_NAME` (letters, digits, ``_ . -``; what the stops' route keys are prefixed with)."""
    name = given if given is not None else slug(path.stem, keep="_.-")
    if not FEED_NAME.match(name):
        raise BadRequest(f"feed name {name!r}: use 1-63 lower-case letters, digits, '_', '.' or '-'")
    return name


@dataclass(frozen=True, slots=True)
class Imported:
    """The stored feed, and how many testers were queued for reprocessing with it."""

    feed: transit_db.Feed
    revisited: int


async def import_feed(
    conn: Conn,
    path: Path,
    name: str | None = None,
    *,
    revisit_days: int = 0,
    campaigns: Sequence[str] | None = None,
    now: datetime | None = None,
    complete: bool = False,
) -> Imported:
    """Read the feed at ``path`` and replace the feed of that name with it. With ``revisit_days``,
    the last days of every tester (of ``campaigns``, when given: the network's city) are processed
    again with the new network (queued in the same transaction as the feed; the pipeline picks
    them up in its usual rounds); without, only what is processed from now on is weighed by it.
    ``complete``: the operator declares that the imported feeds together hold every transit stop
    where this one has stops, so a mode without stops there is absent (:mod:`core.transit`)."""
    feed = feed_name(path, name)
    if revisit_days < 0:
        raise BadRequest(f"revisit days must not be negative: {revisit_days}")
    if campaigns is not None and not revisit_days:
        raise BadRequest("campaigns say whose days to revisit: give the revisit days too")
    if campaigns is not None and (unknown := await transit_db.unknown_campaigns(conn, campaigns)):
        raise NotFound(f"no campaign named {', '.join(repr(n) for n in unknown)}")
    read = read_gtfs(path)
    at = now or datetime.now(UTC)
    # More days than since 2000 (no fix is older) is everything: and 10**8 days would overflow.
    days_back = min(revisit_days, (at - EARLIEST_FIX).days + 1)
    since = at - timedelta(days=days_back) if revisit_days else None
    stored, revisited = await transit_db.replace_feed(
        conn,
        feed,
        path.name,
        read.stops,
        read.routes,
        revisit_from=since,
        campaigns=campaigns,
        complete=complete,
    )
    return Imported(feed=stored, revisited=revisited)


class NetworkCache:
    """The network the pipeline weighs sections with, read again only when a feed changed."""

    def __init__(self, params: TransitParams) -> None:
        self.params = params
        self._version: str | None = None
        self._network: Network | None = None
        self._rebuilding = asyncio.Lock()  # testers processed at once rebuild it once, not each

    async def current(self, conn: Conn) -> Network | None:
        """The network as stored now (None when no feed was imported, or weighing is off)."""
        if not self.params.enabled:
            return None
        version = await transit_db.version(conn)
        if version == self._version:
            return self._network
        async with self._rebuilding:
            if version != self._version:
                stops = await transit_db.network(conn) if version else []
                # About 1 s for 100,000 stops: off the event loop, which serves the API meanwhile.
                index = await asyncio.to_thread(TransitStops.of, stops) if stops else None
                self._network = Network(index, self.params) if index is not None else None
                self._version = version
            return self._network
