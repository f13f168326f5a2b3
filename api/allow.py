"""The ``Allow`` header of the automatic answer to ``OPTIONS``.

Litestar 2 answers ``OPTIONS`` on every path itself, but where a path has handlers declared apart
(``@get`` and ``@put`` on ``/v1/coach/goal``), its answer lists the methods of the first handler
only (litestar-org/litestar#4169, fixed in Litestar 3): the route merged from them keeps the
``OPTIONS`` handler made for the first. The 405 answer's ``Allow`` is right (it comes from the
router). This middleware sets the header from the merged route, which knows every method.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute


def _allowed(app: Litestar) -> dict[str, bytes]:
    """Each HTTP route's path template -> its ``Allow`` value."""
    return {
        route.path_format: ", ".join(sorted(route.methods)).encode()
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }


def options_allow(app: Any) -> Any:
    """ASGI middleware: the ``Allow`` header of an ``OPTIONS`` answer lists every method of its path."""

    allowed: dict[str, bytes] | None = None  # read from the app at the first OPTIONS

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        nonlocal allowed
        allow = None
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            allowed = allowed if allowed is not None else _allowed(scope["app"])
            allow = allowed.get(scope.get("path_template", ""))
        if allow is None:
            await app(scope, receive, send)
            return

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow)]}
            await send(message)

        await app(scope, receive, send_wrapper)

    return middleware
