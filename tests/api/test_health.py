import asyncio
import logging
import sys
import uuid
from typing import Any, cast
from urllib.parse import urlsplit

import asyncpg
import httpx
import msgspec
import pytest

from api import health
from api.app import create_app
from api.logs import JsonFormatter, TextFormatter
from api.problems import TYPE_BASE
from core.calibration import ConfidenceCalibration
from core.settings import Settings
from models.heuristic import HeuristicClassifier
from store.migrate import discover
from tests.support.proxy import CuttableProxy
from tests.support.server import serve
from tests.support.testers import enrol


async def test_health_reports_postgresql_and_timescaledb_versions(http: httpx.AsyncClient) -> None:
    r = await http.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["timescaledb"].startswith("2.")
    assert body["postgresql"][:2].isdigit()
    # No calibration installed, and the stored sections show the model's own figures.
    assert (body["calibration"], body["sections_show_calibration"]) == (None, True)


async def test_health_says_when_the_stored_sections_do_not_show_the_installed_calibration_yet(
    settings: Settings,
) -> None:
    # Installed, but nothing mapped: the pipeline worker that would map them is off here.
    fitted = ConfidenceCalibration(model_version="1.4.0", slope=0.5, intercept=0.0)
    deployment = msgspec.structs.replace(settings, calibration=fitted)
    with serve(create_app(deployment, classifier=HeuristicClassifier())) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            r = await client.get("/health")
    assert r.status_code == 200  # still serving: the figures shown are the earlier ones meanwhile
    assert (r.json()["calibration"], r.json()["sections_show_calibration"]) == ("1.4.0", False)


async def test_unknown_paths_get_an_rfc9457_problem(http: httpx.AsyncClient) -> None:
    r = await http.get("/no/such/thing")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 404
    assert body["type"].endswith("/not-found")
    assert body["title"]
    assert body["detail"]


