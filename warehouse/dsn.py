"""The DSN of a postgres warehouse, joined with its password only when connecting (hub.config checks it at load).

``[warehouse] dsn`` is a ``postgresql://USER@HOST:PORT/DATABASE`` URL (query parameters such as ``sslmode`` or
``host=/socket/dir`` pass through to libpq). The password never sits in it: it comes from ``HUB__WAREHOUSE__PASSWORD``
or ``[warehouse] password`` in secrets.toml, so hub.toml can be committed.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit


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
