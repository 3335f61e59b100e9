"""Server-side request limits for the emulators (rolling windows and daily quotas)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Verdict:
    """Outcome of one hit on a limiter: whether it passed and what to advertise in headers."""

    allowed: bool
    limit: int
    remaining: int
    window_ms: int


class RollingWindowLimiter:
    """At most ``limit`` requests per key in any ``window`` seconds (a rolling window, as ten-secondly API limits are).

    Rejected requests are not recorded, so a client that backs off for one window recovers fully.
    """

    def __init__(self, limit: int, window: float, now: Callable[[], float]) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0 seconds")
        self.limit = limit
        self.window = window
        self._now = now
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> Verdict:
        """Record one request for ``key`` if the window has room."""
        now = self._now()
        horizon = now - self.window
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque()
            while hits and hits[0] <= horizon:
                hits.popleft()
            allowed = len(hits) < self.limit
            if allowed:
                hits.append(now)
            remaining = self.limit - len(hits)
        return Verdict(allowed, self.limit, remaining, int(self.window * 1000))

    def reset(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._hits.clear()


class DailyQuota:
    """A per-UTC-day request counter (the daily API request caps vendors count)."""

    def __init__(self, limit: int, now: Callable[[], float]) -> None:
        self.limit = limit
        self._now = now
        self._lock = threading.Lock()
        self._day = -1
        self.used = 0

    def hit(self) -> Verdict:
        """Count one request unless today's quota is spent."""
        day = int(self._now() // 86400)
        with self._lock:
            if day != self._day:
                self._day, self.used = day, 0
            allowed = self.used < self.limit
            if allowed:
                self.used += 1
            remaining = self.limit - self.used
        return Verdict(allowed, self.limit, remaining, 86_400_000)

    def set_used(self, used: int) -> None:
        """Jump the counter, e.g. to test behaviour at the edge of the quota."""
        with self._lock:
            self._day = int(self._now() // 86400)
            self.used = used
