"""The data that describes a REST API: streams, paginators, incremental cursors, auth, rate-limit budget, targets.

Plain frozen dataclasses, shared by the declarative ``type = "rest"`` connections (built from hub.toml by
:mod:`hub.sources.rest.spec`) and by built-in connectors written in Python. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # httpx loads when a client is made: declaring streams needs none of it
    import httpx

#: what a paginator asks for next: a full URL (None: the stream's own path) and the query parameters
NextPage = tuple[str | None, dict[str, Any]]


def dig(body: Any, path: str | None) -> Any:
    """The value at dotted ``path`` in a parsed JSON body (``"links.next"``); ``""``/None is the body itself.

    A missing member, or a step through something that is not an object, gives None.
    """
    if not path:
        return body
    for part in path.split("."):
        if isinstance(body, Mapping):
            body = body.get(part)
        elif isinstance(body, list) and part.isdigit() and int(part) < len(body):
            body = body[int(part)]
        else:
            return None
    return body


def _params(params: Mapping[str, Any]) -> dict[str, Any]:
    return dict(params)


@dataclass(frozen=True)
class NextUrlPaginator:
    """The body carries the next page's full URL at ``path`` (dotted); empty or missing ends the stream."""

    path: str = "next"
    type: Literal["next_url"] = "next_url"

    def first(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The first page's query parameters."""
        return _params(params)

    def next(self, params: dict[str, Any], body: Any, records: Sequence[Any],
             headers: httpx.Headers) -> NextPage | None:
        """The URL in the body (it carries every parameter itself), or None at the end."""
        url = dig(body, self.path)
        return (str(url), {}) if url else None


@dataclass(frozen=True)
class LinkHeaderPaginator:
    """RFC 8288 ``Link: <url>; rel="next"`` header."""

    rel: str = "next"
    type: Literal["link_header"] = "link_header"

    def first(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The first page's query parameters."""
        return _params(params)

    def next(self, params: dict[str, Any], body: Any, records: Sequence[Any],
             headers: httpx.Headers) -> NextPage | None:
        """The ``Link`` header's target of relation ``rel`` (every parameter is in it), or None at the end."""
        if not headers.get("link"):
            return None
        import httpx   # loaded already: the headers came on an httpx response

        # httpx parses RFC 8288 links for a response; several Link headers are one list
        links = httpx.Response(200, headers={"link": ", ".join(headers.get_list("link"))}).links
        for link in links.values():
            if self.rel in str(link.get("rel", "")).split():
                return link["url"], {}
        return None


@dataclass(frozen=True)
class CursorPaginator:
    """The body carries an opaque cursor at ``path``; it is sent back as query parameter ``param``.

    ``stop_path`` (optional) is a boolean in the body that says whether more pages exist (``has_more``);
    ``cursor_from_last`` takes the cursor from the last record's field instead (``starting_after=<last id>``).
    """

    param: str
    path: str | None = None
    stop_path: str | None = None
    cursor_from_last: str | None = None
    type: Literal["cursor"] = "cursor"

    def first(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The first page's query parameters (no cursor yet)."""
        return _params(params)

    def next(self, params: dict[str, Any], body: Any, records: Sequence[Any],
             headers: httpx.Headers) -> NextPage | None:
        """The same parameters with the new cursor; None when the body says there is no more, or no cursor came."""
        if self.stop_path is not None and not dig(body, self.stop_path):
            return None
        if self.cursor_from_last:
            last = records[-1] if records else None
            cursor = last.get(self.cursor_from_last) if isinstance(last, Mapping) else None
        else:
            cursor = dig(body, self.path)
        if cursor in (None, "") or cursor == params.get(self.param):
            return None  # the same cursor twice would loop forever
        return None, {**params, self.param: cursor}


@dataclass(frozen=True)
class OffsetPaginator:
    """``param`` = offset, ``limit_param`` = page size (``limit``); a short page ends the stream, or ``total_path``."""

    param: str = "offset"
    limit_param: str = "limit"
    limit: int = 100
    total_path: str | None = None
    type: Literal["offset"] = "offset"

    def first(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The first page: offset 0 (or the stream's own), ``limit`` records."""
        return {self.limit_param: self.limit, **params, self.param: params.get(self.param, 0)}

    def next(self, params: dict[str, Any], body: Any, records: Sequence[Any],
             headers: httpx.Headers) -> NextPage | None:
        """The next offset; None after a short page, or past ``total_path``'s count."""
        offset = int(params.get(self.param, 0)) + len(records)
        total = dig(body, self.total_path) if self.total_path else None
        if not records or (total is not None and offset >= int(total)):
            return None
        if total is None and len(records) < int(params.get(self.limit_param, self.limit)):
            return None
        return None, {**params, self.param: offset}


@dataclass(frozen=True)
class PagePaginator:
    """``param`` = page number starting at ``start``; an empty page ends the stream, or ``total_pages_path``."""

    param: str = "page"
    start: int = 1
    total_pages_path: str | None = None
    type: Literal["page"] = "page"

    def first(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The first page: number ``start``."""
        return {**params, self.param: params.get(self.param, self.start)}

    def next(self, params: dict[str, Any], body: Any, records: Sequence[Any],
             headers: httpx.Headers) -> NextPage | None:
        """The next page number; None after an empty page or the last of ``total_pages_path``."""
        page = int(params.get(self.param, self.start))
        total = dig(body, self.total_pages_path) if self.total_pages_path else None
        if not records or (total is not None and page >= int(total)):
            return None
        return None, {**params, self.param: page + 1}


Paginator = NextUrlPaginator | LinkHeaderPaginator | CursorPaginator | OffsetPaginator | PagePaginator


@dataclass(frozen=True)
class Incremental:
    """Incremental reads: the highest ``cursor_field`` seen is sent back as ``param`` on the next run.

    ``format`` is how the value is sent: ``iso`` (ISO-8601 UTC, the default), ``unix`` (seconds) or ``unix_ms``.
    ``param`` may use a bracketed name (``created[gte]``), as some APIs' list filters do.
    """

    cursor_field: str
    param: str
    format: Literal["iso", "unix", "unix_ms"] = "iso"

    def render(self, since: datetime) -> str | int:
        """``since`` as the API wants it in ``param``."""
        since = since.astimezone(timezone.utc)
        if self.format == "unix":
            return int(since.timestamp())
        if self.format == "unix_ms":
            return int(since.timestamp() * 1000)
        return since.strftime("%Y-%m-%dT%H:%M:%SZ")

    def parse(self, value: Any) -> datetime | None:
        """A record's ``cursor_field`` value as an aware UTC datetime (None when absent or unreadable).

        Numbers are epoch seconds (milliseconds for ``unix_ms``) whatever the format; text is ISO-8601.
        """
        if value is None or value == "" or isinstance(value, bool):
            return None
        if isinstance(value, str) and self.format != "iso" and value.lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, (int, float)):
            seconds = value / 1000 if self.format == "unix_ms" else value
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        text = str(value)
        text = text[:-1] + "+00:00" if text.endswith("Z") else text
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)

    def newest(self, values: Sequence[Any]) -> datetime | None:
        """The latest of ``values`` (a page's cursor fields)."""
        best = None
        for value in values:
            parsed = self.parse(value)
            if parsed is not None and (best is None or parsed > best):
                best = parsed
        return best


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
