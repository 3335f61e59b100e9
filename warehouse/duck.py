"""The DuckDB warehouse file: opening it (write or read-only), running SQL, and explaining lock conflicts.

DuckDB allows one writing process per file. A :class:`Warehouse` opens its connection lazily and holds it until closed;
the same connection is handed to dlt for loading, so one hub process never opens the file twice.

Reads never wait for writes: after each bookkeeping commit a writer publishes a read-only snapshot of the file
(:func:`publish_snapshot`), which a read-only handle opens when a writer holds the warehouse (see ``SNAPSHOT_DOC``).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from hub.errors import QueryError, QueryRefusedError, WarehouseError, WarehouseLockedError, WarehouseRowError
from hub.secrets import redact
from hub.warehouse.lock import WarehouseLock, held_for_writing, lock_path, read_holder


#: DuckDB settings of a connection that runs a user's SQL (`hub query`): no file or network access (COPY TO,
#: read_text, ATTACH, INSTALL), no extension downloads or loads, and no SET to undo any of it.
#: Names from https://duckdb.org/docs/stable/configuration/overview (checked against duckdb_settings() of 2.0.0).
UNTRUSTED_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}
#: Statement types a user's query may be: reads only (DESCRIBE, SHOW, SUMMARIZE, VALUES and FROM-first parse as SELECT).
READ_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})
#: DuckDB's refusals of the data itself (a conversion, a constraint): :class:`WarehouseRowError`
ROW_ERRORS = (duckdb.ConversionException, duckdb.ConstraintException, duckdb.InvalidInputException,
              duckdb.TypeMismatchException, duckdb.OutOfRangeException)


@dataclass(frozen=True)
class Result:
    """Columns and rows of a query."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None


