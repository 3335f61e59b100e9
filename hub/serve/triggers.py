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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from hub.config import CONFIG_FILE
from hub.errors import ConfigError, HubError, UnknownNameError
from hub.serve.when import ExpressionError, Node, compile_when

if TYPE_CHECKING:
    import httpx

    from hub.project import Project
    from hub.serve.inbox import StoredEvent

KEYS = ("on", "when", "do", "retries")
ACTIONS = ("push", "notify")
DEFAULT_RETRIES = 3
BACKOFF_S = 1.0


@dataclass(frozen=True)
class Action:
    """One ``do`` entry: ``push`` with a sync name, or ``notify`` with a URL."""

    kind: str
    target: str

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
    raw = project.config.sections.get("triggers", {})
    line = project.config.line_of
    if not isinstance(raw, dict):
        raise ConfigError("[triggers] must be a table of [triggers.NAME] tables", file=CONFIG_FILE,
                          line=line("triggers"))
    return {name: _trigger(project, name, body) for name, body in raw.items()}


def _trigger(project: Project, name: str, body: Any) -> Trigger:
    line = project.config.line_of
    where = f"[triggers.{name}]"

    def fail(key: str | None, message: str, hint: str | None = None) -> ConfigError:
        at = line("triggers", name, key) if key else line("triggers", name)
        return ConfigError(f"{where} {message}", file=CONFIG_FILE, line=at or line("triggers", name), hint=hint)

    if not isinstance(body, dict):
        raise fail(None, "must be a table")
    for key in body:
        if key not in KEYS:
            raise UnknownNameError("key", key, KEYS, file=CONFIG_FILE, line=line("triggers", name, key),
                                   where=f" in {where}")
    on = body.get("on")
    if not isinstance(on, str) or ":" not in on:
        raise fail("on" if "on" in body else None, "needs on = \"CONNECTION:EVENT_TYPE\"",
                   hint=f"e.g. on = \"{_example_connection(project)}:*\"")
    connection, _, event_type = on.partition(":")
    if connection not in project.config.connections:
        raise UnknownNameError("connection", connection, project.config.connections, file=CONFIG_FILE,
                               line=line("triggers", name, "on"), where=f" in {where} on")
    test, when = None, body.get("when")
    if when is not None:
        if not isinstance(when, str):
            raise fail("when", "when must be a string")
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
    return Trigger(name, connection, event_type or "*", actions, when, retries, test)


def _action(project: Project, trigger: str, text: str) -> Action:
    kind, _, target = text.partition(":")
    line = project.config.line_of("triggers", trigger, "do")
    if kind not in ACTIONS:
        raise UnknownNameError("action", kind, ACTIONS, file=CONFIG_FILE, line=line,
                               where=f" in [triggers.{trigger}] do (write push:SYNC or notify:URL)")
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
        return all(o.status != "failed" for o in self.outcomes)


class Runner:
    """Executes triggers: ``http`` is injected (notify posts through it); ``stop`` cuts retry waits short."""

    def __init__(self, project: Project, http: httpx.Client, *, stop: threading.Event | None = None,
                 backoff: float = BACKOFF_S) -> None:
        self.project, self.http = project, http
        self.stop = stop or threading.Event()
        self.backoff = backoff

    def run(self, trigger: Trigger, event: StoredEvent, payload: Mapping[str, Any]) -> Execution:
        """Run every action of ``trigger`` for ``event`` (each with retries) and record the run."""
        from hub.warehouse.bookkeeping import Bookkeeping, Step, now

        execution = Execution(trigger.name, event.event_id)
        with self.project.warehouse() as wh:
            books = Bookkeeping(wh)
            books.ensure()
            execution.run_id = books.start_run(f"trigger:{trigger.name}")
        started = now()
        refreshed: dict[str, list[str]] = {}
        for action in trigger.actions:
            if action.kind == "push":
                outcome = self._retry(action, trigger.retries, lambda a=action: self._push(a, trigger, event,
                                                                                          payload, refreshed))
            else:
                outcome = self._retry(action, trigger.retries, lambda a=action: self._notify(a, trigger, event))
            execution.outcomes.append(outcome)
        execution.keys = sorted({k for keys in refreshed.values() for k in keys})
        errors = "; ".join(f"{o.action}: {o.error}" for o in execution.outcomes if o.error) or None
        with self.project.warehouse() as wh:
            books = Bookkeeping(wh)
            for o in execution.outcomes:
                detail = orjson.dumps({"event": event.event_id, "attempts": o.attempts, "detail": o.detail}).decode()
                books.write_step(Step(execution.run_id, "trigger", o.action, started, o.status, 1, None, detail,
                                      o.error))
            books.finish_run(execution.run_id, "success" if execution.ok else "failed", errors)
        return execution

    def _retry(self, action: Action, retries: int, attempt: Callable[[], tuple[str, str | None]]) -> ActionOutcome:
        outcome = ActionOutcome(str(action), "failed")
        for n in range(retries + 1):
            if n and self.stop.wait(self.backoff * 2 ** (n - 1)):
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
              refreshed: dict[str, list[str]]) -> tuple[str, str | None]:
        from hub.reverse_etl import config as syncs, push

        sync = syncs.select(syncs.load(self.project), [action.target])[0]
        if sync.model not in refreshed:
            self._refresh(trigger.connection, sync.model)
            refreshed[sync.model] = affected_people(self.project, trigger.connection, payload)
        keys = refreshed[sync.model]
        if not keys:
            return "skipped", "the event is about no person hub knows"
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

        text = f"hub trigger {trigger.name}: {event.type or 'event'} {event.event_id} from {trigger.connection}"
        body = {"text": text, "trigger": trigger.name, "connection": trigger.connection,
                "event": {"id": event.event_id, "type": event.type}}
        try:
            response = self.http.post(action.target, json=body)
        except httpx.HTTPError as exc:
            raise HubError(f"notify {action.target} unreachable: {type(exc).__name__}") from None
        if response.status_code >= 300:
            raise HubError(f"notify {action.target} answered HTTP {response.status_code}")
        return "success", f"HTTP {response.status_code}"


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
