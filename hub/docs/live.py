"""The docs pages served live by ``hub serve`` at ``/``, beside the webhooks.

:class:`LivePages` is the one hook the webhook server calls for a GET it does not route itself. It answers from the
latest rendering of the site and renders again in the background when that is older than ``max_age`` seconds
(stale-while-revalidate): a page never waits for a trigger or scheduled job that holds the warehouse, it shows the
state as of its footer's time. Only the very first request waits for a rendering.

``live.json`` is the runs in progress with their live progress, read from the run log (SQLite beside the warehouse,
:mod:`hub.warehouse.runlog`), never from DuckDB: it answers at once whoever writes. Every page's "In progress" panel
polls it (hub.js). When no rendering exists yet and a writer holds the warehouse (another process, or this server's
own job), the first request does not wait for it either: it gets a holding page with that panel, which reloads
itself once the pages are ready.

On loopback no token is asked. Bound to anything else, every request needs the token (``?token=`` once, which sets an
HttpOnly cookie, or ``Authorization: Bearer``); ``hub serve`` prints the URL with it.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from hub.project import Project
    from hub.sandbox.server import Request, Response

COOKIE = "hub_docs"
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".json": "application/json"}
LIVE = "live.json"
#: how long a first request waits for the first rendering when a writer holds the warehouse, before the holding page
FIRST_WAIT_S = 0.5
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                      "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"}


def new_token() -> str:
    """A fresh token for pages served beyond loopback."""
    return secrets.token_urlsafe(24)


class LivePages:
    """Answers ``GET /`` and the site's pages from a cached rendering; ``None`` for paths that are not pages."""

    def __init__(self, project: Project, *, token: str | None = None, max_age: float = 5.0,
                 run: Callable[[Callable[[], dict[str, bytes]]], dict[str, bytes]] | None = None) -> None:
        self.project = project
        self.token = token
        self.max_age = max_age
        #: how a rendering reaches the warehouse: in hub serve, through the owner thread that holds it
        self._run = run or (lambda work: work())
        self._pages: dict[str, bytes] | None = None
        self._rendered_at = 0.0
        self._error: str | None = None
        self._lock = threading.Lock()
        self._state = threading.Lock()
        self._inflight: threading.Event | None = None   # the rendering under way, set when it is done

    def __call__(self, request: Request) -> Response | None:
        from hub.sandbox.server import Response

        if request.method not in ("GET", "HEAD"):
            return None
        name = "index.html" if request.path in ("", "/") else request.path.lstrip("/")
        if not (name.endswith(tuple(TYPES)) and "/" not in name.removeprefix("assets/")):
            return None
        if self.token:
            given = (parse_qs(request.query_string).get("token") or [""])[-1] if request.query_string else ""
            if given and hmac.compare_digest(given, self.token):
                # set the cookie and drop the token from the address bar (and from any link copied from it)
                return Response(303, b"", content_type="text/plain", headers={
                    "Location": request.path or "/",
                    "Set-Cookie": f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"})
            if not self._authorized(request):
                return Response(401, b"hub docs: this server is not on loopback; open the URL with ?token= that "
                                     b"`hub serve` printed\n", content_type="text/plain; charset=utf-8")
        if name == LIVE:
            return Response(200, b"" if request.method == "HEAD" else self.live(), content_type=TYPES[".json"],
                            headers=dict(HEADERS))
        pages = self.pages()
        if pages is None and (self._error is None or self._writer()):   # a writer holds it, nothing rendered yet
            pages = self._holding(name)
        if pages is None:
            return Response(503, f"hub docs: cannot render the pages: {self._error}\n".encode(),
                            content_type="text/plain; charset=utf-8", headers={"Retry-After": "5"})
        body = pages.get(name)
        if body is None:
            return Response(404, b"hub docs: no such page\n", content_type="text/plain; charset=utf-8")
        suffix = name[name.rfind("."):]
        return Response(200, b"" if request.method == "HEAD" else body, content_type=TYPES[suffix],
                        headers=dict(HEADERS))

    def _authorized(self, request: Request) -> bool:
        assert self.token
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), self.token):
            return True
        for part in request.headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == COOKIE and hmac.compare_digest(value, self.token):
                return True
        return False

    def pages(self) -> dict[str, bytes] | None:
        """The latest rendering, refreshed in the background when older than ``max_age``. With none yet, waits for the
        first one, unless a writer holds the warehouse: then None after :data:`FIRST_WAIT_S` (the holding page)."""
        done = None
        if self._pages is None or time.monotonic() - self._rendered_at > self.max_age:
            done = self._kick()
        if self._pages is None and done is not None:
            waited = time.monotonic() + FIRST_WAIT_S
            while not done.wait(0.05):
                if time.monotonic() > waited and self._writer():
                    return None
        return self._pages

    def _kick(self) -> threading.Event:
        """Start a rendering in the background unless one is under way; the event it sets when done."""
        with self._state:
            if self._inflight is None:
                self._inflight = threading.Event()
                threading.Thread(target=self._background, args=(self._inflight,), name="hub-docs-render",
                                 daemon=True).start()
            return self._inflight

    def _background(self, done: threading.Event) -> None:
        try:
            with self._lock:
                self._refresh()
        finally:
            with self._state:
                self._inflight = None
            done.set()

    def _writer(self) -> bool:
        """Whether a writer (another process, or this server's own job) holds the warehouse now."""
        from hub.warehouse.lock import lock_path, read_holder

        return read_holder(lock_path(self.project.warehouse_path)).pid is not None

    def live(self) -> bytes:
        """``live.json``: the runs in progress and their progress, from the run log (never waits for a writer)."""
        import orjson

        from hub.docs import live_state

        return orjson.dumps(live_state(self.project, pages_ready=self._pages is not None))

    def _holding(self, name: str) -> dict[str, bytes]:
        """The pages while none is rendered: the holding page under every page name, and the assets."""
        from hub.docs import ASSETS, assets_dir

        files = {f"assets/{a}": (assets_dir() / a).read_bytes() for a in ASSETS}
        if name.endswith(".html"):
            files[name] = self.holding_page()
        return files

    def holding_page(self) -> bytes:
        """What a first request gets while a writer holds the warehouse: the runs in progress, reloading itself once
        the pages are rendered."""
        from datetime import UTC, datetime

        from hub.docs.collect import running_now
        from hub.docs.html import e, live_panel, page
        from hub.warehouse.lock import lock_path, read_holder

        holder = read_holder(lock_path(self.project.warehouse_path)).describe()
        body = (f'<p class="notice">The pages are being read from the warehouse, which {e(holder)} is writing; this '
                f'page shows the runs in progress meanwhile and opens the site once it is ready.</p>'
                + live_panel(running_now(self.project) or [], datetime.now(UTC)).replace(
                    'class="live"', 'class="live" data-reload-when-ready="1"', 1))
        return page("What flows where", body, project=self.project.root.name).encode("utf-8")

    def _refresh(self) -> None:
        from hub.docs import render
        from hub.errors import HubError

        try:
            self._pages = self._run(lambda: render(self.project))
            self._error = None
        except HubError as exc:   # keep serving the last good pages; say why on the first
            self._error = str(exc)
        self._rendered_at = time.monotonic()
