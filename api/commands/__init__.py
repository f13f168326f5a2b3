"""Operator commands of the ``sillage`` CLI, one module per noun, each with ``register(subparsers)``.

Handlers take ``(args, settings)`` and return the exit code (see ``api.cli``).
"""

from __future__ import annotations

from core.errors import ConfigurationError


def require_url(url: str | None, name: str = "SILLAGE_DATABASE_URL") -> str:
    """The database URL a command needs, or a ConfigurationError naming the variable to set."""
    if not url:
        raise ConfigurationError(f"{name} is not set (run through `make` or infra/db.sh exec)")
    return url
