"""Routing table and request tally shared by the emulators."""

from __future__ import annotations

import fnmatch
import re
import threading
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from hub.sandbox.server import Request, Response

Handler = Callable[["Request"], "Response"]


class Route:
    """One routing table entry: a method and a path template like ``/crm/v3/objects/{objectType}``."""

    __slots__ = ("method", "template", "regex", "handler", "meta")

    _PARAM = re.compile(r"\{(\w+)(?::([^}]+))?\}")

    def __init__(self, method: str, template: str, handler: Handler, meta: Any = None) -> None:
        self.method = method
        self.template = template
        self.handler = handler
        self.meta = meta
        pattern, pos = [], 0
        for m in self._PARAM.finditer(template):
            pattern.append(re.escape(template[pos:m.start()]))
            pattern.append(f"(?P<{m.group(1)}>{m.group(2) or '[^/]+'})")
            pos = m.end()
        pattern.append(re.escape(template[pos:]))
        self.regex = re.compile("".join(pattern) + r"\Z")
        # strip the custom regexes so request counters read like the vendor docs
        self.template = self._PARAM.sub(lambda m: "{" + m.group(1) + "}", template)


class Router:
    """Ordered table of routes; the first template that matches wins."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, meta: Any = None) -> None:
        """Register ``handler`` for ``method`` on ``template`` ({name} or {name:regex} placeholders)."""
        self.routes.append(Route(method, template, handler, meta))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """Find the route for a request: (route, params, path_exists_for_another_method)."""
        other_method = False
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"  # vendors treat /things/ and /things alike
        for route in self.routes:
            m = route.regex.match(path)
            if m is None:
                continue
            if route.method != method:
                other_method = True
                continue
            return route, {k: unquote(v) for k, v in m.groupdict().items()}, False
        return None, {}, other_method


class RequestLog:
    """Thread-safe tally of requests served, keyed ``"METHOD /path/{template}"``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def record(self, method: str, template: str) -> None:
        """Count one request."""
        key = f"{method} {template}"
        with self._lock:
            self._counts[key] += 1

    def count(self, pattern: str = "*") -> int:
        """Requests whose ``"METHOD template"`` matches a glob, e.g. ``"POST */search"``."""
        with self._lock:
            return sum(n for key, n in self._counts.items() if fnmatch.fnmatchcase(key, pattern))

    @property
    def total(self) -> int:
        """All requests served since the last reset."""
        with self._lock:
            return sum(self._counts.values())

    def snapshot(self) -> dict[str, int]:
        """A copy of the per-route counts."""
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self._counts.clear()

    def __getitem__(self, key: str) -> int:
        with self._lock:
            return self._counts.get(key, 0)
