"""Config checks that need the connector: each ``[connections.<name>]`` against the integration it names.

:mod:`hub.config` reads and merges the files and checks what every connection has (name, type, base_url, secrets); it
knows no connector. Here each connection meets its connector class, found through the registry: its type must be
known, its keys those the connector takes, its streams ones the connector has, its client options in range, its
pinned API version one the integration declares; then the connector's own :meth:`Connector.check_config` hook sees the
table. ``Project`` calls :func:`check_connections` right after loading, so every command refuses a bad connection
before it does anything. No vendor is named here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.config import CONFIG_FILE, CONNECTION_KEYS, Config, ConnectionConfig, check_number, line_of
from hub.errors import ConfigError, UnknownNameError
from hub.integrations import connector_class, connector_types, get

if TYPE_CHECKING:
    from hub.sources.base import Connector

#: Upper bounds of the client options (sources.base.CLIENT_OPTIONS declares their lower bounds): past these a value is
#: a typo, and an infinite or huge one hangs a run (``retry_base_delay = inf``) or overflows (``timeout = 1e308``).
CLIENT_OPTION_MAXIMUM = {"max_retries": 100, "retry_base_delay": 600.0, "timeout": 3600.0}
#: any connection may receive webhooks (`hub serve`), signed with its webhook_secret
WEBHOOK_KEYS = ("webhook_secret",)


def check_connections(config: Config) -> None:
    """Check every connection of ``config`` against its connector; the first problem raises one ConfigError line."""
    for connection in config.connections.values():
        check_connection(connection, config.text)


def check_connection(connection: ConnectionConfig, text: str) -> None:
    """Check one connection (see the module's docstring for what, in which order)."""
    name, kind = connection.name, connection.type
    if kind not in connector_types():
        raise UnknownNameError("connector type", kind, connector_types(), file=CONFIG_FILE,
                               line=line_of(text, ["connections", name], "type"))
    from hub.sources.base import CLIENT_OPTIONS

    cls = connector_class(kind)
    versions = get(kind).api_version
    body = _body(connection)
    allowed = (*CONNECTION_KEYS, *CLIENT_OPTIONS, *cls.options, *cls.secret_keys, *WEBHOOK_KEYS,
               *(("api_version",) if versions is not None else ()))
    for key in body:
        if key not in allowed:
            raise UnknownNameError("key", key, allowed, file=CONFIG_FILE,
                                   line=line_of(text, ["connections", name], key), where=f" in [connections.{name}]")
    _check_streams(cls, connection, text)
    for key in CLIENT_OPTIONS:
        if key in body:
            _check_client_option(name, key, body[key], text)
    if "api_version" in body:   # pinned vendor API version: checked before any call (sources/versions.py)
        from hub.sources.versions import check as check_api_version

        check_api_version(kind, name, body["api_version"], line=line_of(text, ["connections", name], "api_version"))
    # the connector's own keys, parsed once (a declarative connector's spec); the result joins the options
    connection.options.update(cls.configure(name, body, text))
    cls.check_config(name, body, text)


def _body(connection: ConnectionConfig) -> dict[str, Any]:
    """The connection's table as the user wrote it (merged; secrets stay :class:`Secret`)."""
    body: dict[str, Any] = {"type": connection.type}
    if connection.base_url is not None:
        body["base_url"] = connection.base_url
    if connection.streams is not None:
        body["streams"] = list(connection.streams)
    return {**body, **connection.options, **connection.secrets}


def _check_streams(cls: type[Connector], connection: ConnectionConfig, text: str) -> None:
    where = line_of(text, ["connections", connection.name], "streams")
    if "streams" in connection.options and "streams" not in cls.options and not cls.declares_streams:
        # not a list of names, and the connector does not declare streams of its own shape (tables)
        raise ConfigError(f"[connections.{connection.name}] streams must be a list of names", file=CONFIG_FILE,
                          line=where)
    catalog = cls.stream_catalog(connection) if not cls.declares_streams else cls.streams
    for stream in connection.streams or ():
        if stream not in catalog:
            raise UnknownNameError(f"{connection.type} stream", stream, catalog, file=CONFIG_FILE, line=where)


def _check_client_option(connection: str, key: str, value: Any, text: str) -> None:
    """A retry/timeout option checked against its declaration in ``sources.base.CLIENT_OPTIONS``."""
    from hub.sources.base import CLIENT_OPTIONS

    option = CLIENT_OPTIONS[key]
    check_number(value, minimum=option.minimum, maximum=CLIENT_OPTION_MAXIMUM[key], whole=option.kind is int,
                 what=f"[connections.{connection}] {key}", line=line_of(text, ["connections", connection], key),
                 key=key, hint=option.help)
