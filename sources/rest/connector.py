"""The connector of ``type = "rest"`` connections: the streams hub.toml declares, read by the REST engine.

Records land in ``raw_<connection>.<stream>`` through the same ingest engine as every built-in connector (merge on the
primary key, cursors saved after the commit, schema changes reported, records without a key quarantined). Each record
becomes one row: top-level scalars as typed columns, nested objects and lists as JSON text; a column whose values do
not share one type in a batch is text.

A child stream (``path = "/tickets/{tickets.id}/comments"``) is read once per record of its parent, and its records
get the parent's field as ``_tickets_id``. Its incremental reads: with its own ``incremental``, every parent is listed
and the cursor goes to each child request; without, only parents changed since the child's cursor are listed (a new
comment changes its ticket in most APIs) and the child's cursor follows the parent's ``cursor_field``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from hub.config import ConnectionConfig
from hub.errors import ConfigError
from hub.sources.base import Connector, ReadState, Stream, client_settings, prefetch
from hub.sources.http import ApiClient, limiter_for
from hub.sources.rest import spec as rest_spec
from hub.sources.rest.engine import RestVendor, child_path, pages
from hub.sources.rest.stream import RestStream

if TYPE_CHECKING:  # httpx and pyarrow load when a client is made and a stream read: `hub status` declares the class
    import httpx
    import pyarrow as pa

Page = tuple[list[dict[str, Any]], datetime | None]
#: pages read ahead of the conversion: the paging thread goes on while dlt sets up its load (after the first batch)
#: and while a batch is written, as far as this many pages and PREFETCH_BYTES of them
PREFETCH_PAGES = 2048
PREFETCH_BYTES = 32 * 2 ** 20
#: what one parsed record counts for against PREFETCH_BYTES: parsed records wait in far fewer numbers than JSON text,
#: as each one left alive makes the garbage collector's passes longer (32 pages of 100, as before pages were JSON)
PARSED_RECORD_BYTES = 10_000


class RestConnector(Connector):
    """Any REST API declared in hub.toml (``type = "rest"``); see :mod:`hub.sources.rest.spec`."""

    type = "rest"
    vendor = RestVendor
    default_base_url = None
    streams: ClassVar[dict[str, Stream]] = {}
    default_streams = ()
    options = tuple(k for k in rest_spec.SPEC_KEYS if k != "streams")
    declares_streams = True
    flat_batches = True   # hub.sources.rest.records: scalars typed, nested values as JSON text
    secret_keys = ("token", "api_key", "password", "client_id", "client_secret", "refresh_token")

    def __init__(self, config: ConnectionConfig, client: ApiClient) -> None:
        super().__init__(config, client)
        self.spec = self.spec_of(config)
        self.streams = self.stream_catalog(config)  # type: ignore[misc]  # this connection's, not the class's

    @classmethod
    def configure(cls, name: str, body: Mapping[str, Any], text: str) -> dict[str, Any]:
        """Parse and check the connection's spec when the configuration loads."""
        return {"rest_spec": rest_spec.parse(name, body, text)}

    @classmethod
    def spec_of(cls, config: ConnectionConfig) -> rest_spec.RestSpec:
        """The connection's parsed spec."""
        spec = config.options.get("rest_spec")
        if not isinstance(spec, rest_spec.RestSpec):
            raise ConfigError(f"[connections.{config.name}] of type \"rest\" was not loaded from hub.toml",
                              hint="load the project configuration with hub.config.load")
        return spec

    @classmethod
    def stream_catalog(cls, config: ConnectionConfig) -> dict[str, Stream]:
        """The streams the connection declares, parents before their children."""
        spec = cls.spec_of(config)
        ordered: list[str] = []

        def visit(name: str) -> None:
            parent = spec.streams[name].parent
            if parent and parent not in ordered:
                visit(parent)
            if name not in ordered:
                ordered.append(name)

        for name in spec.streams:
            visit(name)
        return {name: _stream(spec.streams[name]) for name in ordered}

    def selected_streams(self) -> list[Stream]:
        """Every declared stream (``streams`` declares them rather than selecting some)."""
        return list(self.streams.values())

    @classmethod
    def api_client(cls, config: ConnectionConfig, *, http: httpx.Client | None = None,
                   **client_options: Any) -> ApiClient:
        """The connection's client: the spec's auth and headers, and its budget on the connection's limiter."""
        from hub.sources.rest.auth import rest_auth

        spec = cls.spec_of(config)
        if not config.base_url:
            raise ConfigError(f"[connections.{config.name}] needs base_url", file="hub.toml")
        vendor = RestVendor(config.name)
        auth, vendor.auth_hint = rest_auth(config, spec.auth, config.base_url, spec.username,
                                           clock=client_options.pop("auth_clock", None))
        if spec.rate_limit is not None and "limiter" not in client_options:
            limiter = limiter_for(f"{config.name}@{config.base_url}", spec.rate_limit.requests,
                                  spec.rate_limit.per_seconds)
            limiter.learn(spec.rate_limit.requests, spec.rate_limit.per_seconds)
            client_options["limiter"] = limiter
        return ApiClient(config.name, config.base_url, auth=auth, http=http, vendor=vendor, notes_root=config.root,
                         **{**client_settings(config), **client_options})

    def read(self, stream: Stream, since: datetime | None, state: ReadState) -> Iterator[pa.Table]:
        """Yield the stream's records (changed since ``since`` when it is incremental) as Arrow tables."""
        from hub.sources.rest.records import TableBuilder, json_pages

        rest = self.spec.streams[stream.name]
        builder = TableBuilder(rest.primary_key)
        pages = prefetch(json_pages(self._records(rest, since), builder), depth=PREFETCH_PAGES, size=_page_bytes,
                         budget=PREFETCH_BYTES)
        for page, count, newest in pages:
            state.see(newest)
            table = builder.add_page(page, count)
            if table is not None:
                state.rows += table.num_rows
                yield table
        table = builder.flush()
        if table is not None:
            state.rows += table.num_rows
            yield table

    def _records(self, stream: RestStream, since: datetime | None) -> Iterator[Page]:
        """Each page's records and the newest cursor value among them (for a child: see the module docstring)."""
        headers = self.spec.headers
        if stream.parent is None:
            for records, _ in pages(self.client, stream, since, headers=headers):
                yield records, _newest(stream, records)
            return
        parent = self.spec.streams[stream.parent]
        own = stream.incremental is not None
        for parents, parents_newest in self._records(parent, None if own else since):
            for record in parents:
                found = child_path(stream, record) if isinstance(record, Mapping) else None
                if found is None:
                    continue  # the parent record lacks the field: it has no children to ask for
                path, keys = found
                for records, _ in pages(self.client, stream, since if own else None, path=path, headers=headers):
                    rows = [{**r, **keys} if isinstance(r, Mapping) else {"value": r, **keys} for r in records]
                    yield rows, _newest(stream, records) if own else None
            if not own:
                yield [], parents_newest


