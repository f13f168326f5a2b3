"""``HEAD`` wherever ``GET`` is answered (RFC 9110 section 9.3.2: "The server SHOULD send the same
header fields in response to a HEAD request as it would have sent if the request method had been
GET"; section 9.1: general-purpose servers MUST support GET and HEAD).

Litestar 2 routes ``HEAD`` only to handlers declared for it, and refuses a ``HEAD`` handler that
returns a body; so the app itself (:class:`HeadAsGet`, which :func:`api.app.create_app` builds)
routes a ``HEAD`` request as the ``GET`` it stands for, through the same authentication, rate limit
and handler, and sends its status and header fields without its content. Every ``Allow`` header
(the answer to ``OPTIONS``, a 405's) then lists ``HEAD`` beside ``GET``. The request log still says
``HEAD`` (:data:`HEAD_KEY`).
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar

# Set in the scope of a HEAD request routed as GET (the request log reads it).
HEAD_KEY = "sillage.head"


def _with_head(allow: bytes) -> bytes:
    methods = {m.strip() for m in allow.decode("latin-1").split(",") if m.strip()}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods)).encode("latin-1")


class HeadAsGet(Litestar):
    """The Litestar app, answering ``HEAD`` as ``GET`` without the content (see the module)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        head = scope["method"] == "HEAD"

        async def sent(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                if any(k.lower() == b"allow" for k, _ in headers):
                    fixed = [(k, _with_head(v) if k.lower() == b"allow" else v) for k, v in headers]
                    message = {**message, "headers": fixed}
            elif head and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the content a GET would send: not sent
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        if head:
            scope = {**scope, "method": "GET", HEAD_KEY: True}
        await super().__call__(scope, receive, sent)
