"""The durable event inbox: accepted webhooks land here, on disk, before the sender gets its 2xx.

SQLite in WAL mode at ``<project>/.hub/inbox.sqlite``, one row per event, ``UNIQUE(connection, event_id)`` so a
redelivered event is acknowledged again without being stored twice. DuckDB allows one writing process per warehouse
file and a long-running server must not hold it, so events wait here until the flusher moves them
(:mod:`hub.serve.flusher`); two high-water marks (``flushed``, ``triggered``) record how far each consumer got, and
``dead_letters`` which events the flusher set aside (their reasons; the bodies are in ``_hub.webhook_dead_letters``).
The file and its -wal/-shm are created owner-only (0600): they hold customer data.

Writes go through ONE writer thread doing group commit: request threads queue their events on the open batch and wait
for it; the writer takes the whole batch, inserts it in one transaction and commits with ``synchronous=FULL`` (an
fsync of the WAL), then wakes every waiter at once. So each 2xx follows its own fsync, yet a thousand concurrent
requests cost a handful of fsyncs, not a thousand.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hub.errors import InboxError

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, connection TEXT NOT NULL, event_id TEXT NOT NULL, type TEXT,
    received_at REAL NOT NULL, body BLOB NOT NULL, UNIQUE (connection, event_id));
CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters (seq INTEGER PRIMARY KEY, reason TEXT NOT NULL);
"""
#: The inbox holds customer data: owner-only, whatever the umask (SQLite gives -wal and -shm the database's mode).
MODE = 0o600
#: How long a request waits for its batch to reach the disk before answering 503 (the sender will retry).
COMMIT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class InboxEvent:
    """One verified event as it is stored: its connection, the sender's event id, type and raw JSON body."""

    connection: str
    event_id: str
    type: str | None
    body: bytes


@dataclass(frozen=True)
class StoredEvent:
    """An event read back from the inbox, with its sequence number."""

    seq: int
    connection: str
    event_id: str
    type: str | None
    received_at: float
    body: bytes


@dataclass
class _Batch:
    events: list[InboxEvent] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    stored: list[bool] = field(default_factory=list)
    error: BaseException | None = None


