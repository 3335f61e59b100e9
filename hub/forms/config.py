"""``[forms.NAME]`` in hub.toml: the web forms ``hub serve`` takes at ``POST /forms/NAME``, checked completely at load.

::

    [forms.contact]
    connection = "website"           # the submissions land in raw_website.contact (default: raw_forms.contact)
    fields = { email = { type = "email", required = true }, name = { required = true }, message = { max_length = 900 } }
    honeypot = "website_url"         # a bot that fills this hidden field is answered as usual and dropped
    origins = ["https://www.example.com"]   # browser posts from these origins only; CORS for them
    rate_limit = "5/minute"          # per client address: N/second | N/minute | N/hour
    redirect = "https://www.example.com/thanks"   # 303 there after a browser (form-encoded) post
    # secret = "..." in secrets.toml [forms.contact], or HUB__FORMS__CONTACT__SECRET: then every post must carry it

A field is ``{ type = "text" | "email" | "number" | "url" | "tel", required = false, max_length = 1000,
choices = [...] }`` (all optional; ``{}`` is an optional text field of at most 1,000 characters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub.config import CONFIG_FILE, SECRETS_FILE, check_number, env_var
from hub.errors import ConfigError, HubError, UnknownNameError
from hub.secrets import Secret

if TYPE_CHECKING:
    from hub.project import Project

KEYS = ("connection", "fields", "honeypot", "origins", "rate_limit", "redirect", "secret", "max_body")
FIELD_KEYS = ("type", "required", "max_length", "choices")
TYPES = ("text", "email", "number", "url", "tel")
DEFAULT_CONNECTION = "forms"
DEFAULT_MAX_LENGTH = 1000
DEFAULT_MAX_BODY = 64 * 1024
#: names hub itself writes in the form's table, so no declared field may take them
RESERVED = ("id", "submitted_at")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)\s*$")
_PER = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_ORIGIN = re.compile(r"^https?://[^/\s]+$")


@dataclass(frozen=True)
class Field:
    """One declared field of a form."""

    name: str
    type: str = "text"
    required: bool = False
    max_length: int = DEFAULT_MAX_LENGTH
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Form:
    """A validated ``[forms.NAME]``."""

    name: str
    connection: str
    fields: tuple[Field, ...]
    honeypot: str | None = None
    origins: tuple[str, ...] = ()
    rate: tuple[int, float] | None = None          # (requests, per seconds)
    redirect: str | None = None
    secret: Secret | None = field(default=None, repr=False)
    max_body: int = DEFAULT_MAX_BODY

    @property
    def key(self) -> str:
        """The form's sender key in the inbox and in triggers' ``on``: ``form:NAME``."""
        return f"form:{self.name}"

    @property
    def schema(self) -> str:
        return f"raw_{self.connection}"


def load(project: Project) -> dict[str, Form]:
    """Every ``[forms.*]`` table, validated; errors name the hub.toml line."""
    return {name: _form(project, name, body) for name, body in project.config.named_tables("forms").items()}


def _form(project: Project, name: str, body: Any) -> Form:
    line = project.config.line_of
    where = f"[forms.{name}]"

    def fail(key: str | None, message: str, hint: str | None = None) -> ConfigError:
        at = (line("forms", name, key) if key else None) or line("forms", name)
        return ConfigError(f"{where} {message}", file=CONFIG_FILE, line=at, hint=hint)

    if not _NAME.match(name):
        raise fail(None, "name must be lower-case letters, digits and _ (it names the table)")
    for key in body:
        if key not in KEYS:
            raise UnknownNameError("key", key, KEYS, file=CONFIG_FILE, line=line("forms", name, key),
                                   where=f" in {where}")
    connection = body.get("connection", DEFAULT_CONNECTION)
    if not isinstance(connection, str) or not _NAME.match(connection):
        raise fail("connection", "connection must be a lower-case name (it names the schema raw_<connection>)")
    taken = _tables_of(project, connection)
    if name in taken:
        raise fail(None, f"lands in raw_{connection}.{name}, a table connection '{connection}' already fills; "
                         "rename the form or give it another connection")
    fields = body.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise fail("fields" if "fields" in body else None, "needs fields = { NAME = { ... }, ... }",
                   hint='e.g. fields = { email = { type = "email", required = true }, message = {} }')
    declared = tuple(_field(fail, fname, spec) for fname, spec in fields.items())
    honeypot = body.get("honeypot")
    if honeypot is not None and (not isinstance(honeypot, str) or not _FIELD.match(honeypot)):
        raise fail("honeypot", "honeypot must be the name of a hidden field")
    if honeypot in fields:
        raise fail("honeypot", f"honeypot '{honeypot}' is also a declared field; pick a name no person fills in")
    origins = body.get("origins", [])
    if not isinstance(origins, list) or not all(isinstance(o, str) and _ORIGIN.match(o) for o in origins):
        raise fail("origins", "origins must be a list of origins such as \"https://www.example.com\" (no path)")
    rate = None
    if "rate_limit" in body:
        m = _RATE.match(str(body["rate_limit"])) if isinstance(body["rate_limit"], str) else None
        if not m or int(m.group(1)) < 1:
            raise fail("rate_limit", f"rate_limit must be like \"5/minute\" (N/second, N/minute or N/hour), "
                                     f"got {body['rate_limit']!r}")
        rate = (int(m.group(1)), _PER[m.group(2)])
    redirect = body.get("redirect")
    if redirect is not None and (not isinstance(redirect, str) or not re.match(r"^https?://\S+$", redirect)):
        raise fail("redirect", "redirect must be an http(s) URL")
    max_body = check_number(body.get("max_body", DEFAULT_MAX_BODY), minimum=1024, maximum=1024 * 1024, whole=True,
                            what=f"{where} max_body", file=CONFIG_FILE, line=line("forms", name, "max_body"))
    secret = body.get("secret")
    if secret is not None and (not isinstance(secret, str) or len(secret) < 16):
        raise ConfigError(f"{where} secret must be a string of at least 16 characters", file=SECRETS_FILE,
                          hint=f"set it in {SECRETS_FILE} under {where} or in {env_var('forms', name, 'secret')}")
    return Form(name, connection, declared, honeypot, tuple(o.rstrip("/") for o in origins), rate, redirect,
                Secret(secret) if secret else None, max_body)


def _tables_of(project: Project, connection: str) -> set[str]:
    """The raw tables a configured connection fills (its streams' and its webhook events'), none otherwise."""
    from hub.webhooks import EVENTS_TABLE

    conn = project.config.connections.get(connection)
    if conn is None:
        return {EVENTS_TABLE}
    from hub.integrations import connector_class

    try:
        catalog = connector_class(conn.type).stream_catalog(conn)
    except HubError:   # an unknown type: the connection check says so, with its own line
        return {EVENTS_TABLE}
    return {EVENTS_TABLE, *(getattr(s, "table", None) or n for n, s in catalog.items())}


def _field(fail: Any, name: Any, spec: Any) -> Field:
    if not isinstance(name, str) or not _FIELD.match(name):
        raise fail("fields", f"field name {name!r} must be letters, digits and _")
    if name in RESERVED:
        raise fail("fields", f"field '{name}' is a column hub writes itself ({', '.join(RESERVED)}); rename it")
    if not isinstance(spec, dict):
        raise fail("fields", f"field '{name}' must be a table such as {{ required = true }}")
    for key in spec:
        if key not in FIELD_KEYS:
            raise fail("fields", f"field '{name}' has unknown key '{key}' (known: {', '.join(FIELD_KEYS)})")
    kind = spec.get("type", "text")
    if kind not in TYPES:
        raise fail("fields", f"field '{name}' type {kind!r} is not one of {', '.join(TYPES)}")
    required = spec.get("required", False)
    if not isinstance(required, bool):
        raise fail("fields", f"field '{name}' required must be true or false")
    max_length = spec.get("max_length", DEFAULT_MAX_LENGTH)
    if not isinstance(max_length, int) or isinstance(max_length, bool) or not 1 <= max_length <= 100_000:
        raise fail("fields", f"field '{name}' max_length must be a whole number from 1 to 100000")
    choices = spec.get("choices")
    if choices is not None and (not isinstance(choices, list) or not choices
                                or not all(isinstance(c, str) for c in choices)):
        raise fail("fields", f"field '{name}' choices must be a list of strings")
    return Field(name, kind, required, max_length, tuple(choices) if choices else None)
