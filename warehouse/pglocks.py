"""Many writers on a PostgreSQL warehouse: one advisory lock per resource, so work on different resources runs in
parallel, from any number of processes and machines, and the same resource is never written twice at once.

A resource is a name: ``stream:<connection>.<stream>`` (an ingest), ``load:<connection>`` (dlt's load into
``raw_<connection>``: one pipeline per connection, below), ``model:<schema.name>`` (a build), ``sync:<name>`` (a push).
Each maps to a session-level advisory lock ``pg_advisory_lock(HUB_CLASSID, key(name))``: the class id keeps hub's keys
apart from any other application's advisory locks in the same database, and ``key`` is the first 4 bytes of the
name's BLAKE2b digest (stable across processes, machines and versions; two names that share a key only queue behind
each other, they never run at once).

- **Who takes what.** A command takes every resource it will write before it writes anything: `hub ingest` its
  streams, `hub build` its selected models, `hub push` its syncs and their two-way peers, and `hub run` (a scheduled
  job too) the union of its steps' resources, held from its first step to its last, as the file lock held the whole
  DuckDB warehouse. The dlt load of a connection additionally takes ``load:<connection>`` for the load itself: dlt
  keeps one pipeline per connection (its working folder under ``.hub/pipelines`` and the ``_dlt_*`` tables of
  ``raw_<connection>``), which two loads must not share, so two ingests of different streams of *one* connection
  overlap only outside their loads; different connections overlap entirely.
- **No deadlock.** One acquisition takes all its keys in ascending key order, on one connection, so two commands
  that each take their whole set at once cannot wait on each other in a circle. A lock taken later by the same
  thread is either already held (a step's own take inside `hub run`: re-entrant, a count) or one that nothing waits
  for while holding it (``load:``: its holder only loads). A data trigger's push after a build runs once the build's
  model locks are let go; inside `hub run`, whose locks last to its end, such a push to a sync outside the run's
  set is the one nested take left: should it ever close a circle, PostgreSQL's deadlock detector ends one of the two
  waits, and that command fails in one line saying so.
- **Waiting, as the file lock does.** A resource held elsewhere: the writer prints one line naming the holder (its
  session's ``application_name``: the hub command, its pid and host) and what it waits for, then waits up to the
  process's wait (``hub --wait SECONDS``; writers default to 60 s), woken by the server the moment the holder lets go.
  ``--wait 0`` refuses at once; running out of time fails with the holder named. A second `hub run` of the same sync
  thus waits and then runs it after the first (finding little or nothing left to send), never beside it.
- **Crash safety.** The locks belong to a database session of their own; the server drops them when the session
  ends, so a killed process (or a lost machine, once its TCP connection times out) never leaves a resource locked.
- **Readers never wait**: `hub query`, status, runs and docs take no lock at all.
- **hub's own tables** (``_hub``): rows are written by key with ``INSERT ... ON CONFLICT`` or by one writer of their
  resource. The ``CREATE ... IF NOT EXISTS`` statements every command runs on its way in are not safe to run twice at
  once on PostgreSQL (both sessions see the name free, one fails on the catalog's unique index), so
  :func:`ensure_plan` recognises such a batch, :func:`in_place` checks in one query whether all of it is already
  there (then nothing runs: no ``ALTER TABLE`` takes its exclusive lock, so no reader of ``_hub`` queues behind it),
  and otherwise it runs in a transaction under the DDL lock (:data:`DDL_RESOURCE`, a transaction-level advisory lock).

A DuckDB warehouse keeps its file lock (:mod:`hub.warehouse.lock`): DuckDB lets one process write a database file at a
time, so there the resources of this module are the whole file.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from hub.errors import WarehouseError, WarehouseLockedError
from hub.secrets import redact
from hub.warehouse.lock import _command, wait_for

if TYPE_CHECKING:
    from hub.config import WarehouseConfig

#: the first key of every hub advisory lock: "hub" as an integer (WRITER_LOCK_KEY's class id)
HUB_CLASSID = 0x687562
#: serialises hub's ``CREATE ... IF NOT EXISTS`` batches (transaction-level: released at their commit)
DDL_RESOURCE = "ddl:_hub"
HOST = socket.gethostname()

_local = threading.local()     # this thread's held resources: (dsn, resource) -> count


def key(resource: str) -> int:
    """The advisory lock key of a resource name: a signed 32-bit integer, the same in every process."""
    return int.from_bytes(hashlib.blake2b(resource.encode(), digest_size=4).digest(), "big", signed=True)


def stream(connection: str, name: str) -> str:
    return f"stream:{connection}.{name}"


def load(connection: str) -> str:
    return f"load:{connection}"


def model(name: str) -> str:
    return f"model:{name}"


def sync(name: str) -> str:
    return f"sync:{name}"


def describe(resource: str) -> str:
    """``stream:crm.contacts`` as a user reads it: ``stream crm.contacts``."""
    kind, _, name = resource.partition(":")
    if kind == "load":
        return f"the load into raw_{name}"
    return f"{kind} {name}"


def application_name() -> str:
    """This process as other sessions see it (``pg_stat_activity.application_name``, at most 63 bytes): the hub
    command, its pid and host."""
    tail = f" (pid {os.getpid()} on {HOST[:20]})"
    command = _command()
    room = 63 - len(tail.encode())
    if len(command.encode()) > room:
        command = command.encode()[:max(0, room - 3)].decode(errors="ignore") + "..."
    return command + tail


def _held() -> dict[tuple[str, str], int]:
    held = getattr(_local, "held", None)
    if held is None:
        held = _local.held = {}
    return held


def held(config: WarehouseConfig, resource: str) -> bool:
    """Whether this thread holds ``resource`` of this warehouse."""
    return _held().get((config.dsn or "", resource), 0) > 0


class ResourceLocks:
    """Session-level advisory locks on ``resources``, held on a connection of their own from :meth:`acquire` to
    :meth:`release` (or a ``with`` block). Re-entrant per thread: what this thread already holds is counted, not
    taken again; other threads of the process queue on the server like other processes."""

    def __init__(self, config: WarehouseConfig, resources: Iterable[str], *, wait: float | None = None,
                 notify: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.dsn = config.dsn or ""
        self.resources = sorted(set(resources), key=lambda r: (key(r), r))
        self.wait = wait_for(True) if wait is None else wait
        self._notify = notify or _to_stderr
        self._con: Any = None
        self._counted: list[str] = []
        self._acquired = False

    def __enter__(self) -> ResourceLocks:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        held = _held()
        fresh = [r for r in self.resources if not held.get((self.dsn, r))]
        if fresh:
            self._con = self._take(fresh)
        for resource in self.resources:
            held[(self.dsn, resource)] = held.get((self.dsn, resource), 0) + 1
        self._counted = list(self.resources)
        self._acquired = True

    def release(self) -> None:
        if not self._acquired:
            return
        self._acquired = False
        held = _held()
        for resource in self._counted:
            count = held.get((self.dsn, resource), 1) - 1
            if count > 0:
                held[(self.dsn, resource)] = count
            else:
                held.pop((self.dsn, resource), None)
        if self._con is not None:
            con, self._con = self._con, None
            con.close()   # ending the session releases its advisory locks

    def _take(self, resources: list[str]) -> Any:
        """A new session holding ``resources``' locks, taken in key order (waiting up to ``wait`` in all)."""
        import psycopg

        from hub.warehouse.postgres import _connect, _message

        con = _connect(self.config, autocommit=True, application_name=application_name())
        deadline = time.monotonic() + max(0.0, self.wait)
        taken: set[int] = set()
        try:
            for resource in resources:
                k = key(resource)
                if k in taken:
                    continue   # two names, one key: already ours
                if not con.execute("SELECT pg_try_advisory_lock(%s, %s)", (HUB_CLASSID, k)).fetchone()[0]:
                    self._wait_for(con, resource, k, deadline)
                taken.add(k)
        except psycopg.errors.DeadlockDetected:
            con.close()
            raise WarehouseLockedError(f"{describe(resource)}: another hub process waits for a resource this one "
                                       "holds while holding this one (PostgreSQL detected the deadlock)",
                                       hint="run the command again") from None
        except psycopg.Error as exc:
            con.close()
            raise WarehouseError(f"cannot lock {describe(resource)} in the warehouse: {_message(exc)}") from None
        except BaseException:
            con.close()
            raise
        return con

    def _wait_for(self, con: Any, resource: str, k: int, deadline: float) -> None:
        import psycopg

        who = holder(con, k)
        what = describe(resource)
        if self.wait <= 0:
            raise WarehouseLockedError(f"{what} is being written by {who}",
                                       hint="wait for it to finish, or pass --wait SECONDS to queue behind it")
        self._notify(f"waiting for {who} to release {what}...")
        remaining = deadline - time.monotonic()
        if remaining > 0:
            # the server wakes us the moment the holder lets go; lock_timeout bounds the wait
            con.execute(f"SET lock_timeout = {max(1, int(remaining * 1000))}")
            try:
                con.execute("SELECT pg_advisory_lock(%s, %s)", (HUB_CLASSID, k))
                con.execute("SET lock_timeout = 0")
                return
            except psycopg.errors.LockNotAvailable:
                pass
        raise WarehouseLockedError(f"{what} is being written by {who}; gave up after waiting {self.wait:g} s",
                                   hint="let it finish, or pass a longer --wait SECONDS")


