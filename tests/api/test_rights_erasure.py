"""DELETE /v1/me: nothing refers to the tester afterwards, as `sillage rights verify-erased` proves."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from api.commands.rights import cmd_verify_erased
from api.logs import JsonFormatter
from core.errors import Unauthorized
from core.settings import Settings
from store.fixes import COPY_COLUMNS
from store.partition import as_user
from store.pool import Database
from tests.support.commute import DAY_RANGE, commute_fixes, commuted
from tests.support.database import ScratchDatabase
from tests.support.testers import Enrolled, enrol, upload


@pytest.fixture
def app_log(tmp_path: Path) -> Iterator[Path]:
    """The app's log as a file (the test server runs in this process and logs to the root logger)."""
    path = tmp_path / "sillage.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()


async def verify(settings: Settings, user_id: uuid.UUID, *logs: Path) -> int:
    args = argparse.Namespace(user_id=user_id, log_file=[str(p) for p in logs])
    return await asyncio.to_thread(cmd_verify_erased, args, settings)


async def active_tester(http: httpx.AsyncClient, invite_code: str, db: Database) -> Enrolled:
    """A tester who used everything: fixes, trips, a correction, a hidden trip, a second device,
    an export, a pause, a deleted range, and optional consents."""
    t, (trip, *_) = await commuted(http, invite_code, db, "coaching", "share_aggregates", "research_labels")
    window = DAY_RANGE
    await http.patch(f"/v1/sections/{trip['sections'][0]['id']}", json={"mode": "bike"}, headers=t.auth)
    await http.post(f"/v1/me/trips/{trip['id']}/hide", headers=t.auth)
    await http.post("/v1/me/devices", json={"label": "watch"}, headers=t.auth)
    assert (await http.get("/v1/me/export", headers=t.auth)).status_code == 200
    await http.post("/v1/me/pause", headers=t.auth)
    await http.post("/v1/me/resume", headers=t.auth)
    r = await http.delete(
        "/v1/me/fixes", params={"from": window["from"], "to": trip["started_at"]}, headers=t.auth
    )
    assert r.status_code == 200, r.text
    return t


