"""Waiting for Ctrl-C (SIGINT) or SIGTERM in a process full of threads, without missing one.

The kernel hands a signal sent to a process to any thread that does not block it, and a thread being created (one
per HTTP request, DuckDB's workers at every warehouse open) unblocks its signals and takes one that is pending. That
thread runs CPython's C-level handler, which only notes the signal: the Python handler (``KeyboardInterrupt``
included) runs in the main thread, the next time the main thread runs. A main thread asleep in ``Event.wait`` or
``Thread.join`` is not woken by a signal another thread took, so it slept on, and ``hub serve`` ignored Ctrl-C.

:class:`StopSignals` sleeps on a socket instead: :func:`signal.set_wakeup_fd` makes the C-level handler write the
signal's number there, whichever thread runs it, and that wakes the main thread. The number is read from the socket
itself, so the wait does not depend on when (or whether) the Python handler runs either. Only the main thread can
install signal handlers (libraries that swap them for a while, such as dlt's pipelines, do so only on the main thread
and only inside the call), so nothing running in the process's other threads can take these handlers away.

Used by ``hub serve`` and ``hub schedule run``. The latter does its work in other threads and waits twice: for the
first signal (stop starting jobs), then for whichever comes first of "the running jobs are done" (another thread
calls :meth:`StopSignals.wake`) and a second signal (abort).
"""

from __future__ import annotations

import select
import signal
import socket
from types import FrameType, TracebackType
from typing import Any

#: the byte :meth:`StopSignals.wake` writes: no signal has number 0
_WAKE = 0

#: the signals that stop a long-running hub process: Ctrl-C, and systemd / ``docker stop``
STOP = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """``with StopSignals() as stop: ...; stop.wait()`` - main thread only; returns the signal that arrived.

    Between ``__enter__`` and ``__exit__`` SIGINT and SIGTERM no longer raise ``KeyboardInterrupt`` or end the
    process: they are kept, in order, until :meth:`wait` takes them (a signal that arrived before makes it return at
    once). :meth:`wake`, from any thread, makes a :meth:`wait` return ``None``. :meth:`release` (or ``__exit__``)
    puts the earlier handlers back, so a second Ctrl-C while stopping interrupts as usual."""

    def __init__(self) -> None:
        self.received: int | None = None   # the first stop signal
        self._events: list[int] = []       # signal numbers and _WAKE, in arrival order, not yet returned by wait()
        self._reader: socket.socket | None = None
        self._writer: socket.socket | None = None
        self._old_fd = -1
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)   # set_wakeup_fd requires it: a full buffer must not block a signal handler
        self._old_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        try:
            for sig in STOP:
                self._old[sig] = signal.signal(sig, self._note)
        except BaseException:
            self.release()
            raise
        return self

    def _note(self, signum: int, frame: FrameType | None) -> None:
        """The Python handler: does nothing (it only replaces the default action, which would end the process or
        raise ``KeyboardInterrupt``); the C-level handler has already written the number to the socket, which is
        where :meth:`wait` counts signals, so each is counted once whenever (or whether) this runs."""

    def wait(self) -> int | None:
        """Sleep until SIGINT or SIGTERM arrives (or has arrived, and no earlier call returned it); return which.
        ``None`` when :meth:`wake` was called (and no earlier call returned that)."""
        assert self._reader is not None, "use StopSignals as a context manager"
        while not self._events:
            select.select([self._reader], [], [])
            for number in self._drain():
                if number in STOP or number == _WAKE:
                    self._events.append(number)
        event = self._events.pop(0)
        if event == _WAKE:
            return None
        if self.received is None:
            self.received = event
        return event

    def wake(self) -> None:
        """Make a :meth:`wait` (now or the next one) return ``None`` - from any thread; after release, nothing."""
        writer = self._writer
        if writer is None:
            return
        try:
            writer.send(bytes([_WAKE]))
        except OSError:   # closed by release() meanwhile, or (unthinkably) a full buffer: nobody is waiting then
            pass

    def _drain(self) -> bytes:
        assert self._reader is not None
        chunks = []
        while True:
            try:
                chunk = self._reader.recv(4096)
            except (BlockingIOError, InterruptedError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def release(self) -> None:
        """Put the earlier handlers back (again: a no-op)."""
        for sig, handler in self._old.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        self._old.clear()
        if self._writer is not None:
            signal.set_wakeup_fd(self._old_fd)
            reader, writer = self._reader, self._writer
            self._reader = self._writer = None
            for end in (reader, writer):
                if end is not None:
                    end.close()