async def test_each_kind_of_mistake_has_one_status_and_one_problem_type(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    """400 for a request that fails its schema, 422 for a well-formed one that cannot be used, the
    same ``type`` and ``title`` wherever it is made: checked by hand, by msgspec, by Litestar, or by a
    tracker's decoder (these differed: ``bad-request`` and ``validation``, 400 and 422)."""
    t = await enrol(http, invite_code)
    json_body = {"Content-Type": "application/json"}
    consent = {"purpose": "research_labels", "granted": True}
    schema_failures = {
        "malformed JSON, a body of ours": await http.post("/v1/enrol", content=b'{"a": ', headers=json_body),
        "malformed JSON, a batch": await http.post("/v1/fixes", content=b'{"fixes": ', headers=t.auth),
        "a length, by hand": await http.post("/v1/me/devices", json={"label": "x" * 101}, headers=t.auth),
        "a length, by msgspec": await http.put(
            "/v1/me/carpool", json={"display_name": "x" * 61, "contact": "c"}, headers=t.auth
        ),
        "a length, a terms version": await http.put(
            "/v1/me/consents", json={"consents": [{**consent, "terms_version": ""}]}, headers=t.auth
        ),
        "a bound, by hand": await http.get(
            "/v1/coach/footprint", params={"at": "1999-06-01T00:00:00Z"}, headers=t.auth
        ),
        "a bound, by Litestar": await http.get("/v1/coach/fmd", params={"year": "1999"}, headers=t.auth),
        "U+0000, by the database": await http.post(
            "/v1/enrol", json={"invite_code": "AB\u0000", "consents": ["coaching"]}
        ),
    }
    unusable = {
        "an unknown purpose": await http.put(
            "/v1/me/consents", json={"consents": [{**consent, "purpose": "ads"}]}, headers=t.auth
        ),
        "a range the wrong way round": await http.get(
            "/v1/trips", params={"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, headers=t.auth
        ),
        "another shape, GPSLogger": await http.post(f"/ingest/gpslogger?token={t.token}", json=[46.1, -1.1]),
        "another shape, OpenPATH": await http.post("/usercache/get", json={"user": 5}),
        "another shape, an upload": await http.post("/v1/uploads", content=b"hello", headers=t.auth),
    }
    seen = {name: (r.status_code, r.json()["type"], r.json()["title"]) for name, r in schema_failures.items()}
    assert seen == dict.fromkeys(schema_failures, (400, TYPE_BASE + "validation", "Invalid request"))
    seen = {name: (r.status_code, r.json()["type"], r.json()["title"]) for name, r in unusable.items()}
    assert seen == dict.fromkeys(unusable, (422, TYPE_BASE + "unprocessable", "Unprocessable content"))


@pytest.mark.parametrize(
    ("path", "query", "key"),
    [
        ("/v1/trips", {"from": "2026-10-01T00:00:00Z", "to": "yesterday"}, "to"),
        ("/v1/trips", {"from": "soon"}, "from"),
        ("/v1/me/export", {"format": "pdf"}, "format"),
        ("/v1/trips", {"limit": "0"}, "limit"),
    ],
)
async def test_invalid_query_parameters_are_named_as_the_client_sent_them(
    http: httpx.AsyncClient, invite_code: str, path: str, query: dict[str, str], key: str
) -> None:
    t = await enrol(http, invite_code)
    r = await http.get(path, params=query, headers=t.auth)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith("/validation")
    assert [e["key"] for e in body["errors"]] == [key]


async def test_openapi_is_served_under_schema(http: httpx.AsyncClient) -> None:
    r = await http.get("/schema/openapi.json")
    assert r.status_code == 200
    assert "/health" in r.json()["paths"]


async def _health_status(client: httpx.AsyncClient) -> int:
    return (await client.get("/health")).status_code


async def test_health_turns_503_while_the_database_is_away_and_recovers(settings: Settings) -> None:
    assert settings.database_url is not None
    url = urlsplit(settings.database_url)
    proxy = CuttableProxy(url.hostname or "127.0.0.1", url.port or 5432)
    proxy.start()
    proxied = settings.database_url.replace(f":{url.port}/", f":{proxy.port}/")
    app = create_app(Settings(database_url=proxied, db_connect_timeout_s=1.0, health_timeout_s=1.5))
    proxy.cut()  # the database is down before the server even starts
    with serve(app) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            assert await _health_status(client) == 503
            body = (await client.get("/health")).json()
            assert body["database"] == "down"
            proxy.start()  # the database comes back
            assert await _health_status(client) == 200
            proxy.cut()  # and goes away again, with connections in the pool
            statuses = [await _health_status(client) for _ in range(2)]
            assert statuses[-1] == 503
            proxy.start()
            for _ in range(20):  # recovers by itself, without restarting the server
                if await _health_status(client) == 200:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("health did not recover after the database came back")
    proxy.close()


async def test_request_logs_are_structured_and_never_carry_the_query_string(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="sillage.access"):
        await http.get("/ingest/gpslogger?token=SECRET-TOKEN&lat=1&lon=2")
    records = [r for r in caplog.records if r.name == "sillage.access"]
    assert records
    rec = records[-1]
    assert rec.__dict__["path"] == "/ingest/gpslogger"
    assert rec.__dict__["status"] == 401
    assert "SECRET-TOKEN" not in JsonFormatter().format(rec)


async def test_ids_in_paths_are_masked_in_the_access_log(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    trip = "5f0c2a3e-9d1b-5c4e-8f7a-0123456789ab"
    with caplog.at_level(logging.INFO, logger="sillage.access"):
        await http.get(f"/v1/trips/{trip}")
    rec = [r for r in caplog.records if r.name == "sillage.access"][-1]
    assert rec.__dict__["path"] == "/v1/trips/{id}"
    assert trip not in JsonFormatter().format(rec)


async def test_a_process_whose_connections_are_all_busy_says_busy_not_down(settings: Settings) -> None:
    assert settings.database_url is not None
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    busy = Settings(database_url=settings.database_url, db_connect_timeout_s=0.3, pipeline_enabled=False)
    held = await pool.acquire()  # the process's only connection, in use for the whole test
    try:
        with serve(create_app(busy, pool=pool)) as base:
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                r = await client.get("/health")
                assert r.status_code == 503
                assert r.json()["database"] == "busy"  # up, but no connection free: not "down"
                assert r.headers["retry-after"] == "1"
                r = await client.post("/v1/enrol", json={"invite_code": "X", "consents": ["coaching"]})
                assert r.status_code == 503
                assert r.json()["type"].endswith("/database-busy")
                assert "busy" in r.json()["detail"]
                assert r.headers["retry-after"] == "1"
    finally:
        await pool.release(held)
        await pool.close()


class ComingBack:
    """A full pool whose waits time out just as a connection comes back: it is idle, put back by a
    waiter whose timeout fell as it was handed it, and not yet the next waiter's. The state a burst
    of requests queued behind a full pool meets when they time out together (seen under 120
    concurrent uploads: ``size=10 idle=1`` at each timeout)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def acquire(self, *, timeout: float) -> asyncpg.Connection:  # noqa: ASYNC109  (asyncpg's)
        await asyncio.sleep(timeout)
        raise TimeoutError

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


async def test_a_wait_behind_a_full_pool_is_busy_even_as_a_connection_comes_back(settings: Settings) -> None:
    assert settings.database_url is not None
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    assert (pool.get_size(), pool.get_idle_size()) == (1, 1)  # full, and its connection idle
    busy = Settings(database_url=settings.database_url, db_connect_timeout_s=0.3, pipeline_enabled=False)
    try:
        with serve(create_app(busy, pool=cast(asyncpg.Pool, ComingBack(pool)))) as base:
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                r = await client.get("/health")
                assert (r.status_code, r.json()["database"]) == (503, "busy")  # not "down"
                r = await client.post("/v1/enrol", json={"invite_code": "X", "consents": ["coaching"]})
                assert r.status_code == 503
                assert r.json()["type"].endswith("/database-busy")
                assert r.headers["retry-after"] == "1"
    finally:
        await pool.close()


async def test_health_names_the_schema_and_turns_503_when_the_database_lacks_a_migration(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    newest = max(m.version for m in discover())
    body = (await http.get("/health")).json()
    assert (body["schema"], body["schema_expected"]) == (f"{newest:04d}", f"{newest:04d}")
    # New code started before `sillage db migrate`: it ships a migration the database lacks.
    monkeypatch.setattr(health, "expected_schema", lambda: newest + 1)
    r = await http.get("/health")
    assert r.status_code == 503
    body = r.json()
    assert (body["status"], body["database"]) == ("unavailable", "up")
    needs = f"the database is at migration {newest:04d} and this code needs {newest + 1:04d}"
    assert body["detail"] == needs + ": run sillage db migrate"


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter("%(levelname)s %(message)s")])
def test_an_errors_text_names_no_tester_in_the_log(formatter: logging.Formatter) -> None:
    # PostgreSQL's messages name the role or the key a statement met ('role "sillage_u_..." does
    # not exist', 'Key (user_id)=(...) is not present'): logged as they were, an erased tester's id
    # stayed in the log that `sillage rights verify-erased --log-file` reads.
    user = uuid.uuid4()
    role = f"sillage_u_{user.hex}"
    try:
        raise RuntimeError(f'role "{role}" does not exist; Key (user_id)=({user}) is not present')
    except RuntimeError:
        rec = logging.LogRecord("sillage.api", logging.ERROR, __file__, 1, "failed for %s", (user.hex,), None)
        rec.exc_info = sys.exc_info()
        rec.__dict__["detail"] = f"as {role}"
    line = formatter.format(rec)
    assert "does not exist" in line  # the message itself is kept
    assert "failed for" in line
    for trace in (user.hex, str(user), role):
        assert trace not in line
