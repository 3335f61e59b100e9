"""A PostgreSQL database as the warehouse (``[warehouse] type = "postgres"``), behind the DuckDB warehouse's interface.

The interface the rest of hub uses (read from its callers: ``hub/ingest.py``, ``warehouse/bookkeeping.py``,
``warehouse/schema_changes.py``, ``warehouse/loader.py``, ``hub/status.py``, ``hub/history.py``), which
:class:`PostgresWarehouse` offers as :class:`hub.warehouse.duck.Warehouse` does:

- a handle, opened lazily and closed by ``close()`` / a ``with`` block; ``read_only``, ``untrusted``, ``path`` (here a
  local anchor, ``.hub/postgres``, that keys this process's bookkeeping; nothing is written there), ``exists``,
  ``snapshot_note`` (always None: readers never wait on PostgreSQL, so there is no snapshot);
- ``execute(sql, params)`` for hub's own statements (a failure is a ``WarehouseError``) and ``query(sql, params)`` ->
  :class:`Result` (a failure is a ``QueryError``). hub's statements are written once with ``?`` placeholders and types
  both engines know (VARCHAR, BIGINT, TIMESTAMPTZ, ``INSERT ... ON CONFLICT``); :func:`placeholders` turns ``?`` into
  psycopg's ``%s``. Both take hub's DuckDB SQL and run it through :func:`hub.warehouse.translate.translate`
  (``arg_max``, ``_hub.*`` functions, ``CREATE OR REPLACE``, ``INSERT OR REPLACE``, ``BY NAME``, ``DESCRIBE``); the
  commands whose SQL still does not run here refuse a postgres warehouse up front (:data:`NOT_YET`);
- ``read(sql)``: one statement a user typed (`hub query`), in a READ ONLY transaction that is always rolled back;
- ``transaction()`` (all or nothing) and ``discarded()`` (always rolled back: dry runs);
- ``table_exists(schema, table)``, ``schemas()``, ``type_name(data_type)`` (PostgreSQL's
  ``information_schema`` type names as DuckDB spells them, so the schema-change guard compares like with like);
- ``publish_snapshot()`` / ``retire_snapshot()``: nothing to do; ``run_log`` False: runs are read from ``_hub``
  directly (the SQLite run log exists only because DuckDB lets no reader in while a writer holds the file);
- ``dlt_destination(layout)``: dlt's postgres destination for this database (the loader's one difference).

Connections: psycopg 3, autocommit (each bookkeeping statement commits alone unless inside ``transaction()``); dlt
loads over its own psycopg2 connection and commits its load before hub writes the cursors, exactly the order the
DuckDB path keeps. The password joins the DSN only inside :func:`hub.warehouse.dsn.with_password`; it is registered
as a secret, so every message passes :func:`hub.secrets.redact`.

Writers: many at once, from any number of processes and machines. A handle takes no lock of its own; each command
takes advisory locks on the resources it writes (its streams, models, syncs: :mod:`hub.warehouse.pglocks`), so work
on different resources runs in parallel and the same resource is never written twice at once. hub's own
``CREATE ... IF NOT EXISTS`` batches run only when something is missing, and then under a DDL lock
(:func:`hub.warehouse.pglocks.ensure_plan`). Readers never take a lock. :class:`WriterLock` (the whole warehouse,
one writer at a time) remains for an operation that must exclude every other writer.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import QueryError, QueryRefusedError, WarehouseError, WarehouseLockedError, WarehouseRowError
from hub.secrets import redact
from hub.warehouse.duck import Result
from hub.warehouse.dsn import redacted, with_password
from hub.warehouse.lock import _command, wait_for
from hub.warehouse import pgrun
from hub.warehouse.translate import Statement, translate

if TYPE_CHECKING:
    import psycopg

    from hub.config import WarehouseConfig

#: commands whose SQL still speaks DuckDB only: they refuse a postgres warehouse with one line instead of failing
#: half-way
NOT_YET: tuple[str, ...] = ()   # every command runs on postgres now
#: the advisory lock of the warehouse's single writer: (classid, objid) = ("hub" as an int, 1)
WRITER_LOCK_KEY = (0x687562, 1)
#: PostgreSQL's ``information_schema.columns.data_type`` -> DuckDB's name for it (the types raw tables hold)
DUCK_TYPE_NAMES = {"character varying": "VARCHAR", "text": "VARCHAR", "bigint": "BIGINT", "integer": "INTEGER",
                   "smallint": "SMALLINT", "double precision": "DOUBLE", "real": "FLOAT", "boolean": "BOOLEAN",
                   "timestamp with time zone": "TIMESTAMP WITH TIME ZONE", "timestamp without time zone": "TIMESTAMP",
                   "date": "DATE", "numeric": "DECIMAL", "jsonb": "JSON", "json": "JSON", "bytea": "BLOB",
                   "time without time zone": "TIME"}
#: ``?`` placeholders as psycopg's ``%s`` (hub.warehouse.arrow and the tests take it from here)
placeholders = pgrun.placeholders
#: first keywords of a statement `hub query` runs (the READ ONLY transaction refuses writes hidden in them)
READ_KEYWORDS = frozenset({"select", "with", "values", "table", "explain", "show"})
_HINT = "check [warehouse] dsn in hub.toml and the password (HUB__WAREHOUSE__PASSWORD or secrets.toml [warehouse])"


def not_yet(command: str) -> WarehouseError:
    """The one line a command that cannot run on PostgreSQL yet fails with."""
    return WarehouseError(f"hub {command} does not run on a postgres warehouse yet",
                          hint=f"hub {', '.join(NOT_YET)} run on a duckdb warehouse for now; the other commands "
                               "run on postgres")


class PostgresWarehouse:
    """One project's PostgreSQL database (see the module doc for the interface)."""

    dialect = "postgres"
    readers_wait = False   # readers read the database beside any writer: nobody has to read for them
    run_log = False

    def __init__(self, config: WarehouseConfig, anchor: Path, *, read_only: bool = False,
                 untrusted: bool = False) -> None:
        self.config = config
        self.path = Path(anchor)
        self.read_only = read_only or untrusted
        self.untrusted = untrusted
        self.snapshot_note: str | None = None
        self._con: psycopg.Connection[Any] | None = None
        self._lock: WriterLock | None = None
        self._txn_depth = 0

    @property
    def exists(self) -> bool:
        return True   # a server: there is no file to be missing

    @property
    def label(self) -> str:
        return redacted(self.config.dsn or "")

    def connect(self) -> psycopg.Connection[Any]:
        """The open connection (opened on first use); a writing handle first takes the writer lock."""
        if self._con is None:
            from hub.warehouse.pglocks import application_name

            # no writer lock: each command locks the resources it writes (hub.warehouse.pglocks)
            self._con = _connect(self.config, autocommit=True, application_name=application_name())
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> PostgresWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run a statement of hub's own (DuckDB SQL, translated: :mod:`hub.warehouse.translate`); a failure is a
        :class:`WarehouseError`."""
        if params is None and self._ensured(sql):   # hD: CREATE ... IF NOT EXISTS, safe beside other writers
            return
        import psycopg

        try:
            statements = self._statements(sql)
            for statement in statements:
                pgrun.run(self.connect(), statement, params if len(statements) == 1 else None)
        except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:   # the data, not the statement
            raise WarehouseRowError(f"warehouse statement failed: {_primary(exc)}") from None
        except psycopg.Error as exc:
            raise WarehouseError(f"warehouse statement failed: {_primary(exc)}") from None

    def _ensured(self, sql: str) -> bool:
        """Whether ``sql`` was a batch of hub's ``CREATE ... IF NOT EXISTS``, now done (:func:`pglocks.ensured`)."""
        from hub.warehouse.pglocks import ensured

        return not getattr(self, "_ensuring", False) and ensured(self, sql)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> Result:
        """Run a query (DuckDB SQL, translated) and fetch everything; a failure is a :class:`QueryError` carrying
        PostgreSQL's message."""
        import psycopg

        try:
            statements = self._statements(sql)
            values = params if len(statements) == 1 else None
            for statement in statements[:-1]:
                pgrun.run(self.connect(), statement, values)
            last = statements[-1] if statements else Statement("", "skip")
            if last.kind == "describe":
                return Result(*pgrun.describe(self.connect(), last, values))
            cursor = pgrun.run(self.connect(), last, values)
            columns = [d.name for d in cursor.description] if cursor is not None and cursor.description else []
            rows = cursor.fetchall() if columns else []
        except psycopg.Error as exc:
            raise QueryError(_primary(exc), hint="check the SQL; `hub query \"SELECT table_schema, table_name FROM "
                                                 "information_schema.tables\"` lists what exists") from None
        return Result(columns, [tuple(r) for r in rows])

    def _statements(self, sql: str) -> list[Statement]:
        return [s for s in translate(sql, self.dialect) if s.kind != "skip"]

    def read(self, sql: str) -> Result:
        """Run one read-only statement a user wrote (`hub query`), in a READ ONLY transaction rolled back after."""
        import psycopg

        if not self.untrusted:
            raise WarehouseError("a user's SQL runs only on a warehouse opened with untrusted=True")
        check_read(sql)
        con = self.connect()
        try:
            with con.transaction(force_rollback=True):
                con.execute("SET TRANSACTION READ ONLY")
                # prepared, the statement goes through the extended protocol, which takes exactly one; the doubled
                # % are psycopg's escape, so the server gets the text as typed
                cursor = con.cursor()
                cursor.execute(sql.replace("%", "%%"), (), prepare=True)
                columns = [d.name for d in cursor.description] if cursor.description else []
                rows = cursor.fetchall() if cursor.description else []
        except psycopg.Error as exc:
            if "multiple commands" in str(exc):
                raise QueryRefusedError("hub query takes exactly one statement", hint=_READ_HINT) from None
            if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
                raise QueryRefusedError(f"hub query is read-only: {_message(exc)}", hint=_READ_HINT) from None
            raise QueryError(_message(exc), hint="check the SQL") from None
        return Result(columns, [tuple(r) for r in rows])

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """All or nothing: commits when the block ends normally, rolls back on any exception."""
        con = self.connect()
        self._txn_depth += 1
        try:
            with con.transaction():
                yield con
        finally:
            self._txn_depth -= 1

    @contextmanager
    def discarded(self) -> Iterator[psycopg.Connection[Any]]:
        """Everything in the block is rolled back, however it ends (a dry run)."""
        con = self.connect()
        self._txn_depth += 1
        try:
            with con.transaction(force_rollback=True):
                yield con
        finally:
            self._txn_depth -= 1

    def kept_open(self) -> AbstractContextManager[None]:
        """Nothing to keep open: each handle's connect is a new session (milliseconds), and holding one across a
        chunk of ``hub serve``'s work would hold the writer lock while the server waits."""
        return nullcontext()

    def table_exists(self, schema: str, table: str) -> bool:
        return bool(self.query("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND "
                               "table_name = ?", [schema, table]).scalar())

    def schemas(self) -> list[str]:
        return [r[0] for r in self.query("SELECT DISTINCT schema_name FROM information_schema.schemata "
                                         "ORDER BY 1").rows]

    @staticmethod
    def type_name(data_type: str) -> str:
        """An ``information_schema`` type as DuckDB names it (unknown ones upper-cased as they are)."""
        return DUCK_TYPE_NAMES.get(data_type, data_type.upper())

    def publish_snapshot(self, *, run_start: bool = False) -> bool:
        return False   # readers read the database itself: nothing to publish

    def retire_snapshot(self) -> None:
        return None

    def dlt_destination(self, staging_layout: str) -> Any:
        """dlt's postgres destination for this database (psycopg2, its own connection)."""
        import dlt

        return dlt.destinations.postgres(credentials=with_password(self.config.dsn or "", _password(self.config)),
                                         staging_dataset_name_layout=staging_layout)