class Warehouse:
    """One project's DuckDB file."""

    dialect = "duckdb"
    #: a reader cannot open the file while another handle writes it (in ``hub serve``: reads go through the owner)
    readers_wait = True
    #: writes mirror runs into the SQLite run log beside the file, which readers read while a writer holds it
    run_log = True

    def __init__(self, path: Path, *, read_only: bool = False, untrusted: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only or untrusted
        #: opened with :data:`UNTRUSTED_CONFIG`, for SQL a user typed
        self.untrusted = untrusted
        self._config = dict(UNTRUSTED_CONFIG) if untrusted else {}
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock: WarehouseLock | None = None
        #: set when this read-only handle answers from the snapshot: the lock error the live file gave, and the note
        self._snapshot_error: WarehouseLockedError | None = None
        self.snapshot_note: str | None = None
        #: open explicit transactions: a CHECKPOINT inside one fails and aborts it, so no snapshot is published then
        self._txn_depth = 0

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def connect(self) -> duckdb.DuckDBPyConnection:
        """The open connection (opened on first use). The only ``duckdb.connect`` in hub.

        Opening takes the warehouse's lock file first (exclusive to write, shared to read; see :mod:`hub.warehouse.lock`),
        so a second hub process queues behind a writer, or says who holds it, instead of meeting DuckDB's lock error.
        """
        if self._con is None:
            if self.read_only and not self.exists and not lock_path(self.path).exists():
                # Nothing ingested yet: an empty in-memory database answers queries like `SELECT 1` all the same.
                self._con = duckdb.connect(":memory:", config=self._config)
                return self._con
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = WarehouseLock(self.path, write=not self.read_only)
            try:
                lock.acquire()
            except WarehouseLockedError as exc:
                # A writer holds the file: a reader answers at once from the writer's latest snapshot, if any.
                if not self.read_only:
                    raise
                if not self._open_snapshot(exc):
                    raise _no_snapshot(self.path, exc, waited=lock.wait > 0) from None
                return self._con  # type: ignore[return-value]
            try:
                self._con = self._open(lock.wait)
            except BaseException:
                lock.release()
                raise
            self._lock = lock
        return self._con

    def _open(self, wait: float) -> duckdb.DuckDBPyConnection:
        if self.read_only and not self.exists:
            return duckdb.connect(":memory:", config=self._config)  # a writer came and went without creating the file
        deadline = time.monotonic() + wait
        # DuckDB opens a file once per process (its instance cache) and refuses a second open with other settings: a
        # reading handle of a process that writes the file itself (see kept_open) reads through a writing connection
        read_only = self.read_only and not (not self.untrusted and held_for_writing(self.path))
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only, config=self._config)
            except duckdb.IOException as exc:
                # Holding hub's lock, DuckDB's own can still be held for a moment by a previous holder that is
                # exiting, or by a process that is not hub (the duckdb shell): wait for it within the same budget.
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise _open_error(self.path, exc) from None
                time.sleep(0.05)
            except duckdb.Error as exc:
                raise WarehouseError(f"cannot open warehouse {self.path}: {exc}",
                                     hint="check [warehouse] path in hub.toml") from None

    def _open_snapshot(self, locked: WarehouseLockedError) -> bool:
        snap = snapshot_path(self.path)
        if not snap.exists():
            return False
        try:
            taken = datetime.fromtimestamp(snap.stat().st_mtime, UTC)
            self._con = duckdb.connect(str(snap), read_only=True, config=self._config)
        except (OSError, duckdb.Error):
            return False  # removed or torn under us: fail as before, naming the writer
        self._snapshot_error = locked
        holder = read_holder(lock_path(self.path)).describe()
        self.snapshot_note = (f"warehouse {self.path.name} as of {taken:%Y-%m-%d %H:%M:%S} UTC, "
                              f"{_age(datetime.now(UTC) - taken)} old (a writer is running: {holder})")
        return True

    def publish_snapshot(self, *, run_start: bool = False) -> bool:
        """After a commit of a writing handle: publish the snapshot readers open meanwhile (best effort).
        ``run_start``: a run just started, when even a warehouse above the size limit refreshes a missing or stale
        snapshot (see ``SNAPSHOT_DOC``)."""
        if self._con is None or self.read_only or self._txn_depth or not self.path.exists():
            return False
        return publish_snapshot(self._con, self.path, run_start=run_start)

    def retire_snapshot(self) -> None:
        """Remove the published snapshot (a run ended; the warehouse is about to be readable live)."""
        if not self.read_only:
            snapshot_path(self.path).unlink(missing_ok=True)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        note = self.snapshot_note
        self.close()
        if note and exc_type is None and note not in _noted:
            _noted.add(note)  # status opens the warehouse more than once: say it once
            print(note, file=sys.stderr, flush=True)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run a statement of hub's own (bookkeeping, models); a failure is a :class:`WarehouseError`."""
        try:
            self.connect().execute(sql, params)
        except ROW_ERRORS as exc:
            raise WarehouseRowError(f"warehouse statement failed: {exc}") from None
        except duckdb.Error as exc:
            raise WarehouseError(f"warehouse statement failed: {exc}") from None

    def query(self, sql: str, params: Sequence[Any] | None = None) -> Result:
        """Run a query and fetch everything; a failure is a :class:`QueryError` carrying DuckDB's message."""
        try:
            cursor = self.connect().execute(sql, params)
            columns = [d[0] for d in cursor.description] if cursor.description else []
            rows = cursor.fetchall() if cursor.description else []
        except duckdb.Error as exc:
            if self._snapshot_error is not None and isinstance(exc, duckdb.CatalogException):
                raise self._snapshot_error from None  # not in the snapshot yet: the writer may be creating it
            raise QueryError(redact(_one_line(str(exc))), hint="check the SQL; `hub query \"SHOW ALL TABLES\"` "
                                                              "lists what exists") from None
        return Result(columns, rows)

    def read(self, sql: str) -> Result:
        """Run one read-only statement a user wrote (`hub query`); anything else is refused before it runs."""
        if not self.untrusted:
            raise WarehouseError("a user's SQL runs only on a warehouse opened with untrusted=True")
        check_read(sql)
        return self.query(sql)

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: commits when the block ends normally, rolls back on any exception."""
        con = self.connect()
        con.execute("BEGIN TRANSACTION")
        self._txn_depth += 1
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            self._txn_depth -= 1
        con.execute("COMMIT")

    @contextmanager
    def discarded(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Everything in the block is rolled back, however it ends: a dry run may build its scratch state (caches,
        bookkeeping tables) like a real run, and the file is left byte for byte as it was."""
        con = self.connect()
        con.execute("BEGIN TRANSACTION")
        self._txn_depth += 1
        try:
            yield con
        finally:
            self._txn_depth -= 1
            con.execute("ROLLBACK")

    def kept_open(self) -> AbstractContextManager[None]:
        """This warehouse kept open for writing across the handles the block opens (see :func:`kept_open`)."""
        return kept_open(self.path)

    def table_exists(self, schema: str, table: str) -> bool:
        return bool(self.query("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND "
                               "table_name = ?", [schema, table]).scalar())

    def schemas(self) -> list[str]:
        return [r[0] for r in self.query("SELECT DISTINCT schema_name FROM information_schema.schemata "
                                         "ORDER BY 1").rows]

    @staticmethod
    def type_name(data_type: str) -> str:
        """An ``information_schema`` column type as hub compares them (DuckDB's own names: unchanged)."""
        return data_type


