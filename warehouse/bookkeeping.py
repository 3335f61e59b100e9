"""hub's own records, in schema ``_hub`` of the warehouse: runs, their steps, and incremental cursors.

- ``_hub.runs``: one row per command that changed something (start, end, status, error, and the process that ran it:
  a run whose process is gone without finishing it, killed say, is ``interrupted``).
- ``_hub.run_steps``: what each run did per target (``ingest`` of ``crm.contacts``...): rows, time, outcome.
- ``_hub.cursors``: where the next incremental read of each stream starts; written only after its data is committed,
  with the records already loaded at that point (``loaded_keys``: JSON ``[[key, cursor value], ...]``), which the
  vendor returns again (its filter is ``>= cursor``) and the next read leaves out.
- ``_hub.schema_changes`` and ``_hub.quarantine``: see :mod:`hub.warehouse.schema_changes`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from hub.secrets import redact
from hub.warehouse import runlog
from hub.warehouse.runlog import HOST, INTERRUPTED, interrupted  # noqa: F401 - their home before the run log
from hub.warehouse.duck import Result, Warehouse

_BATCH = 100   # rows per statement of the batch methods (start_runs, finish_runs, write_steps)

DDL = """
CREATE SCHEMA IF NOT EXISTS _hub;
CREATE TABLE IF NOT EXISTS _hub.runs (
    run_id VARCHAR PRIMARY KEY, command VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ, status VARCHAR NOT NULL, error VARCHAR);
ALTER TABLE _hub.runs ADD COLUMN IF NOT EXISTS pid INTEGER;
ALTER TABLE _hub.runs ADD COLUMN IF NOT EXISTS host VARCHAR;
CREATE TABLE IF NOT EXISTS _hub.run_steps (
    run_id VARCHAR NOT NULL, step VARCHAR NOT NULL, target VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ, status VARCHAR NOT NULL, rows_in BIGINT, rows_out BIGINT, detail VARCHAR, error VARCHAR);
CREATE TABLE IF NOT EXISTS _hub.cursors (
    connection VARCHAR NOT NULL, stream VARCHAR NOT NULL, cursor_value VARCHAR, updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connection, stream));
