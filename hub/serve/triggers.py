"""``[triggers.NAME]``: run actions when a webhook event arrives, for the records that event touched.

::

    [triggers.paid_invoice]
    on = "billing:invoice.paid"            # CONNECTION:EVENT_TYPE; "billing:invoice.*", "billing:*" match more
    when = "data.object.amount_paid > 0"   # optional filter on the event's JSON (see hub.serve.when)
    do = ["push:person_to_crm", "notify:https://hooks.example/abc"]
    retries = 3                            # optional: tries after a failed attempt (backoff 1 s, doubling)

``push:SYNC`` brings the event's connection up to date first (an incremental ingest of its streams other than
``events``, none for a webhook-only connection, then a build of the sync's model and what it reads), finds the person
the event is about (the record the connection's webhook scheme names, :meth:`WebhookScheme.subject`, ->
``canonical.person_source``) and pushes that person's row only: the sync's model must be keyed by ``person_id``. An
event about nobody hub knows skips its pushes. ``notify:URL`` posts Slack-compatible JSON (``{"text": ...}``). Every
execution is a run ``trigger:NAME`` in ``_hub.runs`` with one step per action.

Other sources and actions (hub.forms, hub.actions)::

    [triggers.new_lead]
    on = "form:contact"                    # a submission of [forms.contact]; when reads fields.NAME
    do = ["http:provision", "notify:sales_channel"]   # [actions.NAME] of type http / notify

    [triggers.deal_won]
    on = "model:canonical.deal"            # a row ENTERING the condition after a build (hub.actions.data)
    when = "stage = 'closed_won'"          # for models: a SQL condition over the model's columns
    key = "deal_id"                        # the row key (default: the model's unique_key)
    do = ["http:provision"]
    backoff = 1.0                          # optional: seconds before the first retry (doubling)

``push:SYNC`` for a form or model trigger builds the sync's model (and what it reads) and runs the sync, which
writes only what changed. ``http:NAME`` and ``notify:NAME`` are delivered by :mod:`hub.actions.send` (signed,
retried, dead-lettered); ``notify:URL`` posts hub's own one-line message.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from hub.config import CONFIG_FILE, check_number
from hub.errors import ConfigError, HubError, UnknownNameError
from hub.secrets import redact
from hub.serve.when import ExpressionError, Node, compile_when

if TYPE_CHECKING:
    import httpx

    from hub.project import Project
    from hub.serve.inbox import StoredEvent

KEYS = ("on", "when", "do", "retries", "key", "backoff")
ACTIONS = ("push", "notify", "http")
#: the sources a trigger can listen to besides a connection's webhooks: ``form:NAME`` and ``model:SCHEMA.NAME``
SOURCES = ("form", "model")
DEFAULT_RETRIES = 3
BACKOFF_S = 1.0


@dataclass(frozen=True)
class Action:
    """One ``do`` entry: ``push`` with a sync name, or ``notify`` with a URL."""

    kind: str
    target: str
    named: bool = False   # an [actions.NAME] (http:NAME, notify:NAME) rather than a sync or a bare URL

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}"


@dataclass(frozen=True)
class Trigger:
    """A validated ``[triggers.NAME]`` table."""

    name: str
    connection: str
    event_type: str
    actions: tuple[Action, ...]
    when: str | None = None
    retries: int = DEFAULT_RETRIES
    test: Node | None = field(default=None, compare=False, repr=False)
    source: str = "webhook"          # webhook | form | model
    key: str | None = None           # model triggers: the row key column
    backoff: float | None = None     # seconds before the first retry (None: the runner's)

    @property
    def model(self) -> str | None:
        """The model a ``model:`` trigger watches."""
        return self.connection.partition(":")[2] if self.source == "model" else None

    def wants(self, connection: str, event_type: str | None, event: Mapping[str, Any]) -> bool:
        """Whether an event (parsed JSON) fires this trigger."""
        if connection != self.connection:
            return False
        pattern, kind = self.event_type, event_type or ""
        if not (pattern == "*" or pattern == kind or (pattern.endswith("*") and kind.startswith(pattern[:-1]))):
            return False
        return self.test is None or bool(self.test(event))


def load(project: Project) -> dict[str, Trigger]:
    """Every ``[triggers.*]`` table, validated; errors name the hub.toml line and suggest the closest name."""
    return {name: _trigger(project, name, body) for name, body in project.config.named_tables("triggers").items()}


def _trigger(project: Project, name: str, body: Any) -> Trigger:
    line = project.config.line_of
    where = f"[triggers.{name}]"

    def fail(key: str | None, message: str, hint: str | None = None) -> ConfigError:
        at = line("triggers", name, key) if key else line("triggers", name)
        return ConfigError(f"{where} {message}", file=CONFIG_FILE, line=at or line("triggers", name), hint=hint)

    for key in body:
        if key not in KEYS:
            raise UnknownNameError("key", key, KEYS, file=CONFIG_FILE, line=line("triggers", name, key),
                                   where=f" in {where}")
    on = body.get("on")
    if not isinstance(on, str) or ":" not in on:
        raise fail("on" if "on" in body else None, "needs on = \"CONNECTION:EVENT_TYPE\"",
                   hint=f"e.g. on = \"{_example_connection(project)}:*\", \"form:NAME\" or \"model:canonical.NAME\"")
    connection, _, event_type = on.partition(":")
    source = connection if connection in SOURCES and connection not in project.config.connections else "webhook"
    key = None
    if source == "form":
        from hub.forms.config import load as load_forms

        forms = load_forms(project) if "forms" in project.config.sections else {}
        if event_type not in forms:
            raise UnknownNameError("form", event_type, forms, file=CONFIG_FILE, line=line("triggers", name, "on"),
                                   where=f" in {where} on")
        connection, event_type = f"form:{event_type}", "*"
    elif source == "model":
        key = _model_key(project, name, event_type, body.get("key"), fail)
        connection, event_type = f"model:{event_type.lower()}", "*"
    elif connection not in project.config.connections:
        raise UnknownNameError("connection", connection, project.config.connections, file=CONFIG_FILE,
                               line=line("triggers", name, "on"), where=f" in {where} on")
    if "key" in body and source != "model":
        raise fail("key", "key is for model triggers (on = \"model:SCHEMA.NAME\") only")
    test, when = None, body.get("when")
    if when is not None:
        if not isinstance(when, str):
            raise fail("when", "when must be a string")
        if source == "model":   # a SQL condition over the model's columns, checked as a sync's where is
            from hub.reverse_etl.where import parse

            try:
                parse(when, sync=name, line=line("triggers", name, "when"))
            except ConfigError as exc:
                reason = exc.message.split(f"[syncs.{name}] where: ", 1)[-1]
                raise fail("when", f"when: {reason}", hint=exc.hint) from None
        else:
            try:
                test = compile_when(when)
            except ExpressionError as exc:
                raise fail("when", f"when: {exc.message}", hint=exc.hint) from None
    do = body.get("do")
    if isinstance(do, str):
        do = [do]
    if not isinstance(do, list) or not do or not all(isinstance(a, str) for a in do):
        raise fail("do" if "do" in body else None, "needs do = [\"push:SYNC\", \"notify:URL\", ...]")
    actions = tuple(_action(project, name, text) for text in do)
    retries = body.get("retries", DEFAULT_RETRIES)
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 10:
        raise fail("retries", "retries must be a whole number from 0 to 10")
    backoff = None
    if "backoff" in body:
        backoff = check_number(body["backoff"], minimum=0, maximum=600, what=f"{where} backoff", file=CONFIG_FILE,
                               line=line("triggers", name, "backoff"))
    return Trigger(name, connection, event_type or "*", actions, when, retries, test, source, key, backoff)


def _model_key(project: Project, trigger: str, model: str, key: Any, fail: Callable[..., ConfigError]) -> str:
    """The row key of a model trigger: ``key``, else the model's single ``unique_key``."""
    if "." not in model:
        raise fail("on", f"on = \"model:{model}\" must name SCHEMA.MODEL, e.g. model:canonical.person")
    if key is not None and (not isinstance(key, str) or not key.strip()):
        raise fail("key", "key must be a column name")
    from hub.modeling.catalog import load_catalog

    catalog = load_catalog(project)
    known = catalog.models.get(model.lower())
    if known is None:
        if key is None:
            raise UnknownNameError("model", model, catalog.models, file=CONFIG_FILE,
                                   line=project.config.line_of("triggers", trigger, "on"),
                                   where=f" in [triggers.{trigger}] on (or give key = \"COLUMN\" for a table)")
        return key.strip()
    if key is not None:
        if known.columns and key.strip().lower() not in {c.lower() for c in known.columns}:
            raise fail("key", f"key '{key.strip()}' is not a column of {model} (it has {', '.join(known.columns)})")
        return key.strip()
    unique = [a.text.strip()[7:-1].strip() for a in known.header.audits
              if re.fullmatch(r"unique\(\s*\w+\s*\)", a.text.strip())]
    if len(known.header.unique_key) == 1:
        return known.header.unique_key[0]
    if len(unique) == 1:
        return unique[0]
    raise fail("on", f"model {model} has no single unique_key or unique() audit; add key = \"COLUMN\" naming "
                     "its row key")


