"""Structured logs: one JSON object per line on stderr.

Request logs carry method, path, status and duration, never the query string or body (GPSLogger
and OsmAnd clients put their token in the query string, and bodies hold locations).
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import msgspec

from api.head import HEAD_KEY
from core.redaction import masked

_STD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
_encoder = msgspec.json.Encoder()


def _loggable(value: Any) -> Any:
    """A value as it goes into the JSON line: scalars, and mappings and lists that encode as JSON,
    as they are; anything else as its text."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (dict, list, tuple)):
        try:
            _encoder.encode(value)
        except (TypeError, ValueError):
            return str(value)
        return value
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; role names and ids masked in all of it (:func:`masked`)."""

    def format(self, record: logging.LogRecord) -> str:
        return masked(self._document(record))

    def _document(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STD_ATTRS and not key.startswith("_") and key != "color_message":
                doc[key] = _loggable(value)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return _encoder.encode(doc).decode()


class TextFormatter(logging.Formatter):
    """Plain lines (``SILLAGE_LOG_JSON=0``), masked as :class:`JsonFormatter`'s."""

    def format(self, record: logging.LogRecord) -> str:
        return masked(super().format(record))


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_sillage", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._sillage = True  # type: ignore[attr-defined]
    handler.setFormatter(
        JsonFormatter() if json else TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)


_access = logging.getLogger("sillage.access")
# Trip, section, match and device ids in paths: a trip's id is derived from its tester and start
# time (core.trips), so logged ids would let whoever knows an erased tester's id find their
# requests. The access log keeps the route's shape only.
_IDS = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")


def loggable_path(path: str) -> str:
    """``/v1/trips/5f0c...`` -> ``/v1/trips/{id}``."""
    return _IDS.sub("{id}", path)


def request_logger(app: Any) -> Any:
    """ASGI middleware: one structured line per request (method, path, status, duration).

    Never the query string, headers or body: trackers put tokens in query strings and bodies hold
    locations; ids in the path are masked.
    """

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _access.isEnabledFor(logging.INFO):
            await app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 0

        async def send_wrapper(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            _access.info(
                "request",
                extra={
                    "method": "HEAD" if scope.get(HEAD_KEY) else scope["method"],
                    "path": loggable_path(scope["path"]),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - t0) * 1000, 2),
                },
            )

    return middleware
