"""Running the real ``sillage`` command line against a scratch database, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.database import ScratchDatabase


def sillage(
    test_db: ScratchDatabase,
    *args: str,
    stdin: str = "",
    timeout_s: float = 300.0,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``sillage ARGS`` (with ``env`` added to the environment); a command still running after
    ``timeout_s`` fails the test (``subprocess.TimeoutExpired``) instead of hanging the suite."""
    env = {**os.environ, "SILLAGE_DATABASE_URL": test_db.app_url, **(env or {})}
    return subprocess.run(  # noqa: S603  (our own CLI, fixed arguments)
        [sys.executable, "-m", "api.cli", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout_s,
    )
