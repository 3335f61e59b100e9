"""Reverse ETL: keep target systems' records in line with a model (usually a canonical table).

Public entry points (the CLI's ``hub push``, ``hub run``, ``hub status`` and ``hub demo`` call these)::

    from hub.reverse_etl import push, rejected_rows, sync_status, render_push_report

    report = push(project)                       # every [syncs.*] of hub.toml
    report = push(project, ["person_to_crm"], dry_run=True)
    print(render_push_report(report))

A push first checks every selected sync (model, columns, connection, target object and fields) and plans all of them,
then sends; nothing is written to any target when a check fails.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import orjson

from hub.errors import HubError
from hub.reverse_etl.report import Example, PushReport, SyncResult, render_push_report

if TYPE_CHECKING:
    from hub.project import Project
    from hub.reverse_etl.config import SyncConfig
    from hub.reverse_etl.diff import Model
    from hub.reverse_etl.engine import Progress, Target
    from hub.reverse_etl.plan import Plan
    from hub.warehouse.bookkeeping import Bookkeeping
    from hub.warehouse.duck import Warehouse

__all__ = ["PushReport", "SyncResult", "Example", "push", "rejected_rows", "sync_status", "render_push_report"]


def push(project: Project, syncs: Sequence[str] = (), *, dry_run: bool = False,
         progress: Progress | None = None, keys: Sequence[str] | None = None) -> PushReport:
    """Push the named syncs (all by default). With ``dry_run``, plan and report but write nothing to any target.

    ``keys`` limits the push to the model rows with those key values (a trigger pushing the records one event
    touched); rows outside it are neither sent nor removed, whatever their state.
    """
    from hub.reverse_etl import config, diff, plan as planning, state
    from hub.reverse_etl.engine import connect
    from hub.modeling.report import waiting_for_data
    from hub.warehouse.bookkeeping import Bookkeeping, Step, now

    every = config.load(project)
    selected = config.select(every, syncs)
    report = PushReport(run_id=None, dry_run=dry_run)
    if not selected:
        return report
    # A dry run writes nothing: no warehouse file where there was none, and every statement it makes (bookkeeping
    # tables, the target's field cache) is rolled back at the end.
    with project.warehouse(read_only=dry_run and not project.warehouse().exists) as wh, \
            (wh.discarded() if dry_run and not wh.read_only else nullcontext()):
        if not wh.read_only:
            state.ensure(wh)
        # a model the last build skipped for lack of data (a form with no posts yet): nothing to send, not an error
        waiting = {s.name: note for s in selected if (note := waiting_for_data(wh, s.model))}
        order = selected
        selected = [_checked_where(project, wh, s) for s in selected if s.name not in waiting]
        models = {s.name: diff.check_model(project, wh, s) for s in selected}
        targets: dict[str, Target] = {}
        try:
            for sync in selected:
                targets[sync.name] = connect(project, wh, sync)
            # every plan is made before anything is sent, so the syncs of a two-way pair judge the same state
            plans: dict[str, Plan] = {}

            def make_plan(sync: SyncConfig) -> Plan:
                model = models[sync.name] if keys is None else _only(models[sync.name], keys)
                main = diff.side(project, wh, sync, model)
                peers = [diff.side(project, wh, p, model) for p in config.peers(every, sync)]
                cands = diff.candidates(wh, model, main, peers)
                if keys is not None:
                    wanted = set(keys)
                    cands.removals = [(k, t) for k, t in cands.removals if k in wanted]
                fresh = main.snapshot.fresh_since if main.snapshot else None
                decided = state.resolutions(wh, sync.name, sync.model, sync.to, fresh) if peers else {}
                return planning.build(cands, sync, targets[sync.name].by_key, decided)

            for sync in selected:
                plans[sync.name] = make_plan(sync)
            if dry_run:
                report.results = [_waiting(s, waiting[s.name]) if s.name in waiting else
                                  _planned(plans[s.name], targets[s.name]) for s in order]
                return report
            books = Bookkeeping(wh)
            books.ensure()
            report.run_id = books.start_run("push")
            status = "failed"
            try:
                for sync in order:
                    if sync.name in waiting:
                        report.results.append(_waiting(sync, waiting[sync.name]))
                        books.write_step(Step(run_id=report.run_id or "", step="push", target=sync.name,
                                              started_at=now(), status="skipped",
                                              detail=f"nothing to send yet: {waiting[sync.name]}"))
                        continue
                    sync = next(s for s in selected if s.name == sync.name)   # its where rendered
                    others = [o for _, o in sync.refs] + [o for _, o, _ in sync.links]
                    if any(other in plans for other in others):
                        # its references name records a sync before it may have just written: plan it again now
                        plans[sync.name] = make_plan(sync)
                    _run(wh, books, report, plans[sync.name], models[sync.name], targets[sync.name], progress)
                status = "success" if report.ok else "failed"
            finally:
                books.finish_run(report.run_id, status, "; ".join(str(e) for e in report.errors) or None)
        finally:
            for target in targets.values():
                target.close()
    return report


def _waiting(sync: SyncConfig, note: str) -> SyncResult:
    """A sync whose model was not built for lack of data: nothing to send (not a failure)."""
    return SyncResult(sync.name, sync.to, sync.object, sync.mode, status="waiting",
                      note=f"{sync.model} was not built ({note})")


def _checked_where(project: Project, wh: Warehouse, sync: SyncConfig) -> SyncConfig:
    """``sync`` with its ``where`` parsed, checked against the model's columns, and rendered from the parsed tree, so
    no text of hub.toml reaches the warehouse as SQL (a model not built yet is left to ``check_model`` to report)."""
    from dataclasses import replace

    from hub.reverse_etl.where import render

    if not sync.where:
        return sync
    line = project.config.line_of("syncs", sync.name, "where")
    columns = dict(wh.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
                            "AND table_name = ? ORDER BY ordinal_position", [sync.schema, sync.table]).rows)
    if not columns:
        from hub.reverse_etl.where import parse

        parse(sync.where, sync=sync.name, line=line)
        return sync
    return replace(sync, where=render(sync.where, columns, sync=sync.name, model=sync.model, line=line))


def _only(model: Model, keys: Sequence[str]) -> Model:
    """``model`` narrowed to the rows whose key is one of ``keys`` (compared as text, as sync state stores keys)."""
    from dataclasses import replace

    from hub.warehouse.sql import literal, quote

    if not keys:
        return replace(model, where="false")
    listed = ", ".join(literal(str(k)) for k in dict.fromkeys(keys))
    scope = f"CAST({quote(model.key)} AS VARCHAR) IN ({listed})"
    return replace(model, where=f"({model.where}) AND {scope}" if model.where else scope)


def _run(wh: Warehouse, books: Bookkeeping, report: PushReport, plan: Plan, model: Model, target: Target,
         progress: Progress | None) -> None:
    """Send one sync's plan, then record its outcome as a ``push`` step of the run."""
    from hub.reverse_etl import state
    from hub.reverse_etl.engine import Execution
    from hub.warehouse.bookkeeping import Step, now
    from hub.warehouse.sql import quote

    sync = plan.sync
    result = SyncResult(sync.name, sync.to, sync.object, sync.mode)
    result.unchanged = plan.total - plan.candidates + len(plan.in_sync)
    started, clock = now(), time.perf_counter()
    acks = state.Acks(wh, sync.name)
    for conflict in plan.conflicts:
        conflict["run_id"] = report.run_id
    execution = Execution(target, plan, acks, result, progress)
    failure: HubError | None
    try:
        execution.run()
        failure = execution.error
    except HubError as exc:
        acks.flush()
        failure = exc
    result.api_calls, result.seconds = target.api_calls, time.perf_counter() - clock
    result.status = "failed" if failure else "success"
    if failure:
        result.error = str(failure)
        report.errors.append(failure)
    else:
        state.forget_orphan_rejects(wh, sync.name, f"SELECT CAST({quote(model.key)} AS VARCHAR) FROM {model.rows}")
    report.results.append(result)
    detail = {k: getattr(result, k) for k in ("creates", "updates", "removals", "rejected", "unchanged", "skipped",
                                              "conflicts", "api_calls")}
    books.write_step(Step(run_id=report.run_id or "", step="push", target=sync.name, started_at=started,
                          status=result.status, rows_in=plan.candidates, rows_out=result.changed,
                          detail=orjson.dumps(detail).decode(), error=result.error))


