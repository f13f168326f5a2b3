"""A small HTTP/1.1 load generator for loopback benchmarks.

It keeps ``concurrency`` keep-alive connections, each sending pre-encoded POST requests one after
another, so the client spends as little CPU as possible and the server is what is measured. Runs
in its own process (see :func:`run_in_process`); request loops are bounded by a deadline.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

import msgspec


class LoadResult(msgspec.Struct, kw_only=True):
    requests: int
    errors: int
    fixes: int
    elapsed_s: float
    latencies_s: list[float]
    statuses: dict[str, int]
    cpu_s: float = 0.0  # the load process's own CPU time (user + system), for the record


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _drive(
    host: str,
    port: int,
    make_request: Callable[[int, int], tuple[bytes, int]],
    concurrency: int,
    duration_s: float,
) -> LoadResult:
    result = LoadResult(requests=0, errors=0, fixes=0, elapsed_s=0.0, latencies_s=[], statuses={})
    deadline = time.perf_counter() + duration_s

    async def worker(w: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        i = 0
        try:
            while time.perf_counter() < deadline:
                request, n_fixes = make_request(w, i)
                i += 1
                t = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                result.latencies_s.append(time.perf_counter() - t)
                result.requests += 1
                result.statuses[str(status)] = result.statuses.get(str(status), 0) + 1
                if status == 200:
                    result.fixes += n_fixes
                else:
                    result.errors += 1
        finally:
            writer.close()

    t0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    result.elapsed_s = time.perf_counter() - t0
    result.cpu_s = time.process_time() - cpu0
    return result


def _child(
    conn: Connection,
    host: str,
    port: int,
    make_request: Callable[[int, int], tuple[bytes, int]],
    concurrency: int,
    duration_s: float,
) -> None:
    try:
        import uvloop  # the client's event loop costs less CPU on the cores it shares with the server

        res = uvloop.run(_drive(host, port, make_request, concurrency, duration_s))
    except ImportError:
        res = asyncio.run(_drive(host, port, make_request, concurrency, duration_s))
    conn.send_bytes(msgspec.msgpack.encode(res))
    conn.close()


def run_in_process(
    host: str,
    port: int,
    make_request: Callable[[int, int], tuple[bytes, int]],
    concurrency: int,
    duration_s: float,
) -> LoadResult:
    """Run the load from a separate process (``make_request`` must be picklable)."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, host, port, make_request, concurrency, duration_s))
    proc.start()
    data = parent.recv_bytes()
    proc.join(timeout=30)
    return msgspec.msgpack.decode(data, type=LoadResult)
