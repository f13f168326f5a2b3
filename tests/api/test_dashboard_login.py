"""Dashboard logins cannot freeze the API: argon2 runs off the event loop, a few at a time, and
failed logins are throttled per client address and per e-mail address.

Each test serves an app of its own: the throttle counts per app, and these tests use it up.
"""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from api.app import create_app
from core.settings import Settings
from ingest.sharing.team import HASH_THREADS, add_member
from tests.support.server import serve

HANG_GUARD_S = 30.0  # only stops a broken test from hanging; nothing here measures time
WRONG_PASSWORD = "not the password"


@pytest.fixture
def own_server(settings: Settings) -> Iterator[str]:
    with serve(create_app(settings)) as url:
        yield url


def _client(base_url: str, address: str = "127.0.0.1") -> httpx.AsyncClient:
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
    async with _client(own_server) as client:
        token = await _csrf(client)
        data = {"password": WRONG_PASSWORD, "_csrf": token}
        logins = [
            asyncio.create_task(
                client.post("/dashboard/login", data={**data, "email": f"x{i}@agglo.example"})
            )
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
    async with _client(own_server) as here, _client(own_server, "127.0.0.2") as elsewhere:
        for _ in range(10):
            assert (await _login(here, "alice@agglo.example")).status_code == 401
        for client, email in ((here, "bob@agglo.example"), (elsewhere, "alice@agglo.example")):
            r = await _login(client, email)
            assert r.status_code == 429, (email, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"].endswith("/rate-limited")
            assert int(r.headers["retry-after"]) >= 1
        # another address and another account: neither limit applies
        assert (await _login(elsewhere, "bob@agglo.example")).status_code == 401


async def test_successful_logins_do_not_count(
    own_server: str, app_conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = f"often-{uuid.uuid4().hex[:8]}@agglo.example"
    await add_member(app_conn, email, "analyst", "a long enough secret")
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, password_hash, password: True)
    async with _client(own_server) as client:
        for _ in range(12):
            assert (await _login(client, email)).status_code == 303