async def test_after_erasure_nothing_refers_to_the_tester(
    http: httpx.AsyncClient,
    invite_code: str,
    db: Database,
    settings: Settings,
    app_log: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    t = await active_tester(http, invite_code, db)
    r = await http.delete("/v1/me", headers=t.auth)
    assert r.status_code == 200, r.text
    assert r.json()["erased"] is True
    assert await verify(settings, t.user_id, app_log) == 0
    out = capsys.readouterr().out
    assert "nothing refers to the tester" in out
    assert "FOUND" not in out


async def test_the_verifier_finds_a_tester_who_was_not_erased(
    http: httpx.AsyncClient, invite_code: str, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    t = await enrol(http, invite_code)
    await upload(http, t, commute_fixes()[:5])
    assert await verify(settings, t.user_id) == 1
    out = capsys.readouterr().out
    assert f"role sillage_u_{t.user_id.hex} exists" in out
    assert "FOUND sillage.users" in out
    assert "FOUND sillage.devices" in out


async def test_the_verifier_finds_a_log_line_naming_the_tester(
    http: httpx.AsyncClient, invite_code: str, settings: Settings, tmp_path: Path
) -> None:
    t = await enrol(http, invite_code)
    assert (await http.delete("/v1/me", headers=t.auth)).status_code == 200
    log = tmp_path / "old.log"
    log.write_text(f'{{"msg": "pipeline failed for a tester", "user_id": "{t.user_id}"}}\n', encoding="utf-8")
    assert await verify(settings, t.user_id) == 0
    assert await verify(settings, t.user_id, log) == 1


async def test_an_erased_tester_token_no_longer_works(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    assert (await http.delete("/v1/me", headers=t.auth)).status_code == 200
    assert (await http.get("/v1/me", headers=t.auth)).status_code == 401
    assert (await http.delete("/v1/me", headers=t.auth)).status_code == 401


async def test_the_audit_log_keeps_the_history_under_the_erasure_receipt_only(
    http: httpx.AsyncClient, invite_code: str, admin_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    await http.post("/v1/me/pause", headers=t.auth)
    await http.get("/v1/me/export", params={"format": "csv"}, headers=t.auth)
    pseudonym = await admin_conn.fetchval("SELECT sillage.audit_pseudonym($1)", t.user_id)
    assert (
        await admin_conn.fetchval("SELECT count(*) FROM sillage.audit_log WHERE actor = $1", pseudonym) == 3
    )
    receipt = (await http.delete("/v1/me", headers=t.auth)).json()["receipt"]
    rows = await admin_conn.fetch(
        "SELECT actor, subject, action FROM sillage.audit_log WHERE actor = $1", receipt
    )
    assert [r["action"] for r in rows] == [
        "account.enrol",
        "recording.pause",
        "export.download",
        "account.erase",
    ]
    assert all(r["subject"] == receipt for r in rows)
    mentions = "SELECT count(*) FROM sillage.audit_log a WHERE a::text LIKE '%' || $1 || '%'"
    assert await admin_conn.fetchval(mentions, pseudonym) == 0


async def test_erasing_one_tester_leaves_the_others_intact(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    leaving, staying = await enrol(http, invite_code), await enrol(http, invite_code)
    await upload(http, staying, commute_fixes()[:20])
    await http.delete("/v1/me", headers=leaving.auth)
    assert (await http.get("/v1/me", headers=staying.auth)).status_code == 200
    export = await http.get("/v1/me/export", params={"format": "csv"}, headers=staying.auth)
    assert len(export.text.strip().splitlines()) == 21


async def test_erasure_refreshes_catalogue_statistics_that_sampled_the_tester(
    http: httpx.AsyncClient, invite_code: str, db: Database, settings: Settings, test_db: ScratchDatabase
) -> None:
    t = await active_tester(http, invite_code, db)
    su = await asyncpg.connect(test_db.superuser_url)
    try:  # as autovacuum does while testers come and go: the statistics now sample the tester
        for catalogue in (
            "pg_namespace",
            "pg_class",
            "_timescaledb_catalog.hypertable",
            "_timescaledb_catalog.chunk",
        ):
            await su.execute(f"ANALYZE {catalogue}")
    finally:
        await su.close()
    r = await http.delete("/v1/me", headers=t.auth)
    assert r.status_code == 200, r.text
    assert await verify(settings, t.user_id) == 0


async def test_erasure_waits_for_a_transaction_in_the_partition_then_keeps_new_ones_out(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    # A request in the tester's partition when the erasure dropped the role and the schema failed
    # half way (a 500 naming the tester). The erasure now waits for it, and what enters after it
    # finds the tester gone.
    t = await enrol(http, invite_code)
    role = f"sillage_u_{t.user_id.hex}"
    async with as_user(app_conn, role):
        erasing = asyncio.create_task(http.delete("/v1/me", headers=t.auth))
        await asyncio.sleep(0.5)
        assert not erasing.done()  # it waits for the transaction under way
        assert await app_conn.fetchval("SELECT count(*) FROM fixes") == 0  # still there to read
    r = await erasing
    assert r.status_code == 200, r.text
    with pytest.raises(Unauthorized, match="no longer exists"):
        async with as_user(app_conn, role):
            pass


async def test_requests_racing_an_erasure_answer_without_a_server_error_or_a_trace_of_the_tester(
    http: httpx.AsyncClient, invite_code: str, app_log: Path
) -> None:
    # Found by probing: uploads, exports, lists, deletions and consents sent with the erasure got
    # 500s ("role does not exist", "relation does not exist", a foreign key violated), an export
    # answered 200 with no byte, and the log lines named the tester.
    everything = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    erased: list[Enrolled] = []
    statuses: list[tuple[str, int, int]] = []
    for _ in range(3):
        t = await enrol(http, invite_code)
        erased.append(t)
        fixes = commute_fixes()
        await upload(http, t, fixes[:100])
        batches = [fixes[100 + 50 * k : 150 + 50 * k] for k in range(8)]
        requests = [http.post("/v1/fixes", json={"fixes": b}, headers=t.auth) for b in batches]
        requests += [
            http.get("/v1/me/export", params={"format": f}, headers=t.auth)
            for f in ("zip", "csv", "geojson", "gpx")
        ]
        requests += [
            http.get("/v1/trips", headers=t.auth),
            http.delete("/v1/me/fixes", params=everything, headers=t.auth),
            http.put(
                "/v1/me/consents",
                json={"consents": [{"purpose": "share_aggregates", "granted": True}]},
                headers=t.auth,
            ),
            http.get("/v1/coach/weekly", headers=t.auth),
            http.put("/v1/me/profile", json={"car_energy": "electric"}, headers=t.auth),
        ]
        requests.insert(5, http.delete("/v1/me", headers=t.auth))
        requests.insert(9, http.delete("/v1/me", headers=t.auth))
        statuses += [
            (f"{r.request.method} {r.request.url.path}", r.status_code, len(r.content))
            for r in await asyncio.gather(*requests)
        ]
    assert [s for s in statuses if s[1] >= 500] == []
    assert [s for s in statuses if s[0].endswith("/export") and s[1] == 200 and s[2] == 0] == []
    assert sum(1 for s in statuses if s[0] == "DELETE /v1/me" and s[1] == 200) == 3
    log = app_log.read_text(encoding="utf-8")
    for t in erased:
        assert t.user_id.hex not in log
        assert str(t.user_id) not in log


async def _load_fixes(app_conn: asyncpg.Connection, t: Enrolled, n: int) -> None:
    """``n`` fixes every 2 s straight into the tester's partition (COPY, as a history import)."""
    role = f"sillage_u_{t.user_id.hex}"
    t0 = datetime(2026, 3, 2, tzinfo=UTC)
    records = [
        (t0 + timedelta(seconds=2 * i), 46.15 + i * 1e-7, -1.15, 8.0, 10.0, 1.2, 90.0, None, None, "test")
        for i in range(n)
    ]
    async with as_user(app_conn, role):
        await app_conn.copy_records_to_table("fixes", records=records, columns=COPY_COLUMNS, schema_name=role)


async def test_an_export_its_client_stopped_reading_does_not_hold_back_the_erasure(
    base_url: str, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    # Found by a probe: an export streamed straight from its transaction held the tester's lock
    # for as long as the download lasted, and `DELETE /v1/me` waited behind a phone that stopped
    # reading. The export is now made into a temporary file at the database's pace.
    fixes = 300_000  # a CSV of some 25 MB: more than the sockets' buffers hold
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        t = await enrol(http, invite_code)
        await _load_fixes(app_conn, t, fixes)
        async with http.stream("GET", "/v1/me/export", params={"format": "csv"}, headers=t.auth) as r:
            assert r.status_code == 200
            chunks = r.aiter_raw()
            received = [await anext(chunks)]  # then the phone stops reading
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as other:
                erased = await asyncio.wait_for(other.delete("/v1/me", headers=t.auth), timeout=60)
            assert erased.status_code == 200, erased.text
            received += [chunk async for chunk in chunks]  # the download goes on, whole
    lines = b"".join(received).decode().splitlines()
    assert len(lines) == 1 + fixes


async def test_a_download_dropped_while_the_export_is_made_ends_its_transaction_cleanly(
    base_url: str, invite_code: str, app_conn: asyncpg.Connection, app_log: Path
) -> None:
    # Found by a probe: each download dropped early logged an error ("Resetting connection with an
    # active transaction"): the export was cancelled in the middle of a query. It now finishes the
    # piece under way and closes.
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        t = await enrol(http, invite_code)
        await _load_fixes(app_conn, t, 300_000)
        async with http.stream("GET", "/v1/me/export", headers=t.auth) as r:  # a zip: slow to make
            assert r.status_code == 200
            await anext(r.aiter_raw())
        # The client went away. The server logs the request once the export is closed.
        for _ in range(600):
            if '"path":"/v1/me/export"' in app_log.read_text(encoding="utf-8"):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        assert (await http.get("/v1/me", headers=t.auth)).status_code == 200
    log = app_log.read_text(encoding="utf-8")
    assert '"path":"/v1/me/export"' in log
    assert [line for line in log.splitlines() if '"level":"error"' in line] == []


async def test_a_testers_exports_at_once_are_capped_until_one_ends(
    base_url: str, invite_code: str, app_conn: asyncpg.Connection, settings: Settings
) -> None:
    # Each export under way holds a temporary file as large as itself (a CSV of 300,000 fixes: some
    # 25 MB) until its download ends: a client looping on the request, well within its rate, could
    # fill the disk. Past `SILLAGE_EXPORTS_PER_TESTER` (2) at once, the next is refused, for that
    # tester only, until one ends.
    assert settings.exports_per_tester == 2
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        t, other = await enrol(http, invite_code), await enrol(http, invite_code)
        await _load_fixes(app_conn, t, 300_000)
        csv = {"format": "csv"}
        async with contextlib.AsyncExitStack() as downloads:
            reading = []  # kept: a reader dropped would close its download
            for _ in range(2):  # two downloads under way: the phone reads a piece of each, then waits
                r = await downloads.enter_async_context(
                    http.stream("GET", "/v1/me/export", params=csv, headers=t.auth)
                )
                assert r.status_code == 200
                reading.append(r.aiter_raw())
                await anext(reading[-1])
            refused = await http.get("/v1/me/export", params=csv, headers=t.auth)
            assert refused.status_code == 429, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert int(refused.headers["retry-after"]) >= 1
            assert "2 exports of yours under way" in refused.json()["detail"]
            assert (await http.head("/v1/me/export", headers=t.auth)).status_code == 200  # makes none
            assert (await http.get("/v1/me/export", params=csv, headers=other.auth)).status_code == 200
        # Both downloads dropped: once the server has seen it, the tester may export again.
        status = 429
        for _ in range(600):  # an upper bound, not a timing assertion
            async with http.stream("GET", "/v1/me/export", params=csv, headers=t.auth) as again:
                status = again.status_code  # then dropped at once
            if status != 429:
                break
            await asyncio.sleep(0.05)
        assert status == 200
