"""A real headless Chromium (Debian's ``chromium`` + ``chromedriver``) driven by Selenium.

Never a downloaded browser: the executables are the system's (``infra/install-browser.sh``).
Chromium runs with a fresh profile, no sandbox (tests may run as root), no GPU and no background
networking, so it talks to nothing but the test server.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.support.database import ScratchDatabase
from tests.support.sharing import City, Seeded, seed_city, seed_dashboard

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
MONDAY = datetime(2024, 2, 5, tzinfo=ZoneInfo("Europe/Paris"))
# Older than every other release of the session: the national accounts of other tests show their newest.
CITY_MONDAY = datetime(2023, 11, 6, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(scope="session")
async def seeded(test_db: ScratchDatabase, invite_code: str) -> AsyncIterator[Seeded]:
    conn = await asyncpg.connect(test_db.app_url)
    try:
        yield await seed_dashboard(conn, invite_code, MONDAY)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def city(test_db: ScratchDatabase) -> AsyncIterator[City]:
    """A campaign with its own release and team accounts scoped to it."""
    conn = await asyncpg.connect(test_db.app_url)
    try:
        yield await seed_city(conn, f"Cognac {uuid.uuid4().hex[:6]}", CITY_MONDAY)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def downloads() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sillage-downloads-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium(downloads: Path) -> Iterator[webdriver.Chrome]:
    """One browser for the session (starting Chromium is the slow part)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Debian's chromium and chromium-driver are needed (infra/install-browser.sh)")
    profile = tempfile.mkdtemp(prefix="sillage-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chromium: webdriver.Chrome, base_url: str) -> webdriver.Chrome:
    """The session's browser with no cookie left by an earlier test."""
    chromium.get(f"{base_url}/dashboard/login")
    chromium.delete_all_cookies()
    return chromium