def _action(project: Project, trigger: str, text: str) -> Action:
    kind, _, target = text.partition(":")
    line = project.config.line_of("triggers", trigger, "do")
    if kind not in ACTIONS:
        raise UnknownNameError("action", kind, ACTIONS, file=CONFIG_FILE, line=line,
                               where=f" in [triggers.{trigger}] do (write push:SYNC, http:ACTION, notify:ACTION or "
                                     "notify:URL)")
    if kind == "http" or (kind == "notify" and re.match(r"^[a-z][a-z0-9_]*$", target)):
        from hub.actions.config import load as load_actions

        defined = load_actions(project) if "actions" in project.config.sections else {}
        if target not in defined:
            raise UnknownNameError("action", target, defined, file=CONFIG_FILE, line=line,
                                   where=f" in [triggers.{trigger}] do (define [actions.{target}])")
        if defined[target].type != kind:
            raise ConfigError(f"[triggers.{trigger}] {kind}:{target} names an action of type "
                              f"{defined[target].type}; write {defined[target].type}:{target}", file=CONFIG_FILE,
                              line=line)
        return Action(kind, target, named=True)
    if kind == "push":
        from hub.reverse_etl import config as syncs

        known = syncs.load(project)
        if target not in known:
            raise UnknownNameError("sync", target, known, file=CONFIG_FILE, line=line,
                                   where=f" in [triggers.{trigger}] do")
    elif not target.startswith(("http://", "https://")):
        raise ConfigError(f"[triggers.{trigger}] notify needs an http(s) URL, not {target!r}", file=CONFIG_FILE,
                          line=line, hint="e.g. notify:https://hooks.slack.com/services/...")
    return Action(kind, target)