def holder(con: Any, k: int) -> str:
    """Who holds hub's advisory lock ``k``: its session's application name (a hub command, pid and host), the
    address it connects from and its backend pid."""
    row = con.execute("""SELECT a.application_name, a.client_addr::text, a.pid FROM pg_locks l
                         JOIN pg_stat_activity a ON a.pid = l.pid
                         WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = %s AND l.objsubid = 2
                         AND l.granted LIMIT 1""", (HUB_CLASSID, k & 0xFFFFFFFF)).fetchone()
    if row is None:
        return "another hub process"
    name, address, pid = row
    return f"{redact(name) or 'a session'} (from {address or 'the local socket'}, backend pid {pid})"


# --- hub's CREATE ... IF NOT EXISTS batches ---------------------------------------------------------------------

_NAME = r'((?:"[^"]+"|[A-Za-z_][\w$]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))?)'
_SCHEMA = re.compile(r"CREATE\s+SCHEMA\s+IF\s+NOT\s+EXISTS\s+" + _NAME + r"\s*$", re.I | re.S)
_TABLE = re.compile(r"CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+" + _NAME + r"\s*\(", re.I | re.S)
_COLUMN = re.compile(r"ALTER\s+TABLE\s+" + _NAME + r"\s+ADD\s+COLUMN\s+IF\s+NOT\s+EXISTS\s+" + _NAME + r"\s",
                     re.I | re.S)
