"""Client-side rate limiting, fed by what the vendor says in its response headers (or bodies: :class:`CostBucket`).

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


class CostBucket:
    """Pacing against a vendor's leaky bucket of *cost points* (a query-cost budget), as its answers report it.

    Some APIs charge each request a computed cost from a bucket that refills at ``restore_rate`` points a second, and
    report the bucket in every answer (its size, what is left, the restore rate). :meth:`observe` takes that report;
    :meth:`acquire` blocks until the bucket, as estimated from the last report and the time since, holds ``cost``,
    then counts the cost as spent until the next report corrects it. Before any report nothing is held back. One
    bucket serves one connection, shared by every client of it in the process (:func:`cost_bucket_for`).
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self.maximum: float | None = None
        self.available = 0.0
        self.restore_rate = 0.0
        self._at = 0.0
        self.waited = 0.0

    def observe(self, maximum: float, available: float, restore_rate: float) -> None:
        """The vendor's report of the bucket, as of now."""
        with self._lock:
            self.maximum, self.available, self.restore_rate = float(maximum), float(available), float(restore_rate)
            self._at = self._clock()

    def estimate(self) -> float | None:
        """Points the bucket holds now, by the last report and the time since (None: never reported)."""
        with self._lock:
            return self._estimate(self._clock())

    def _estimate(self, now: float) -> float | None:
        if self.maximum is None:
            return None
        return min(self.maximum, self.available + (now - self._at) * self.restore_rate)

    def acquire(self, cost: float) -> float:
        """Block until the bucket holds ``cost`` (at most its size); returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                held = self._estimate(now)
                if held is None or self.restore_rate <= 0:
                    return waited
                need = min(cost, self.maximum or cost)
                if held >= need:
                    self.available, self._at = held - need, now
                    self.waited += waited
                    return waited
                delay = (need - held) / self.restore_rate
            self._sleep(delay)
            waited += delay


_cost_buckets: dict[str, CostBucket] = {}
_cost_buckets_lock = threading.Lock()


def cost_bucket_for(key: str) -> CostBucket:
    """The process-wide cost bucket of one connection (ingest and push share it)."""
    with _cost_buckets_lock:
        if key not in _cost_buckets:
            _cost_buckets[key] = CostBucket()
        return _cost_buckets[key]
