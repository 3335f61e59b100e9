"""The DSN of a postgres warehouse: checked at config load, and joined with its password only when connecting.

``[warehouse] dsn`` is a ``postgresql://USER@HOST:PORT/DATABASE`` URL (query parameters such as ``sslmode`` or
``host=/socket/dir`` pass through to libpq). The password never sits in it: it comes from ``HUB__WAREHOUSE__PASSWORD``
or ``[warehouse] password`` in secrets.toml, so hub.toml can be committed. This module imports no driver, so the
config loader can use it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from hub.errors import ConfigError

SCHEMES = ("postgresql", "postgres")
_MOVE = ("move the password to secrets.toml ([warehouse] password = \"...\") or HUB__WAREHOUSE__PASSWORD, and "
         "write the dsn without it: postgresql://USER@HOST:5432/DATABASE")


def check_dsn(dsn: str, where: dict[str, Any]) -> None:
    """Refuse a DSN hub cannot use, in one line that never repeats a password it may hold."""
    try:
        parts = urlsplit(dsn)
        port = parts.port
    except ValueError:
        raise ConfigError("[warehouse] dsn is not a postgresql:// URL (its port or host cannot be read)", **where,
                          hint="write it as postgresql://USER@HOST:5432/DATABASE") from None
    if parts.scheme not in SCHEMES:
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


def with_password(dsn: str, password: str | None) -> str:
    """The DSN with ``password`` in it, for the drivers only (never printed: :func:`hub.secrets.redact` masks it)."""
    if not password:
        return dsn
    parts = urlsplit(dsn)
    user = quote(parts.username or "", safe="")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


def redacted(dsn: str) -> str:
    """The DSN as output may show it: any password replaced by ``***``."""
    try:
        parts = urlsplit(dsn)
        if parts.password is None:
            return dsn
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    except ValueError:
        return "postgresql://***"
