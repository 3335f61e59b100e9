"""Failpoints: named places where a test can make hub die as if ``kill -9`` hit it there.

``HUB_FAILPOINTS`` lists names, comma-separated; ``name@N`` fires on the Nth time the process reaches ``name`` (the
first by default). A firing failpoint SIGKILLs its own process: no ``finally``, no ``atexit``, no flush, exactly what a
crash leaves behind. Crash-safety tests place the kill deterministically this way instead of guessing at timing.
``name:raise`` (``name@N:raise``) raises :class:`FailpointError` there instead: an unexpected exception, as a bug would
raise, for tests of what hub records when a command dies of one. ``name:park`` parks the process there instead: it
prints ``failpoint NAME parked`` to stderr and waits for a line on its stdin, then goes on. Concurrency tests hold a
process inside a locked section this way until another process has done what the test wants to see (no sleeping).

Unset (the normal case), :func:`failpoint` costs one dict lookup: the variable is read once per process.
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "HUB_FAILPOINTS"

_lock = threading.Lock()
_armed: dict[str, int] | None = None   # name -> the hit that fires; None until the environment is read
_hits: dict[str, int] = {}
_raising: set[str] = set()
_parking: set[str] = set()


class FailpointError(RuntimeError):
    """Raised by a failpoint armed with ``:raise``; deliberately not a HubError, so it stands for a bug."""


def _parse(spec: str) -> dict[str, int]:
    armed = {}
    for part in spec.split(","):
        part, _, action = part.strip().partition(":")
        name, _, nth = part.partition("@")
        if name:
            armed[name] = int(nth) if nth.strip() else 1
            if action.strip() == "raise":
                _raising.add(name)
            elif action.strip() == "park":
                _parking.add(name)
    return armed


def failpoint(name: str) -> None:
    """Die here with SIGKILL if ``HUB_FAILPOINTS`` arms ``name`` and this is its chosen hit (raise or park, as armed);
    otherwise do nothing."""
    global _armed
    if _armed is None:
        _armed = _parse(os.environ.get(ENV, ""))
    if name not in _armed:
        return
    with _lock:  # the push engine's callers may be several threads
        _hits[name] = _hits.get(name, 0) + 1
        fire = _hits[name] == _armed[name]
    if fire and name in _parking:
        import sys

        print(f"failpoint {name} parked", file=sys.stderr, flush=True)
        sys.stdin.readline()
        return
    if fire and name in _raising:
        raise FailpointError(f"failpoint {name} raised")
    if fire:
        os.kill(os.getpid(), signal.SIGKILL)