ALTER TABLE _hub.cursors ADD COLUMN IF NOT EXISTS loaded_keys VARCHAR;
CREATE TABLE IF NOT EXISTS _hub.schema_changes (
    run_id VARCHAR NOT NULL, connection VARCHAR NOT NULL, stream VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL, change VARCHAR NOT NULL, old_type VARCHAR, new_type VARCHAR,
    detected_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS _hub.quarantine (
    run_id VARCHAR NOT NULL, connection VARCHAR NOT NULL, stream VARCHAR NOT NULL, reason VARCHAR NOT NULL,
    record VARCHAR NOT NULL, quarantined_at TIMESTAMPTZ NOT NULL);
"""


#: Runs this process started and has not finished, per warehouse file: when a command dies of an exception nobody
#: expected, :func:`unfinished` tells the CLI which runs to record as failed with the cause.
_open_runs: dict[str, set[str]] = {}
_open_lock = threading.Lock()


def unfinished(warehouse: Path) -> bool:
    """Whether this process started a run in ``warehouse`` that it has not finished."""
    with _open_lock:
        return bool(_open_runs.get(str(Path(warehouse).resolve())))


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Step:
    """One step of a run, filled in as it goes and written when it ends."""

    run_id: str
    step: str
    target: str
    started_at: datetime
    status: str = "running"
    rows_in: int | None = None
    rows_out: int | None = None
    detail: str | None = None
    error: str | None = None
    finished_at: datetime | None = None


def _as_text(columns: tuple[str, ...]) -> str:
    """A select list with the timestamps formatted in SQL as the run log keeps them (UTC ISO 8601 to the
    microsecond): 100,000 runs copy in seconds instead of a minute of Python conversions."""
    return ", ".join(f"strftime(timezone('UTC', {c}), '%Y-%m-%dT%H:%M:%S.%f') || '+00:00'" if c.endswith("_at")
                     else c for c in columns)


class Bookkeeping:
    """Reads and writes the ``_hub`` schema through a :class:`Warehouse`."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.wh = warehouse

    def ensure(self) -> None:
        self.wh.execute(DDL)

    def has_schema(self) -> bool:
        return self.wh.table_exists("_hub", "runs")

    def start_run(self, command: str) -> str:
        """Record a new run (closing first the runs of this host whose process died in them)."""
        self.close_interrupted()
        run_id = now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        self.wh.execute("INSERT INTO _hub.runs (run_id, command, started_at, status, pid, host) "
                        "VALUES (?, ?, ?, 'running', ?, ?)", [run_id, command, now(), os.getpid(), HOST])
        with _open_lock:
            _open_runs.setdefault(str(self.wh.path.resolve()), set()).add(run_id)
        log = self._log()
        if log is not None:   # the run log, which readers read without waiting (hub.warehouse.runlog)
            self._mirror(lambda: log.run(run_id, command, now(), os.getpid(), HOST))
            runlog.opened(log, run_id)
        # readers see the run in progress while this writer holds the warehouse (above the size limit: only when
        # there is no snapshot yet, or an old one)
        self.wh.publish_snapshot(run_start=True)
        return run_id

    def start_runs(self, commands: list[str]) -> list[str]:
        """:meth:`start_run` for several runs at once (a chunk of trigger firings): one statement for all of them,
        and the interrupted runs closed once."""
        if not commands:
            return []
        self.close_interrupted()
        started = now()
        ids = [started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8] for _ in commands]
        for part in range(0, len(ids), _BATCH):
            rows = [(run_id, command, started, os.getpid(), HOST)
                    for run_id, command in zip(ids[part:part + _BATCH], commands[part:part + _BATCH], strict=True)]
            self.wh.execute("INSERT INTO _hub.runs (run_id, command, started_at, status, pid, host) VALUES "
                            + ", ".join("(?, ?, ?, 'running', ?, ?)" for _ in rows), [v for r in rows for v in r])
        with _open_lock:
            _open_runs.setdefault(str(self.wh.path.resolve()), set()).update(ids)
        log = self._log()
        if log is not None:
            for run_id, command in zip(ids, commands, strict=True):
                self._mirror(lambda r=run_id, c=command: log.run(r, c, started, os.getpid(), HOST))
                runlog.opened(log, run_id)
        self.wh.publish_snapshot(run_start=True)
        return ids

    def finish_runs(self, outcomes: list[tuple[str, str, str | None]]) -> None:
        """:meth:`finish_run` for several runs at once: ``(run_id, status, error)`` each, one statement for all."""
        finished = now()
        rows = [(run_id, status, redact(error) if error else None) for run_id, status, error in outcomes]
        for part in range(0, len(rows), _BATCH):
            chunk = rows[part:part + _BATCH]
            self.wh.execute("UPDATE _hub.runs SET finished_at = ?, status = v.status, error = v.error FROM (VALUES "
                            + ", ".join("(?::VARCHAR, ?::VARCHAR, ?::VARCHAR)" for _ in chunk)
                            + ") AS v(run_id, status, error) WHERE _hub.runs.run_id = v.run_id",
                            [finished, *(v for r in chunk for v in r)])
        with _open_lock:
            _open_runs.get(str(self.wh.path.resolve()), set()).difference_update(r[0] for r in rows)
        log = self._log()
        for run_id, status, error in rows:
            if log is not None:
                self._mirror(lambda r=run_id, s=status, e=error: log.finish(r, s, e, finished))
            runlog.closed(run_id)

    def write_steps(self, steps: list[Step]) -> None:
        """:meth:`write_step` for several finished steps at once (one statement; no snapshot: the caller's)."""
        rows = []
        for step in steps:
            step.finished_at = step.finished_at or now()
            rows.append((step.run_id, step.step, step.target, step.started_at, step.finished_at, step.status,
                         step.rows_in, step.rows_out, step.detail, redact(step.error) if step.error else None))
        for part in range(0, len(rows), _BATCH):
            chunk = rows[part:part + _BATCH]
            self.wh.execute("INSERT INTO _hub.run_steps VALUES " + ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                                                                            for _ in chunk),
                            [v for r in chunk for v in r])
        log = self._log()
        if log is not None:
            for values in rows:
                self._mirror(lambda v=values: log.step(v))

    def _log(self) -> runlog.RunLog | None:
        """The run log of this warehouse, with the whole history in it (copied in on first use); None for a
        read-only handle, inside a transaction (which may yet roll back), or when it cannot be written."""
        if self.wh.read_only or not self.wh.run_log:
            return None
        log = runlog.writer_log(self.wh.path)
        if log is None:
            return None
        if self.wh._txn_depth:
            # what is written now may yet roll back: the log is marked incomplete instead, and the next write
            # outside the transaction copies the committed history in again
            self._mirror(log.forget)
            return None
        try:
            if not log.complete():
                self.wh.execute("SET enable_progress_bar = false")   # DuckDB would draw on the user's terminal
                log.backfill(self.wh.query(f"SELECT {_as_text(runlog.RUN_COLUMNS)} FROM _hub.runs").rows,
                             self.wh.query(f"SELECT {_as_text(runlog.STEP_COLUMNS)} FROM _hub.run_steps").rows)
        except sqlite3.Error:
            return None
        return log

    def _mirror(self, write: Callable[[], None]) -> None:
        """Write the run log after the warehouse's commit; a failure never fails the writer, it only makes the next
        writer copy the whole history in again."""
        try:
            write()
        except sqlite3.Error:
            log = runlog.writer_log(self.wh.path)
            try:
                if log is not None:
                    log.forget()
            except sqlite3.Error:
                pass

    def close_interrupted(self) -> None:
        """Mark ``interrupted`` the runs still ``running`` whose process on this host no longer exists."""
        rows = self.wh.query("SELECT run_id, pid, host FROM _hub.runs WHERE status = 'running'").records()
        log = self._log() if rows else None
        for row in rows:
            if interrupted(row):
                error = INTERRUPTED.format(pid=row["pid"])
                self.wh.execute("UPDATE _hub.runs SET status = 'interrupted', error = ? WHERE run_id = ?",
                                [error, row["run_id"]])
                if log is not None:
                    self._mirror(lambda: log.finish(row["run_id"], "interrupted", error, None))

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        finished, error = now(), redact(error) if error else None
        self.wh.execute("UPDATE _hub.runs SET finished_at = ?, status = ?, error = ? WHERE run_id = ?",
                        [finished, status, error, run_id])
        with _open_lock:
            _open_runs.get(str(self.wh.path.resolve()), set()).discard(run_id)
        log = self._log()
        if log is not None:
            self._mirror(lambda: log.finish(run_id, status, error, finished))
        runlog.closed(run_id)
        # The writer releases the warehouse next, and readers then open it live: no copy now (it would cost the
        # writer a whole-file copy for nobody). The last snapshot stays for the next writer's readers, who are told
        # its age; the run lines they see come from the run log, not from it.

    def fail_unfinished(self, cause: str) -> list[str]:
        """Record as failed, with ``cause`` (masked), the runs this process started here and never finished."""
        with _open_lock:
            ids = sorted(_open_runs.pop(str(self.wh.path.resolve()), set()))
        log = self._log() if ids else None
        for run_id in ids:
            finished = now()
            self.wh.execute("UPDATE _hub.runs SET finished_at = ?, status = 'failed', error = ? "
                            "WHERE run_id = ? AND status = 'running'", [finished, redact(cause), run_id])
            if log is not None:
                self._mirror(lambda: log.finish(run_id, "failed", redact(cause), finished, only_running=True))
            runlog.closed(run_id)
        return ids

    def write_step(self, step: Step, *, publish: bool = True) -> None:
        """Record a finished step; ``publish=False`` leaves the snapshot to the caller (one for several steps)."""
        step.finished_at = step.finished_at or now()
        values = (step.run_id, step.step, step.target, step.started_at, step.finished_at, step.status,
                  step.rows_in, step.rows_out, step.detail, redact(step.error) if step.error else None)
        self.wh.execute("INSERT INTO _hub.run_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", list(values))
        log = self._log()
        if log is not None:
            self._mirror(lambda: log.step(values))
        if publish:
            self.wh.publish_snapshot()  # the run's progress so far, for readers

    def cursor(self, connection: str, stream: str) -> str | None:
        return self.wh.query("SELECT cursor_value FROM _hub.cursors WHERE connection = ? AND stream = ?",
                             [connection, stream]).scalar()

    def loaded_keys(self, connection: str, stream: str) -> set[tuple[str, str]]:
        """The (key, cursor value) pairs of the records the last run loaded at its cursor (empty when unknown)."""
        text = self.wh.query("SELECT loaded_keys FROM _hub.cursors WHERE connection = ? AND stream = ?",
                             [connection, stream]).scalar()
        try:
            return {(str(key), str(value)) for key, value in orjson.loads(text)} if text else set()
        except (orjson.JSONDecodeError, TypeError, ValueError):
            return set()  # unreadable: the boundary records are merged once more, as before this was kept

    def set_cursor(self, connection: str, stream: str, value: str | None,
                   loaded_keys: list[tuple[str, str]] | None = None) -> None:
        """Where the stream's next read starts, and the records already loaded at that point (see the module doc)."""
        keys = orjson.dumps(loaded_keys).decode() if loaded_keys else None
        # ON CONFLICT, not DuckDB's INSERT OR REPLACE: one statement for both warehouse types
        self.wh.execute("INSERT INTO _hub.cursors (connection, stream, cursor_value, updated_at, loaded_keys) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (connection, stream) DO UPDATE SET "
                        "cursor_value = excluded.cursor_value, updated_at = excluded.updated_at, "
                        "loaded_keys = excluded.loaded_keys", [connection, stream, value, now(), keys])

    def clear_cursor(self, connection: str, stream: str) -> None:
        self.wh.execute("DELETE FROM _hub.cursors WHERE connection = ? AND stream = ?", [connection, stream])

    def last_steps(self, step: str) -> Result:
        """The latest outcome per target of one kind of step, with the latest success beside it."""
        return self.wh.query("""
            WITH ranked AS (
                SELECT *, row_number() OVER (PARTITION BY target ORDER BY started_at DESC) AS n
                FROM _hub.run_steps WHERE step = ?),
            ok AS (SELECT target, max(finished_at) AS last_success FROM _hub.run_steps
                   WHERE step = ? AND status = 'success' GROUP BY target)
            SELECT r.target, r.status, r.rows_in, r.started_at, r.finished_at, ok.last_success, r.error, r.detail
            FROM ranked r LEFT JOIN ok USING (target) WHERE n = 1 ORDER BY r.target""", [step, step])

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        return self.wh.query("SELECT * FROM _hub.runs ORDER BY started_at DESC LIMIT ?", [limit]).records()
