"""Helpers for `hub serve` tests: signing requests the way each sender does, and the real CLI as a subprocess."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

from hub.integrations.stripe.emulator.webhooks import sign

REPO = Path(__file__).resolve().parents[2]
SECRET = "whsec_test_secret"


def stripe_event(event_id: str = "evt_1", kind: str = "invoice.paid", **obj: object) -> bytes:
    body = {"id": event_id, "object": "event", "api_version": "2024-06-20", "created": 1_700_000_000, "type": kind,
            "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
            "data": {"object": {"id": "in_1", "object": "invoice", "customer": "cus_1", "amount_paid": 4900, **obj}}}
    return orjson.dumps(body, option=orjson.OPT_INDENT_2)


def stripe_headers(body: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    return {"Stripe-Signature": sign(body, secret, int(time.time()) if at is None else at),
            "Content-Type": "application/json"}


def post_stripe(url: str, body: bytes, **kw: object) -> httpx.Response:
    return httpx.post(f"{url}/webhooks/stripe", content=body, headers=stripe_headers(body, **kw))  # type: ignore[arg-type]


def hubspot_headers(secret: str, url: str, body: bytes, at_ms: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time() * 1000) if at_ms is None else at_ms)
    digest = hmac.new(secret.encode(), b"POST" + url.encode() + body + stamp.encode(), hashlib.sha256).digest()
    return {"X-HubSpot-Signature-v3": base64.b64encode(digest).decode(), "X-HubSpot-Request-Timestamp": stamp}


def shopify_headers(secret: str, body: bytes, webhook_id: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {"X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(), "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Topic": "customers/update"}


def standard_headers(secret: str, body: bytes, msg_id: str, at: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if at is None else at)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {"webhook-id": msg_id, "webhook-timestamp": stamp,
            "webhook-signature": "v1," + base64.b64encode(digest).decode()}


#: ``python -c`` this, then the hub CLI's arguments: the hub CLI in a process whose main thread blocks SIGINT and
#: SIGTERM, so the kernel hands them to another thread, which it may do at any time anyway (a thread being created
#: unblocks its signals and takes a pending one). That thread runs the C-level handler; Python runs the Python handler
#: in the main thread only, the next time the main thread runs: a main thread asleep in a lock wait never does.
SIGNALS_TO_A_WORKER_THREAD = """
import signal, sys, threading
threading.Thread(target=threading.Event().wait, name="takes-the-signals", daemon=True).start()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
sys.argv[0] = "hub"
from hub.cli import main
main()
"""


class ServeProcess:
    """`python -m hub serve --port 0` in a subprocess; ``url`` from the line it prints."""

    def __init__(self, project: Path, env: dict[str, str] | None = None, launcher: list[str] | None = None) -> None:
        """``launcher``: what runs the hub CLI (default ``-m hub``), e.g. ``["-c", SIGNALS_TO_A_WORKER_THREAD]``."""
        full = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
        full.update(env or {})
        hub = launcher or ["-m", "hub"]
        self.proc = subprocess.Popen([sys.executable, *hub, "-C", str(project), "serve", "--port", "0"],
                                     cwd=REPO, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        # both pipes drained by threads: a full stderr pipe would block the server, and communicate() would skip
        # what a readline() had already buffered
        self._readers = [threading.Thread(target=self._drain, args=(self.proc.stdout, self.out.put), daemon=True),
                         threading.Thread(target=self._drain, args=(self.proc.stderr, self.err.append), daemon=True)]
        for reader in self._readers:
            reader.start()
        try:
            self.first_line = self.out.get(timeout=60)
        except queue.Empty:
            self.first_line = ""
        if not self.first_line.startswith("listening on http://"):
            self.kill()
            raise AssertionError(f"hub serve did not start: {self.first_line!r} {''.join(self.err)}")
        self.url = self.first_line.split()[2]

    @staticmethod
    def _drain(pipe: Any, sink: Callable[[str], None]) -> None:
        for line in pipe:
            sink(line)
        sink("")   # end of stream

    def health(self) -> dict[str, int]:
        return httpx.get(f"{self.url}/healthz").json()

    def wait_flushed(self, received: int, timeout: float = 60.0) -> None:
        """Poll /healthz (another process) until ``received`` events are in the warehouse."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self.health()
            if health["received"] >= received and health["flushed"] >= health["received"]:
                return
            time.sleep(0.05)
        raise AssertionError(f"not flushed in {timeout} s: {self.health()}")

    def _finish(self) -> tuple[str, str]:
        for reader in self._readers:
            reader.join(timeout=30)
        lines = []
        while not self.out.empty():
            lines.append(self.out.get())
        return "".join(lines), "".join(self.err)

    def interrupt(self, sig: int = signal.SIGINT) -> tuple[str, str]:
        """Ctrl-C (or ``sig``), as a user stops it; returns the rest of stdout, and stderr."""
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)   # hub serve dumps every thread's stack to stderr
            time.sleep(1)  # let it write the dump before the kill (diagnostics only)
            self.proc.kill()
            self.proc.wait(timeout=30)
            name = signal.Signals(sig).name
            raise AssertionError(f"hub serve did not stop on {name}:\n{self._finish()[1]}") from None
        out, err = self._finish()
        assert self.proc.returncode == 0, err
        return out, err

    def kill(self) -> None:
        """SIGKILL: no flush, no cleanup."""
        self.proc.kill()
        self.proc.wait(timeout=30)
        self._finish()
