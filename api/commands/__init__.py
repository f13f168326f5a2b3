"""Operator commands of the ``sillage`` CLI, one module per noun, each with ``register(subparsers)``.

Handlers take ``(args, settings)`` and return the exit code (see ``api.cli``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from core.errors import ConfigurationError

if TYPE_CHECKING:
    import asyncpg


def require_url(url: str | None, name: str = "SILLAGE_DATABASE_URL") -> str:
    """The database URL a command needs, or a ConfigurationError naming the variable to set."""
    if not url:
        raise ConfigurationError(f"{name} is not set (run through `make` or infra/db.sh exec)")
    return url


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[asyncpg.Connection]:
    """One connection for a command, closed however the command ends."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()
