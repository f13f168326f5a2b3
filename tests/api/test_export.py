"""GET /v1/me/export: everything about the caller, complete, streamed, in four formats."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import uuid
import zipfile
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import msgspec
import numpy as np
import pytest
from defusedxml import ElementTree

from api.app import create_app
from core.settings import Settings
from ingest.readme import readme
from store.export import Account, Column, Relation
from store.partition import as_user
from store.pool import Database
from tests.support.commute import DAY, commute_fixes, commuted
from tests.support.server import serve
from tests.support.testers import Enrolled, enrol, upload

GPX_NS = "{http://www.topografix.com/GPX/1/1}"


@pytest.fixture
async def commuter(http: httpx.AsyncClient, invite_code: str, db: Database) -> Enrolled:
    """A tester with fixes, stays, trips, sections, a corrected mode and a hidden trip."""
    t, trips = await commuted(http, invite_code, db, "coaching", "research_labels")
    r = await http.patch(
        f"/v1/sections/{trips[0]['sections'][0]['id']}", json={"mode": "bike"}, headers=t.auth
    )
    assert r.status_code == 200, r.text
    r = await http.post(f"/v1/me/trips/{trips[0]['id']}/hide", headers=t.auth)
    assert r.status_code == 204, r.text
    return t


async def export(http: httpx.AsyncClient, t: Enrolled, fmt: str) -> httpx.Response:
    r = await http.get("/v1/me/export", params={"format": fmt}, headers=t.auth)
    assert r.status_code == 200, r.text
    return r


async def partition_tables(app_conn: asyncpg.Connection, t: Enrolled) -> dict[str, list[asyncpg.Record]]:
    """Every table of the tester's partition (chunks aside) and all its rows, read independently."""
    async with as_user(app_conn, f"sillage_u_{t.user_id.hex}"):
        names = [
            r["table_name"]
            for r in await app_conn.fetch(
                "SELECT table_name FROM information_schema.tables t WHERE table_schema = current_schema()"
                " AND table_type = 'BASE TABLE' AND NOT EXISTS (SELECT 1 FROM pg_inherits i"
                " WHERE i.inhrelid = format('%I.%I', t.table_schema, t.table_name)::regclass)"
            )
        ]
        return {n: await app_conn.fetch(f'SELECT * FROM "{n}"') for n in names}


def same(cell: str, value: Any) -> bool:
    """Whether a CSV cell states the database value (NULL is an empty cell)."""
    if value is None:
        return cell == ""
    if isinstance(value, bool):
        return cell == ("true" if value else "false")
    if isinstance(value, datetime):
        return datetime.strptime(cell, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) == value
    if isinstance(value, float):
        return float(cell) == value or np.float32(float(cell)) == np.float32(value)
    if isinstance(value, int):
        return int(cell) == value
    if isinstance(value, list):  # an array column, exported as JSON
        return bool(np.array_equal(np.asarray(json.loads(cell), np.float32), np.asarray(value, np.float32)))
    if isinstance(value, str) and value[:1] in "{[":
        return bool(json.loads(cell) == json.loads(value))
    return cell == str(value)


def matches(csv_rows: list[dict[str, str]], db_rows: list[asyncpg.Record]) -> bool:
    """Row by row: each database row is stated by exactly one CSV row, and nothing else is there."""
    remaining = list(csv_rows)
    for record in db_rows:
        columns = list(record.keys())  # iterating a Record yields its values, not its keys
        found = next(
            (i for i, row in enumerate(remaining) if all(same(row[k], record[k]) for k in columns)), None
        )
        if found is None:
            return False
        remaining.pop(found)
    return not remaining


def read_csv(z: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(z.read(name).decode())))


async def test_the_zip_holds_every_row_of_every_partition_table(
    http: httpx.AsyncClient, commuter: Enrolled, app_conn: asyncpg.Connection
) -> None:
    z = zipfile.ZipFile(io.BytesIO((await export(http, commuter, "zip")).content))
    tables = await partition_tables(app_conn, commuter)
    assert {"fixes", "stays", "trips", "sections", "labels", "hidden_trips"} <= set(tables)
    assert all(tables[n] for n in ("fixes", "stays", "trips", "sections", "labels", "hidden_trips"))
    for name, rows in tables.items():
        assert matches(read_csv(z, f"data/{name}.csv"), rows), name


async def test_the_zip_holds_the_shared_rows_about_the_tester_without_secrets(
    http: httpx.AsyncClient, commuter: Enrolled, app_conn: asyncpg.Connection
) -> None:
    z = zipfile.ZipFile(io.BytesIO((await export(http, commuter, "zip")).content))
    for table in ("consents", "consent_events"):
        rows = await app_conn.fetch(f"SELECT * FROM sillage.{table} WHERE user_id = $1", commuter.user_id)
        assert len(rows) == 2
        assert matches(read_csv(z, f"account/{table}.csv"), rows), table
    devices = read_csv(z, "account/devices.csv")
    assert [d["id"] for d in devices] == [str(commuter.device_id)]
    assert not any("secret" in k or "sha256" in k for k in devices[0])
    account = json.loads(z.read("account.json"))
    assert account["user_id"] == str(commuter.user_id)
    assert account["campaign"] == "La Rochelle 2026 (tests)"
    # What the tester's answers count for is an inference about them: exported, as the app shows it.
    assert account["answers"] == (await http.get("/v1/me/answers", headers=commuter.auth)).json()
    assert account["answers"]["answers"] == len({row["section_id"] for row in read_csv(z, "data/labels.csv")})


