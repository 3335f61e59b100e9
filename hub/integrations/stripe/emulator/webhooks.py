"""Webhook endpoints of the Stripe emulator: signed deliveries from a background thread, retried on failure.

Each delivery is a POST of the event JSON with ``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>``.
The timestamp is the real wall clock, not the sandbox clock: receivers check it against their own clock (300 s
tolerance), and a sandbox may be running at an emulated date. A non-2xx answer or a connection error is retried a few
times with a short backoff (Stripe itself retries for up to three days, far too long for a sandbox).
"""

from __future__ import annotations

import hashlib
import hmac
import queue
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from hub.integrations.stripe.emulator.store import StripeStore

RETRY_DELAYS = (0.05, 0.2, 0.5)  # seconds before the 2nd, 3rd and 4th attempt
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value for ``body``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class WebhookEndpoint:
    """A registered endpoint: where events go and the ``whsec_`` secret they are signed with."""

    id: str
    url: str
    secret: str
    enabled_events: tuple[str, ...] = ("*",)

    def wants(self, kind: str) -> bool:
        """Whether this endpoint subscribes to an event type (``*`` or ``customer.*`` style wildcards)."""
        return any(p == "*" or p == kind or (p.endswith(".*") and kind.startswith(p[:-1]))
                   for p in self.enabled_events)


@dataclass
class Delivery:
    """The outcome of sending one event to one endpoint."""

    event_id: str
    event_type: str
    endpoint: str
    attempts: int = 0
    statuses: list[int | str] = field(default_factory=list)  # HTTP status, or the transport error's name
    ok: bool = False


class Webhooks:
    """The emulator's webhook endpoints and the thread that delivers to them.

    ``wait_idle()`` blocks until every queued delivery has finished (succeeded or used up its retries), which is what
    tests synchronize on.
    """

    def __init__(self, store: StripeStore, *, retry_delays: Sequence[float] = RETRY_DELAYS) -> None:
        self.store = store
        self.retry_delays = tuple(retry_delays)
        self.endpoints: list[WebhookEndpoint] = []
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[tuple[WebhookEndpoint, dict[str, Any]] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rng = random.Random()
        store.sink = self

    def add(self, url: str, secret: str | None = None, enabled_events: Sequence[str] = ("*",)) -> WebhookEndpoint:
        """Register an endpoint; without a secret one is generated (read it from the returned endpoint)."""
        endpoint = WebhookEndpoint(f"we_{self._rng.getrandbits(96):024x}", url,
                                   secret or f"whsec_{self._rng.getrandbits(192):048x}", tuple(enabled_events))
        with self._lock:
            self.endpoints.append(endpoint)
        return endpoint

    def remove(self, endpoint: WebhookEndpoint) -> None:
        """Stop sending to an endpoint (queued deliveries still go)."""
        with self._lock:
            self.endpoints = [e for e in self.endpoints if e.id != endpoint.id]

    # --- the store's sink ----------------------------------------------------------------------

    def subscribers(self, kind: str) -> int:
        """How many endpoints will receive an event of this type."""
        with self._lock:
            return sum(1 for e in self.endpoints if e.wants(kind))

    def publish(self, event: dict[str, Any]) -> None:
        """Queue an event for every endpoint that wants it."""
        with self._lock:
            targets = [e for e in self.endpoints if e.wants(event["type"])]
            self._in_flight += len(targets)
        for endpoint in targets:
            self._queue.put((endpoint, event))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no delivery is queued or running; False if ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    # --- the delivery thread -------------------------------------------------------------------

    def start(self) -> None:
        """Start delivering (the emulator calls this when it starts)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sandbox-stripe-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the delivery thread; undelivered events are dropped."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._queue.put(None)
        thread.join(timeout=5)
        dropped = 0
        while True:
            try:
                dropped += self._queue.get_nowait() is not None
            except queue.Empty:
                break
        with self._idle:
            self._in_flight -= dropped
            self._idle.notify_all()

    def _run(self) -> None:
        with httpx.Client(timeout=10.0) as client:
            while not self._stop.is_set():
                item = self._queue.get()
                if item is None:
                    continue
                try:
                    self._deliver(client, *item)
                finally:
                    with self._idle:
                        self._in_flight -= 1
                        self._idle.notify_all()

    def _deliver(self, client: httpx.Client, endpoint: WebhookEndpoint, event: dict[str, Any]) -> None:
        body = orjson.dumps(event, option=orjson.OPT_INDENT_2)  # Stripe sends pretty-printed JSON
        delivery = Delivery(event["id"], event["type"], endpoint.url)
        with self._lock:
            self.deliveries.append(delivery)
        for attempt in range(len(self.retry_delays) + 1):
            if attempt and self._stop.wait(self.retry_delays[attempt - 1]):
                return  # stopping: give up rather than hold the sandbox open
            delivery.attempts += 1
            headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
                       "Stripe-Signature": sign(body, endpoint.secret, int(time.time()))}
            try:
                status: int | str = client.post(endpoint.url, content=body, headers=headers).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            delivery.statuses.append(status)
            if isinstance(status, int) and 200 <= status < 300:
                delivery.ok = True
                self.store.delivered(event["id"])
                return
