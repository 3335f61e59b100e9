"""The data that describes a REST API: streams, paginators, incremental cursors, auth, rate-limit budget, targets.

Plain frozen dataclasses, shared by the declarative ``type = "rest"`` connections (built from hub.toml by
:mod:`hub.sources.rest.spec`) and by built-in connectors written in Python (Stripe). Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class NextUrlPaginator:
    """The body carries the next page's full URL at ``path`` (dotted); empty or missing ends the stream."""

    path: str = "next"
    type: Literal["next_url"] = "next_url"


@dataclass(frozen=True)
class LinkHeaderPaginator:
    """RFC 8288 ``Link: <url>; rel="next"`` header."""

    rel: str = "next"
    type: Literal["link_header"] = "link_header"


@dataclass(frozen=True)
class CursorPaginator:
    """The body carries an opaque cursor at ``path``; it is sent back as query parameter ``param``.

    ``stop_path`` (optional) is a boolean in the body that says whether more pages exist (Stripe's ``has_more``);
    ``cursor_from_last`` takes the cursor from the last record's field instead (Stripe's ``starting_after=<last id>``).
    """

    param: str
    path: str | None = None
    stop_path: str | None = None
    cursor_from_last: str | None = None
    type: Literal["cursor"] = "cursor"


@dataclass(frozen=True)
class OffsetPaginator:
    """``param`` = offset, ``limit_param`` = page size (``limit``); a short page ends the stream, or ``total_path``."""

    param: str = "offset"
    limit_param: str = "limit"
    limit: int = 100
    total_path: str | None = None
    type: Literal["offset"] = "offset"


@dataclass(frozen=True)
class PagePaginator:
    """``param`` = page number starting at ``start``; an empty page ends the stream, or ``total_pages_path``."""

    param: str = "page"
    start: int = 1
    total_pages_path: str | None = None
    type: Literal["page"] = "page"


Paginator = NextUrlPaginator | LinkHeaderPaginator | CursorPaginator | OffsetPaginator | PagePaginator


@dataclass(frozen=True)
class Incremental:
    """Incremental reads: the highest ``cursor_field`` seen is sent back as ``param`` on the next run.

    ``format`` is how the value is sent: ``iso`` (ISO-8601 UTC, the default), ``unix`` (seconds) or ``unix_ms``.
    ``param`` may use a bracketed name (``created[gte]``), as Stripe's list filters do.
    """

    cursor_field: str
    param: str
    format: Literal["iso", "unix", "unix_ms"] = "iso"


@dataclass(frozen=True)
class Auth:
    """How requests authenticate. ``type``: bearer | api_key | basic | oauth2.

    api_key: sent in ``in_`` (``header`` or ``query``) under ``name``. oauth2: ``grant`` is ``refresh_token`` or
    ``client_credentials`` against ``token_url``, with ``scopes``. Secrets are never here: they come from the
    connection's secrets (token, api_key, username, password, client_id, client_secret, refresh_token).
    """

    type: Literal["bearer", "api_key", "basic", "oauth2", "none"] = "bearer"
    in_: Literal["header", "query"] = "header"
    name: str = "Authorization"
    grant: Literal["refresh_token", "client_credentials"] = "refresh_token"
    token_url: str | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RateLimit:
    """A request budget: at most ``requests`` per ``per_seconds`` (Retry-After and rate-limit headers always apply)."""

    requests: int
    per_seconds: float


@dataclass(frozen=True)
class RestStream:
    """One endpoint read page by page into ``raw_<connection>.<table>``.

    ``path`` is relative to the connection's base_url and may name a parent stream's field
    (``/tickets/{tickets.id}/comments``): the stream is then read once per parent record, and each child record gets
    the parent's key as ``_<parent>_<field>`` (``_tickets_id``). ``records`` is the dotted path to the list in the body
    (``""``: the body is the list).
    """

    name: str
    path: str
    records: str = ""
    primary_key: str = "id"
    paginator: Paginator | None = None
    incremental: Incremental | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    #: the raw table name; defaults to ``name``
    table: str | None = None
    #: the parent stream when ``path`` names one (set from the path)
    parent: str | None = None

    @property
    def table_name(self) -> str:
        return self.table or self.name


@dataclass(frozen=True)
class RestTarget:
    """Writes to one object of a REST API, for reverse-ETL: ``[connections.X.targets.<object>]``.

    Each endpoint is ``"METHOD /path"`` (``"PATCH /contacts/{id}"``). ``body`` is a template: a mapping whose string
    values may be ``"{field}"`` (the synced row's field) or nested mappings; ``None`` sends the row's fields as they
    are. ``batch_size`` > 1 sends ``records_path``-wrapped lists to a batch endpoint. ``id_path`` and ``errors_path``
    say where the created id and the per-record errors are in the answer.
    """

    name: str
    create: str | None = None
    update: str | None = None
    upsert: str | None = None
    lookup: str | None = None
    body: Mapping[str, Any] | None = None
    batch_size: int = 1
    records_path: str | None = None
    id_path: str = "id"
    errors_path: str | None = None
    #: the lookup's query parameter that carries the match value (``email``), and where results are in its answer
    lookup_param: str | None = None
    lookup_records: str = ""
