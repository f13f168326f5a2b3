"""Session fixtures: a migrated throw-away database, pools, and a real HTTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest

from api.app import create_app
from core.settings import Settings
from ingest.testers import create_campaign
from store.migrate import migrate
from store.pool import Database
from store.rights import Actor
from tests.support.database import ScratchDatabase, create_test_database, drop_test_database
from tests.support.server import serve


@pytest.fixture(scope="session")
async def test_db() -> AsyncIterator[ScratchDatabase]:
    db = await create_test_database()
    try:
        conn = await asyncpg.connect(db.admin_url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        yield db
    finally:
        await drop_test_database(db)


@pytest.fixture(scope="session")
def settings(test_db: ScratchDatabase) -> Settings:
    # The pipeline worker is off in the shared server: tests run the pipeline when they choose.
    return Settings(
        database_url=test_db.app_url,
        admin_database_url=test_db.admin_url,
        log_json=True,
        pipeline_enabled=False,
        jobs_enabled=False,
    )


@pytest.fixture
async def admin_conn(test_db: ScratchDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the schema owner, inside a transaction that is rolled back afterwards."""
    conn = await asyncpg.connect(test_db.admin_url)
    tx = conn.transaction()
    await tx.start()
    try:
        yield conn
    finally:
        await tx.rollback()
        await conn.close()


@pytest.fixture
async def owner_conn(test_db: ScratchDatabase) -> AsyncIterator[asyncpg.Connection]:
    """The schema owner, committing: stands for another process or an operator."""
    conn = await asyncpg.connect(test_db.admin_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def base_url(settings: Settings) -> Iterator[str]:
    """The real app served over loopback HTTP against the session database."""
    with serve(create_app(settings)) as url:
        yield url


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture
async def app_conn(test_db: ScratchDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the API's login (``sillage_app``), committing like the API does."""
    conn = await asyncpg.connect(test_db.app_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def invite_code(test_db: ScratchDatabase) -> str:
    """A campaign shared by the session's tests (each test enrols its own testers)."""
    conn = await asyncpg.connect(test_db.app_url)
    try:
        campaign = await create_campaign(conn, "La Rochelle 2026 (tests)", actor=Actor.operator("tests"))
    finally:
        await conn.close()
    return campaign.invite_code


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """A Database (pool holder) of the API's login, for running the pipeline and jobs in tests."""
    assert settings.database_url is not None
    database = Database(settings.database_url, min_size=1, max_size=2)
    yield database
    await database.close()
