"""Dashboard logins cannot freeze the API: argon2 runs off the event loop, a few at a time, and
failed logins are throttled per client address and per e-mail address, in the database.

The throttle is shared by every app serving the test database, as by every API process of a
deployment: each test logs in from loopback addresses and with e-mail addresses of its own.
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from api.app import create_app
from core.settings import Settings
from ingest.sharing.team import HASH_THREADS, add_member
from store import sharing as db
from tests.support.database import ScratchDatabase
from tests.support.server import serve

HANG_GUARD_S = 30.0  # only stops a broken test from hanging; nothing here measures time
WRONG_PASSWORD = "not the password"


@pytest.fixture
def own_server(settings: Settings) -> Iterator[str]:
    with serve(create_app(settings)) as url:
        yield url


def _address() -> str:
    """A loopback address no other test logs in from."""
    return "127." + ".".join(str(random.randint(1, 254)) for _ in range(3))


def _email(who: str) -> str:
    return f"{who}-{uuid.uuid4().hex[:8]}@agglo.example"


def _client(base_url: str, address: str) -> httpx.AsyncClient:
    """A client whose connections come from ``address`` (any of 127.0.0.0/8 reaches loopback)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base_url, transport=transport, timeout=HANG_GUARD_S)


async def _csrf(client: httpx.AsyncClient) -> str:
    page = await client.get("/dashboard/login")
    m = re.search(r'name="_csrf" value="([^"]+)"', page.text)
    assert m is not None
    return m.group(1)


async def _login(client: httpx.AsyncClient, email: str, password: str = WRONG_PASSWORD) -> httpx.Response:
    data = {"email": email, "password": password, "_csrf": await _csrf(client)}
    return await client.post("/dashboard/login", data=data)


async def test_password_checks_leave_the_event_loop_free(
    own_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # argon2's check is replaced by one that holds until the test lets it go: while logins are
    # being checked, /health must still answer, which it cannot if a check blocks the event loop.
    release = threading.Event()
    loop, all_busy = asyncio.get_running_loop(), asyncio.Event()
    lock = threading.Lock()
    threads: list[str] = []
    running = [0, 0]  # now, most at once

    def held_refusal(self: PasswordHasher, password_hash: str, password: str) -> bool:
        with lock:
            threads.append(threading.current_thread().name)
            running[0] += 1
            running[1] = max(running)
            if len(threads) == HASH_THREADS:
                loop.call_soon_threadsafe(all_busy.set)
        try:
            release.wait(HANG_GUARD_S)
        finally:
            with lock:
                running[0] -= 1
        raise VerifyMismatchError

    monkeypatch.setattr(PasswordHasher, "verify", held_refusal)
    async with _client(own_server, _address()) as client:
        token = await _csrf(client)
        data = {"password": WRONG_PASSWORD, "_csrf": token}
        logins = [
            asyncio.create_task(client.post("/dashboard/login", data={**data, "email": _email(f"x{i}")}))
            for i in range(2 * HASH_THREADS)
        ]
        try:
            async with asyncio.timeout(HANG_GUARD_S):
                await all_busy.wait()
            health = await client.get("/health", timeout=10)
            assert health.status_code == 200
            assert not any(t.done() for t in logins)  # /health answered while every login waited
            assert all(name.startswith("sillage-argon2") for name in threads)
        finally:
            release.set()
            answers = await asyncio.gather(*logins)
    assert [a.status_code for a in answers] == [401] * len(logins)
    assert len(threads) == len(logins)
    assert running[1] <= HASH_THREADS


async def test_failed_logins_are_throttled_per_address_and_per_email(
    own_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refusal(self: PasswordHasher, password_hash: str, password: str) -> bool:
        raise VerifyMismatchError  # a quick "wrong password": the throttle is what is tested

    monkeypatch.setattr(PasswordHasher, "verify", refusal)
    alice, bob = _email("alice"), _email("bob")
    async with _client(own_server, _address()) as here, _client(own_server, _address()) as elsewhere:
        for _ in range(10):
            assert (await _login(here, alice)).status_code == 401
        for client, email in ((here, bob), (elsewhere, alice)):
            r = await _login(client, email)
            assert r.status_code == 429, (email, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"].endswith("/rate-limited")
            assert int(r.headers["retry-after"]) >= 1
        # another address and another account: neither limit applies
        assert (await _login(elsewhere, bob)).status_code == 401


async def test_successful_logins_do_not_count(
    own_server: str, app_conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = _email("often")
    await add_member(app_conn, email, "analyst", "a long enough secret")
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, password_hash, password: True)
    async with _client(own_server, _address()) as client:
        for _ in range(12):
            assert (await _login(client, email)).status_code == 303


async def test_every_api_process_counts_the_same_failed_logins(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two apps are two API processes (SILLAGE_WORKERS=2): five failures on each use up the ten
    # a minute, which a count kept in each process's memory let through twice.
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, password_hash, password: False)
    address, email = _address(), _email("carol")
    with serve(create_app(settings)) as one, serve(create_app(settings)) as other:
        async with _client(one, address) as first, _client(other, address) as second:
            for _ in range(5):
                assert (await _login(first, email)).status_code == 401
                assert (await _login(second, email)).status_code == 401
            assert (await _login(first, email)).status_code == 429
            assert (await _login(second, _email("dave"))).status_code == 429  # the address's limit


async def test_a_bucket_refills_and_counts_concurrent_attempts_once_each(
    app_conn: asyncpg.Connection, test_db: ScratchDatabase
) -> None:
    key, other = uuid.uuid4().bytes * 2, uuid.uuid4().bytes * 2
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    per_s = 10 / 60
    for _ in range(10):
        refused, _left = await db.take_login_token(app_conn, key, 10.0, per_s, t0)
        assert not refused
    refused, left = await db.take_login_token(app_conn, key, 10.0, per_s, t0)
    assert refused
    assert left == pytest.approx(0.0)  # a refusal takes nothing
    refused, left = await db.take_login_token(app_conn, key, 10.0, per_s, t0 + timedelta(seconds=3))
    assert refused
    assert left == pytest.approx(0.5)
    refused, left = await db.take_login_token(app_conn, key, 10.0, per_s, t0 + timedelta(seconds=6))
    assert not refused
    assert left == pytest.approx(0.0)
    # Concurrent attempts from as many connections: exactly the bucket's ten get through.
    connections = [await asyncpg.connect(test_db.app_url) for _ in range(20)]
    try:
        outcomes = await asyncio.gather(
            *(db.take_login_token(c, other, 10.0, per_s, t0) for c in connections)
        )
    finally:
        await asyncio.gather(*(c.close() for c in connections))
    assert sum(not refused for refused, _ in outcomes) == 10
    # A bucket untouched for the time given is swept; the other one stays.
    await db.sweep_login_throttle(app_conn, t0 + timedelta(seconds=1))
    rows = await app_conn.fetch(
        "SELECT key_sha256 FROM sillage.login_throttle WHERE key_sha256 = ANY($1::bytea[])", [key, other]
    )
    assert [r["key_sha256"] for r in rows] == [key]
