"""Read a project into one plain :class:`Site` for the docs pages: what is configured (connections, streams, models,
syncs, triggers, schedules, targets) and what happened (run history, rejected rows, conflicts, freshness, webhooks).

Everything is read once, in a handful of set-based queries over ``_hub`` (100,000 runs aggregate in SQL, not Python),
through a read-only warehouse handle; nothing is written. Error texts come from the run records, which hub masks
before storing them, and are masked again here (:func:`hub.secrets.redact`) since they leave hub as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from hub.secrets import redact

if TYPE_CHECKING:
    from hub.project import Project
    from hub.warehouse.duck import Warehouse

#: runs that get a page of their own: the latest ones, the latest failures, and the latest per sync
RECENT_RUNS = 300
RECENT_FAILURES = 100
RECENT_PER_TARGET = 5
#: how many runs the per-run charts of the runs page show (older history is shown per day)
CHART_RUNS = 200
ACTIVE_DAYS = 30


@dataclass
class Site:
    """Everything the pages show, as plain data."""

    project: str
    generated_at: datetime
    connections: list[dict[str, Any]] = field(default_factory=list)    # name, type, title, streams [...]
    models: list[dict[str, Any]] = field(default_factory=list)         # name, kind, materialized, deps, columns...
    syncs: list[dict[str, Any]] = field(default_factory=list)          # config + latest outcome + counts
    triggers: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)   # "<step>:<target>" -> last run, state, count
    runs: list[dict[str, Any]] = field(default_factory=list)           # runs with a page, newest first, with steps
    run_total: int = 0
    runs_by_day: list[dict[str, Any]] = field(default_factory=list)    # day, runs, failed, rows_in, rows_out, seconds
    rejected: dict[str, list[dict[str, Any]]] = field(default_factory=dict)   # per sync
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    skipped_deletions: list[dict[str, Any]] = field(default_factory=list)
    schema_changes: list[dict[str, Any]] = field(default_factory=list)
    freshness: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    apis: list[dict[str, Any]] = field(default_factory=list)
    running: list[dict[str, Any]] = field(default_factory=list)        # runs in progress when the site was read
    owner_of: dict[str, str] = field(default_factory=dict)             # relation -> the model that writes it
    connection_names: set[str] = field(default_factory=set)
    commands: dict[str, dict[str, Any]] = field(default_factory=dict)  # per command (trigger:NAME...): latest run


def collect(project: Project, now: datetime | None = None) -> Site:
    """Read ``project``'s configuration and history into a :class:`Site` (read-only)."""
    from hub import schedule as scheduling
    from hub.docs.modelcache import models
    from hub.reverse_etl import config as sync_config
    from hub.serve import triggers as trigger_config

    now = now or datetime.now(UTC)
    site = Site(project=project.root.name, generated_at=now)
    site.connections = _connections(project)
    site.connection_names = {c["name"] for c in site.connections}
    site.models = models(project)
    for m in site.models:
        for relation in (m["name"], *m["produces"]):
            site.owner_of[relation] = m["name"]
    syncs = sync_config.load(project)
    schedules = scheduling.load(project)
    site.schedules = [{"name": s.name, "cron": s.cron, "timezone": s.timezone, "steps": [str(x) for x in s.steps],
                       "next_run": s.next_after(now),
                       "interval_seconds": int(s.interval(now).total_seconds())} for s in schedules.values()]
    site.triggers = [{"name": t.name, "connection": t.connection, "event_type": t.event_type, "when": t.when,
                      "actions": [str(a) for a in t.actions]} for t in trigger_config.load(project).values()]
    site.syncs = [{"name": s.name, "model": s.model, "to": s.to, "object": s.object, "mode": s.mode,
                   "mapping": [list(pair) for pair in s.mapping], "where": s.where, "conflicts": s.policy,
                   "on_target_delete": s.on_target_delete, "exclude": s.exclude} for s in syncs.values()]
    with project.warehouse(read_only=True) as wh:
        _history(project, wh, site, now)
    live = running_now(project)
    if live is not None:   # the run log is current even when the warehouse was read from an older snapshot
        site.running = live
    from hub.sources.versions import status_rows

    site.apis = status_rows(project.config.connections.values(), project.root)
    return site


