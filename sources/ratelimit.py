"""Client-side rate limiting, fed by what the vendor says in its response headers.

A :class:`RateLimiter` paces requests so that at most ``max_requests`` start within any ``interval`` seconds (a sliding
window, as rolling rate-limit policies count), learns the real limit from the vendor's headers, and honours
pauses the vendor asks for (Retry-After, an exhausted window). One limiter serves one connection, shared by every client
of that connection in the process.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Sliding-window pacing plus server-requested pauses; thread-safe."""

    def __init__(self, max_requests: int | None = None, interval: float = 10.0, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.max_requests = max_requests
        self.interval = interval
        self._clock, self._sleep = clock, sleep
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until a request may start; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                delay = self._paused_until - now
                if delay <= 0 and self.max_requests:
                    while self._starts and self._starts[0] <= now - self.interval:
                        self._starts.popleft()
                    if len(self._starts) >= self.max_requests:
                        delay = self._starts[0] + self.interval - now
                if delay <= 0:
                    if self.max_requests:
                        self._starts.append(now)
                    return waited
            self._sleep(delay)
            waited += delay

    def pause(self, seconds: float) -> None:
        """Hold every request of this connection for ``seconds`` (a Retry-After, an exhausted window)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def learn(self, max_requests: int | None, interval: float | None) -> None:
        """Adopt the limit the vendor announced (from a profile's rate-limit headers)."""
        with self._lock:
            if max_requests and max_requests > 0:
                self.max_requests = max_requests
            if interval and interval > 0:
                self.interval = interval
