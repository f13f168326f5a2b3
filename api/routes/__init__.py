"""HTTP routes, one module per noun; each module exports ``ROUTES`` (handlers and controllers)."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def all_routes() -> list[Any]:
    """Every ``ROUTES`` of the modules in this package, in module-name order."""
    routes: list[Any] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        routes.extend(getattr(module, "ROUTES", ()))
    return routes