def running_now(project: Project) -> list[dict[str, Any]] | None:
    """Runs in progress from the run log (never waits for a writer): run_id, command, started_at, steps_done, and
    ``progress`` (step, target, done, total; None before the first report) with ``doing``, its text. None: no log."""
    from hub.status import running_now as from_log
    from hub.warehouse.runlog import describe

    found = from_log(project)
    if found is None:
        return None
    for run in found:
        run["doing"] = describe(run["progress"])
    return found


def _connections(project: Project) -> list[dict[str, Any]]:
    from hub.integrations import all_integrations, with_part
    from hub.registry import connector_class

    titles = {name: i.title for name, i in all_integrations().items()}
    readable = with_part("connector")
    out = []
    for conn in sorted(project.config.connections.values(), key=lambda c: c.name):
        # a webhook-only integration (no connector) is shown without streams
        cls = connector_class(conn.type) if conn.type in readable else None
        streams = []
        if cls is not None:
            names = conn.streams if conn.streams is not None else cls.default_streams
            streams = [{"name": n, "table": f"raw_{conn.name}.{cls.streams[n].table}"}
                       for n in names if n in cls.streams]
        out.append({"name": conn.name, "type": conn.type, "title": titles.get(conn.type, conn.type),
                    "streams": streams, "webhooks": bool(conn.options.get("webhook_secret"))})
    return out


def _history(project: Project, wh: Warehouse, site: Site, now: datetime) -> None:
    """Run history, sync state and health, all from ``_hub``; an empty warehouse leaves them empty."""
    from hub import history
    from hub.reverse_etl import deletions, state
    from hub.status import webhook_status
    from hub.warehouse.bookkeeping import Bookkeeping
    from hub.warehouse.schema_changes import since_last_run

    books = Bookkeeping(wh)
    site.webhooks = webhook_status(project, wh)
    site.freshness = history.freshness(project, wh, now)
    if not books.has_schema():
        return
    site.run_total = wh.query("SELECT count(*) FROM _hub.runs").scalar() or 0
    site.targets = _targets(wh, now)
    site.commands = {r["command"]: r for r in wh.query("""
        SELECT command, arg_max(status, started_at) AS status, max(started_at) AS last_run,
               arg_max(run_id, started_at) AS run_id, count(*) FILTER (WHERE started_at >= ?) AS recent
        FROM _hub.runs GROUP BY command""", [now - timedelta(days=ACTIVE_DAYS)]).records()}
    site.runs = _runs(wh, [s["name"] for s in site.syncs])
    site.runs_by_day = wh.query("""
        SELECT CAST(date_trunc('day', r.started_at) AS DATE) AS day, count(*) AS runs,
               count(*) FILTER (WHERE r.status IN ('failed', 'interrupted')) AS failed,
               sum(coalesce(s.rows_in, 0)) AS rows_in, sum(coalesce(s.rows_out, 0)) AS rows_out,
               avg(epoch(r.finished_at - r.started_at)) AS seconds
        FROM _hub.runs r LEFT JOIN (SELECT run_id, sum(rows_in) AS rows_in, sum(rows_out) AS rows_out
                                    FROM _hub.run_steps GROUP BY run_id) s USING (run_id)
        GROUP BY 1 ORDER BY 1""").records()
    site.running = [{**r, "steps_done": len(r["steps"]), "progress": None, "doing": ""}
                    for r in site.runs if r["status"] == "running"]
    site.schema_changes = since_last_run(wh)
    site.skipped_deletions = deletions.skipped(wh)
    if state.has_tables(wh):   # the latest 1,000: the sync pages count them per field and list the latest
        site.conflicts = wh.query("""
            SELECT model, key, model_column, status, policy, winner, resolved_value, candidates, syncs, detected_at
            FROM _hub.sync_conflicts ORDER BY detected_at DESC LIMIT 1000""").records()
        for row in site.conflicts:
            row["candidates"] = orjson.loads(row["candidates"])
            row["resolved_value"] = redact(row["resolved_value"]) if row["resolved_value"] else None
    site.rejected = {s["name"]: [] for s in site.syncs}
    if state.has_tables(wh):   # one query for every sync (a query per sync costs more than the rows)
        for row in wh.query("""SELECT sync, key, target_id, operation, reason, code, payload, attempts,
                                      first_rejected_at, last_rejected_at FROM _hub.rejected_rows
                               ORDER BY sync, first_rejected_at, key""").records():
            row["reason"] = redact(row["reason"] or "")
            row["payload"] = redact(row["payload"]) if row.get("payload") else None
            site.rejected.setdefault(row.pop("sync"), []).append(row)
    counts = state.counts(wh)
    for sync in site.syncs:
        sync.update(counts.get(sync["name"], {}))