SNAPSHOT_DOC = """
A read-only copy of the warehouse that `hub query` opens while a writer holds it. DuckDB refuses every other process's
open while one process writes a file, and hub's writers hold it for a whole command. So after each bookkeeping commit
(a run started, a step written) a writer checkpoints and copies the file to
``.hub/<warehouse stem>.snapshot.duckdb`` beside it (a ``.tmp`` copy, then an atomic rename; mode 0600). A reader
that finds the warehouse held by a writer opens the snapshot instead and says ``as of <time>, <age> (a writer is
running: <command>)``. Above :func:`snapshot_max_bytes` no copy is made per step (it would cost the writer too much):
a run copies the file once as it starts, and only when there is no snapshot or the one there is older than
:func:`snapshot_max_age` (an hour by default), so readers always find one, and say its age. Only a snapshot removed
by hand in the middle of a run leaves none: readers then fail at once naming the writer and what it is doing. Runs, steps and live progress never need the snapshot: they are read from the run
log (:mod:`hub.warehouse.runlog`). Publishing is best effort: it never fails the writer.
"""
#: Warehouses larger than this publish no snapshot. Measured here (2 shared cores, busy): the copy runs ~175 MB/s, so a
#: typical 3 MB warehouse costs ~15 ms per commit step (plus a CHECKPOINT, mostly ~1 ms once the WAL is flushed),
#: 53 MB ~0.3 s; 64 MB caps it near 0.4 s per step on slow disks and far less on an SSD.
SNAPSHOT_MAX_BYTES = 64 * 1024 * 1024
#: overrides :data:`SNAPSHOT_MAX_BYTES` (bytes), for tests and for a disk fast enough to afford more
SNAPSHOT_MAX_ENV = "HUB_SNAPSHOT_MAX_BYTES"
#: Above the size limit, a run refreshes a snapshot older than this (seconds) as it starts
SNAPSHOT_MAX_AGE_S = 3600
#: overrides :data:`SNAPSHOT_MAX_AGE_S` (seconds)
SNAPSHOT_AGE_ENV = "HUB_SNAPSHOT_MAX_AGE"
_noted: set[str] = set()


@contextmanager
def kept_open(warehouse: Path) -> Iterator[None]:
    """Keep the warehouse open for writing across the handles this process opens meanwhile (one piece of work made of
    several steps, each opening and closing its own handle: ``hub serve``'s chunk of trigger runs).

    DuckDB caches an open database per process: while this handle holds the file, another handle's open is a new
    connection to the same database (milliseconds) instead of reading the file again, and its close does not
    checkpoint and close the file. The write lock is held throughout (other processes wait until the end, as for any
    writer). If the warehouse cannot be had (another process holds it past the wait), the steps open it as usual and
    meet the same wait themselves."""
    anchor = Warehouse(warehouse)
    try:
        anchor.connect()
    except (WarehouseError, WarehouseLockedError):
        anchor.close()
        yield
        return
    try:
        yield
    finally:
        anchor.close()


def snapshot_path(warehouse: Path) -> Path:
    """Where the snapshot of ``warehouse`` lives: ``.hub/<stem>.snapshot.duckdb`` in its folder."""
    warehouse = Path(warehouse)
    return warehouse.parent / ".hub" / f"{warehouse.stem}.snapshot.duckdb"


def snapshot_max_bytes() -> int:
    """The largest warehouse a writer copies for readers (:data:`SNAPSHOT_MAX_ENV` or :data:`SNAPSHOT_MAX_BYTES`)."""
    text = os.environ.get(SNAPSHOT_MAX_ENV, "").strip()
    return int(text) if text.isdigit() else SNAPSHOT_MAX_BYTES


