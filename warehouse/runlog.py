"""The run log: hub's run bookkeeping mirrored into a small SQLite file, so readers never wait for a writer.

DuckDB lets one process write a file and refuses every other open meanwhile, and hub's writers hold the warehouse for
a whole command. So every writer also records its runs, their steps and its live progress (the step it is on, rows so
far) in ``.hub/<warehouse stem>.runs.sqlite`` beside the warehouse: SQLite in WAL mode, where readers never block a
writer nor wait for one. `hub runs`, the run lines of `hub status` and the docs pages' live panel read it without
touching DuckDB (nor importing it).

``_hub.runs`` and ``_hub.run_steps`` in the warehouse stay the record; the log is written right after each of their
commits, and a writer that finds no log (a project older than it, or the file deleted) first copies the whole history
into it, so the log always holds every run. A crash between the two commits leaves the log one step behind until the
next run; a run left ``running`` by a dead process is shown ``interrupted`` either way (same pid check).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, command TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL,
    error TEXT, pid INTEGER, host TEXT);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at);
CREATE TABLE IF NOT EXISTS run_steps (
    run_id TEXT NOT NULL, step TEXT NOT NULL, target TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
    status TEXT NOT NULL, rows_in INTEGER, rows_out INTEGER, detail TEXT, error TEXT);
CREATE INDEX IF NOT EXISTS run_steps_by_run ON run_steps (run_id);
CREATE TABLE IF NOT EXISTS progress (
    run_id TEXT PRIMARY KEY, step TEXT NOT NULL, target TEXT NOT NULL, done INTEGER, total INTEGER,
    updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""
RUN_COLUMNS = ("run_id", "command", "started_at", "finished_at", "status", "error", "pid", "host")
STEP_COLUMNS = ("run_id", "step", "target", "started_at", "finished_at", "status", "rows_in", "rows_out", "detail",
                "error")
_TIMES = {"started_at", "finished_at", "updated_at", "last_success"}


HOST = socket.gethostname()
INTERRUPTED = "the process running it (pid {pid}) ended before it finished: killed, or the machine stopped"


def interrupted(run: dict[str, Any]) -> bool:
    """Whether a run recorded as ``running`` was abandoned: its process, on this host, is gone.

    Runs of other hosts, and of old warehouses that did not record the process, are left as they are.
    """
    if run.get("status", "running") != "running" or run.get("host") != HOST or not run.get("pid"):
        return False
    try:
        os.kill(run["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def log_path(warehouse: Path) -> Path:
    """Where the run log of ``warehouse`` lives: ``.hub/<stem>.runs.sqlite`` in its folder."""
    warehouse = Path(warehouse)
    return warehouse.parent / ".hub" / f"{warehouse.stem}.runs.sqlite"


class RunLog:
    """The writer's side: one connection per warehouse per process, shared by its threads under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))   # errors may name records: owner only
        self._con = sqlite3.connect(path, timeout=5, check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.executescript(SCHEMA)
        self._lock = threading.Lock()

    def complete(self) -> bool:
        """Whether the log holds the warehouse's whole history (copied in once by :meth:`backfill`)."""
        return self._con.execute("SELECT 1 FROM meta WHERE key = 'complete'").fetchone() is not None

    def backfill(self, runs: list[tuple[Any, ...]], steps: list[tuple[Any, ...]]) -> None:
        """Copy the warehouse's history in, once: rows in :data:`RUN_COLUMNS` / :data:`STEP_COLUMNS` order, their
        timestamps already text as :func:`_text` makes them."""
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                self._con.execute("DELETE FROM runs")
                self._con.execute("DELETE FROM run_steps")
                self._con.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", runs)
                self._con.executemany("INSERT INTO run_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", steps)
                self._con.execute("INSERT OR REPLACE INTO meta VALUES ('complete', ?)", [_text(time.time())])
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise

    def forget(self) -> None:
        """The log missed a write: the next writer copies the whole history in again."""
        with self._lock:
            self._con.execute("DELETE FROM meta WHERE key = 'complete'")

    def run(self, run_id: str, command: str, started_at: datetime, pid: int, host: str) -> None:
        self._write("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, NULL, 'running', NULL, ?, ?)",
                    [run_id, command, _text(started_at), pid, host])

    def finish(self, run_id: str, status: str, error: str | None, finished_at: datetime | None,
               only_running: bool = False) -> None:
        """A run ended (or was found interrupted: ``finished_at`` None keeps it unset)."""
        where = " AND status = 'running'" if only_running else ""
        self._write(f"UPDATE runs SET finished_at = coalesce(?, finished_at), status = ?, error = ? "
                    f"WHERE run_id = ?{where}", [_text(finished_at), status, error, run_id],
                    "DELETE FROM progress WHERE run_id = ?", [run_id])

    def step(self, values: tuple[Any, ...]) -> None:
        """A step was written (``values`` in :data:`STEP_COLUMNS` order); the live progress moves past it."""
        self._write("INSERT INTO run_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _row(values),
                    "DELETE FROM progress WHERE run_id = ? AND step = ? AND target = ?",
                    [values[0], values[1], values[2]])

    def tick(self, run_id: str, step: str, target: str, done: int | None, total: int | None,
             at: datetime) -> None:
        """Live progress: run ``run_id`` is at ``step`` of ``target``, ``done`` rows (of ``total``) so far."""
        self._write("INSERT OR REPLACE INTO progress VALUES (?, ?, ?, ?, ?, ?)",
                    [run_id, step, target, done, total, _text(at)])

    def _write(self, sql: str, params: list[Any], *more: Any) -> None:
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                self._con.execute(sql, params)
                for i in range(0, len(more), 2):
                    self._con.execute(more[i], more[i + 1])
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._con.close()


_logs: dict[str, RunLog] = {}
_logs_lock = threading.Lock()
#: the runs this process has open, innermost last: (log, run_id); live progress goes to the innermost one
_active: list[tuple[RunLog, str]] = []


def writer_log(warehouse: Path) -> RunLog | None:
    """This process's log of ``warehouse`` (opened on first use); None when it cannot be written (best effort)."""
    key = str(Path(warehouse).resolve())
    with _logs_lock:
        found = _logs.get(key)
        if found is None:
            try:
                found = _logs[key] = RunLog(log_path(Path(warehouse)))
            except (OSError, sqlite3.Error):
                return None
        return found


def opened(log: RunLog, run_id: str) -> None:
    with _logs_lock:
        _active.append((log, run_id))


def closed(run_id: str) -> None:
    with _logs_lock:
        _active[:] = [a for a in _active if a[1] != run_id]


def progress(step: str, target: str, done: int | None, total: int | None = None) -> None:
    """Report live progress of the run in progress in this process (nothing when there is none). Never fails."""
    with _logs_lock:
        current = _active[-1] if _active else None
    if current is None:
        return
    try:
        current[0].tick(current[1], step, target, done, total, datetime.now(UTC))
    except sqlite3.Error:
        pass   # progress is a courtesy to readers; it never fails the writer


# --- readers ------------------------------------------------------------------------------------------------------


def reader(warehouse: Path) -> sqlite3.Connection | None:
    """A read connection to the log, or None when there is none or it does not hold the whole history yet."""
    path = log_path(Path(warehouse))
    if not path.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1, check_same_thread=False)
        con.row_factory = sqlite3.Row
        if con.execute("SELECT 1 FROM meta WHERE key = 'complete'").fetchone() is None:
            con.close()
            return None
    except sqlite3.Error:
        return None
    return con


