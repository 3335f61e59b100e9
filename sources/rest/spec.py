"""``[connections.X]`` with ``type = "rest"``: hub.toml's declaration of a REST API, parsed into dataclasses.

:func:`parse` turns the connection's table (hub.toml, secrets.toml and the environment already merged) into a
:class:`RestSpec` of :mod:`hub.sources.rest.stream` dataclasses. It runs when the configuration loads, so a spec error
stops every command before any request, as one line: ``hub.toml:LINE: what is wrong (how to fix it)``, with
"did you mean" for a misspelt key, auth type, paginator or parent stream.

Secrets (token, api_key, password, client_id, client_secret, refresh_token) are not part of the spec: the connection's
secrets carry them, and :mod:`hub.sources.rest.auth` reads them when the connector is built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from hub.config import CONFIG_FILE, check_number, line_of
from hub.errors import ConfigError, UnknownNameError
from hub.sources.rest.stream import (Auth, CursorPaginator, Incremental, LinkHeaderPaginator, NextUrlPaginator,
                                     OffsetPaginator, PagePaginator, Paginator, RateLimit, RestStream, RestTarget)

#: the keys of ``[connections.X]`` that this module reads (hub.config checks the others)
SPEC_KEYS = ("auth", "rate_limit", "headers", "streams", "targets", "username")
AUTH_TYPES = ("bearer", "api_key", "basic", "oauth2", "none")
PAGINATORS: dict[str, type] = {"next_url": NextUrlPaginator, "link_header": LinkHeaderPaginator,
                               "cursor": CursorPaginator, "offset": OffsetPaginator, "page": PagePaginator}
STREAM_KEYS = ("path", "records", "primary_key", "paginator", "incremental", "params", "table")
INCREMENTAL_KEYS = ("cursor_field", "param", "format")
FORMATS = ("iso", "unix", "unix_ms")
TARGET_KEYS = tuple(f.name for f in fields(RestTarget) if f.name != "name")
ENDPOINTS = ("create", "update", "upsert", "lookup")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_PARENT_FIELD = re.compile(r"^([a-z_][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class RestSpec:
    """Everything a ``type = "rest"`` connection declares, besides its secrets."""

    connection: str
    auth: Auth = Auth(type="none")
    rate_limit: RateLimit | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    streams: Mapping[str, RestStream] = field(default_factory=dict)
    targets: Mapping[str, RestTarget] = field(default_factory=dict)
    username: str | None = None


class _Where:
    """Finds hub.toml lines for one connection's keys: a nested table's header, else the nearest enclosing one."""

    def __init__(self, connection: str, text: str) -> None:
        self.connection, self.text = connection, text

    def line(self, *path: str, key: str | None = None) -> int | None:
        """The line of ``key`` in table ``[connections.<name>.<path>]``, or of the closest thing that holds it."""
        parts = ["connections", self.connection, *path]
        if key is not None:
            found = line_of(self.text, parts, key)
            if found is not None and _table_line(self.text, parts) != found:
                return found
        while len(parts) > 2:
            found = _table_line(self.text, parts)
            if found is not None:
                return found
            parts, last = parts[:-1], parts[-1]
            found = line_of(self.text, parts, last)
            if found is not None and _table_line(self.text, parts) != found:
                return found
        return line_of(self.text, parts)

    def error(self, message: str, *path: str, key: str | None = None, hint: str | None = None) -> ConfigError:
        return ConfigError(message, file=CONFIG_FILE, line=self.line(*path, key=key), key=key, hint=hint)

    def unknown(self, kind: str, name: str, known: Any, *path: str, key: str | None = None,
                where: str = "") -> UnknownNameError:
        return UnknownNameError(kind, name, known, file=CONFIG_FILE, line=self.line(*path, key=key), where=where)


def _table_line(text: str, parts: list[str]) -> int | None:
    header = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(re.escape(p) for p in parts) + r"\s*\]\s*(#.*)?$")
    for number, line in enumerate(text.splitlines(), start=1):
        if header.match(line):
            return number
    return None


def parse(connection: str, body: Mapping[str, Any], text: str = "") -> RestSpec:
    """The :class:`RestSpec` of ``[connections.<connection>]``; raises a one-line :class:`ConfigError` on the first
    problem, pointing at its hub.toml line."""
    where = _Where(connection, text)
    table = f"[connections.{connection}]"
    if not body.get("base_url"):
        raise where.error(f"{table} of type \"rest\" needs base_url",
                          hint='e.g. base_url = "https://api.example.com/v2"')
    headers = _table(where, body.get("headers", {}), "headers", f"{table} headers")
    if not all(isinstance(v, str) for v in headers.values()):
        raise where.error(f"{table} headers must map names to text", key="headers")
    streams_body = _table(where, body.get("streams", {}), "streams", f"{table} streams")
    streams = {name: _stream(where, name, spec) for name, spec in streams_body.items()}
    streams = _link_parents(where, streams)
    targets = {name: _target(where, name, spec)
               for name, spec in _table(where, body.get("targets", {}), "targets", f"{table} targets").items()}
    if not streams and not targets:   # a push-only connection declares targets and no streams
        raise where.error(f"{table} declares no streams and no targets",
                          hint=f"add a [connections.{connection}.streams.NAME] table with path = \"/...\"")
    username = body.get("username")
    return RestSpec(connection, auth=_auth(where, body.get("auth")), rate_limit=_rate_limit(where, body),
                    headers=headers, streams=streams, targets=targets,
                    username=str(username) if username is not None else None)


def _table(where: _Where, value: Any, key: str, what: str, *path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise where.error(f"{what} must be a table", *path, key=key)
    return dict(value)


def _keys(where: _Where, body: Mapping[str, Any], allowed: tuple[str, ...], what: str, *path: str,
          key: str | None = None) -> None:
    for name in body:
        if name not in allowed:
            raise where.unknown("key", name, allowed, *path, key=key if key else name, where=f" in {what}")


def _auth(where: _Where, value: Any) -> Auth:
    table = f"[connections.{where.connection}] auth"
    if value is None:
        return Auth(type="none")
    if isinstance(value, str):
        value = {"type": value}
    body = _table(where, value, "auth", table)
    _keys(where, body, ("type", "in", "name", "grant", "token_url", "scopes"), table, key="auth")
    kind = body.get("type")
    if kind not in AUTH_TYPES:
        if kind is None:
            raise where.error(f"{table} has no type", key="auth", hint=f"add type = one of {', '.join(AUTH_TYPES)}")
        raise where.unknown("auth type", str(kind), AUTH_TYPES, key="auth", where=f" in {table}")
    location = body.get("in", "header")
    if location not in ("header", "query"):
        raise where.unknown("api_key location", str(location), ("header", "query"), key="auth", where=f" in {table}")
    if kind == "api_key" and not body.get("name"):
        raise where.error(f"{table} of type api_key needs name: the header or query parameter that carries the key",
                          key="auth", hint='e.g. auth = { type = "api_key", in = "header", name = "X-API-Key" }')
    grant = body.get("grant", "refresh_token")
    if kind == "oauth2":
        if grant not in ("refresh_token", "client_credentials"):
            raise where.unknown("oauth2 grant", str(grant), ("client_credentials", "refresh_token"), key="auth",
                                where=f" in {table}")
        url = body.get("token_url")
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
            raise where.error(f"{table} of type oauth2 needs token_url, the http(s) URL of the token endpoint",
                              key="auth", hint='e.g. token_url = "https://auth.example.com/oauth/token"')
    scopes = body.get("scopes", ())
    if isinstance(scopes, str):
        scopes = scopes.split()
    if not isinstance(scopes, (list, tuple)) or not all(isinstance(s, str) for s in scopes):
        raise where.error(f"{table} scopes must be a list of text", key="auth")
    default_name = "Authorization" if kind != "api_key" else ""
    return Auth(type=kind, in_=location, name=str(body.get("name") or default_name), grant=grant,
                token_url=body.get("token_url"), scopes=tuple(scopes))


def _rate_limit(where: _Where, body: Mapping[str, Any]) -> RateLimit | None:
    value = body.get("rate_limit")
    if value is None:
        return None
    table = f"[connections.{where.connection}] rate_limit"
    value = _table(where, value, "rate_limit", table)
    _keys(where, value, ("requests", "per_seconds"), table, key="rate_limit")
    if "requests" not in value:
        raise where.error(f"{table} needs requests", key="rate_limit",
                          hint="e.g. rate_limit = { requests = 100, per_seconds = 60 }")
    line = where.line(key="rate_limit")
    requests = check_number(value["requests"], minimum=1, maximum=1_000_000, whole=True, what=f"{table} requests",
                            line=line, key="rate_limit")
    per = check_number(value.get("per_seconds", 1), minimum=0.001, maximum=86_400, what=f"{table} per_seconds",
                       line=line, key="rate_limit")
    return RateLimit(requests, per)


def _stream(where: _Where, name: str, value: Any) -> RestStream:
    table = f"[connections.{where.connection}.streams.{name}]"
    path = ("streams", name)
    body = _table(where, value, name, table, "streams")
    if not _NAME.match(name):
        raise where.error(f"stream name '{name}' must be lower-case letters, digits and _ (it names the table "
                          f"raw_{where.connection}.{name})", *path)
    _keys(where, body, STREAM_KEYS, table, *path)
    url_path = body.get("path")
    if not isinstance(url_path, str) or not url_path:
        raise where.error(f"{table} needs path, relative to base_url", *path, key="path",
                          hint=f'e.g. path = "/{name}"')
    for key in ("records", "primary_key", "table"):
        if key in body and not isinstance(body[key], str):
            raise where.error(f"{table} {key} must be text", *path, key=key)
    if not body.get("primary_key", "id"):
        raise where.error(f"{table} primary_key must name the field that identifies a record", *path, key="primary_key")
    params = _table(where, body.get("params", {}), "params", f"{table} params", *path)
    return RestStream(name=name, path=url_path, records=body.get("records", ""),
                      primary_key=body.get("primary_key", "id"), paginator=_paginator(where, body, table, path),
                      incremental=_incremental(where, body, table, path), params=params, table=body.get("table"))


def _paginator(where: _Where, body: Mapping[str, Any], table: str, path: tuple[str, ...]) -> Paginator | None:
    value = body.get("paginator")
    if value is None:
        return None
    if isinstance(value, str):
        value = {"type": value}
    value = _table(where, value, "paginator", f"{table} paginator", *path)
    kind = value.get("type")
    if kind not in PAGINATORS:
        if kind is None:
            raise where.error(f"{table} paginator has no type", *path, key="paginator",
                              hint=f"add type = one of {', '.join(PAGINATORS)}")
        raise where.unknown("paginator", str(kind), PAGINATORS, *path, key="paginator", where=f" in {table}")
    cls = PAGINATORS[kind]
    allowed = tuple(f.name for f in fields(cls))
    _keys(where, value, allowed, f"{table} paginator (type {kind})", *path, key="paginator")
    if kind == "cursor":
        if not value.get("param"):
            raise where.error(f"{table} cursor paginator needs param, the query parameter that sends the cursor back",
                              *path, key="paginator", hint='e.g. paginator = { type = "cursor", param = "cursor", '
                                                           'path = "meta.next_cursor" }')
        if not value.get("path") and not value.get("cursor_from_last"):
            raise where.error(f"{table} cursor paginator needs path (where the next cursor is in the body) or "
                              "cursor_from_last (the last record's field that is the cursor)", *path, key="paginator")
    for name, default in ((f.name, f.default) for f in fields(cls)):
        if name in value and isinstance(default, int) and not isinstance(value[name], int):
            raise where.error(f"{table} paginator {name} must be a whole number", *path, key="paginator")
        if name in value and isinstance(default, str) and not isinstance(value[name], str):
            raise where.error(f"{table} paginator {name} must be text", *path, key="paginator")
    if kind == "offset" and "limit" in value and value["limit"] < 1:
        raise where.error(f"{table} paginator limit must be at least 1", *path, key="paginator")
    return cls(**value)


def _incremental(where: _Where, body: Mapping[str, Any], table: str, path: tuple[str, ...]) -> Incremental | None:
    value = body.get("incremental")
    if value is None:
        return None
    value = _table(where, value, "incremental", f"{table} incremental", *path)
    _keys(where, value, INCREMENTAL_KEYS, f"{table} incremental", *path, key="incremental")
    for key in ("cursor_field", "param"):
        if not isinstance(value.get(key), str) or not value[key]:
            raise where.error(f"{table} incremental needs {key}", *path, key="incremental",
                              hint='e.g. incremental = { cursor_field = "updated_at", param = "updated_since" }')
    fmt = value.get("format", "iso")
    if fmt not in FORMATS:
        raise where.unknown("incremental format", str(fmt), FORMATS, *path, key="incremental", where=f" in {table}")
    return Incremental(value["cursor_field"], value["param"], fmt)


def _link_parents(where: _Where, streams: dict[str, RestStream]) -> dict[str, RestStream]:
    """Set each child stream's parent from its path's ``{parent.field}`` placeholders, and check them."""
    out = {}
    for name, stream in streams.items():
        parents = set()
        table = f"[connections.{where.connection}.streams.{name}]"
        for placeholder in _PLACEHOLDER.findall(stream.path):
            match = _PARENT_FIELD.match(placeholder)
            if not match:
                raise where.error(f"{table} path placeholder {{{placeholder}}} must name a parent stream's field, "
                                  "as {stream.field}", "streams", name, key="path",
                                  hint="e.g. path = \"/tickets/{tickets.id}/comments\"")
            parent = match.group(1)
            if parent == name:
                raise where.error(f"{table} path names the stream itself as its parent", "streams", name, key="path")
            if parent not in streams:
                raise where.unknown("parent stream", parent, [s for s in streams if s != name], "streams", name,
                                    key="path", where=f" in {table} path")
            parents.add(parent)
        if len(parents) > 1:
            raise where.error(f"{table} path names {len(parents)} parent streams; a child stream has one",
                              "streams", name, key="path")
        out[name] = _with_parent(stream, next(iter(parents), None))
    for name in out:  # a cycle would read forever
        seen, current = {name}, out[name].parent
        while current is not None:
            if current in seen:
                raise where.error(f"streams {name} and {current} are each other's parents", "streams", name,
                                  key="path")
            seen.add(current)
            current = out[current].parent
    return out


def _with_parent(stream: RestStream, parent: str | None) -> RestStream:
    return replace(stream, parent=parent) if parent else stream


def _target(where: _Where, name: str, value: Any) -> RestTarget:
    table = f"[connections.{where.connection}.targets.{name}]"
    path = ("targets", name)
    body = _table(where, value, name, table, "targets")
    _keys(where, body, TARGET_KEYS, table, *path)
    if not any(body.get(e) for e in ENDPOINTS):
        raise where.error(f"{table} declares no endpoint", *path,
                          hint='add create, update, upsert or lookup, e.g. create = "POST /contacts"')
    for endpoint in ENDPOINTS:
        spec = body.get(endpoint)
        if spec is None:
            continue
        method, _, url = str(spec).partition(" ")
        if method.upper() not in METHODS or not url.strip().startswith("/"):
            raise where.error(f"{table} {endpoint} must be \"METHOD /path\", got {spec!r}", *path, key=endpoint,
                              hint=f'e.g. {endpoint} = "POST /{name}"')
    if "body" in body and not isinstance(body["body"], Mapping):
        raise where.error(f"{table} body must be a table (a template of the request body)", *path, key="body")
    if "batch_size" in body:
        check_number(body["batch_size"], minimum=1, maximum=10_000, whole=True, what=f"{table} batch_size",
                     line=where.line(*path, key="batch_size"), key="batch_size")
    for key in ("records_path", "id_path", "errors_path", "lookup_param", "lookup_records"):
        if key in body and not isinstance(body[key], str):
            raise where.error(f"{table} {key} must be text", *path, key=key)
    return RestTarget(name=name, **body)
