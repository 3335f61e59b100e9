"""`hub status`: what the warehouse holds and how the latest runs went, per connection and stream."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.warehouse.bookkeeping import Bookkeeping
from hub.warehouse.sql import qualified

if TYPE_CHECKING:
    from hub.project import Project

#: the webhook inbox (``hub.serve.service.INBOX``) and dead-letter table (``hub.serve.flusher.DEAD_LETTERS``), named
#: here so that reading them does not load the server; tests/hub/test_startup.py checks they agree
INBOX = Path(".hub") / "inbox.sqlite"
DEAD_LETTERS = ("_hub", "webhook_dead_letters")
#: actions that could not land (``hub.actions.send.DEAD_LETTERS``), named here so status does not import them
ACTION_DEAD_LETTERS = ("_hub", "action_dead_letters")
SKIPPED_DELETIONS = "sync_skipped_deletions"   # hub.reverse_etl.deletions
SYNC_STATE = "sync_state"                      # hub.reverse_etl.state.has_tables


@dataclass
class StreamStatus:
    """The latest ingest of one stream."""

    connection: str
    stream: str
    table: str
    outcome: str                  # success | failed | never
    rows_last_run: int | None = None
    rows_in_table: int | None = None
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    mode: str | None = None
    error: str | None = None
    quarantined: int = 0          # records of the latest run set aside in _hub.quarantine


@dataclass
class Status:
    """Everything `hub status` shows."""

    warehouse: str
    streams: list[StreamStatus] = field(default_factory=list)
    syncs: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)       # latest build outcome per model
    connections: list[dict[str, Any]] = field(default_factory=list)  # freshness of scheduled connections
    failures: list[dict[str, Any]] = field(default_factory=list)     # per command, its latest run if it failed
    schema_changes: list[dict[str, Any]] = field(default_factory=list)  # found by each connection's latest ingest
    webhooks: list[dict[str, Any]] = field(default_factory=list)    # per connection: inbox backlog, dead letters
    #: records deleted in a sync's target and left deleted (on_target_delete = "skip"): sync, key, target_id, when
    skipped_deletions: list[dict[str, Any]] = field(default_factory=list)
    apis: list[dict[str, Any]] = field(default_factory=list)  # per connection: API version, usage, vendor notices
    held_conflicts: list[dict[str, Any]] = field(default_factory=list)  # two-way fields held for review, per field
    running: list[dict[str, Any]] = field(default_factory=list)  # runs in progress: run_id, command, started_at, steps
    #: "warehouse.duckdb as of <time> (a writer is running: <command>)" when read from a writer's snapshot
    as_of: str | None = None
    #: the warehouse is held by a writer and no snapshot stands in: what is shown comes from the run log alone
    tables_unreadable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def status(project: Project, now: datetime | None = None) -> Status:
    """What `hub status` shows; ``now`` decides staleness (the current time by default).

    It pays only for what the project uses: the modules that read syncs' records (pyarrow), schedules (croniter) or
    the webhook inbox are imported only when their tables, sections or files exist.
    """
    from hub.errors import WarehouseLockedError

    now = now or datetime.now(UTC)
    result = Status(warehouse=project.config.warehouse.label)
    try:
        _from_warehouse(project, result, now)
    except WarehouseLockedError as exc:
        # a writer holds the warehouse and no snapshot can stand in for it: the run log still answers at once
        if not _from_run_log(project, result, exc):
            raise
    live = running_now(project)
    if live is not None:
        result.running = live
    from hub.sources.versions import status_rows

    result.apis = status_rows(project.config.connections.values(), project.root)
    if project.config.sections.get("syncs") and not result.tables_unreadable:
        from hub.reverse_etl import sync_status

        result.syncs = sync_status(project)
    return result


def _from_warehouse(project: Project, result: Status, now: datetime) -> None:
    from hub import history
    from hub.registry import connector_class
    from hub.warehouse.schema_changes import since_last_run

    with project.warehouse(read_only=True) as wh:
        books = Bookkeeping(wh)
        tables = hub_tables(wh)
        if books.has_schema():
            result.models = [{"model": r["target"], "outcome": r["status"], "rows": r["rows_in"],
                              "last_run_at": r["finished_at"], "last_success_at": r["last_success"],
                              "error": r["error"]} for r in books.last_steps("build").records()]
            result.failures = history.latest_failures(wh)
            result.running = running_runs(wh)
            result.schema_changes = since_last_run(wh)
            if SKIPPED_DELETIONS in tables:
                from hub.reverse_etl import deletions

                result.skipped_deletions = deletions.skipped(wh)
        if project.config.sections.get("schedules"):
            result.connections = history.freshness(project, wh, now)
        if SYNC_STATE in tables:
            from hub.reverse_etl.state import conflicts as recorded_conflicts

            result.held_conflicts = recorded_conflicts(wh, held_only=True)
        last = {r["target"]: r for r in books.last_steps("ingest").records()} if books.has_schema() else {}
        for conn in project.config.connections.values():
            cls = connector_class(conn.type)
            catalog = cls.stream_catalog(conn)
            names = conn.streams if conn.streams is not None else cls.default_streams or tuple(catalog)
            known = [s for s in catalog if s in names or f"{conn.name}.{s}" in last]
            for name in known:
                stream = catalog[name]
                row = last.get(f"{conn.name}.{name}")
                item = StreamStatus(conn.name, name, f"raw_{conn.name}.{stream.table}",
                                    outcome=row["status"] if row else "never")
                if row:
                    item.rows_last_run, item.last_run_at = row["rows_in"], row["finished_at"]
                    item.last_success_at, item.error = row["last_success"], row["error"]
                    mode, _, quarantined = (row["detail"] or "").partition("; ")
                    item.mode = mode or None
                    item.quarantined = int(quarantined.split()[0]) if quarantined else 0
                if wh.table_exists(f"raw_{conn.name}", stream.table):
                    item.rows_in_table = wh.query(
                        f"SELECT count(*) FROM {qualified('raw_' + conn.name, stream.table)}").scalar()
                result.streams.append(item)
        result.webhooks = webhook_status(project, wh)
        result.as_of = wh.snapshot_note


def _from_run_log(project: Project, result: Status, locked: Exception) -> bool:
    """What the run log can say while the warehouse cannot be read: each stream's and model's latest outcome, the
    failures, the runs in progress. Row counts of tables and sync details wait for the warehouse. False: no log."""
    from hub.registry import connector_class
    from hub.warehouse import runlog

    con = runlog.reader(project.warehouse_path)
    if con is None:
        return False
    result.streams, result.syncs = [], []   # anything read before the warehouse refused is dropped, not mixed in
    try:
        last = {r["target"]: r for r in runlog.last_steps(con, "ingest")}
        result.models = [{"model": r["target"], "outcome": r["status"], "rows": r["rows_in"],
                          "last_run_at": r["finished_at"], "last_success_at": r["last_success"],
                          "error": r["error"]} for r in runlog.last_steps(con, "build")]
        result.failures = runlog.latest_failures(con)
    finally:
        con.close()
    for conn in project.config.connections.values():
        cls = connector_class(conn.type)
        catalog = cls.stream_catalog(conn)
        names = conn.streams if conn.streams is not None else cls.default_streams or tuple(catalog)
        for name in [s for s in catalog if s in names or f"{conn.name}.{s}" in last]:
            row = last.get(f"{conn.name}.{name}")
            item = StreamStatus(conn.name, name, f"raw_{conn.name}.{catalog[name].table}",
                                outcome=row["status"] if row else "never")
            if row:
                item.rows_last_run, item.last_run_at = row["rows_in"], row["finished_at"]
                item.last_success_at, item.error = row["last_success"], row["error"]
                item.mode = (row["detail"] or "").partition("; ")[0] or None
            result.streams.append(item)
    result.tables_unreadable = True
    result.as_of = (f"{locked}; from the run log: latest outcomes and runs in progress are current, row counts "
                    f"and sync details wait for the warehouse")
    return True


def running_now(project: Project) -> list[dict[str, Any]] | None:
    """Runs in progress from the run log, with their live progress (step, target, rows so far); None: no log."""
    from hub.warehouse import runlog

    con = runlog.reader(project.warehouse_path)
    if con is None:
        return None
    try:
        found = runlog.running(con)
    finally:
        con.close()
    return [{k: r[k] for k in ("run_id", "command", "started_at", "pid", "steps_done", "progress")}
            for r in found if not runlog.interrupted(r)]


def webhook_status(project: Project, wh: Any) -> list[dict[str, Any]]:
    """Per connection that received webhooks: received, waiting in the inbox (backlog), dead letters and the latest
    one's reason (``_hub.webhook_dead_letters``).

    ``hub.serve`` (the server, its wiring, pyarrow) is imported only when there is an inbox or a dead letter to read.
    """
    if not (project.root / INBOX).exists() and not {DEAD_LETTERS[1], ACTION_DEAD_LETTERS[1]} & hub_tables(wh):
        return []
    from hub.serve.inbox import summary

    found = {c: {"connection": c, **counts, "latest_dead_letter": None}
             for c, counts in summary(project.root / INBOX).items()}
    if wh.table_exists(*DEAD_LETTERS):
        rows = wh.query(f"SELECT connection, count(*), arg_max(reason, set_aside_at) FROM {qualified(*DEAD_LETTERS)} "
                        "GROUP BY connection").rows
        for connection, count, reason in rows:
            item = found.setdefault(connection, {"connection": connection, "received": None, "backlog": 0})
            item.update(dead_letters=max(count, item.get("dead_letters") or 0), latest_dead_letter=reason)
    if ACTION_DEAD_LETTERS[1] in hub_tables(wh):   # actions that could not land (hub.actions.send), per trigger
        rows = wh.query(f"SELECT trigger, count(*), arg_max(action || ': ' || reason, failed_at) FROM "
                        f"{qualified(*ACTION_DEAD_LETTERS)} GROUP BY trigger").rows
        for trigger, count, reason in rows:
            found[f"trigger:{trigger}"] = {"connection": f"trigger:{trigger}", "received": None, "backlog": 0,
                                           "dead_letters": count, "latest_dead_letter": reason}
    return [found[c] for c in sorted(found)]


def running_runs(wh: Any) -> list[dict[str, Any]]:
    """Runs in progress (their process still alive), oldest first, with how many steps each has written so far."""
    from hub.warehouse.bookkeeping import interrupted

    rows = wh.query("SELECT r.run_id, r.command, r.started_at, r.pid, r.host, r.status, "
                    "(SELECT count(*) FROM _hub.run_steps s WHERE s.run_id = r.run_id) AS steps_done "
                    "FROM _hub.runs r WHERE r.status = 'running' ORDER BY r.started_at").records()
    return [{**{k: r[k] for k in ("run_id", "command", "started_at", "pid", "steps_done")}, "progress": None}
            for r in rows if not interrupted(r)]


def hub_tables(wh: Any) -> set[str]:
    """The tables of schema ``_hub`` (one query, cached on the handle, instead of one per table)."""
    cached = getattr(wh, "_hub_tables", None)
    if cached is None:
        cached = {r[0] for r in wh.query("SELECT table_name FROM information_schema.tables "
                                         "WHERE table_schema = '_hub'").rows}
        wh._hub_tables = cached
    return cached
