"""Load and validate a project's configuration: hub.toml + secrets.toml + environment.

Lookup order, highest first: environment variables ``HUB__<SECTION>__<NAME>__<KEY>``, then ``secrets.toml`` (same shape
as hub.toml), then ``hub.toml``, then defaults. Secrets (tokens, client secrets, refresh tokens...) may come only from
the first two; one in hub.toml is an error, so it cannot be committed by accident. Every error names the file and line
(or the environment variable) and says how to fix it.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hub.errors import ConfigError, ProjectNotFoundError, SecretMissingError, UnknownNameError
from hub.secrets import Secret

CONFIG_FILE = "hub.toml"
SECRETS_FILE = "secrets.toml"
ENV_PREFIX = "HUB__"

#: Keys whose values are secret wherever they appear.
SECRET_KEYS = frozenset({"token", "client_id", "client_secret", "refresh_token", "access_token", "webhook_secret",
                         "password", "api_key", "signing_secret", "secret"})
#: Top-level sections; later sections are validated by the subsystem that owns them.
SECTIONS = ("project", "warehouse", "connections", "models", "syncs", "schedules", "alerts", "triggers", "forms",
            "actions")
WAREHOUSE_KEYS = ("type", "path", "dsn", "password")
#: ``[warehouse] type`` values; "duckdb" (a file) is the default
WAREHOUSE_TYPES = ("duckdb", "postgres")
#: The keys of ``[connections.<name>]`` every connection has; the rest belong to its connector, which checks them
#: (hub/integrations/checks.py: this module stays a leaf that knows no connector).
CONNECTION_KEYS = ("type", "base_url", "streams")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ConnectionConfig:
    """One account of an external system: ``[connections.<name>]``."""

    name: str
    type: str
    base_url: str | None = None
    streams: tuple[str, ...] | None = None
    #: every other non-secret key, as written; its connector says which it takes (hub/integrations/checks.py)
    options: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Secret] = field(default_factory=dict)
    #: the project's directory; OAuth connections keep rotated tokens in its .hub/tokens.json
    root: Path | None = None

    def secret(self, key: str) -> Secret:
        """The secret ``key`` of this connection, or an error saying exactly where to put it."""
        value = self.secrets.get(key)
        if not value:
            raise SecretMissingError(
                f"connection '{self.name}' needs a {key}",
                hint=f"set {env_var('connections', self.name, key)} or add {key} = \"...\" under "
                     f"[connections.{self.name}] in {SECRETS_FILE}")
        return value


@dataclass(frozen=True)
class WarehouseConfig:
    """``[warehouse]``: a DuckDB file (``path``) or a PostgreSQL database (``dsn`` without password + ``password``)."""

    type: str = "duckdb"
    path: Path | None = None
    dsn: str | None = None
    password: Secret | None = None

    @property
    def label(self) -> str:
        """How output names the warehouse: the file, or the DSN (never with a password)."""
        return str(self.path) if self.type == "duckdb" else str(self.dsn)


@dataclass(frozen=True)
class Config:
    """A validated project configuration."""

    root: Path
    warehouse_path: Path
    connections: dict[str, ConnectionConfig]
    sections: dict[str, Any]          # raw models/syncs/schedules/alerts/triggers tables, for their own validators
    text: str = ""                    # hub.toml's text, to point errors at lines
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)

    @property
    def file(self) -> Path:
        return self.root / CONFIG_FILE

    def line_of(self, *path: str) -> int | None:
        """The line of hub.toml that defines ``path``, for error messages: ``("syncs", name)`` is the table
        ``[syncs.name]``; a third part is a key inside it: ``("syncs", name, "fields")``."""
        if len(path) >= 3:
            return line_of(self.text, list(path[:-1]), path[-1])
        return line_of(self.text, list(path))

    def named_tables(self, section: str) -> dict[str, dict[str, Any]]:
        """The ``[section.NAME]`` tables by name (none when hub.toml has no such section). The section, or one entry
        of it, that is not a table (``syncs = 1``, ``[triggers]`` then ``x = "y"``) is a ConfigError at its line."""
        raw = self.sections.get(section, {})
        message = f"[{section}] must be a table of [{section}.NAME] tables"
        if not isinstance(raw, dict):
            raise ConfigError(message, file=CONFIG_FILE, line=line_of(self.text, [], section),
                              hint=f"write each one as a [{section}.NAME] header followed by its keys")
        for name, body in raw.items():
            if not isinstance(body, dict):
                at = (line_of(self.text, [section], name) or line_of(self.text, [], f"{section}.{name}")
                      or line_of(self.text, [section]))
                raise ConfigError(message, file=CONFIG_FILE, line=at, key=name,
                                  hint=f"'{name}' is not one: write [{section}.{name}] and put its keys under it")
        return raw

    def connection(self, name: str) -> ConnectionConfig:
        try:
            return self.connections[name]
        except KeyError:
            raise UnknownNameError("connection", name, self.connections, file=CONFIG_FILE) from None


def env_var(*path: str) -> str:
    """The environment variable that overrides a config key: ``HUB__CONNECTIONS__CRM__TOKEN``."""
    return ENV_PREFIX + "__".join(p.upper() for p in path)


def find_root(start: Path | None = None, explicit: Path | None = None) -> Path:
    """The project directory: ``explicit`` (``-C``) or the nearest directory upward holding hub.toml."""
    if explicit is not None:
        root = Path(explicit).resolve()
        if not (root / CONFIG_FILE).is_file():
            raise ProjectNotFoundError(f"no {CONFIG_FILE} in {root}", hint="run `hub init` there, or pass -C DIR")
        return root
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    raise ProjectNotFoundError(f"no {CONFIG_FILE} in {here} or any parent directory",
                               hint="run `hub init` to create a project, or pass -C DIR")


def load(root: Path, environ: dict[str, str] | None = None) -> Config:
    """Read, merge and validate the configuration of the project in ``root``."""
    environ = os.environ if environ is None else environ
    text, doc = _read_toml(root / CONFIG_FILE)
    _refuse_secrets(doc, text)
    secrets_path = root / SECRETS_FILE
    _, secret_doc = _read_toml(secrets_path) if secrets_path.exists() else ("", {})
    merged = _merge(doc, secret_doc)
    merged = _merge(merged, _from_env(environ))
    _check_sections(merged, text)
    _check_env_names(doc, secret_doc, environ)

    warehouse = _warehouse(merged.get("warehouse", {}), root, text)
    wh_path = warehouse.path if warehouse.path is not None else root / ".hub" / "postgres"

    connections = {name: _connection(name, body, text, root) for name, body in merged.get("connections", {}).items()}
    sections = {k: merged[k] for k in SECTIONS if k in merged and k not in ("warehouse", "connections")}
    return Config(root=root, warehouse_path=wh_path, connections=connections, sections=sections, text=text,
                  warehouse=warehouse)


def _warehouse(body: Any, root: Path, text: str) -> WarehouseConfig:
    """``[warehouse]`` checked whole: its type, and the keys that type needs (a DSN never carries the password)."""
    line = line_of(text, ["warehouse"])
    if not isinstance(body, dict):
        raise ConfigError("[warehouse] must be a table", file=CONFIG_FILE, line=line)
    _check_keys(body, WAREHOUSE_KEYS, ["warehouse"], text)
    kind = body.get("type", "duckdb")
    if kind not in WAREHOUSE_TYPES:
        raise UnknownNameError("warehouse type", str(kind), WAREHOUSE_TYPES, file=CONFIG_FILE,
                               line=line_of(text, ["warehouse"], "type"), where=" in [warehouse]")
    if kind == "duckdb":
        for key in ("dsn", "password"):
            if key in body:
                raise ConfigError(f"[warehouse] {key} is for type = \"postgres\"; a duckdb warehouse is a file",
                                  file=CONFIG_FILE, line=line_of(text, ["warehouse"], key) or line,
                                  hint="set path = \"warehouse.duckdb\", or type = \"postgres\" to use the dsn")
        path = Path(str(body.get("path", "warehouse.duckdb")))
        return WarehouseConfig(path=path if path.is_absolute() else root / path)
    if "path" in body:
        raise ConfigError("[warehouse] path is for a duckdb warehouse; a postgres warehouse is reached by dsn",
                          file=CONFIG_FILE, line=line_of(text, ["warehouse"], "path"), hint="remove path")
    dsn = body.get("dsn")
    dsn_line = line_of(text, ["warehouse"], "dsn")
    # from hub.toml, or (not written there) from secrets.toml or HUB__WAREHOUSE__DSN
    where: dict[str, Any] = ({"file": CONFIG_FILE, "line": dsn_line} if dsn_line and dsn_line != line
                             else {"file": f"{SECRETS_FILE} or {env_var('warehouse', 'dsn')}"})
    if not dsn:
        where = {"file": CONFIG_FILE, "line": line}
    if not dsn or not isinstance(dsn, str):
        raise ConfigError("[warehouse] type = \"postgres\" needs a dsn", **where,
                          hint="add dsn = \"postgresql://USER@HOST:5432/DATABASE\" under [warehouse]")
    _check_dsn(dsn, where)
    password = body.get("password")
    return WarehouseConfig(type="postgres", dsn=dsn, password=Secret(str(password)) if password else None)


def _connection(name: str, body: Any, text: str, root: Path | None = None) -> ConnectionConfig:
    """The generic part of one ``[connections.<name>]``: its name, type, base_url and secrets.

    Every other key is kept in ``options`` unchecked: which keys, streams and API versions a connection takes is its
    connector's to say, and :func:`hub.integrations.checks.check_connections` asks it (``Project`` does, at load).
    """
    line = line_of(text, ["connections", name])
    if not isinstance(body, dict):
        raise ConfigError(f"[connections.{name}] must be a table", file=CONFIG_FILE, line=line)
    if not _NAME.match(name):
        raise ConfigError(f"connection name '{name}' must be lower-case letters, digits and _ (it names the schema "
                          f"raw_{name})", file=CONFIG_FILE, line=line)
    kind = body.get("type")
    if not kind or not isinstance(kind, str):
        raise ConfigError(f"[connections.{name}] has no type", file=CONFIG_FILE, line=line,
                          hint="add type = \"...\" (`hub integrations` lists the types)")
    streams = body.get("streams")
    names: tuple[str, ...] | None = None
    if isinstance(streams, list):
        if not all(isinstance(s, str) for s in streams):
            raise ConfigError(f"[connections.{name}] streams must be a list of names",
                              file=CONFIG_FILE, line=line_of(text, ["connections", name], "streams"))
        names = tuple(streams)
    base_url = body.get("base_url")
    if base_url is not None and not re.match(r"^https?://[^\s/]+", str(base_url)):
        raise ConfigError(f"[connections.{name}] base_url '{base_url}' is not an http(s) URL",
                          file=CONFIG_FILE, line=line_of(text, ["connections", name], "base_url"))
    secrets = {k: Secret(str(v)) for k, v in body.items() if k in SECRET_KEYS and v}
    # a streams value that is not a list of names (a declarative connector's tables) is the connector's to read
    generic = {"type", "base_url", *(("streams",) if names is not None else ())}
    options = {k: v for k, v in body.items() if k not in generic and k not in SECRET_KEYS}
    return ConnectionConfig(name=name, type=kind, base_url=str(base_url).rstrip("/") if base_url else None,
                            streams=names, options=options, secrets=secrets, root=root)


def check_number(value: Any, *, minimum: float, maximum: float, whole: bool = False, what: str,
                 file: str = CONFIG_FILE, line: int | None = None, key: str | None = None,
                 hint: str | None = None) -> Any:
    """``value`` when it is a finite number (whole if ``whole``) in ``[minimum, maximum]``, else one ConfigError line.

    The one range check of hub's settings: TOML allows ``inf``, ``nan`` and ``1e308``, and none is a usable delay,
    timeout, count or threshold.
    """
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = number and (isinstance(value, int) if whole else True) and math.isfinite(value) \
        and minimum <= value <= maximum
    if not ok:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{what} must be {kind} from {minimum:g} to {maximum:g}, got {value!r}", file=file,
                          line=line, key=key, hint=hint)
    return int(value) if whole else float(value)


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path.name}: {exc.strerror}", file=path.name) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at (line|end of document).*\)", "", str(exc))
        if match:
            where = f"{path.name}:{match.group(1)}:{match.group(2)}"
        else:  # "at end of document": something opened earlier was never closed
            where = f"{path.name}:{len(text.splitlines()) or 1}"
            message += " (at end of file)"
        raise ConfigError(f"{where}: invalid TOML: {message}", hint="fix the syntax at that position") from None


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _from_env(environ: dict[str, str]) -> dict[str, Any]:
    """Environment overrides as a nested dict; values are parsed as TOML values when they parse, else kept as
    strings."""
    out: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or raw == "":
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX):].split("__") if p]
        if len(path) < 2:
            continue
        value: Any = raw
        if path[-1] not in SECRET_KEYS:
            try:
                value = tomllib.loads(f"v = {raw}")["v"]
            except tomllib.TOMLDecodeError:
                value = raw
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"environment variable {name} conflicts with another HUB__ variable")
        node[path[-1]] = value
    return out


def _refuse_secrets(doc: dict[str, Any], text: str, path: tuple[str, ...] = ()) -> None:
    for key, value in doc.items():
        if isinstance(value, dict):
            _refuse_secrets(value, text, (*path, key))
        elif key in SECRET_KEYS:
            raise ConfigError(f"{key} is a secret and must not be in {CONFIG_FILE}", file=CONFIG_FILE,
                              line=line_of(text, list(path), key),
                              hint=f"move it to {SECRETS_FILE} or set {env_var(*path, key)}")


def _check_sections(doc: dict[str, Any], text: str) -> None:
    for key in doc:
        if key not in SECTIONS:
            raise UnknownNameError("section", key, SECTIONS, file=CONFIG_FILE, line=line_of(text, [key]))


def _check_keys(body: dict[str, Any], allowed: tuple[str, ...], path: list[str], text: str) -> None:
    for key in body:
        if key not in allowed:
            raise UnknownNameError("key", key, allowed, file=CONFIG_FILE, line=line_of(text, path, key),
                                   where=f" in [{'.'.join(path)}]")


def _check_env_names(doc: dict[str, Any], secret_doc: dict[str, Any], environ: dict[str, str]) -> None:
    """A secret for a connection hub.toml does not define is almost always a typo in its name: say so."""
    defined = set(doc.get("connections", {}))
    for name in secret_doc.get("connections", {}):
        if name not in defined:
            raise UnknownNameError("connection", name, defined, file=SECRETS_FILE,
                                   where=f" in {SECRETS_FILE} (hub.toml defines no such connection)")
    for var in environ:
        parts = var.split("__")
        if var.startswith(ENV_PREFIX + "CONNECTIONS__") and len(parts) >= 4 and environ[var]:
            name = parts[2].lower()
            if name not in defined:
                raise UnknownNameError("connection", name, defined,
                                       where=f" in environment variable {var} (hub.toml defines no such connection)")


def line_of(text: str, table: list[str], key: str | None = None) -> int | None:
    """Best-effort line number of ``[a.b]`` (and ``key = ...`` inside it) in TOML ``text``."""
    if not text:
        return None
    header = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(re.escape(p) for p in table) + r"\s*\]") if table else None
    in_table = header is None
    found = None
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(r"^\s*\[", line):
            in_table = bool(header and header.match(line))
            if in_table and key is None:
                return number
            if in_table:
                found = found or number
            continue
        if in_table and key is not None and re.match(r"^\s*" + re.escape(key) + r"\s*=", line):
            return number
    return found


DSN_SCHEMES = ("postgresql", "postgres")
_MOVE = ("move the password to secrets.toml ([warehouse] password = \"...\") or HUB__WAREHOUSE__PASSWORD, and "
         "write the dsn without it: postgresql://USER@HOST:5432/DATABASE")


def _check_dsn(dsn: str, where: dict[str, Any]) -> None:
    """Refuse a DSN hub cannot use, in one line that never repeats a password it may hold."""
    try:
        parts = urlsplit(dsn)
        port = parts.port
    except ValueError:
        raise ConfigError("[warehouse] dsn is not a postgresql:// URL (its port or host cannot be read)", **where,
                          hint="write it as postgresql://USER@HOST:5432/DATABASE") from None
    if parts.scheme not in DSN_SCHEMES:
        raise ConfigError(f"[warehouse] dsn must start with postgresql://, not {parts.scheme or 'nothing'}"
                          f"{'://' if parts.scheme else ''}", **where,
                          hint="write it as postgresql://USER@HOST:5432/DATABASE")
    query = dict(parse_qsl(parts.query))
    if parts.password is not None or "password" in query:
        raise ConfigError("[warehouse] dsn holds a password: a password must not be in hub.toml or the dsn",
                          **where, hint=_MOVE)
    if not parts.username and "user" not in query:
        raise ConfigError("[warehouse] dsn names no user", **where,
                          hint="write it as postgresql://USER@HOST:5432/DATABASE")
    if not (parts.hostname or query.get("host")):
        raise ConfigError("[warehouse] dsn names no host", **where,
                          hint="write it as postgresql://USER@HOST:5432/DATABASE")
    if not parts.path.strip("/") and "dbname" not in query:
        raise ConfigError("[warehouse] dsn names no database", **where,
                          hint="end it with /DATABASE: postgresql://USER@HOST:5432/DATABASE")
    if port == 0:
        raise ConfigError("[warehouse] dsn has port 0", **where, hint="the PostgreSQL default is 5432")
