"""The HTTP side of ``hub serve``: ``POST /webhooks/<connection>`` and ``GET /healthz``.

It reuses the sandbox's HTTP core (:mod:`hub.sandbox.server`: a threaded stdlib server whose handler parses HTTP/1.1
itself, keeps connections alive and sets TCP_NODELAY), which already does more requests per second than hub needs;
only :meth:`WebhookServer.handle` is new. Answers: 200 ``{"stored": n, "duplicates": m}`` once the events are on disk,
401 for a bad or stale signature, 400 for an unreadable body, 404 for an unknown connection or one without a
``webhook_secret``, 503 when the inbox cannot store (the sender retries later). Nothing is stored unless verified.
``/healthz`` answers 200 with ``status: ok`` only while events are flushing into the warehouse, and 503 with
``failing``, ``stuck`` or ``down`` and the error otherwise; both carry the backlog and the dead letters
(:meth:`Owner.health`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from hub.errors import BadEventError, HubError, SignatureError
from hub.sandbox.server import HTTPEmulator, Request, Response, json_response
from hub.serve.flusher import MARK as FLUSHED
from hub.serve.inbox import Inbox, InboxError
from hub.serve.intake import Receiver

log = logging.getLogger("hub.serve")
PREFIX = "/webhooks/"
FORMS = "/forms/"


class WebhookServer(HTTPEmulator):
    """Receives webhooks for the connections in ``receivers`` and stores them in ``inbox``."""

    server_name = "serve"

    def __init__(self, inbox: Inbox, receivers: Mapping[str, Receiver], *, host: str = "127.0.0.1",
                 port: int = 8080, unconfigured: Mapping[str, str] | None = None,
                 health: Callable[[], dict[str, Any]] | None = None,
                 pages: Callable[[Request], Response | None] | None = None,
                 forms: Mapping[str, Any] | None = None) -> None:
        super().__init__(host, port)
        self.forms = dict(forms or {})   # form name -> hub.forms.intake.FormDesk
        self.pages = pages   # --- docs hook (hub/docs/live.py): GETs the server does not route itself
        self.inbox = inbox
        self.health = health or self._inbox_health
        self.receivers = dict(receivers)
        self.unconfigured = dict(unconfigured or {})   # connection -> why it cannot receive webhooks

    def handle(self, request: Request) -> Response:
        """Route one request (no router: two fixed paths keep the hot path short)."""
        path = request.path
        if path.startswith(PREFIX) and request.method == "POST":
            return self._webhook(request, path[len(PREFIX):].strip("/"))
        if path.startswith(FORMS) and request.method in ("POST", "OPTIONS"):
            return self._form(request, path[len(FORMS):].strip("/"))
        if path == "/healthz" and request.method == "GET":
            health = self.health()
            return json_response(200 if health["status"] == "ok" else 503, health)
        if self.pages is not None and not path.startswith(PREFIX):   # --- docs hook: the site at /
            answer = self.pages(request)
            if answer is not None:
                return answer
        return json_response(404 if not path.startswith(PREFIX) else 405, {"error": "not found"})

    def _webhook(self, request: Request, connection: str) -> Response:
        receiver = self.receivers.get(connection)
        if receiver is None:
            why = self.unconfigured.get(connection, "no such connection in hub.toml")
            return self._refuse(404, f"connection '{connection}' does not receive webhooks: {why}")
        # some senders sign the URL they called: behind a TLS proxy that is the proxy's, as X-Forwarded-* tell
        host = request.header("x-forwarded-host") or request.header("host") or f"{self.host}:{self.port}"
        query = f"?{request.query_string}" if request.query_string else ""
        url = f"{request.header('x-forwarded-proto') or 'http'}://{host}{request.path}" + query
        try:
            events = receiver.accept(request.body, request.headers, url=url)
        except SignatureError as exc:
            return self._refuse(401, str(exc), reason=exc.reason)
        except BadEventError as exc:
            return self._refuse(400, str(exc))
        try:
            stored = self.inbox.put(events)
        except InboxError as exc:
            log.error("hub serve: %s", exc)
            return json_response(503, {"error": str(exc)}, headers={"Retry-After": "5"})
        new = sum(stored)
        return json_response(200, {"stored": new, "duplicates": len(stored) - new})

    def _form(self, request: Request, name: str) -> Response:
        desk = self.forms.get(name)
        if desk is None:
            return self._refuse(404, f"no form '{name}' in hub.toml")
        try:
            return desk.handle(request)
        except InboxError as exc:
            log.error("hub serve: %s", exc)
            return json_response(503, {"error": str(exc)}, headers={"Retry-After": "5"})

    def _inbox_health(self) -> dict[str, Any]:
        """Without a flusher (a bare server): what the inbox alone can tell."""
        return {"status": "ok", "received": self.inbox.last_seq(), "flushed": self.inbox.mark(FLUSHED),
                "backlog": self.inbox.backlog(), "dead_letters": self.inbox.dead_count()}

    def _refuse(self, status: int, message: str, reason: str | None = None) -> Response:
        body = {"error": message} if reason is None else {"error": message, "reason": reason}
        return json_response(status, body)


def receivers_of(connections: Mapping[str, object]) -> tuple[dict[str, Receiver], dict[str, str]]:
    """Per configured connection, its receiver, or why it has none (no webhook_secret)."""
    ready, missing = {}, {}
    for name, connection in connections.items():
        try:
            ready[name] = Receiver.of(connection)  # type: ignore[arg-type]
        except HubError as exc:
            missing[name] = str(exc)
    return ready, missing
