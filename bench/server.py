"""The real API server as a separate process, for benchmarks that measure it from outside."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import msgspec

from tests.support.server import free_port


class Served(msgspec.Struct, frozen=True, kw_only=True):
    base_url: str
    port: int
    pid: int


@contextmanager
def served(database_url: str, **settings: str) -> Iterator[Served]:
    """``sillage serve`` on a free loopback port with the pipeline and jobs off, until the block ends.

    ``settings`` are extra ``SILLAGE_*`` variables without the prefix, e.g. ``RATE_LIMIT_PER_MINUTE="0"``.
    """
    port = free_port()
    env = {
        **os.environ,
        "SILLAGE_DATABASE_URL": database_url,
        "SILLAGE_PORT": str(port),
        "SILLAGE_LOG_LEVEL": "WARNING",
        "SILLAGE_PIPELINE": "off",
        "SILLAGE_JOBS": "off",
        **{f"SILLAGE_{k}": v for k, v in settings.items()},
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield Served(base_url=base, port=port, pid=proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