class WriterLock:
    """The warehouse's single writer, as a session-level advisory lock held on a connection of its own.

    Handles of one process share it (a count, as :class:`hub.warehouse.lock.WarehouseLock` does), so `hub run`'s
    steps and nested handles never wait on their own process. The server drops it when the session ends, so a killed
    writer never leaves the warehouse locked.
    """

    _held: dict[str, tuple[Any, int]] = {}
    _guard = threading.Lock()   # hub serve's threads open handles too

    def __init__(self, config: WarehouseConfig, *, wait: float | None = None) -> None:
        self.config = config
        self.key = config.dsn or ""
        self.wait = wait_for(True) if wait is None else wait
        self._acquired = False

    def acquire(self) -> None:
        # one thread at a time: while this process does not hold the lock nobody here needs to release it, and
        # once it does, the others only count themselves in, so waiting on the server under the guard is safe
        with self._guard:
            held = self._held.get(self.key)
            if held is not None:
                self._held[self.key] = (held[0], held[1] + 1)
            else:
                self._held[self.key] = (self._take(), 1)
        self._acquired = True

    def _take(self) -> Any:
        """A new session holding the advisory lock (waiting up to ``wait`` for another holder to let go)."""
        import psycopg

        con = _connect(self.config, autocommit=True, application_name=_command()[:63])
        try:
            if not con.execute("SELECT pg_try_advisory_lock(%s, %s)", WRITER_LOCK_KEY).fetchone()[0]:
                holder = _holder(con)
                if self.wait <= 0:
                    raise WarehouseLockedError(f"warehouse {self.label} is written by {holder}",
                                               hint="wait for it to finish, or pass --wait SECONDS to queue behind it")
                print(f"waiting for {holder} to release the warehouse...", file=sys.stderr, flush=True)
                # the server wakes us when the holder lets go; lock_timeout bounds the wait
                con.execute(f"SET lock_timeout = {int(self.wait * 1000)}")
                try:
                    con.execute("SELECT pg_advisory_lock(%s, %s)", WRITER_LOCK_KEY)
                except psycopg.errors.LockNotAvailable:
                    raise WarehouseLockedError(f"warehouse {self.label} is written by {holder}; gave up after "
                                               f"waiting {self.wait:g} s",
                                               hint="let it finish, or pass a longer --wait SECONDS") from None
                con.execute("SET lock_timeout = 0")
        except psycopg.Error as exc:
            con.close()
            raise WarehouseError(f"cannot take the warehouse's writer lock: {_message(exc)}") from None
        except BaseException:
            con.close()
            raise
        return con

    @property
    def label(self) -> str:
        return redacted(self.key)

    def release(self) -> None:
        if not self._acquired:
            return
        self._acquired = False
        with self._guard:
            con, count = self._held[self.key]
            if count > 1:
                self._held[self.key] = (con, count - 1)
                return
            del self._held[self.key]
        con.close()   # ending the session releases the advisory lock