def _planned(plan: Plan, target: Target) -> SyncResult:
    """What a real run would do, from the plan alone (rows without a known target record count as creates)."""
    from hub.reverse_etl.plan import EXAMPLES

    sync = plan.sync
    result = SyncResult(sync.name, sync.to, sync.object, sync.mode, status="planned", api_calls=target.api_calls)
    updates = [i for i in plan.items if i.record.target_id or i.op == "update_by_key"]
    creates = [i for i in plan.items if not (i.record.target_id or i.op == "update_by_key")]
    removals = [(k, t) for k, t in plan.removals if t] if sync.mode == "mirror" else []
    result.updates, result.creates, result.removals = len(updates), len(creates), len(removals)
    result.rejected, result.skipped, result.conflicts = len(plan.duplicates), len(plan.skipped), len(plan.conflicts)
    result.unchanged = plan.total - len(plan.items) - len(plan.duplicates) - len(plan.skipped)
    for item in updates[:EXAMPLES]:
        before = item.before or {}
        result.examples += [Example(item.record.key, "update", f, before.get(f), v)
                            for f, v in item.record.values.items()]
    for item in creates[:EXAMPLES]:
        result.examples += [Example(item.record.key, "create", f, None, v) for f, v in item.record.values.items()
                            if v is not None][:2]
    result.examples += [Example(key, "remove", "id", tid, None) for key, tid in removals[:EXAMPLES]]
    return result


