"""A TCP proxy that delays every chunk by a fixed time each way: the database as if on another host.

Run: ``python -m bench.latency HOST PORT DELAY_MS`` prints the port it listens on (127.0.0.1), then
forwards each connection to HOST:PORT, sleeping DELAY_MS before passing on each chunk read from
either side (a round trip gains twice that). Benchmarks start it in a process of its own, so that
its threads take nothing from the measured process's interpreter. ``time.sleep`` keeps
sub-millisecond delays (an event loop's timers would round them up to a millisecond).
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time


def _pump(src: socket.socket, dst: socket.socket, delay_s: float) -> None:
    try:
        while data := src.recv(1 << 16):
            time.sleep(delay_s)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def serve(target_host: str, target_port: int, delay_s: float) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    print(server.getsockname()[1], flush=True)
    while True:
        client, _ = server.accept()
        upstream = socket.create_connection((target_host, target_port))
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pump, args=(a, b, delay_s), daemon=True).start()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) / 1000.0)