def _targets(wh: Warehouse, now: datetime) -> dict[str, dict[str, Any]]:
    """Per (step, target): its latest run, latest success, state, and how many runs in the last 30 days."""
    rows = wh.query("""
        SELECT step, target, arg_max(status, started_at) AS status, max(started_at) AS last_run,
               arg_max(run_id, started_at) AS run_id, max(finished_at) FILTER (WHERE status = 'success') AS last_ok,
               count(*) FILTER (WHERE started_at >= ?) AS recent, arg_max(error, started_at) AS error,
               arg_max(detail, started_at) AS detail
        FROM _hub.run_steps GROUP BY step, target""", [now - timedelta(days=ACTIVE_DAYS)]).records()
    out = {}
    for row in rows:
        row["error"] = redact(row["error"]) if row["error"] else None
        out[f"{row['step']}:{row['target']}"] = row
    return out


def _runs(wh: Warehouse, syncs: list[str]) -> list[dict[str, Any]]:
    """The runs that get a page: the latest, the latest failures, and each sync's latest; with steps and totals."""
    from hub.warehouse.bookkeeping import INTERRUPTED, interrupted

    runs = wh.query(f"""
        WITH picked AS (
            (SELECT run_id FROM _hub.runs ORDER BY started_at DESC LIMIT {RECENT_RUNS})
            UNION (SELECT run_id FROM _hub.runs WHERE status IN ('failed', 'interrupted')
                   ORDER BY started_at DESC LIMIT {RECENT_FAILURES})
            UNION (SELECT run_id FROM (
                SELECT run_id, row_number() OVER (PARTITION BY target ORDER BY started_at DESC) AS n
                FROM _hub.run_steps WHERE step = 'push') WHERE n <= {RECENT_PER_TARGET}))
        SELECT r.* FROM _hub.runs r JOIN picked USING (run_id) ORDER BY r.started_at DESC""").records()
    if not runs:
        return []
    steps: dict[str, list[dict[str, Any]]] = {}
    for step in wh.query("""
            SELECT run_id, step, target, started_at, finished_at, status, rows_in, rows_out, detail, error
            FROM _hub.run_steps WHERE run_id IN (SELECT unnest(CAST(? AS VARCHAR[])))
            ORDER BY started_at, target""", [[r["run_id"] for r in runs]]).records():
        step["detail"] = _detail(step["detail"])
        step["error"] = redact(step["error"]) if step["error"] else None
        steps.setdefault(step["run_id"], []).append(step)
    for run in runs:
        if interrupted(run):
            run["status"], run["error"] = "interrupted", INTERRUPTED.format(pid=run["pid"])
        run["error"] = redact(run["error"]) if run["error"] else None
        own = run["steps"] = steps.get(run["run_id"], [])
        run["rows_in"] = sum(s["rows_in"] or 0 for s in own)
        run["rows_out"] = sum(s["rows_out"] or 0 for s in own)
        run["rejected"] = sum(s["detail"].get("rejected") or 0 for s in own if isinstance(s["detail"], dict))
        end = run.get("finished_at")
        run["seconds"] = round((end - run["started_at"]).total_seconds(), 3) if end else None
    return runs


def _detail(text: str | None) -> dict[str, Any] | str | None:
    """A step's detail: the push counts as a dict, the ingest mode line as text."""
    if not text:
        return None
    if text.startswith("{"):
        try:
            value = orjson.loads(text)
            return value if isinstance(value, dict) else text
        except orjson.JSONDecodeError:
            return text
    return text