class Inbox:
    """The inbox file: :meth:`put` from any thread (returns once on disk); reads and marks for its consumers."""

    def __init__(self, path: Path, *, on_stored: Callable[[], None] | None = None) -> None:
        self.path = Path(path)
        self.on_stored = on_stored   # called (in the writer thread) after a commit that stored new events
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _private(self.path)
        self._writer_db = self._connect()
        self._writer_db.executescript(SCHEMA)
        self._reader_db = self._connect()
        self._reader_lock = threading.Lock()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._open = _Batch()
        self._closing = False
        self._thread = threading.Thread(target=self._write_loop, name="hub-inbox-writer", daemon=True)
        self._thread.start()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # fsync the WAL on every commit: a 2xx means the event is on disk
        return db

    # --- intake ---------------------------------------------------------------------------------

    def put(self, events: Sequence[InboxEvent], timeout: float = COMMIT_TIMEOUT_S) -> list[bool]:
        """Store ``events`` durably; per event True if new, False if it was already there (a redelivery)."""
        with self._wake:
            if self._closing:
                raise InboxError("the server is shutting down", hint="the sender will retry")
            batch = self._open
            start = len(batch.events)
            batch.events.extend(events)
            self._wake.notify()
        if not batch.done.wait(timeout):
            raise InboxError(f"the inbox did not commit within {timeout:g} s", hint="is the disk stalled?")
        if batch.error is not None:
            raise InboxError(f"could not store the event: {batch.error}", hint="check disk space and permissions "
                                                                               f"of {self.path}")
        return batch.stored[start:start + len(events)]

    def _write_loop(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._open.events or self._closing)
                batch, self._open = self._open, _Batch()
                if not batch.events and self._closing:
                    return
            self._commit(batch)

    def _commit(self, batch: _Batch) -> None:
        db, now = self._writer_db, time.time()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                for event in batch.events:
                    cursor = db.execute("INSERT OR IGNORE INTO events (connection, event_id, type, received_at, body) "
                                        "VALUES (?, ?, ?, ?, ?)",
                                        (event.connection, event.event_id, event.type, now, event.body))
                    batch.stored.append(cursor.rowcount == 1)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            batch.error = exc
        finally:
            batch.done.set()
        if self.on_stored is not None and batch.error is None and any(batch.stored):
            self.on_stored()

    # --- consumers ------------------------------------------------------------------------------

    def last_seq(self) -> int:
        """The sequence number of the newest event (0 when empty)."""
        with self._reader_lock:
            return self._reader_db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]

    def read_after(self, seq: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` events after ``seq``, oldest first."""
        with self._reader_lock:
            rows = self._reader_db.execute("SELECT seq, connection, event_id, type, received_at, body FROM events "
                                           "WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)).fetchall()
        return [StoredEvent(*row) for row in rows]

    def mark(self, name: str) -> int:
        """How far consumer ``name`` got (0 at first)."""
        with self._reader_lock:
            row = self._reader_db.execute("SELECT seq FROM marks WHERE name = ?", (name,)).fetchone()
        return row[0] if row else 0

    def set_mark(self, name: str, seq: int) -> None:
        """Record that consumer ``name`` is done with every event up to ``seq``."""
        with self._reader_lock:
            self._reader_db.execute("INSERT OR REPLACE INTO marks VALUES (?, ?)", (name, seq))

    def backlog(self) -> int:
        """How many events wait for the flusher."""
        with self._reader_lock:
            return self._reader_db.execute("SELECT count(*) FROM events WHERE seq > coalesce((SELECT seq FROM marks "
                                           "WHERE name = 'flushed'), 0)").fetchone()[0]

    def oldest_waiting(self) -> float | None:
        """When the oldest event not yet flushed was received (None when none waits)."""
        with self._reader_lock:
            row = self._reader_db.execute("SELECT received_at FROM events WHERE seq > coalesce((SELECT seq FROM marks "
                                          "WHERE name = 'flushed'), 0) ORDER BY seq LIMIT 1").fetchone()
        return row[0] if row else None

    def set_dead(self, letters: Sequence[tuple[int, str]]) -> None:
        """Record events (seq, reason) the flusher set aside instead of loading."""
        with self._reader_lock:
            self._reader_db.executemany("INSERT OR REPLACE INTO dead_letters VALUES (?, ?)", letters)

    def dead(self, after: int = 0, upto: int | None = None) -> dict[int, str]:
        """The events set aside (seq -> reason), those in (after, upto] only when given."""
        with self._reader_lock:
            rows = self._reader_db.execute("SELECT seq, reason FROM dead_letters WHERE seq > ? AND seq <= ?",
                                           (after, upto if upto is not None else 2**62)).fetchall()
        return dict(rows)

    def dead_count(self) -> int:
        """How many events the flusher set aside."""
        with self._reader_lock:
            return self._reader_db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]

    def count(self) -> int:
        """How many events the inbox holds."""
        with self._reader_lock:
            return self._reader_db.execute("SELECT count(*) FROM events").fetchone()[0]

    def close(self) -> None:
        """Commit what is queued, stop the writer and close the file."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._thread.join()
        self._writer_db.close()
        with self._reader_lock:
            self._reader_db.close()


def _private(path: Path) -> None:
    """Create the inbox owner-only before SQLite opens it, and take back files an older hub left group-readable."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, MODE))
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if name.exists() and name.stat().st_mode & 0o777 != MODE:
            name.chmod(MODE)


def summary(path: Path) -> dict[str, dict[str, int]]:
    """Per connection: events received, waiting for the flusher (backlog) and set aside (dead letters).

    Read-only, beside a running server or without one; empty when there is no inbox yet.
    """
    if not path.exists():
        return {}
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"events", "marks", "dead_letters"} <= tables:
            return {}
        rows = db.execute("SELECT e.connection, count(*), count(*) FILTER (WHERE e.seq > coalesce((SELECT seq FROM "
                          "marks WHERE name = 'flushed'), 0)), count(d.seq) FROM events e LEFT JOIN dead_letters d "
                          "ON d.seq = e.seq GROUP BY e.connection ORDER BY e.connection").fetchall()
    finally:
        db.close()
    return {c: {"received": n, "backlog": waiting, "dead_letters": dead} for c, n, waiting, dead in rows}
