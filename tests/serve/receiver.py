"""A local endpoint for action tests: records every POST it receives, answers from a script, verifies nothing itself."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """``statuses`` are answered in order (the last one repeats); ``hang`` seconds of silence for a 0 status."""

    def __init__(self, statuses: list[int] | None = None, retry_after: str | None = None) -> None:
        self.statuses = list(statuses or [200])
        self.retry_after = retry_after
        self.received: list[Received] = []
        self.arrived = threading.Condition()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with owner.arrived:
                    owner.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    status = owner.statuses[min(len(owner.received), len(owner.statuses)) - 1]
                    owner.arrived.notify_all()
                self.send_response(status)
                if status == 429 and owner.retry_after:
                    self.send_header("Retry-After", owner.retry_after)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, count: int, timeout: float = 60.0) -> list[Received]:
        """Block until ``count`` requests arrived (a synchronization, not a timed assertion)."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"only {len(self.received)} of {count} requests arrived")
                self.arrived.wait(left)
            return list(self.received)


@contextmanager
def receiver(statuses: list[int] | None = None, retry_after: str | None = None) -> Iterator[Receiver]:
    r = Receiver(statuses, retry_after)
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


@contextmanager
def refusing() -> Iterator[str]:
    """A loopback URL whose connections are refused: its port is bound here, not listening, so no other process can
    take it meanwhile (a fixed port such as 9 is only refused while nothing happens to listen there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}/hook"
