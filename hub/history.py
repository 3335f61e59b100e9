"""Run history: queries over ``_hub.runs`` and ``_hub.run_steps`` for `hub runs`, `hub status` and alerts.

:func:`runs` reads the run log (:mod:`hub.warehouse.runlog`, SQLite beside the warehouse) when there is one, so it
answers at once while a writer holds the warehouse, with the live progress of the runs in progress, and without
importing DuckDB; a project no writer has touched since the log existed is read from the warehouse.

Layers: this module builds on :mod:`hub.schedule_config` only (staleness is measured against the schedules); alerts,
the runner and the scheduler build on it (``tests/ops/test_layers.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from hub.warehouse import runlog
from hub.warehouse.runlog import INTERRUPTED, interrupted

if TYPE_CHECKING:
    from hub.project import Project
    from hub.warehouse.duck import Warehouse


def runs(project: Project, limit: int = 20) -> list[dict[str, Any]]:
    """The latest ``limit`` runs, newest first, each with its steps and totals (rows in/out, failed steps, rejected),
    and for a run in progress its live ``progress`` (step, target, rows done and total; None when not known)."""
    con = runlog.reader(project.warehouse_path)
    if con is not None:
        try:
            found = runlog.runs(con, limit)
        finally:
            con.close()
        for run in found:
            for step in run["steps"]:
                step["rejected"] = _detail(step).get("rejected") if step["step"] == "push" else None
            if interrupted(run):
                run["status"], run["error"], run["progress"] = "interrupted", INTERRUPTED.format(pid=run["pid"]), None
            _totals(run)
        return found
    from hub.warehouse.bookkeeping import Bookkeeping

    with project.warehouse(read_only=True) as wh:
        if not Bookkeeping(wh).has_schema():
            return []
        found = wh.query("SELECT * FROM _hub.runs ORDER BY started_at DESC LIMIT ?", [limit]).records()
        for run in found:
            run["steps"] = steps(wh, run["run_id"])
            run["progress"] = None
            if interrupted(run):  # shown as it is; recorded so by the next run that writes
                run["status"], run["error"] = "interrupted", INTERRUPTED.format(pid=run["pid"])
    for run in found:
        _totals(run)
    return found


def fail_unfinished(project: Project, error: BaseException) -> list[str]:
    """Record every run this process left unfinished as failed, with ``error`` as its masked one-line cause.

    A run ends ``failed`` however its command dies (a bug's exception, Ctrl-C), never ``running`` to be found
    ``interrupted`` later with the real cause lost. Returns the run ids so recorded.
    """
    from hub.warehouse.bookkeeping import Bookkeeping, unfinished

    if not unfinished(project.warehouse_path):
        return []
    text = " ".join(str(error).split())
    cause = f"{type(error).__name__}: {text}" if text else type(error).__name__
    with project.warehouse() as wh:
        return Bookkeeping(wh).fail_unfinished(cause[:1000])


def run(wh: Warehouse, run_id: str) -> dict[str, Any] | None:
    """One run with its steps and totals, or None when no such run was recorded."""
    found = wh.query("SELECT * FROM _hub.runs WHERE run_id = ?", [run_id]).records()
    if not found:
        return None
    record = found[0]
    record["steps"] = steps(wh, run_id)
    return _totals(record)


def steps(wh: Warehouse, run_id: str) -> list[dict[str, Any]]:
    """A run's steps in the order they started; a push step's ``rejected`` count is lifted out of its detail."""
    rows = wh.query("SELECT step, target, started_at, finished_at, status, rows_in, rows_out, detail, error "
                    "FROM _hub.run_steps WHERE run_id = ? ORDER BY started_at, target", [run_id]).records()
    for row in rows:
        row["rejected"] = _detail(row).get("rejected") if row["step"] == "push" else None
    return rows


def latest_failures(wh: Warehouse) -> list[dict[str, Any]]:
    """Per command, its latest run when that run failed or was interrupted (a later success clears it)."""
    return wh.query("""
        SELECT run_id, command, started_at, finished_at, status, error FROM (
            SELECT *, row_number() OVER (PARTITION BY command ORDER BY started_at DESC) AS n FROM _hub.runs
            WHERE status <> 'running') AS latest
        WHERE n = 1 AND status IN ('failed', 'interrupted') ORDER BY started_at DESC""").records()


def freshness(project: Project, wh: Warehouse, now: datetime) -> list[dict[str, Any]]:
    """Per connection that a schedule ingests: its last successful ingest and whether that is stale.

    A connection's last success is that of its least recently loaded stream; it is stale when that is older than twice
    the interval of the most frequent schedule that ingests it.
    """
    from hub import schedule_config
    from hub.warehouse.bookkeeping import Bookkeeping

    schedules = schedule_config.load(project)
    books = Bookkeeping(wh)
    last = books.last_steps("ingest").records() if books.has_schema() else []
    out = []
    for name in project.config.connections:
        covering = [s for s in schedules.values() if s.ingests(name)]
        if not covering:
            continue
        interval, by = min((s.interval(now), s.name) for s in covering)
        successes = [r["last_success"] for r in last if r["target"].split(".")[0] == name]
        last_success = None if not successes or None in successes else min(successes)
        stale = last_success is not None and now - last_success > 2 * interval
        out.append({"connection": name, "schedule": by, "interval_seconds": int(interval.total_seconds()),
                    "last_success_at": last_success, "stale": stale,
                    "stale_for_seconds": int((now - last_success - 2 * interval).total_seconds()) if stale else None})
    return out


def _detail(step: dict[str, Any]) -> dict[str, Any]:
    text = step.get("detail")
    if not text or not text.startswith("{"):
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _totals(run: dict[str, Any]) -> dict[str, Any]:
    own = run["steps"]
    run["rows_in"] = sum(s["rows_in"] or 0 for s in own)
    run["rows_out"] = sum(s["rows_out"] or 0 for s in own)
    run["failed_steps"] = sum(1 for s in own if s["status"] == "failed")
    run["rejected"] = sum(s["rejected"] or 0 for s in own)
    end = run.get("finished_at")
    run["seconds"] = round((end - run["started_at"]).total_seconds(), 3) if end else None
    return run

