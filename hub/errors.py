"""The one exception family of hub.

Every error a user can cause or meet derives from :class:`HubError`. Its ``str()`` is one line that says what went
wrong, where, and how to fix it; the CLI prints exactly that line (secrets redacted) and exits non-zero. Subclasses
carry structured fields so callers and tests need not parse messages. Whether an API error is worth retrying is decided
once, in ``hub.sources.http``, and recorded on the error as ``retriable``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class HubError(Exception):
    """Root of every error hub raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(HubError):
    """hub.toml, secrets.toml or the environment says something hub cannot use."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 key: str | None = None, hint: str | None = None) -> None:
        where = file if file else ""
        if file and line:
            where = f"{file}:{line}"
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.file, self.line, self.key = file, line, key


class ProjectNotFoundError(ConfigError):
    """No hub.toml where the user pointed, nor in any parent directory."""


class UnknownNameError(ConfigError):
    """A name (connector type, stream, model, sync...) that is not registered; suggests the closest one."""

    def __init__(self, kind: str, name: str, known: Iterable[str], *, file: str | None = None,
                 line: int | None = None, where: str = "") -> None:
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(known) or 'none'}"
        super().__init__(f"unknown {kind} '{name}'{where}", file=file, line=line, hint=hint)
        self.kind, self.name, self.suggestion = kind, name, close[0] if close else None


class SecretMissingError(ConfigError):
    """A required secret is neither in the environment nor in secrets.toml."""


class SourceError(HubError):
    """Talking to a vendor API failed. ``retriable`` says whether trying again later can help."""

    def __init__(self, message: str, *, connection: str, status: int | None = None, url: str | None = None,
                 retriable: bool = False, hint: str | None = None) -> None:
        super().__init__(f"connection '{connection}': {message}", hint=hint)
        self.connection, self.status, self.url, self.retriable = connection, status, url, retriable


class AuthError(SourceError):
    """The API refused our credentials (401/403 on auth)."""


class RateLimitError(SourceError):
    """Rate-limited past our retry budget."""


class UnreachableError(SourceError):
    """The API could not be reached (DNS, refused connection, timeout) past our retry budget."""


class BadResponseError(SourceError):
    """The API answered something that is not what its reference promises (not JSON, wrong shape)."""


class UnknownOutcomeError(SourceError):
    """A write that may have reached the vendor got no usable answer (timed out after sending, dropped, 5xx, cut
    body). It is never re-sent by the HTTP layer: the caller reconciles it (see :mod:`hub.reverse_etl.engine`).
    ``method`` and ``path`` name the request; ``cause`` says what happened to its answer."""

    def __init__(self, message: str, *, connection: str, method: str, path: str, cause: str,
                 status: int | None = None, url: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, connection=connection, status=status, url=url, retriable=False, hint=hint)
        self.method, self.path, self.cause = method, path, cause


class WarehouseError(HubError):
    """The DuckDB warehouse could not be opened, read or written."""


class WarehouseLockedError(WarehouseError):
    """Another process holds DuckDB's single-writer lock on the warehouse file."""


class QueryError(WarehouseError):
    """A user's SQL failed; the message is DuckDB's, which already points at the problem."""


class QueryRefusedError(QueryError):
    """A user's SQL that `hub query` will not run: more than one statement, or anything but a read."""

    exit_code = 2


class ModelError(HubError):
    """A SQL model cannot be parsed, resolved, built or audited."""

    def __init__(self, message: str, *, model: str | None = None, file: str | None = None,
                 line: int | None = None, col: int | None = None, hint: str | None = None) -> None:
        where = ""
        if file:
            where = file + (f":{line}" if line else "") + (f":{col}" if line and col else "")
        elif model:
            where = f"model {model}"
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.model, self.file, self.line, self.col = model, file, line, col


class PushError(HubError):
    """A reverse-ETL sync could not be planned or sent."""


# --- core (hC): errors once defined beside the code that raises them; those modules re-export them ---


class InstallError(HubError):
    """A schedule cannot be expressed for the chosen system scheduler, or installing it failed."""


class BadEventError(HubError):
    """An authentic webhook request whose body hub cannot read as events (answered 400)."""


class SignatureError(HubError):
    """A webhook that cannot be shown to come from the vendor; answer it with 400/401 and do not process it."""

    def __init__(self, scheme: str, reason: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{scheme} webhook rejected: {message}", hint=hint)
        self.scheme = scheme
        self.reason = reason


class InboxError(HubError):
    """The webhook inbox could not store an event (disk full, file unwritable): answer 503 so the sender retries."""


class ExpressionError(HubError):
    """A trigger's ``when`` expression that does not parse; ``position`` is the character where it went wrong."""

    def __init__(self, message: str, expression: str, position: int) -> None:
        shown = expression if len(expression) <= 80 else expression[:77] + "..."
        super().__init__(f"{message} at character {position + 1} of {shown!r}",
                         hint="write e.g. data.object.amount_paid > 0 and type == 'invoice.paid'")
        self.position = position


class NoSuchObject(PushError, LookupError):
    """Raised by a pusher's ``fields`` when the target has no such object; the push engine turns it into an
    :class:`UnknownNameError` pointing at hub.toml. ``known`` are the objects the target does have."""

    def __init__(self, known: list[str] | tuple[str, ...]) -> None:
        super().__init__(f"no such object (the target has: {', '.join(known) or 'none'})")
        self.known = list(known)


class ChaosSpecError(HubError, ValueError):
    """A sandbox ``--chaos`` spec that cannot be read; the message is one line saying what to write instead."""

    exit_code = 2


# --- docs (hub docs, the pages hub serve shows) ---


class DocsError(HubError):
    """The docs site cannot be written where asked (a folder that is not an earlier hub docs site, say)."""

    exit_code = 2


# --- branch hA: web forms and actions (hub.forms, hub.actions) ----------------------------------------------------


class TemplateError(HubError):
    """An action template (``[actions.NAME]`` body or text) with an unreadable placeholder."""


class FormRefused(HubError):
    """A form post ``hub serve`` refuses: the HTTP status, the field at fault (if one is) and headers to answer with
    (``Retry-After``)."""

    def __init__(self, status: int, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.field, self.headers = status, field, headers or {}


# --- branch hC: push, serve and docs on a PostgreSQL warehouse ------------------------------------------------------


class WarehouseRowError(WarehouseError):
    """The warehouse refused the data itself (a value that does not convert, a constraint), not the statement or the
    connection: the caller may set the offending rows aside and load the rest (``hub serve``'s flusher does)."""


# --- branch hE: hub warehouse copy ------------------------------------------------------------------------------


class CopyRefusedError(WarehouseError):
    """`hub warehouse copy` will not start: its source or target is not what a copy needs; nothing was written."""

    exit_code = 2