def _page_bytes(page: tuple[bytes | list[Any], int, Any]) -> int:
    payload, count, _ = page
    # an empty page still takes a queue slot
    return (len(payload) if isinstance(payload, bytes) else count * PARSED_RECORD_BYTES) + 100


def _stream(rest: RestStream) -> Stream:
    cursor = rest.incremental.cursor_field if rest.incremental else None
    return Stream(rest.name, rest.table_name, rest.primary_key, cursor_field=cursor)


def _newest(stream: RestStream, records: list[Any]) -> datetime | None:
    if stream.incremental is None or not records:
        return None
    field = stream.incremental.cursor_field
    # type() first: an ABC's isinstance costs as much as the rest of this, for each record, in the paging thread
    values = [r.get(field) for r in records if type(r) is dict or isinstance(r, Mapping)]
    latest = _latest_utc_text(values)
    if latest is not None:
        return stream.incremental.parse(latest)
    return stream.incremental.newest(values)


def _latest_utc_text(values: list[Any]) -> str | None:
    """The latest of ``values`` when all are UTC ISO-8601 text of one layout (``2024-05-01T10:11:12[.345]Z``), where
    text order is time order; None otherwise. Parsing each value costs about a tenth of the paging thread's time."""
    if not values or type(values[0]) is not str:
        return None
    try:
        text = "\n".join(values)
    except TypeError:   # a value that is not text
        return None
    layout = _utc_layout(len(values[0]))
    return max(values) if layout is not None and layout.fullmatch(text + "\n") else None


@functools.lru_cache(maxsize=8)
def _utc_layout(width: int) -> re.Pattern[str] | None:
    """Lines of UTC ISO-8601 timestamps ``width`` characters long: whole seconds (20) or a fixed count of digits."""
    if width == 20:
        return re.compile(r"(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n)*")
    if 22 <= width <= 30:
        return re.compile(r"(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{%d}Z\n)*" % (width - 21))
    return None