def records(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Rows as dicts, timestamps as aware datetimes (as the warehouse gives them)."""
    out = []
    for row in cursor.fetchall():
        item = dict(row)
        for key in _TIMES.intersection(item):
            if item[key] is not None:
                item[key] = datetime.fromisoformat(item[key])
        out.append(item)
    return out


def runs(con: sqlite3.Connection, limit: int) -> list[dict[str, Any]]:
    """The latest ``limit`` runs, newest first, each with its steps (in the warehouse's order) and live progress."""
    found = records(con.execute("SELECT * FROM runs ORDER BY started_at DESC LIMIT ?", [limit]))
    if not found:
        return []
    picked = "SELECT run_id FROM runs ORDER BY started_at DESC LIMIT ?"   # a subquery: any limit, no bound list
    steps: dict[str, list[dict[str, Any]]] = {}
    for s in records(con.execute(f"SELECT run_id, step, target, started_at, finished_at, status, rows_in, rows_out, "
                                 f"detail, error FROM run_steps WHERE run_id IN ({picked}) "
                                 f"ORDER BY started_at, target", [limit])):
        steps.setdefault(s.pop("run_id"), []).append(s)
    live = {p.pop("run_id"): p for p in records(con.execute(
        "SELECT run_id, step, target, done, total, updated_at FROM progress"))}
    for run in found:
        run["steps"] = steps.get(run["run_id"], [])
        run["progress"] = live.get(run["run_id"]) if run["status"] == "running" else None
    return found


def running(con: sqlite3.Connection) -> list[dict[str, Any]]:
    """Runs recorded as running, oldest first, with steps done so far and live progress (pid check left to caller)."""
    found = records(con.execute("SELECT r.*, (SELECT count(*) FROM run_steps s WHERE s.run_id = r.run_id) "
                                "AS steps_done FROM runs r WHERE status = 'running' ORDER BY started_at"))
    live = {p.pop("run_id"): p for p in records(con.execute(
        "SELECT run_id, step, target, done, total, updated_at FROM progress"))}
    for run in found:
        run["progress"] = live.get(run["run_id"])
    return found


def last_steps(con: sqlite3.Connection, step: str) -> list[dict[str, Any]]:
    """Per target of one kind of step: the latest outcome and the latest success (as ``Bookkeeping.last_steps``)."""
    return records(con.execute("""
        WITH ranked AS (SELECT *, row_number() OVER (PARTITION BY target ORDER BY started_at DESC) AS n
                        FROM run_steps WHERE step = ?),
             ok AS (SELECT target, max(finished_at) AS last_success FROM run_steps
                    WHERE step = ? AND status = 'success' GROUP BY target)
        SELECT r.target, r.status, r.rows_in, r.started_at, r.finished_at, ok.last_success,
               r.error, r.detail
        FROM ranked r LEFT JOIN ok USING (target) WHERE n = 1 ORDER BY r.target""", [step, step]))


def latest_failures(con: sqlite3.Connection) -> list[dict[str, Any]]:
    """Per command, its latest finished run when that failed (as ``hub.history.latest_failures``)."""
    return records(con.execute("""
        SELECT run_id, command, started_at, finished_at, status, error FROM (
            SELECT *, row_number() OVER (PARTITION BY command ORDER BY started_at DESC) AS n FROM runs
            WHERE status <> 'running')
        WHERE n = 1 AND status IN ('failed', 'interrupted') ORDER BY started_at DESC"""))


def describe(item: dict[str, Any] | None) -> str:
    """Live progress as a short phrase: ``push person_to_crm: 1,200 of 5,000 rows``."""
    if not item:
        return ""
    done, total = item.get("done"), item.get("total")
    rows = "" if done is None else f": {done:,} of {total:,} rows" if total else f": {done:,} rows so far"
    return f"{item['step']} {item['target']}{rows}"


def _text(value: Any) -> Any:
    if isinstance(value, datetime):   # UTC, to the microsecond: the text sorts as the time does
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat(timespec="microseconds")
    if isinstance(value, float):
        return repr(value)
    return value


def _row(values: tuple[Any, ...] | list[Any]) -> list[Any]:
    return [_text(v) for v in values]
