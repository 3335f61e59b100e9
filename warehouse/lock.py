"""One writer at a time: an advisory lock file beside the warehouse that hub processes queue on.

DuckDB lets one process write a database file and refuses every other open (even read-only ones) meanwhile, failing
at once. So before DuckDB opens the file, hub takes ``<warehouse>.lock`` with ``flock``: exclusively to write, shared
to read. A writer that finds the lock taken prints one line (``waiting for hub ingest (pid 123) to release the
warehouse...``) and waits up to the process-wide wait (``hub --wait SECONDS``; writers default to
:data:`DEFAULT_WRITER_WAIT`); a reader fails at once with a line naming the holder unless ``--wait`` was given. The
writer's pid and command line sit in the file while it holds the lock, and are cleared before it lets go. The kernel
drops a ``flock`` when its process dies, so a crashed command never leaves the warehouse locked.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from hub.errors import WarehouseLockedError
from hub.secrets import redact

#: Seconds a writing command waits for another to finish when --wait is not given: long enough to ride out an
#: overlapping scheduled run, short enough that a stuck holder is reported within a minute.
DEFAULT_WRITER_WAIT = 60.0
#: flock has no timeout, so a waiter re-tries non-blocking; the poll interval grows to this.
_MAX_POLL_S = 0.2

_settings_lock = threading.Lock()
_wait: float | None = None          # None: --wait not given
_held: dict[Path, _Held] = {}       # this process's locks, by lock path (flock is per open file, not per process)


def set_wait(seconds: float | None) -> None:
    """How long this process's warehouse opens wait for another process (None: the defaults; 0: never wait)."""
    global _wait
    with _settings_lock:
        _wait = seconds


def wait_for(write: bool) -> float:
    """The wait that applies to a writing or a read-only open."""
    with _settings_lock:
        chosen = _wait
    if chosen is not None:
        return max(0.0, chosen)
    return DEFAULT_WRITER_WAIT if write else 0.0


def lock_path(warehouse: Path) -> Path:
    """The lock file of a warehouse file: ``warehouse.duckdb.lock`` beside it."""
    return warehouse.with_name(warehouse.name + ".lock")


@dataclass(frozen=True)
class Holder:
    """Who writes the warehouse, as the lock file says."""

    pid: int | None
    command: str

    def describe(self) -> str:
        if self.pid is None:
            return "another hub process"
        return f"{self.command} (pid {self.pid})"


@dataclass
class _Held:
    fd: int
    write: bool
    count: int


class WarehouseLock:
    """The lock one :class:`~hub.warehouse.duck.Warehouse` handle holds between its open and its close."""

    def __init__(self, warehouse: Path, *, write: bool, wait: float | None = None,
                 notify: Callable[[str], None] | None = None) -> None:
        self.path = lock_path(Path(warehouse).resolve())
        self.warehouse = Path(warehouse)
        self.write = write
        self.wait = wait_for(write) if wait is None else wait
        self._notify = notify or _to_stderr
        self._acquired = False

    def acquire(self) -> None:
        """Take the lock, waiting up to ``wait`` seconds; :class:`WarehouseLockedError` naming the holder if not."""
        with _settings_lock:
            held = _held.get(self.path)
            if held is not None and (held.write or not self.write):
                held.count += 1  # this process already holds it strongly enough (nested handles share it)
                self._acquired = True
                return
        fd = held.fd if held is not None else _open(self.path)
        try:
            self._take(fd)
        except BaseException:
            if held is None:
                os.close(fd)
            raise
        with _settings_lock:
            if held is not None:
                held.write, held.count = True, held.count + 1
            else:
                _held[self.path] = _Held(fd, self.write, 1)
        if self.write:
            _write_holder(fd)
        self._acquired = True

    def release(self) -> None:
        """Let go (the last handle of this process clears the holder line and unlocks)."""
        if not self._acquired:
            return
        self._acquired = False
        with _settings_lock:
            held = _held[self.path]
            held.count -= 1
            if held.count:
                return
            del _held[self.path]
        try:
            if held.write:
                os.ftruncate(held.fd, 0)
        finally:
            os.close(held.fd)  # closing the last descriptor releases the flock

    def _take(self, fd: int) -> None:
        mode = fcntl.LOCK_EX if self.write else fcntl.LOCK_SH
        if _try(fd, mode):
            return
        holder = read_holder(self.path)
        if self.wait <= 0:
            raise self._locked(holder, waited=None)
        self._notify(f"waiting for {holder.describe()} to release the warehouse...")
        deadline = time.monotonic() + self.wait
        poll = 0.01
        while time.monotonic() < deadline:
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))
            if _try(fd, mode):
                return
            poll = min(poll * 2, _MAX_POLL_S)
        raise self._locked(read_holder(self.path) if holder.pid is None else holder, waited=self.wait)

    def _locked(self, holder: Holder, waited: float | None) -> WarehouseLockedError:
        action = "written" if holder.pid is not None else "in use"
        what = f"warehouse {self.warehouse.name} is {action} by {holder.describe()}"
        if waited is None:
            hint = ("wait for it to finish, or pass --wait SECONDS to queue behind it" if self.write or holder.pid
                    else "pass --wait SECONDS to queue behind it")
            return WarehouseLockedError(what, hint=hint)
        return WarehouseLockedError(f"{what}; gave up after waiting {waited:g} s",
                                    hint="let it finish, or pass a longer --wait SECONDS")


def held_for_writing(warehouse: Path) -> bool:
    """Whether this process holds the warehouse's lock to write (a handle of its own has it open for writing)."""
    with _settings_lock:
        held = _held.get(lock_path(Path(warehouse).resolve()))
        return held is not None and held.write


def read_holder(path: Path) -> Holder:
    """The writer named in a lock file (pid None when no writer is named: readers hold it, or it is being taken)."""
    try:
        data = orjson.loads(path.read_bytes() or b"{}")
    except (OSError, orjson.JSONDecodeError):
        data = {}
    pid = data.get("pid") if isinstance(data, dict) else None
    command = data.get("command") if isinstance(data, dict) else None
    return Holder(pid if isinstance(pid, int) else None, str(command or "a hub command"))


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def _try(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _write_holder(fd: int) -> None:
    record = orjson.dumps({"pid": os.getpid(), "command": _command(), "since": time.time()})
    os.ftruncate(fd, 0)
    os.pwrite(fd, record, 0)


def _command() -> str:
    """This process as a user would recognise it: ``hub ingest crm`` (arguments redacted, cut short)."""
    argv = list(sys.argv) or ["python"]
    program = os.path.basename(argv[0])
    if program in ("__main__.py", "hub", "-m", "-c", ""):
        program = "hub"
    text = redact(" ".join([program, *argv[1:]]))
    return text if len(text) <= 80 else text[:77] + "..."


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