def snapshot_max_age() -> float:
    """How old a snapshot of a warehouse above the size limit may get before a run's start refreshes it (seconds)."""
    text = os.environ.get(SNAPSHOT_AGE_ENV, "").strip()
    return float(text) if text.isdigit() else SNAPSHOT_MAX_AGE_S


def publish_snapshot(con: duckdb.DuckDBPyConnection, warehouse: Path, *, run_start: bool = False) -> bool:
    """Checkpoint ``con`` (the writer's connection) and publish a copy of its file; whether one was published.

    Above the size limit only a run's start publishes, and only to replace a missing or stale snapshot."""
    warehouse = Path(warehouse)
    target = snapshot_path(warehouse)
    try:
        if warehouse.stat().st_size > snapshot_max_bytes() and not (run_start and _stale(target)):
            return False   # too costly per step: readers keep the last snapshot, told how old it is
        con.execute("CHECKPOINT")           # everything committed is now in the main file, the WAL is empty
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out, warehouse.open("rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)             # readers see the old copy or the new one, never half of one
        return True
    except (OSError, duckdb.Error):
        return False  # inside a transaction with local changes, a full disk...: readers keep the previous snapshot


def _stale(snapshot: Path) -> bool:
    try:
        return time.time() - snapshot.stat().st_mtime > snapshot_max_age()
    except FileNotFoundError:
        return True


def check_read(sql: str) -> None:
    """Refuse ``sql`` unless it is exactly one read statement (SELECT, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE,
    EXPLAIN); PRAGMA, SET, COPY, ATTACH, INSTALL/LOAD, CALL and every write are refused."""
    hint = "hub query runs one read-only statement, e.g. `hub query \"SELECT * FROM canonical.person LIMIT 5\"`"
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(redact(_one_line(str(exc))), hint="check the SQL") from None
    if len(statements) != 1:
        raise QueryRefusedError(f"hub query takes exactly one statement, got {len(statements)}", hint=hint)
    kind = statements[0].type.name
    if kind not in READ_STATEMENTS:
        raise QueryRefusedError(f"hub query is read-only: a {kind} statement is not allowed", hint=hint)


def _age(delta: Any) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h" if seconds < 172800 else f"{seconds // 86400} days"


def _no_snapshot(path: Path, exc: WarehouseLockedError, *, waited: bool) -> WarehouseLockedError:
    """The lock error of a reader that found no snapshot, saying what the writer is doing (from the run log)."""
    if lock_path(path).exists() and read_holder(lock_path(path)).pid is None:
        return exc   # not a writer (a reader taking the lock, or a process that is not hub)
    from hub.warehouse import runlog

    doing = ""
    con = runlog.reader(path)
    if con is not None:
        try:
            live = [r for r in runlog.running(con) if r["progress"]]
            doing = f", at {runlog.describe(live[-1]['progress'])}" if live else ""
        except sqlite3.Error:
            doing = ""   # the lock error is the answer; what the writer is doing is a courtesy
        finally:
            con.close()
    limit = snapshot_max_bytes()
    size = f"{limit / 1048576:.3g} MB" if limit >= 1048576 else f"{limit:,} bytes"
    return WarehouseLockedError(f"{exc.message}{doing}; no snapshot for readers yet (a writer copies the warehouse "
                                f"for readers only up to {size}, {SNAPSHOT_MAX_ENV})",
                                hint=exc.hint if waited else "pass --wait SECONDS to queue behind it; `hub status` "
                                                             "and `hub runs` answer now")


def _open_error(path: Path, exc: duckdb.IOException) -> WarehouseError:
    text = str(exc)
    if "lock" in text.lower():
        pid = re.search(r"PID (\d+)", text)
        holder = f" (process {pid.group(1)})" if pid else ""
        return WarehouseLockedError(f"warehouse {path.name} is locked by another process{holder}, most likely a "
                                    f"running hub command", hint="wait for it to finish and run this again")
    return WarehouseError(f"cannot open warehouse {path}: {_one_line(text)}", hint="check [warehouse] path in hub.toml")


def _one_line(text: str) -> str:
    return " ".join(text.split())