# --- running a trigger -------------------------------------------------------------------------


@dataclass
class ActionOutcome:
    """What one action did: success, skipped (nobody to push) or failed after its retries."""

    action: str
    status: str
    attempts: int = 0
    detail: str | None = None
    error: str | None = None


@dataclass
class Execution:
    """One firing of a trigger for one event, recorded as run ``trigger:NAME``."""

    trigger: str
    event_id: str
    run_id: str | None = None
    keys: list[str] = field(default_factory=list)
    outcomes: list[ActionOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.status not in ("failed", "dead_letter") for o in self.outcomes)


class Runner:
    """Executes triggers: ``http`` is injected (notify posts through it); ``stop`` cuts retry waits short."""

    def __init__(self, project: Project, http: httpx.Client, *, stop: threading.Event | None = None,
                 backoff: float = BACKOFF_S) -> None:
        self.project, self.http = project, http
        self.stop = stop or threading.Event()
        self.backoff = backoff
        self._actions: dict[str, Any] | None = None   # [actions.*], loaded at the first delivery

    def run(self, trigger: Trigger, event: StoredEvent, payload: Mapping[str, Any]) -> Execution:
        """Run every action of ``trigger`` for ``event`` (each with retries) and record the run; actions that do not
        land are dead letters (``_hub.action_dead_letters``) and the run ends failed."""
        return self.run_many([(trigger, event, payload)])[0]

    def run_many(self, items: Sequence[tuple[Trigger, StoredEvent, Mapping[str, Any]]]) -> list[Execution]:
        """:meth:`run` for several firings, in order, recording their runs with two warehouse opens in all (one to
        start them, one to finish them) rather than two each: a burst of form posts must not queue behind
        bookkeeping."""
        from hub.actions.send import bury
        from hub.warehouse.bookkeeping import Bookkeeping, Step, now

        if not items:
            return []
        executions = [Execution(trigger.name, event.event_id) for trigger, event, _ in items]
        with self.project.warehouse() as wh:
            books = Bookkeeping(wh)
            books.ensure()
            with wh.transaction():   # one commit (and no snapshot copy per run) for the whole chunk
                ids = books.start_runs([f"trigger:{execution.trigger}" for execution in executions])
                for execution, run_id in zip(executions, ids, strict=True):
                    execution.run_id = run_id
        steps: list[Step] = []
        dead: list[tuple[str, str, str, str, int | None, int, str]] = []
        # a form or model trigger's push sends the whole model, whose build already holds every event of the chunk
        # (all flushed before it runs): the chunk's later firings of that sync have nothing left to send
        pushed: dict[str, str] = {}
        for (trigger, event, payload), execution in zip(items, executions, strict=True):
            started = now()
            refreshed: dict[str, list[str]] = {}
            for action in trigger.actions:
                try:
                    if action.named:
                        outcome = self._deliver(action, trigger, event, payload, dead)
                    elif action.kind == "push":
                        outcome = self._retry(action, trigger, lambda a=action, t=trigger, e=event, p=payload,
                                              r=refreshed: self._push(a, t, e, p, r, pushed))
                    else:
                        outcome = self._retry(action, trigger, lambda a=action, t=trigger, e=event:
                                              self._notify(a, t, e))
                except Exception as exc:   # noqa: BLE001 - a bug in one action fails that action, not the chunk
                    outcome = ActionOutcome(str(action), "failed", 1, None, redact(f"{type(exc).__name__}: {exc}"))
                execution.outcomes.append(outcome)
                detail = orjson.dumps({"event": event.event_id, "attempts": outcome.attempts,
                                       "detail": outcome.detail}).decode()
                steps.append(Step(execution.run_id, "trigger", outcome.action, started, outcome.status, 1, None,
                                  detail, outcome.error))
                steps[-1].finished_at = started = now()
            execution.keys = sorted({k for keys in refreshed.values() for k in keys})
        with self.project.warehouse() as wh, wh.transaction():
            books = Bookkeeping(wh)
            books.write_steps(steps)
            bury(wh, dead)
            books.finish_runs([(execution.run_id or "", "success" if execution.ok else "failed",
                                "; ".join(f"{o.action}: {o.error}" for o in execution.outcomes if o.error) or None)
                               for execution in executions])
        return executions

    def _deliver(self, action: Action, trigger: Trigger, event: StoredEvent, payload: Mapping[str, Any],
                 dead: list[tuple[str, str, str, str, int | None, int, str]]) -> ActionOutcome:
        """An [actions.NAME] (http or notify): rendered, signed, retried; a dead letter when it cannot land."""
        from hub.actions import config as action_config
        from hub.actions.send import deliver, message_id, payload_of

        if self._actions is None:
            self._actions = action_config.load(self.project)
        definition = self._actions[action.target]
        context = {"trigger": trigger.name, "event_id": event.event_id, "event_type": event.type, **payload}
        when = datetime.fromtimestamp(event.received_at, tz=UTC).isoformat().replace("+00:00", "Z")
        default: dict[str, Any] = {"type": event.type or "event", "timestamp": when, "trigger": trigger.name,
                                   "event_id": event.event_id, "data": dict(payload)}
        if definition.type == "notify":
            default = {"text": _line(trigger, event)}
        msg_id = message_id(trigger.name, str(action), event.event_id)
        body = payload_of(definition, context, default)
        done = deliver(definition, body, msg_id, self.http, retries=trigger.retries,
                       backoff=self.backoff if trigger.backoff is None else trigger.backoff, stop=self.stop)
        outcome = ActionOutcome(str(action), done.status, done.attempts, done.detail, done.error)
        if done.status != "success":
            dead.append((trigger.name, str(action), event.event_id, msg_id, done.http_status, done.attempts,
                         done.error or "failed"))
        return outcome

    def _retry(self, action: Action, trigger: Trigger,
               attempt: Callable[[], tuple[str, str | None]]) -> ActionOutcome:
        outcome = ActionOutcome(str(action), "failed")
        backoff = self.backoff if trigger.backoff is None else trigger.backoff
        for n in range(trigger.retries + 1):
            if n and self.stop.wait(backoff * 2 ** (n - 1)):
                break  # shutting down: the event stays un-triggered in the inbox and runs again after a restart
            outcome.attempts += 1
            try:
                outcome.status, outcome.detail = attempt()
                outcome.error = None
                return outcome
            except HubError as exc:
                outcome.error = str(exc)
        return outcome

    def _push(self, action: Action, trigger: Trigger, event: StoredEvent, payload: Mapping[str, Any],
              refreshed: dict[str, list[str]], pushed: dict[str, str]) -> tuple[str, str | None]:
        from hub.reverse_etl import config as syncs, push

        sync = syncs.select(syncs.load(self.project), [action.target])[0]
        if trigger.source != "webhook":   # a form or a model row: build the sync's model, push what changed
            if sync.name in pushed:       # an earlier firing of this chunk pushed it, this event's row included
                if pushed[sync.name].startswith("nothing to send"):
                    return "skipped", pushed[sync.name]
                return "success", f"pushed with an earlier event of its batch ({pushed[sync.name]})"
            if sync.model not in refreshed:
                built = self.project.build([f"+{sync.model}"])
                if not built.ok:
                    raise HubError("; ".join(str(e) for e in built.errors))
                refreshed[sync.model] = []
            with self.project.locked(self.project.push_resources([sync.name])):   # PostgreSQL: as `hub push` does
                report = push(self.project, [sync.name])
            if not report.ok:
                raise HubError("; ".join(str(e) for e in report.errors))
            if report.results and all(r.status == "waiting" for r in report.results):
                # the model was skipped for lack of data (say the org's records are not ingested yet): no error
                pushed[sync.name] = f"nothing to send yet: {report.results[0].note}"
                return "skipped", pushed[sync.name]
            changed = sum(r.changed for r in report.results)
            pushed[sync.name] = f"run {report.run_id}"   # only a push that succeeded covers the chunk
            return "success", f"pushed {changed} change(s) (run {report.run_id})"
        if sync.model not in refreshed:
            self._refresh(trigger.connection, sync.model)
            refreshed[sync.model] = affected_people(self.project, trigger.connection, payload)
        keys = refreshed[sync.model]
        if not keys:
            return "skipped", "the event is about no person hub knows"
        with self.project.locked(self.project.push_resources([sync.name])):
            report = push(self.project, [sync.name], keys=keys)
        if not report.ok:
            raise HubError("; ".join(str(e) for e in report.errors))
        changed = sum(r.changed for r in report.results)
        return "success", f"pushed {changed} change(s) for {', '.join(keys)} (run {report.run_id})"

    def _refresh(self, connection: str, model: str) -> None:
        from hub.registry import connector_class
        from hub.webhooks import EVENTS_TABLE, webhook_only

        conn = self.project.config.connection(connection)
        cls = connector_class(conn.type)
        if not webhook_only(conn, cls.secret_keys):   # a webhook-only connection has no API to catch up from
            catalog = cls.stream_catalog(conn)
            streams = conn.streams or tuple(getattr(cls, "default_streams", ()) or catalog)
            selectors = [f"{connection}.{s}" for s in streams if catalog[s].table != EVENTS_TABLE]
            report = self.project.ingest(selectors)
            if not report.ok:
                raise HubError("; ".join(str(e) for e in report.errors))
        built = self.project.build([f"+{model}"])
        if not built.ok:
            raise HubError("; ".join(str(e) for e in built.errors))

    def _notify(self, action: Action, trigger: Trigger, event: StoredEvent) -> tuple[str, str | None]:
        import httpx

        text = _line(trigger, event)
        body = {"text": text, "trigger": trigger.name, "connection": trigger.connection,
                "event": {"id": event.event_id, "type": event.type}}
        try:
            response = self.http.post(action.target, json=body)
        except httpx.HTTPError as exc:
            raise HubError(f"notify {action.target} unreachable: {type(exc).__name__}") from None
        if response.status_code >= 300:
            raise HubError(f"notify {action.target} answered HTTP {response.status_code}")
        return "success", f"HTTP {response.status_code}"


def _line(trigger: Trigger, event: StoredEvent) -> str:
    """hub's own one-line message about an event (notify without a text template)."""
    return f"hub trigger {trigger.name}: {event.type or 'event'} {event.event_id} from {trigger.connection}"


def affected_people(project: Project, connection: str, event: Mapping[str, Any]) -> list[str]:
    """The person_id(s) the event is about, through ``canonical.person_source`` (empty when unknown)."""
    from hub.webhooks.verify import scheme_for, scheme_named

    conn = project.config.connection(connection)
    source = scheme_named(scheme_for(conn.type)).subject(event)
    if source is None:
        return []
    stream, source_id = source
    with project.warehouse() as wh:
        if not wh.table_exists("canonical", "person_source"):
            return []
        rows = wh.query("SELECT DISTINCT CAST(person_id AS VARCHAR) FROM canonical.person_source WHERE connection = ? "
                        "AND lower(stream) = ? AND CAST(source_id AS VARCHAR) = ? ORDER BY 1",
                        [connection, stream, source_id]).rows
    return [r[0] for r in rows]


def _example_connection(project: Project) -> str:
    """A connection of this project to show in an example (the first), or a placeholder."""
    return next(iter(project.config.connections), "CONNECTION")
