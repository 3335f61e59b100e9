"""The emulators' notion of "now": injectable so tests can move time without sleeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class Clock:
    """A wall clock that starts at a chosen instant and can be advanced or frozen.

    Seed data is laid out relative to the start instant, so a fixed start makes every
    timestamp reproducible while the clock still ticks in real time afterwards.
    """

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        start = start or datetime.now(UTC).replace(microsecond=0)
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._lock = threading.Lock()
        self._start = start.astimezone(UTC)
        self._origin = time.monotonic()
        self._offset = 0.0
        self._frozen_at: float | None = 0.0 if frozen else None

    def _elapsed(self) -> float:
        if self._frozen_at is not None:
            return self._frozen_at + self._offset
        return time.monotonic() - self._origin + self._offset

    def now(self) -> datetime:
        """The current emulated time (timezone-aware, UTC)."""
        return self._start + timedelta(seconds=self._elapsed())

    def millis(self) -> int:
        """The current emulated time as epoch milliseconds."""
        return int(self._start.timestamp() * 1000 + self._elapsed() * 1000)

    def seconds(self) -> float:
        """The current emulated time as epoch seconds (for rate-limit windows)."""
        return self._start.timestamp() + self._elapsed()

    def advance(self, seconds: float) -> None:
        """Jump forward, e.g. to empty a rate-limit window or age a token."""
        with self._lock:
            self._offset += seconds

    def freeze(self) -> None:
        """Stop ticking at the current instant (advance() still works)."""
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = time.monotonic() - self._origin

    def unfreeze(self) -> None:
        """Resume ticking in real time from the current instant."""
        with self._lock:
            if self._frozen_at is not None:
                self._origin = time.monotonic() - self._frozen_at
                self._frozen_at = None


class CallableClock:
    """Adapts a plain ``() -> datetime`` callable to the Clock interface."""

    def __init__(self, func: Callable[[], datetime]) -> None:
        self._func = func

    def now(self) -> datetime:
        """The callable's current value, forced to UTC."""
        value = self._func()
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def millis(self) -> int:
        """Epoch milliseconds of now()."""
        return int(self.now().timestamp() * 1000)

    def seconds(self) -> float:
        """Epoch seconds of now()."""
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        """Not supported: the injected callable owns time."""
        raise TypeError("advance() is not available on an injected clock callable; move your own clock")


AnyClock = Clock | CallableClock


def make_clock(now: datetime | Callable[[], datetime] | AnyClock | None) -> AnyClock:
    """Build the clock the Sandbox uses from its ``now=`` argument."""
    if isinstance(now, (Clock, CallableClock)):
        return now
    if now is None or isinstance(now, datetime):
        return Clock(now)
    if callable(now):
        return CallableClock(now)
    raise TypeError(f"now= must be a datetime, a callable returning one, or a Clock, not {type(now).__name__}")


def iso_millis_z(ms: int) -> str:
    """ISO-8601 UTC with milliseconds and a Z: 2024-05-01T10:11:12.345Z."""
    secs, frac = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:03d}Z"


def iso_millis_offset(ms: int) -> str:
    """ISO-8601 UTC with milliseconds and a +0000 offset: 2024-05-01T10:11:12.000+0000."""
    secs, frac = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:03d}+0000"


def parse_iso(value: str) -> datetime:
    """Parse the ISO-8601 variants clients send (Z, +00:00, +0000, with or without millis)."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit() and "T" in text:
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
