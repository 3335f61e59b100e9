"""``[actions.NAME]`` in hub.toml: named ``http`` and ``notify`` actions that triggers run (``do = ["http:NAME"]``).

::

    [actions.provision]
    type = "http"                                   # a signed JSON POST to your own endpoint
    url = "https://app.example.com/hooks/provision"
    body = { customer = "{{ data.object.customer }}", plan = "pro", amount = "{{ data.object.amount_paid }}" }
    timeout = 15                                    # seconds per attempt (default 15)
    # signing_secret = "whsec_..." in secrets.toml [actions.provision] (Standard Webhooks; required)

    [actions.sales_channel]
    type = "notify"                                 # Slack-compatible: POST {"text": ...} to an incoming webhook
    url = "https://hooks.example.com/services/..."  # may live in secrets.toml instead (it is a credential)
    text = "New lead: {{ fields.email }} from {{ fields.company }}"

Templates (:mod:`hub.actions.template`) read the event: a webhook's JSON, a form submission
(``fields.NAME``, ``id``, ``submitted_at``) or a model row (its columns), plus ``trigger`` and ``event_id``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub.config import CONFIG_FILE, SECRETS_FILE, check_number, env_var
from hub.errors import ConfigError, UnknownNameError
from hub.secrets import Secret

if TYPE_CHECKING:
    from hub.project import Project

TYPES = ("http", "notify")
KEYS = {"http": ("type", "url", "body", "timeout", "signing_secret"), "notify": ("type", "url", "text", "timeout")}
DEFAULT_TIMEOUT_S = 15.0
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ActionDef:
    """A validated ``[actions.NAME]``."""

    name: str
    type: str
    url: Secret = field(repr=False)          # often a credential (chat webhook URLs carry a token): never shown
    body: Any = None                         # http: the JSON body template (None: the default body)
    text: str | None = None                  # notify: the message template (None: a default line)
    timeout: float = DEFAULT_TIMEOUT_S
    signing_secret: Secret | None = field(default=None, repr=False)


def load(project: Project) -> dict[str, ActionDef]:
    """Every ``[actions.*]`` table, validated (templates parsed); errors name the hub.toml line."""
    return {name: _action(project, name, body) for name, body in project.config.named_tables("actions").items()}


def _action(project: Project, name: str, body: Any) -> ActionDef:
    from hub.actions.template import TemplateError, check

    line = project.config.line_of
    where = f"[actions.{name}]"

    def fail(key: str | None, message: str, hint: str | None = None, file: str = CONFIG_FILE) -> ConfigError:
        at = (line("actions", name, key) if key else None) or line("actions", name)
        return ConfigError(f"{where} {message}", file=file, line=at if file == CONFIG_FILE else None, hint=hint)

    if not _NAME.match(name):
        raise fail(None, "name must be lower-case letters, digits and _")
    kind = body.get("type")
    if kind not in TYPES:
        raise fail("type" if "type" in body else None, f"needs type = \"http\" or \"notify\", got {kind!r}")
    for key in body:
        if key not in KEYS[kind]:
            raise UnknownNameError("key", key, KEYS[kind], file=CONFIG_FILE, line=line("actions", name, key),
                                   where=f" in {where} (type {kind})")
    url = body.get("url")
    if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+\S*$", url):
        raise fail("url", "needs url = \"https://...\"")
    timeout = check_number(body.get("timeout", DEFAULT_TIMEOUT_S), minimum=0.1, maximum=300, what=f"{where} timeout",
                           file=CONFIG_FILE, line=line("actions", name, "timeout"))
    try:
        if "body" in body:
            check(body["body"])
        if "text" in body:
            if not isinstance(body["text"], str):
                raise fail("text", "text must be a string (a message template)")
            check(body["text"])
    except TemplateError as exc:
        raise fail("body" if "body" in body else "text", str(exc)) from None
    secret = None
    if kind == "http":
        raw = body.get("signing_secret")
        hint = (f"set {env_var('actions', name, 'signing_secret')} or signing_secret = \"whsec_...\" under {where} "
                f"in {SECRETS_FILE} (whsec_ + base64 of 24-64 random bytes; your endpoint verifies with it)")
        if not raw:
            raise fail(None, "needs a signing_secret (Standard Webhooks) to sign its posts", hint=hint,
                       file=SECRETS_FILE)
        try:
            key = base64.b64decode(str(raw).removeprefix("whsec_") + "==", validate=False)
        except (binascii.Error, ValueError):
            key = b""
        if not 24 <= len(key) <= 64:   # the Standard Webhooks specification: 24 to 64 random bytes
            raise fail(None, "signing_secret must be whsec_ followed by base64 of 24 to 64 bytes", hint=hint,
                       file=SECRETS_FILE)
        secret = Secret(str(raw))
    return ActionDef(name, kind, Secret(url), body.get("body"), body.get("text"), timeout, secret)
