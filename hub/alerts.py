"""Alerts: tell people when a run failed, a target rejected too many rows, or a connection's data went stale.

``[alerts]`` in hub.toml sends to a Slack-compatible webhook (``{"text": ...}``) and/or by email over SMTP::

    [alerts]
    webhook_url = "https://hooks.slack.com/services/..."
    smtp_host = "smtp.example.com"
    smtp_port = 587
    smtp_starttls = true
    smtp_username = "hub@example.com"        # password: secrets.toml [alerts] or HUB__ALERTS__PASSWORD
    email_from = "hub@example.com"
    email_to = ["data-team@example.com"]
    rejected_rows_threshold = 0               # alert when a run's rejected rows exceed this

Messages are built from the run records in ``_hub`` and pass through :func:`hub.secrets.redact`; the webhook URL and the
SMTP password are registered as secrets too, so neither can appear in a message or an error. A failure to deliver an
alert never fails the run it reports on: it comes back as a :class:`Delivery` with ``ok = False``.

Layers: alerts read the run history (:mod:`hub.history`); the runner (:mod:`hub.run`) calls them, never the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hub.config import CONFIG_FILE, env_var
from hub.config import line_of as _line_of
from hub.errors import ConfigError, HubError, UnknownNameError
from hub.secrets import Secret, redact

if TYPE_CHECKING:
    import httpx

    from hub.project import Project
    from hub.warehouse.duck import Warehouse

KEYS = ("webhook_url", "smtp_host", "smtp_port", "smtp_starttls", "smtp_username", "password", "email_from",
        "email_to", "rejected_rows_threshold")
ALERTED_COMMANDS = ("ingest", "build", "push", "run")     # and every schedule:NAME job
SENT_DDL = ("CREATE SCHEMA IF NOT EXISTS _hub; CREATE TABLE IF NOT EXISTS _hub.alerts_sent ("
            "kind VARCHAR NOT NULL, target VARCHAR NOT NULL, mark VARCHAR, sent_at TIMESTAMPTZ NOT NULL, "
            "PRIMARY KEY (kind, target))")


@dataclass(frozen=True)
class AlertConfig:
    """A validated ``[alerts]`` table."""

    webhook_url: Secret | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    password: Secret | None = None
    email_from: str | None = None
    email_to: tuple[str, ...] = ()
    rejected_rows_threshold: int = 0


@dataclass
class Delivery:
    """Whether one channel took one alert."""

    channel: str                  # webhook | email
    ok: bool
    error: str | None = None


@dataclass
class Alert:
    """One alert and how its delivery went."""

    kind: str                     # failed | rejected | stale
    subject: str
    text: str
    deliveries: list[Delivery] = field(default_factory=list)


def load(project: Project) -> AlertConfig | None:
    """``[alerts]`` validated (None when the project has none); errors point at hub.toml lines."""
    body = project.config.sections.get("alerts")
    if not body:
        return None

    def line_of(table: str, key: str | None = None) -> int | None:
        return _line_of(project.config.text, [table], key)

    if not isinstance(body, dict):
        raise ConfigError("[alerts] must be a table", file=CONFIG_FILE, line=line_of("alerts"))
    for key in body:
        if key not in KEYS:
            raise UnknownNameError("key", key, KEYS, file=CONFIG_FILE, line=line_of("alerts", key),
                                   where=" in [alerts]")

    def fail(key: str, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"[alerts] {key} {message}", file=CONFIG_FILE, line=line_of("alerts", key), key=key,
                           hint=hint)

    url = body.get("webhook_url")
    if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise fail("webhook_url", "must be an http(s) URL")
    to = body.get("email_to", [])
    to = [to] if isinstance(to, str) else to
    if not isinstance(to, list) or not all(isinstance(t, str) and "@" in t for t in to):
        raise fail("email_to", "must be an address or a list of addresses")
    host = body.get("smtp_host")
    if host is not None and not isinstance(host, str):
        raise fail("smtp_host", "must be a host name")
    if host and not (to and body.get("email_from")):
        raise fail("smtp_host", "needs email_from and email_to to send mail")
    if body.get("smtp_username") and not body.get("password"):
        raise fail("smtp_username", "is set but no password was given",
                   hint=f"add password under [alerts] in secrets.toml or set {env_var('alerts', 'password')}")
    port = body.get("smtp_port", 587 if body.get("smtp_starttls") else 25)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise fail("smtp_port", "must be a port number")
    threshold = body.get("rejected_rows_threshold", 0)
    if not isinstance(threshold, int) or threshold < 0:
        raise fail("rejected_rows_threshold", "must be a whole number >= 0")
    if not isinstance(body.get("smtp_starttls", False), bool):
        raise fail("smtp_starttls", "must be true or false")
    return AlertConfig(webhook_url=Secret(url) if url else None, smtp_host=host, smtp_port=port,
                       smtp_starttls=bool(body.get("smtp_starttls", False)),
                       smtp_username=body.get("smtp_username"),
                       password=Secret(str(body["password"])) if body.get("password") else None,
                       email_from=body.get("email_from"), email_to=tuple(to), rejected_rows_threshold=threshold)


def after_run(project: Project, run_id: str | None, *, now: datetime | None = None,
              http: httpx.Client | None = None) -> list[Alert]:
    """The one hook: after a run, alert on its failure, on rejected rows over the threshold, and on stale data."""
    config = load(project)
    if config is None or not run_id:
        return []
    from hub import history   # only a project with [alerts] reads the history (most runs stop above)

    now = now or datetime.now(UTC)
    with project.warehouse() as wh:
        record = history.run(wh, run_id)
        alerts = _run_alerts(project, wh, record, config) if record else []
        alerts += _stale_alerts(project, wh, now)
    for alert in alerts:
        alert.deliveries = send(config, alert.subject, alert.text, http=http)
    return alerts


def alert_error(project: Project, command: str, error: HubError, *, http: httpx.Client | None = None) -> list[Alert]:
    """Alert on a command that failed before it could record a run (a config or lock error, say)."""
    config = load(project)
    if config is None:
        return []
    alert = Alert("failed", f"hub {command} failed in {project.root.name}",
                  redact(f"hub {command} failed in project {project.root.name}: {error}"))
    alert.deliveries = send(config, alert.subject, alert.text, http=http)
    return [alert]


def send(config: AlertConfig, subject: str, text: str, *, http: httpx.Client | None = None) -> list[Delivery]:
    """Send one alert to every configured channel."""
    subject, text = redact(subject), redact(text)
    out = []
    if config.webhook_url:
        out.append(_post(config.webhook_url, text, http))
    if config.smtp_host:
        out.append(_mail(config, subject, text))
    return out


def _run_alerts(project: Project, wh: Warehouse, record: dict[str, Any], config: AlertConfig) -> list[Alert]:
    command = record["command"]
    if command not in ALERTED_COMMANDS and not command.startswith("schedule:"):
        return []
    from hub import history

    name = project.root.name
    # a job's steps point at the runs they made (detail = run id): their steps carry the rows and rejections
    children = [history.run(wh, s["detail"]) for s in record["steps"] if s["step"] == "job" and s["detail"]]
    steps = [s for r in [record, *[c for c in children if c]] for s in r["steps"] if s["step"] != "job"]
    alerts = []
    if record["status"] == "failed":
        lines = [(f"hub {command} failed in project {name} (run {record['run_id']}, started "
                  f"{record['started_at']:%Y-%m-%d %H:%M:%S %Z})")]
        if record.get("error"):
            lines.append(f"error: {record['error']}")
        lines += [f"- {s['step']} {s['target']}: {s['error']}" for s in steps if s["status"] == "failed"]
        lines += [f"- {s['target']}: {s['status']}" + (f": {s['error']}" if s["error"] else "")
                  for s in record["steps"] if s["step"] == "job" and s["status"] != "success"]
        lines.append("see `hub runs` and `hub status`")
        alerts.append(Alert("failed", f"hub {command} failed in {name}", redact("\n".join(lines))))
    rejected = [s for s in steps if s["step"] == "push" and s["rejected"]]
    total = sum(s["rejected"] for s in rejected)
    if total > config.rejected_rows_threshold:
        lines = [(f"hub {command} in project {name}: targets rejected {total:,} row(s) (threshold "
                  f"{config.rejected_rows_threshold:,}; run {record['run_id']})")]
        lines += [f"- {s['target']}: {s['rejected']:,} rejected" for s in rejected]
        lines.append("see `hub push --show-rejected SYNC` for the reasons")
        alerts.append(Alert("rejected", f"hub: {total:,} rejected row(s) in {name}", redact("\n".join(lines))))
    return alerts


def _stale_alerts(project: Project, wh: Warehouse, now: datetime) -> list[Alert]:
    """One alert per connection per stale spell: it is sent again only after a newer success went stale too."""
    if not project.config.sections.get("schedules"):
        return []
    from hub import history

    stale = [c for c in history.freshness(project, wh, now) if c["stale"]]
    if not stale:
        return []
    wh.execute(SENT_DDL)
    sent = {r[0]: r[1] for r in wh.query("SELECT target, mark FROM _hub.alerts_sent WHERE kind = 'stale'").rows}
    alerts = []
    for conn in stale:
        mark = conn["last_success_at"].isoformat()
        if sent.get(conn["connection"]) == mark:
            continue
        hours = conn["interval_seconds"] / 3600
        text = (f"hub: connection '{conn['connection']}' in project {project.root.name} is stale: last successful "
                f"ingest {conn['last_success_at']:%Y-%m-%d %H:%M %Z}, schedule '{conn['schedule']}' runs every "
                f"{hours:g} h\nsee `hub status` and `hub runs`")
        alerts.append(Alert("stale", f"hub: {conn['connection']} is stale in {project.root.name}", redact(text)))
        wh.execute("INSERT INTO _hub.alerts_sent VALUES ('stale', ?, ?, ?) ON CONFLICT (kind, target) DO UPDATE SET "
                   "mark = excluded.mark, sent_at = excluded.sent_at", [conn["connection"], mark, now])
    return alerts


def _post(url: Secret, text: str, http: httpx.Client | None) -> Delivery:
    import httpx

    client = http or httpx.Client(timeout=10.0)
    try:
        response = client.post(url.reveal(), json={"text": text})
        if response.status_code >= 300:
            return Delivery("webhook", False, f"webhook answered HTTP {response.status_code}")
    except httpx.HTTPError as exc:
        return Delivery("webhook", False, redact(f"webhook unreachable: {type(exc).__name__}: {exc}"))
    finally:
        if http is None:
            client.close()
    return Delivery("webhook", True)


def _mail(config: AlertConfig, subject: str, text: str) -> Delivery:
    import smtplib   # here: every command asks whether to alert, few projects send mail
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, config.email_from, ", ".join(config.email_to)
    message.set_content(text)
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=10) as smtp:
            if config.smtp_starttls:
                smtp.starttls()
            if config.smtp_username and config.password:
                smtp.login(config.smtp_username, config.password.reveal())
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        return Delivery("email", False, redact(f"SMTP {config.smtp_host}:{config.smtp_port}: {exc}"))
    return Delivery("email", True)