def _holder(con: Any) -> str:
    """Who holds the writer lock: its session's application name (a hub command), host and backend pid."""
    row = con.execute("""SELECT a.application_name, a.client_addr::text, a.pid FROM pg_locks l
                         JOIN pg_stat_activity a ON a.pid = l.pid
                         WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = %s AND l.granted""",
                      WRITER_LOCK_KEY).fetchone()
    if row is None:
        return "another hub process"
    name, host, pid = row
    return f"{name or 'a session'} (from {host or 'local socket'}, backend pid {pid})"


def _connect(config: WarehouseConfig, *, autocommit: bool, application_name: str = "hub") -> Any:
    import psycopg

    try:
        return psycopg.connect(config.dsn or "", password=_password(config) or None, autocommit=autocommit,
                               application_name=application_name, connect_timeout=10)
    except psycopg.Error as exc:
        raise WarehouseError(f"cannot connect to warehouse {redacted(config.dsn or '')}: {_message(exc)}",
                             hint=_HINT) from None


def _password(config: WarehouseConfig) -> str | None:
    return config.password.reveal() if config.password else None


def _message(exc: BaseException | str) -> str:
    return redact(" ".join(str(exc).split()))[:500]


def _primary(exc: Any) -> str:
    """PostgreSQL's message for a statement of hub's, without its ``LINE n: ...`` excerpt: the statement is a
    translation, whose text and lines are not the model's."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return _message(primary) if primary else _message(exc)


_READ_HINT = "hub query runs one read-only statement, e.g. `hub query \"SELECT * FROM raw_crm.contacts LIMIT 5\"`"


def check_read(sql: str) -> None:
    """Refuse ``sql`` unless it starts as a read (SELECT, WITH, VALUES, TABLE, EXPLAIN, SHOW); the READ ONLY
    transaction it runs in refuses any write it may still hide (a data-modifying CTE, EXPLAIN ANALYZE of a DELETE)."""
    text = sql.lstrip()
    while text.startswith(("--", "/*", "(")):
        if text.startswith("--"):
            text = text.partition("\n")[2].lstrip()
        elif text.startswith("/*"):
            text = text.partition("*/")[2].lstrip()
        else:
            text = text[1:].lstrip()
    word = text.split(None, 1)[0].lower().rstrip(";") if text.split() else ""
    if not word:
        raise QueryRefusedError("hub query takes exactly one statement, got none", hint=_READ_HINT)
    if word not in READ_KEYWORDS:
        raise QueryRefusedError(f"hub query is read-only: a {word.upper()} statement is not allowed", hint=_READ_HINT)
