"""Data triggers: ``on = "model:SCHEMA.NAME"`` fires once per row that ENTERS its ``when`` condition.

An event sync over a model. After each build (`hub build`, `hub run`, a trigger's refresh) and after each flush of
`hub serve`, :func:`evaluate` compares the rows inside the condition now with those inside last time:

* a row inside now and not last time ENTERS: one firing, recorded in ``_hub.trigger_outbox`` in the SAME DuckDB
  transaction that updates the remembered state (``_hub.trigger_rows``), so a crash either records both or neither:
  a row is never fired twice and never lost;
* a row still inside does not fire again; a row that left (no longer matches, or is gone from the model) is
  forgotten as inside, so if it enters again later it fires again, as a new entry (``entries`` counts them);
* the first evaluation of a trigger (or one whose model, ``when`` or ``key`` changed) takes a baseline: the rows
  already inside do not fire (adding a trigger to a warehouse of 10,000 won deals must not provision them all).

Firings are then delivered from the outbox (:func:`deliver`): each runs the trigger's actions through
:class:`hub.serve.triggers.Runner` (a run ``trigger:NAME``, dead letters for actions that cannot land) and is marked
``done`` or ``failed``. A firing is claimed by one process at a time (its pid and host); one whose process died
before marking it is delivered again, with the same event id, so an ``http`` action's ``webhook-id`` is the same and
the receiver applies it once. The event id of a firing is ``TRIGGER:KEY:ENTRY``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from hub.errors import HubError, WarehouseError
from hub.failpoints import failpoint
from hub.secrets import redact
from hub.warehouse.sql import qualified, quote

if TYPE_CHECKING:
    import httpx

    from hub.project import Project
    from hub.serve.triggers import Execution, Runner, Trigger

log = logging.getLogger("hub.actions")
STATE = ("_hub", "trigger_rows")
OUTBOX = ("_hub", "trigger_outbox")
BASELINES = ("_hub", "trigger_baselines")
EVENT_TYPE = "row.entered"


@dataclass
class Evaluation:
    """What one evaluation of the data triggers found: new firings per trigger, baselines taken, errors."""

    fired: dict[str, int]
    baselined: list[str]
    errors: dict[str, str]
    executions: list[Execution]


def trigger_lines(evaluation: Evaluation | None) -> list[str]:
    """What the data triggers did, a line each, for the CLI."""
    if evaluation is None:
        return []
    lines = [f"trigger {name}: baseline taken (rows already inside do not fire)" for name in evaluation.baselined]
    lines += [f"trigger {name}: {n} row(s) entered" for name, n in evaluation.fired.items() if n]
    lines += [f"trigger {name}: could not be evaluated: {error}" for name, error in evaluation.errors.items()]
    for e in evaluation.executions:
        actions = ", ".join(f"{o.action} {o.status}" for o in e.outcomes)
        lines.append(f"trigger {e.trigger} for {e.event_id}: {'ok' if e.ok else 'failed'} ({actions}; run {e.run_id})")
    return lines


def model_triggers(project: Project) -> list[Trigger]:
    """The ``model:`` triggers of the project (none without [triggers])."""
    if "triggers" not in project.config.sections:
        return []
    from hub.serve.triggers import load

    return [t for t in load(project).values() if t.source == "model"]


_busy = threading.local()


def after_build(project: Project, *, http: httpx.Client | None = None,
                stop: threading.Event | None = None) -> Evaluation | None:
    """Evaluate the model triggers and deliver what fired (what `hub build` and `hub run` call after a build).

    Not again inside itself: a trigger's ``push`` builds its sync's model, and that build must not start a second
    evaluation (it would deliver the firing being delivered)."""
    if getattr(_busy, "on", False):
        return None
    triggers = model_triggers(project)
    if not triggers:
        return None
    import httpx

    from hub.serve.triggers import Runner

    own = http is None
    client = http or httpx.Client(timeout=30.0)
    _busy.on = True
    try:
        return evaluate(project, triggers, Runner(project, client, stop=stop))
    finally:
        _busy.on = False
        if own:
            client.close()


def evaluate(project: Project, triggers: list[Trigger], runner: Runner) -> Evaluation:
    """Detect entering rows of every model trigger, then deliver every pending firing."""
    was, _busy.on = getattr(_busy, "on", False), True
    try:
        return _evaluate(project, triggers, runner)
    finally:
        _busy.on = was


def _evaluate(project: Project, triggers: list[Trigger], runner: Runner) -> Evaluation:
    result = Evaluation({}, [], {}, [])
    for trigger in triggers:
        try:
            fired = detect(project, trigger)
        except HubError as exc:
            result.errors[trigger.name] = redact(str(exc))
            _record_failure(project, trigger, exc)
            continue
        if fired is None:
            result.baselined.append(trigger.name)
        else:
            result.fired[trigger.name] = fired
    failpoint("triggers.detected")
    result.executions = deliver(project, {t.name: t for t in triggers}, runner)
    return result


def _fingerprint(trigger: Trigger) -> str:
    return hashlib.sha256(f"{trigger.model}\x00{trigger.key}\x00{trigger.when or ''}".encode()).hexdigest()[:16]


def detect(project: Project, trigger: Trigger) -> int | None:
    """Record the rows of ``trigger``'s model that entered its condition; how many (None: a baseline was taken,
    or the model does not exist yet)."""
    schema, _, table = (trigger.model or "").partition(".")
    try:
        return _detect(project, trigger, schema, table)
    except WarehouseError as exc:
        raise HubError(f"trigger {trigger.name}: {exc.message.removeprefix('warehouse statement failed: ')}",
                       hint=f"check its when and key against the columns of {trigger.model}") from None


def _detect(project: Project, trigger: Trigger, schema: str, table: str) -> int | None:
    with project.warehouse() as wh:
        if not wh.table_exists(schema, table):
            return None
        _ensure(wh)
        condition = f"({trigger.when})" if trigger.when else "true"
        with wh.transaction():
            wh.execute("DROP TABLE IF EXISTS temp.hub_trigger_now")
            wh.execute("CREATE TEMP TABLE hub_trigger_now AS SELECT DISTINCT ON (k) k, r FROM (SELECT "
                       f"CAST(m.{quote(trigger.key or 'id')} AS VARCHAR) AS k, CAST(to_json(m) AS VARCHAR) AS r FROM "
                       f"{qualified(schema, table)} m WHERE {condition}) AS now_inside WHERE k IS NOT NULL")
            known = wh.query(f"SELECT fingerprint FROM {qualified(*BASELINES)} WHERE trigger = ?",
                             [trigger.name]).rows
            baseline = not known or known[0][0] != _fingerprint(trigger)
            fired = 0
            if not baseline:
                entering = (f"FROM hub_trigger_now n LEFT JOIN {qualified(*STATE)} s ON s.trigger = ? AND s.key = n.k "
                            "WHERE s.inside IS NOT TRUE")
                fired = wh.query(f"SELECT count(*) {entering}", [trigger.name]).scalar()
                wh.execute(f"INSERT INTO {qualified(*OUTBOX)} (id, trigger, key, entry, row, created_at, status) "
                           f"SELECT ? || ':' || n.k || ':' || CAST(coalesce(s.entries, 0) + 1 AS VARCHAR), ?, n.k, "
                           f"coalesce(s.entries, 0) + 1, n.r, now(), 'pending' {entering}",
                           [trigger.name, trigger.name, trigger.name])
            else:
                wh.execute(f"DELETE FROM {qualified(*STATE)} WHERE trigger = ?", [trigger.name])
            # the state: rows inside now (an entry counted where one fired), rows that left marked outside
            old = quote(STATE[1])
            wh.execute(f"INSERT INTO {qualified(*STATE)} (trigger, key, inside, entries, changed_at) "
                       f"SELECT ?, k, true, {'0' if baseline else '1'}, now() FROM hub_trigger_now "
                       # the row already there named by its table (a bare name is ambiguous with excluded's)
                       f"ON CONFLICT (trigger, key) DO UPDATE SET entries = CASE WHEN NOT {old}.inside THEN "
                       f"{old}.entries + 1 ELSE {old}.entries END, changed_at = CASE WHEN NOT {old}.inside THEN now() "
                       f"ELSE {old}.changed_at END, inside = true", [trigger.name])
            wh.execute(f"UPDATE {qualified(*STATE)} SET inside = false, changed_at = now() WHERE trigger = ? AND "
                       "inside AND key NOT IN (SELECT k FROM hub_trigger_now)", [trigger.name])
            wh.execute(f"INSERT INTO {qualified(*BASELINES)} VALUES (?, ?, now()) ON CONFLICT (trigger) DO UPDATE "
                       "SET fingerprint = excluded.fingerprint, taken_at = excluded.taken_at",
                       [trigger.name, _fingerprint(trigger)])
            wh.execute("DROP TABLE temp.hub_trigger_now")
    return None if baseline else int(fired)


def deliver(project: Project, triggers: dict[str, Trigger], runner: Runner) -> list[Execution]:
    """Run the actions of every pending firing this process can claim; mark each done or failed."""
    from hub.serve.inbox import StoredEvent
    from hub.warehouse.bookkeeping import HOST, interrupted

    with project.warehouse() as wh:
        if not wh.table_exists(*OUTBOX):
            return []
        with wh.transaction():
            rows = wh.query(f"SELECT id, claimed_pid, claimed_host FROM {qualified(*OUTBOX)} WHERE status = "
                            "'pending' AND trigger IN (SELECT unnest(CAST(? AS VARCHAR[])))", [list(triggers)]).rows
            free = [i for i, pid, host in rows if pid is None or pid == os.getpid() and host == HOST
                    or interrupted({"status": "running", "pid": pid, "host": host})]
            if not free:
                return []
            claimed = wh.query(f"UPDATE {qualified(*OUTBOX)} SET claimed_pid = ?, claimed_host = ? WHERE id IN "
                               "(SELECT unnest(CAST(? AS VARCHAR[]))) RETURNING id, trigger, row, created_at",
                               [os.getpid(), HOST, free]).rows
    items = []
    for event_id, name, row, created in sorted(claimed, key=lambda r: (r[3], r[0])):
        trigger = triggers[name]
        at = created.timestamp() if isinstance(created, datetime) else datetime.now(UTC).timestamp()
        items.append((trigger, StoredEvent(0, trigger.connection, event_id, EVENT_TYPE, at, row.encode()),
                      orjson.loads(row)))
    executions = runner.run_many(items)
    failpoint("triggers.delivered")
    with project.warehouse() as wh, wh.transaction():
        for e in executions:
            wh.execute(f"UPDATE {qualified(*OUTBOX)} SET status = ?, finished_at = now(), run_id = ? WHERE id = ?",
                       ["done" if e.ok else "failed", e.run_id, e.event_id])
    return executions


def _ensure(wh: Any) -> None:
    wh.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(STATE[0])}")
    wh.execute(f"CREATE TABLE IF NOT EXISTS {qualified(*STATE)} (trigger VARCHAR NOT NULL, key VARCHAR NOT NULL, "
               "inside BOOLEAN NOT NULL, entries INTEGER NOT NULL, changed_at TIMESTAMPTZ NOT NULL, "
               "PRIMARY KEY (trigger, key))")
    wh.execute(f"CREATE TABLE IF NOT EXISTS {qualified(*OUTBOX)} (id VARCHAR PRIMARY KEY, trigger VARCHAR NOT NULL, "
               "key VARCHAR NOT NULL, entry INTEGER NOT NULL, row VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL, "
               "status VARCHAR NOT NULL, claimed_pid INTEGER, claimed_host VARCHAR, finished_at TIMESTAMPTZ, "
               "run_id VARCHAR)")
    wh.execute(f"CREATE TABLE IF NOT EXISTS {qualified(*BASELINES)} (trigger VARCHAR PRIMARY KEY, fingerprint VARCHAR "
               "NOT NULL, taken_at TIMESTAMPTZ NOT NULL)")


def _record_failure(project: Project, trigger: Trigger, exc: Exception) -> None:
    """A trigger whose condition cannot be evaluated (a column renamed, say): a failed run that says why."""
    from hub.warehouse.bookkeeping import Bookkeeping

    log.error("hub: trigger %s could not be evaluated: %s", trigger.name, redact(str(exc)))
    try:
        with project.warehouse() as wh:
            books = Bookkeeping(wh)
            books.ensure()
            run = books.start_run(f"trigger:{trigger.name}")
            books.finish_run(run, "failed", f"could not evaluate the condition: {exc}")
    except HubError:   # the warehouse itself is the problem: the log line above is all we can do
        pass