_INDEX = re.compile(r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+IF\s+NOT\s+EXISTS\s+" + _NAME + r"\s+ON\s+" + _NAME,
                    re.I | re.S)
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_REPLACE = re.compile(r"CREATE\s+OR\s+REPLACE\s+(?:VIEW|FUNCTION)\s", re.I | re.S)


def ensure_plan(sql: str) -> list[tuple[str, tuple[str, ...]]] | None:
    """The checks that tell whether a batch of hub's ``CREATE ... IF NOT EXISTS`` statements is already in place:
    ``(kind, names)`` per statement (kind ``replace`` cannot be checked: it always runs). None when ``sql`` is not
    such a batch (then it runs as any statement does)."""
    if "$" in sql:
        return None   # a dollar-quoted body could hide a ';': not one of hub's plain DDL batches
    plan: list[tuple[str, tuple[str, ...]]] = []
    for statement in (s.strip() for s in _LITERAL.sub("''", sql).split(";")):   # a ';' in a literal splits nothing
        if not statement:
            continue
        if (m := _SCHEMA.match(statement)):
            plan.append(("schema", (_ident(m.group(1)),)))
        elif (m := _TABLE.match(statement)):
            plan.append(("table", (m.group(1),)))
        elif (m := _COLUMN.match(statement)):
            plan.append(("column", (m.group(1), _ident(m.group(2)))))
        elif (m := _INDEX.match(statement)):
            schema = m.group(2).rpartition(".")[0]
            plan.append(("table", (f"{schema}.{m.group(1)}" if schema else m.group(1),)))
        elif _REPLACE.match(statement):
            plan.append(("replace", ()))
        else:
            return None
    return plan or None


def ensured(wh: Any, sql: str) -> bool:
    """Whether ``sql``, a batch of hub's ``CREATE ... IF NOT EXISTS`` statements, is done on the PostgreSQL handle
    ``wh``: already in place (then nothing runs, so no ``ALTER TABLE`` lock holds up a reader), or run now in a
    transaction under the DDL lock (two sessions creating one name at once would fail on the catalog). False: not
    such a batch, the caller runs it as any statement."""
    import psycopg

    from hub.warehouse.postgres import _message

    plan = ensure_plan(sql)
    if plan is None:
        return False
    try:
        if in_place(wh.connect(), plan):
            return True
    except psycopg.Error as exc:
        raise WarehouseError(f"warehouse statement failed: {_message(exc)}") from None
    wh._ensuring = True
    try:
        with wh.transaction() as con:
            lock_ddl(con)
            wh.execute(sql)
    except psycopg.Error as exc:
        raise WarehouseError(f"warehouse statement failed: {_message(exc)}") from None
    finally:
        wh._ensuring = False
    return True


def in_place(con: Any, plan: list[tuple[str, tuple[str, ...]]]) -> bool:
    """Whether everything ``plan`` would create exists already (one query)."""
    if any(kind == "replace" for kind, _ in plan):
        return False
    checks, params = [], []
    for kind, names in plan:
        if kind == "schema":
            checks.append("EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)")
        elif kind == "table":
            checks.append("to_regclass(%s) IS NOT NULL")
        else:
            checks.append("EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s "
                          "AND NOT attisdropped)")
        params += names
    return bool(con.execute("SELECT " + " AND ".join(checks), params).fetchone()[0])


def lock_ddl(con: Any) -> None:
    """Take the DDL lock for the rest of the current transaction."""
    con.execute("SELECT pg_advisory_xact_lock(%s, %s)", (HUB_CLASSID, key(DDL_RESOURCE)))


def _ident(name: str) -> str:
    """An identifier as the catalog stores it: quoted as written, unquoted folded to lower case."""
    return name[1:-1] if name.startswith('"') else name.lower()


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
