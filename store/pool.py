"""The connection pool: one per app, created lazily so the API starts while the database is down.

``/health`` must answer 503 while the database is unreachable and recover by itself when it
returns; :class:`Database` therefore retries pool creation on demand instead of failing start-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from core.errors import DatabaseBusy, DatabaseUnavailable

log = logging.getLogger("sillage.store")

# Errors that mean "the server is not there right now", as opposed to a bug in a query.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)


class SessionConnection(asyncpg.Connection):
    """A pooled connection that can skip the reset round trip when its session is untouched.

    asyncpg resets every connection it takes back (``SELECT pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL``): one more round trip per request, about a tenth of the database
    work of a small upload. Work that ran only inside transactions with ``SET LOCAL`` (every
    partition transaction, see :mod:`store.partition`) leaves nothing to reset; its caller says so
    with :meth:`Database.session_unchanged` and the next release skips the query. Any other
    release, and every failed one, resets as usual.
    """

    __slots__ = ("_sillage_unchanged",)

    def mark_session_unchanged(self) -> None:
        self._sillage_unchanged = True

    def take_session_unchanged(self) -> bool:
        unchanged = getattr(self, "_sillage_unchanged", False)
        self._sillage_unchanged = False
        return unchanged


async def _reset(conn: asyncpg.Connection) -> None:
    """The pool's reset (after asyncpg has rolled back any open transaction)."""
    if isinstance(conn, SessionConnection) and conn.take_session_unchanged():
        return
    query = conn.get_reset_query()
    if query:
        await conn.execute(query)


def error_text(exc: BaseException) -> str:
    """An error as a log or a client can read it (a timeout's own text is empty)."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Database:
    """Owns the asyncpg pool of one app; creates it on first use and after failures."""

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout_s: float = 5.0,
        pool: asyncpg.Pool | None = None,
    ) -> None:
        self._url = url
        self._min_size = min_size
        self._max_size = max_size
        self._timeout_s = connect_timeout_s
        self._pool = pool
        self._owns_pool = pool is None
        self._lock = asyncio.Lock()

    @property
    def max_size(self) -> int:
        """At most this many connections at once (the pool's size)."""
        return self._pool.get_max_size() if self._pool is not None else self._max_size

    async def pool(self) -> asyncpg.Pool:
        """The pool, created now if it does not exist yet; raises DatabaseUnavailable."""
        if self._pool is not None:
            return self._pool
        async with self._lock:
            if self._pool is None:
                try:
                    self._pool = await asyncpg.create_pool(
                        self._url,
                        min_size=self._min_size,
                        max_size=self._max_size,
                        timeout=self._timeout_s,
                        command_timeout=60,
                        connection_class=SessionConnection,
                        reset=_reset,
                    )
                except UNAVAILABLE_ERRORS as exc:
                    raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
        return self._pool

    async def start(self) -> None:
        """Try to connect at start-up; a database that is down is logged, not fatal."""
        try:
            await self.pool()
        except DatabaseUnavailable as exc:
            log.warning("database not reachable at start-up; will retry", extra={"error": exc.detail})

    async def close(self) -> None:
        if self._pool is not None and self._owns_pool:
            await self._pool.close()
        self._pool = None

    @staticmethod
    def session_unchanged(conn: asyncpg.pool.PoolConnectionProxy) -> None:
        """Say that ``conn``'s session state is as acquired: its release skips the reset query.

        Only for work that ran entirely in transactions that changed settings with ``SET LOCAL``
        and took no session-level locks, listeners or cursors. A no-op for pools this class does
        not own.
        """
        mark = getattr(conn, "mark_session_unchanged", None)
        if mark is not None:
            mark()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.pool.PoolConnectionProxy]:
        """A pooled connection; connection-level failures become DatabaseUnavailable."""
        pool = await self.pool()
        try:
            conn = await pool.acquire(timeout=self._timeout_s)
        except TimeoutError as exc:
            # Every connection open: the wait was behind them, the database answers. One may look idle
            # now without being this request's: a waiter whose timeout fell as it was handed a
            # connection puts it back, for the next waiter (a burst queued behind a full pool times
            # out at once, and each saw it idle: they were told the database was unavailable).
            if pool.get_size() >= pool.get_max_size():
                raise DatabaseBusy(
                    f"all {pool.get_max_size()} database connections of this process stayed busy for"
                    f" {self._timeout_s:g} s; try again in a moment"
                ) from exc
            raise DatabaseUnavailable(f"database connection failed: {error_text(exc)}") from exc
        except UNAVAILABLE_ERRORS as exc:
            raise DatabaseUnavailable(f"database connection failed: {error_text(exc)}") from exc
        try:
            yield conn
        except UNAVAILABLE_ERRORS as exc:
            raise DatabaseUnavailable(f"database connection failed: {error_text(exc)}") from exc
        finally:
            await pool.release(conn)
