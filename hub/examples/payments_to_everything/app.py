"""A stand-in for the user's own product: the provisioning endpoint hub's ``http`` actions post to, and a
Slack-compatible incoming webhook for the ``notify`` action.

``POST /provision`` is what a real endpoint should do with hub's posts: verify the Standard Webhooks signature with the
official package (``standardwebhooks.Webhook(secret).verify``; 401 when it does not verify), then apply each
``webhook-id`` once: a post whose id was already applied (hub retrying after a lost answer) is acknowledged and
changes nothing. ``POST /slack`` takes ``{"text": ...}`` and answers ``ok`` as Slack's incoming webhooks do (400
``invalid_payload`` for a body it cannot use).

Everything it receives is appended to JSON-lines files in its folder (``provisioned.jsonl``, ``slack.jsonl``), so a
later run of the example starts from what earlier runs applied, and tests read the files.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

PROVISIONED = "provisioned.jsonl"
SLACK = "slack.jsonl"
MAX_BODY = 1 << 20


@dataclass(frozen=True)
class Provision:
    """One post the endpoint applied (``duplicate=False``) or acknowledged again (``duplicate=True``)."""

    webhook_id: str
    received_at: float
    duplicate: bool
    body: dict[str, Any]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSON-lines file (none when it does not exist)."""
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def provisions(folder: Path) -> list[Provision]:
    """What the endpoint in ``folder`` has received, in order (duplicates included, flagged)."""
    return [Provision(r["webhook_id"], r["received_at"], r["duplicate"], r["body"])
            for r in read_jsonl(Path(folder) / PROVISIONED)]


def messages(folder: Path) -> list[str]:
    """The texts the Slack-compatible endpoint in ``folder`` has received, in order."""
    return [r["text"] for r in read_jsonl(Path(folder) / SLACK)]


class ProductApp:
    """The endpoint on a free loopback port: ``start()``, ``url``, ``wait_until(...)``, ``stop()``."""

    def __init__(self, folder: Path, signing_secret: str) -> None:
        from standardwebhooks import Webhook

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.verifier = Webhook(signing_secret)
        self.changed = threading.Condition()
        self.provisions = provisions(self.folder)
        self.messages = messages(self.folder)
        self.refused = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="example-app", daemon=True)

    def start(self) -> ProductApp:
        """Serve from a background thread; returns the app."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (also when it never started)."""
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join(timeout=10)
        self.server.server_close()

    def applied(self) -> list[Provision]:
        """The posts applied (each webhook-id once)."""
        with self.changed:
            return [p for p in self.provisions if not p.duplicate]

    def wait_until(self, ready: Callable[[ProductApp], bool], timeout: float, *,
                   alive: Callable[[], None] | None = None) -> bool:
        """Block until ``ready(self)`` holds after a post arrived (True), or ``timeout`` seconds pass (False).
        ``alive`` is called between waits (at most every half second) and may raise to give up early."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not ready(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.5))   # woken by each post; the cap only bounds the alive() checks
                if alive is not None:
                    alive()
        return True

    # --- the two endpoints ---------------------------------------------------------------------------

    def _provision(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        from standardwebhooks import WebhookVerificationError

        try:
            payload = self.verifier.verify(body, headers)
        except (WebhookVerificationError, ValueError) as exc:   # ValueError: a malformed signature header
            with self.changed:
                self.refused += 1
            return 401, {"error": f"signature: {exc}"}
        if not isinstance(payload, dict):
            return 400, {"error": "the body must be a JSON object"}
        webhook_id = headers["webhook-id"]
        with self.changed:
            duplicate = any(p.webhook_id == webhook_id for p in self.provisions)
            record = Provision(webhook_id, time.time(), duplicate, payload)
            self._append(PROVISIONED, {"webhook_id": record.webhook_id, "received_at": record.received_at,
                                       "duplicate": duplicate, "body": payload})
            self.provisions.append(record)
            self.changed.notify_all()
        return 200, {"status": "already provisioned" if duplicate else "provisioned"}

    def _slack(self, body: bytes) -> tuple[int, str]:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return 400, "invalid_payload"
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str) or not payload["text"]:
            return 400, "invalid_payload"   # Slack's answer to a body it cannot use (no text to post)
        with self.changed:
            self._append(SLACK, {"received_at": time.time(), "text": payload["text"]})
            self.messages.append(payload["text"])
            self.changed.notify_all()
        return 200, "ok"

    def _append(self, name: str, record: dict[str, Any]) -> None:
        with (self.folder / name).open("ab") as out:
            out.write(orjson.dumps(record) + b"\n")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("content-length") or 0)
                if length > MAX_BODY:
                    self._answer(413, b"too large", "text/plain")
                    return
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path == "/provision":
                    status, answer = app._provision(body, headers)
                    self._answer(status, orjson.dumps(answer), "application/json")
                elif self.path == "/slack":
                    status, text = app._slack(body)
                    self._answer(status, text.encode(), "text/plain")
                else:
                    self._answer(404, b"not found", "text/plain")

            def _answer(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