async def test_the_readme_describes_every_file_with_units(
    http: httpx.AsyncClient, commuter: Enrolled
) -> None:
    z = zipfile.ZipFile(io.BytesIO((await export(http, commuter, "zip")).content))
    readme = z.read("README.md").decode()
    for name in z.namelist():
        if name != "README.md":
            assert f"`{name}`" in readme, name
    assert "`accuracy_m` (real): horizontal accuracy radius reported by the device, metres" in readme
    assert "`co2_kg` (double precision): footprint, kilograms of CO2-equivalent" in readme


def described(readme: str) -> dict[str, dict[str, str]]:
    """What the README says of each file's columns (or members, for JSON), by file and name."""
    files: dict[str, dict[str, str]] = {}
    columns: dict[str, str] = {}
    for line in readme.splitlines():
        if file := re.match(r"- `([^`]+)`: ", line):
            columns = files.setdefault(file[1], {})
        elif column := re.fullmatch(r"  - `([^`]+)`(?: \([^)]*\))?(?:: (.*))?", line):
            columns[column[1]] = column[2] or ""
    return files


async def test_the_readme_describes_every_column_of_every_file(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    # About 75 columns were listed with their type alone, or the unit their name carries: every
    # column of every file a real export holds has its line (store.export_columns), so one a later
    # feature adds without a description fails here.
    t = await enrol(http, invite_code)
    z = zipfile.ZipFile(io.BytesIO((await export(http, t, "zip")).content))
    readme = z.read("README.md").decode()
    files = described(readme)
    checked = 0
    for name in z.namelist():
        if name.endswith(".csv"):
            names = next(csv.reader(io.StringIO(z.read(name).decode())))
        elif name.endswith(".json"):
            names = list(json.loads(z.read(name)))
        else:
            continue
        assert names, name
        for column in names:
            assert files[name].get(column), (name, column)
            checked += 1
    assert checked > 100
    assert "(timestamp with time zone)" not in readme  # each time says its zone
    # The csv format is data/fixes.csv alone.
    fixes = next(csv.reader(io.StringIO((await export(http, t, "csv")).text)))
    assert set(fixes) <= {k for k, v in files["data/fixes.csv"].items() if v}


def test_a_column_nothing_describes_is_listed_without_a_description() -> None:
    # So that the test above fails for it: no unit guessed from its name stands in.
    now = datetime(2026, 10, 5, tzinfo=UTC)
    account = Account(
        user_id=uuid.uuid4(),
        campaign="c",
        enrolled_at=now,
        paused_at=None,
        fixes_retention_days=None,
        trips_retention_days=None,
    )
    new = Column(name="detour_m", type="double precision", category="N")
    commented = Column(name="stops", type="integer", category="N", comment="stops along the trip")
    trips = Relation(schema="sillage_u_x", name="trips", columns=(new, commented))
    columns = described(readme(account, [], [trips], now))["data/trips.csv"]
    assert columns == {"detour_m": "", "stops": "stops along the trip"}


async def test_the_readme_says_how_csv_cells_are_quoted_as_they_are(
    http: httpx.AsyncClient, commuter: Enrolled
) -> None:
    # It said every value was quoted, numbers and booleans too: they never were.
    z = zipfile.ZipFile(io.BytesIO((await export(http, commuter, "zip")).content))
    assert "numbers, booleans\n  (`true`, `false`) and times are not" in z.read("README.md").decode()
    header, first = z.read("data/fixes.csv").decode().splitlines()[:2]
    cells = dict(zip(header.split(","), first.split(","), strict=True))
    assert not cells["lat"].startswith('"')
    assert not cells["ts"].startswith('"')
    assert cells["source"].startswith('"')


async def test_each_export_is_in_the_audit_log(http: httpx.AsyncClient, commuter: Enrolled) -> None:
    await export(http, commuter, "gpx")
    z = zipfile.ZipFile(io.BytesIO((await export(http, commuter, "zip")).content))
    entries = read_csv(z, "account/audit_log.csv")
    downloads = [json.loads(e["detail"])["format"] for e in entries if e["action"] == "export.download"]
    assert downloads == ["gpx", "zip"]


async def test_the_csv_export_is_every_raw_fix(
    http: httpx.AsyncClient, commuter: Enrolled, app_conn: asyncpg.Connection
) -> None:
    r = await export(http, commuter, "csv")
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert matches(rows, (await partition_tables(app_conn, commuter))["fixes"])


async def test_the_geojson_export_has_every_fix_section_and_stay(
    http: httpx.AsyncClient, commuter: Enrolled, app_conn: asyncpg.Connection
) -> None:
    doc = (await export(http, commuter, "geojson")).json()
    tables = await partition_tables(app_conn, commuter)
    kinds = [f["properties"]["kind"] for f in doc["features"]]
    assert doc["type"] == "FeatureCollection"
    assert kinds.count("fix") == len(tables["fixes"])
    assert kinds.count("section") == len(tables["sections"])
    assert kinds.count("stay") == len(tables["stays"])
    first = min(tables["fixes"], key=lambda f: f["ts"])
    point = next(f for f in doc["features"] if f["properties"]["kind"] == "fix")
    assert point["geometry"]["coordinates"] == [first["lon"], first["lat"]]


async def test_the_gpx_export_is_a_track_of_every_fix(
    http: httpx.AsyncClient, commuter: Enrolled, app_conn: asyncpg.Connection
) -> None:
    root = ElementTree.fromstring((await export(http, commuter, "gpx")).content)
    points = root.findall(f"{GPX_NS}trk/{GPX_NS}trkseg/{GPX_NS}trkpt")
    tables = await partition_tables(app_conn, commuter)
    assert len(points) == len(tables["fixes"])
    assert len(root.findall(f"{GPX_NS}wpt")) == len(tables["stays"])
    first = min(tables["fixes"], key=lambda f: f["ts"])
    assert (float(points[0].attrib["lat"]), float(points[0].attrib["lon"])) == (first["lat"], first["lon"])


async def test_gpx_coordinates_near_zero_are_decimals_without_an_exponent(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    # Near the equator, the Greenwich meridian (it crosses France) or sea level, a float printed
    # as 1e-05, which GPX's xsd:decimal does not allow: a schema-validating tool refused the file.
    t = await enrol(http, invite_code)
    await upload(
        http, t, [{"ts": DAY, "lat": 0.00001, "lon": -0.00002, "altitude_m": 0.00003, "accuracy_m": 5.0}]
    )
    (point,) = ElementTree.fromstring((await export(http, t, "gpx")).content).iter(f"{GPX_NS}trkpt")
    assert (point.attrib["lat"], point.attrib["lon"]) == ("0.00001", "-0.00002")
    elevation = point.find(f"{GPX_NS}ele")
    assert elevation is not None
    assert elevation.text is not None
    assert "e" not in elevation.text.lower()
    assert abs(float(elevation.text) - 0.00003) < 1e-9


async def test_an_export_holds_nothing_of_another_tester(
    http: httpx.AsyncClient, invite_code: str, commuter: Enrolled
) -> None:
    other = await enrol(http, invite_code)
    await upload(http, other, commute_fixes(DAY + 86400))
    content = (await export(http, commuter, "zip")).content
    z = zipfile.ZipFile(io.BytesIO(content))
    text = b"".join(z.read(n) for n in z.namelist()).decode()
    assert str(other.user_id) not in text
    assert other.user_id.hex not in text
    assert all(r["ts"].startswith("2026-10-05") for r in read_csv(z, "data/fixes.csv"))


async def test_an_unknown_format_is_refused(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    r = await http.get("/v1/me/export", params={"format": "kml"}, headers=t.auth)
    assert r.status_code == 400


async def test_an_export_needs_a_token(http: httpx.AsyncClient) -> None:
    r = await http.get("/v1/me/export")
    assert r.status_code == 401


async def test_a_new_tester_exports_empty_tables(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    z = zipfile.ZipFile(io.BytesIO((await export(http, t, "zip")).content))
    assert read_csv(z, "data/fixes.csv") == []
    assert z.read("data/fixes.csv").decode().startswith("ts,lat,lon,")
    assert uuid.UUID(json.loads(z.read("account.json"))["user_id"]) == t.user_id


async def test_as_many_exports_at_once_as_connections_all_answer(
    settings: Settings, invite_code: str
) -> None:
    # Found by a probe: each export held its request's connection while it took another for its
    # snapshot; with as many exports at once as pooled connections, each waited for a second one
    # and every one got 503. The export now authenticates on the connection it reads with.
    # (Four exports of one tester at once: past the default cap of two, the others would be 429.)
    small = msgspec.structs.replace(
        settings, pool_max_size=2, db_connect_timeout_s=10.0, exports_per_tester=4
    )
    with serve(create_app(small)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            t = await enrol(http, invite_code, "coaching")
            answers = await asyncio.gather(
                *(http.get("/v1/me/export", params={"format": "csv"}, headers=t.auth) for _ in range(4))
            )
            assert [r.status_code for r in answers] == [200] * 4
            assert (await http.get("/v1/me/export")).status_code == 401  # no token
            head = await http.head("/v1/me/export", headers={"Authorization": "Bearer nope"})
            assert head.status_code == 401
