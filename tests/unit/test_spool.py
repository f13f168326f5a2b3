"""ingest.spool: the maker runs ahead of the reader, its failures reach the reader, and a reader
that stops stops the maker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ingest.spool import READ_BYTES, spooled


async def test_the_maker_finishes_before_the_reader_reads_and_the_bytes_are_the_same() -> None:
    made = asyncio.Event()
    pieces = [bytes([i]) * 100_000 for i in range(10)]

    async def maker() -> AsyncIterator[bytes]:
        for p in pieces:
            yield p
            await asyncio.sleep(0)
        made.set()

    out = spooled(maker())
    first = await anext(out)
    await asyncio.wait_for(made.wait(), timeout=30)  # made whole while the reader holds one piece
    rest = [chunk async for chunk in out]
    assert b"".join([first, *rest]) == b"".join(pieces)
    assert max(len(c) for c in [first, *rest]) <= READ_BYTES


async def test_a_failure_while_making_reaches_the_reader_after_what_came_before() -> None:
    async def maker() -> AsyncIterator[bytes]:
        yield b"head,"
        raise RuntimeError("the database went away")

    out = spooled(maker())
    assert await anext(out) == b"head,"
    with pytest.raises(RuntimeError, match="went away"):
        await anext(out)


async def test_a_reader_that_stops_stops_the_maker_and_closes_it() -> None:
    closed = asyncio.Event()
    endless = asyncio.Event()

    async def maker() -> AsyncIterator[bytes]:
        try:
            yield b"x"
            await endless.wait()  # a transaction still reading
            yield b"never"
        finally:
            closed.set()

    out = spooled(maker(), stop_wait_s=0.1)
    assert await anext(out) == b"x"
    await out.aclose()  # the client went away; the maker, stuck, is cancelled after 0.1 s
    assert closed.is_set()


async def test_a_reader_that_stops_lets_the_maker_finish_its_piece_rather_than_cancel_it() -> None:
    # Cancelled in the middle of a query, an export's connection went back to the pool inside its
    # transaction, and asyncpg logged an error for each dropped download.
    ended: list[str] = []
    query = asyncio.Event()

    async def maker() -> AsyncIterator[bytes]:
        try:
            yield b"first"
            query.set()
            await asyncio.sleep(0.05)  # a query under way when the reader goes
            yield b"second"
            yield b"never made"
            ended.append("made everything")
        except asyncio.CancelledError:
            ended.append("cancelled")
            raise
        except GeneratorExit:
            ended.append("closed")
            raise

    out = spooled(maker())
    assert await anext(out) == b"first"
    await query.wait()
    await out.aclose()
    assert ended == ["closed"]
