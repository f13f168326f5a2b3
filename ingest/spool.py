"""Make a stream at its producer's pace, serve it at its reader's: a temporary file in between.

An export reads the tester's partition in one transaction that holds the tester's shared lock
(``store.partition.keep_tester``), and their erasure waits for that lock. Streamed straight to the
client, the transaction lasted as long as the download: a phone on a slow network, or one that
stopped reading, held the erasure back for as long. :func:`spooled` drains the pieces into an
unlinked temporary file as fast as they are made, so the transaction ends when the last piece is
made, and the client reads the file behind it at its own pace. Memory stays flat (pieces are
written, not kept); disk holds at most the export itself, until the download ends or is dropped.

The file is made with :func:`tempfile.TemporaryFile` (in ``TMPDIR``, else ``/tmp``) and has no
name on Linux: nothing of it remains once closed, even after a crash of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator

READ_BYTES = 256 * 1024  # the most one piece of the reader's side holds
STOP_WAIT_S = 5.0  # how long a reader that stopped lets the maker finish the piece under way


class _Spool:
    """One producer writes at the end of an unlinked file; one reader follows behind it."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115 (closed by spooled's finally)
        self.written = 0
        self.finished = False
        self.stopping = False  # the reader went away: make no further piece
        self.failure: BaseException | None = None
        self.grew = asyncio.Event()

    def append(self, piece: bytes) -> None:
        view = memoryview(piece)
        while view:
            n = os.write(self.file.fileno(), view)
            view = view[n:]
        self.written += len(piece)
        self.grew.set()

    def read(self, offset: int) -> bytes:
        return os.pread(self.file.fileno(), min(READ_BYTES, self.written - offset), offset)

    async def fill(self, pieces: AsyncIterator[bytes]) -> None:
        try:
            async for piece in pieces:
                if self.stopping:
                    break
                self.append(piece)
        except Exception as e:  # the reader raises it once it has read what came before
            self.failure = e
        finally:
            self.finished = True
            self.grew.set()
            aclose = getattr(pieces, "aclose", None)
            if aclose is not None:  # cancelled mid-way: the maker's transaction ends now, not when collected
                await aclose()


async def spooled(
    pieces: AsyncIterator[bytes], *, stop_wait_s: float = STOP_WAIT_S
) -> AsyncGenerator[bytes, None]:
    """``pieces`` as they were made, drained into a temporary file by a task of their own so their
    maker never waits for the reader. A failure while making them is raised to the reader after
    the bytes made before it (a download cut short, as when streamed straight). A reader that
    stops (the client went away) stops the making too, and the file is gone: the maker finishes
    the piece under way and is closed (its transaction ends as it should, where a cancellation in
    the middle of a query left the connection to be reset, an error in the log); one still busy
    after ``stop_wait_s`` is cancelled."""
    spool = _Spool()
    filling = asyncio.create_task(spool.fill(pieces))
    try:
        offset = 0
        while True:
            if offset < spool.written:
                chunk = spool.read(offset)
                offset += len(chunk)
                yield chunk
            elif spool.finished:
                if spool.failure is not None:
                    raise spool.failure
                return
            else:
                spool.grew.clear()
                await spool.grew.wait()
    finally:
        if not filling.done():
            spool.stopping = True
            try:
                await asyncio.wait_for(asyncio.shield(filling), stop_wait_s)
            except TimeoutError:
                filling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await filling
        spool.file.close()