def rejected_rows(project: Project, sync: str) -> list[dict[str, Any]]:
    """The rows of ``sync`` its target refused, with the target's reason (oldest first)."""
    from hub.reverse_etl import config, state

    config.select(config.load(project), [sync])
    with project.warehouse(read_only=True) as wh:
        rows = state.rejected(wh, sync)
    for row in rows:
        row["payload"] = orjson.loads(row["payload"]) if row.get("payload") else None
    return rows


def sync_status(project: Project) -> list[dict[str, Any]]:
    """Per sync: the latest push's outcome and counts, records in sync, rejected rows and conflicts recorded."""
    from hub.reverse_etl import config, state
    from hub.warehouse.bookkeeping import Bookkeeping

    syncs = config.load(project)
    with project.warehouse(read_only=True) as wh:
        books = Bookkeeping(wh)
        last = {r["target"]: r for r in books.last_steps("push").records()} if books.has_schema() else {}
        counts = state.counts(wh)
    out = []
    for name, sync in syncs.items():
        row = last.get(name) or {}
        detail = orjson.loads(row["detail"]) if row.get("detail") else {}
        count = counts.get(name, {})
        out.append({"sync": name, "model": sync.model, "to": f"{sync.to}.{sync.object}", "mode": sync.mode,
                    "outcome": row.get("status", "never"), "last_run_at": row.get("finished_at"),
                    "last_success_at": row.get("last_success"), "creates": detail.get("creates", 0),
                    "updates": detail.get("updates", 0), "removals": detail.get("removals", 0),
                    "api_calls": detail.get("api_calls", 0), "synced": count.get("synced", 0),
                    "rejected": count.get("rejected", 0), "conflicts": count.get("conflicts", 0),
                    "error": row.get("error")})
    return out
