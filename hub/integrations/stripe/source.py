"""Stripe: customers, invoices, charges, payment intents and events, incremental on ``created``.

Stripe lists run newest first, paged with ``starting_after`` (the last id of the previous page) while ``has_more``; an
object created mid-read lands in front of the anchor and cannot shift the pages still to come. The lists are declared
as :class:`~hub.sources.rest.RestStream` data (``REST_STREAMS``) and paged by the generic REST engine; what is
Stripe's own (events as the change log, invoice lines, API versions) stays here. ``created`` is the only
time filter Stripe lists take, and it is when an object was *created*, never when it last changed. So for the object
streams an incremental read has two halves:

* objects created at or after ``since`` (``created[gte]``), as the list returns them now;
* objects *changed* since then, taken from ``/v1/events?type=<object>.*&created[gte]=since``: every change to a Stripe
  object leaves an event whose ``data.object`` is the object after the change (newest event wins, one row per id, and
  a ``*.deleted`` event marks the row ``deleted``).

An event's ``data.object`` is rendered in the API version that was the account's default when the event happened;
an object whose newest event has another version than the pinned one is fetched again instead (one call each).

Events are kept for 30 days only, so a cursor older than that cannot be caught up by events: the read falls back to a
full listing. The cursor of an object stream is the newest event's time when the read began (the point up to which
changes have been seen), not the newest ``created``: otherwise a month without new customers would push every run past
the event window. The ``events`` stream is append-only (an event never changes), so ``created[gte]`` is exact for it;
its raw table keeps each event's ``data`` as JSON text.

Raw tables hold the objects' top-level scalars as typed columns and nested objects (address, metadata, lines, ...) as
JSON text, declared per stream below so that every page lands with the same columns. An invoice's ``lines`` holds
all of its lines: Stripe embeds the first ten, the rest are paged in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from hub.config import ConnectionConfig
from hub.errors import SourceError
from hub.integrations.stripe.events import EVENT_COLUMNS, event_row
from hub.sources import notices, versions
from hub.sources.base import Connector, ReadState, Stream, batched, prefetch, records_to_table
from hub.sources.http import ApiClient, VendorProfile, limiter_for
from hub.sources.rest import CursorPaginator, Incremental, RestStream
from hub.sources.rest.engine import pages as rest_pages

# pinned (sources/versions.py) so the objects' shape does not change with the account's default version
API_VERSION = versions.TESTED["stripe"]
PAGE_LIMIT = 100
TEST_MODE_RATE, LIVE_MODE_RATE = 25, 100   # requests a second per account (Stripe's rate-limits page)
#: hub keeps below them: the vendor counts arrivals, the client starts, and the two differ by the network's jitter
PACE_SHARE, PACE_WINDOW = 0.9, 1.1
EVENT_RETENTION = timedelta(days=30)
RETENTION_MARGIN = timedelta(days=1)  # do not count on events in the last day before they expire
S, I, B, J = pa.string(), pa.int64(), pa.bool_(), "json"

# stream -> (object name in events, columns); J columns are nested values kept as JSON text
COLUMNS: dict[str, tuple[str, tuple[tuple[str, Any], ...]]] = {
    "customers": ("customer", (
        ("id", S), ("created", I), ("email", S), ("name", S), ("phone", S), ("description", S), ("currency", S),
        ("balance", I), ("delinquent", B), ("default_source", S), ("invoice_prefix", S), ("tax_exempt", S),
        ("livemode", B), ("deleted", B), ("address", J), ("shipping", J), ("invoice_settings", J),
        ("preferred_locales", J), ("discount", J), ("metadata", J))),
    "invoices": ("invoice", (
        ("id", S), ("created", I), ("customer", S), ("customer_email", S), ("customer_name", S), ("number", S),
        ("status", S), ("currency", S), ("amount_due", I), ("amount_paid", I), ("amount_remaining", I),
        ("subtotal", I), ("total", I), ("attempt_count", I), ("attempted", B), ("paid", B),
        ("paid_out_of_band", B), ("auto_advance", B), ("billing_reason", S), ("collection_method", S),
        ("description", S), ("due_date", I), ("period_start", I), ("period_end", I), ("charge", S),
        ("payment_intent", S), ("hosted_invoice_url", S), ("livemode", B), ("deleted", B),
        ("status_transitions", J), ("lines", J), ("metadata", J))),
    "charges": ("charge", (
        ("id", S), ("created", I), ("customer", S), ("amount", I), ("amount_captured", I), ("amount_refunded", I),
        ("currency", S), ("status", S), ("paid", B), ("captured", B), ("refunded", B), ("disputed", B),
        ("description", S), ("failure_code", S), ("failure_message", S), ("invoice", S), ("payment_intent", S),
        ("payment_method", S), ("receipt_email", S), ("balance_transaction", S), ("livemode", B),
        ("billing_details", J), ("outcome", J), ("payment_method_details", J), ("metadata", J))),
    "payment_intents": ("payment_intent", (
        ("id", S), ("created", I), ("customer", S), ("amount", I), ("amount_received", I),
        ("amount_capturable", I), ("currency", S), ("status", S), ("description", S), ("invoice", S),
        ("latest_charge", S), ("payment_method", S), ("capture_method", S), ("confirmation_method", S),
        ("canceled_at", I), ("receipt_email", S), ("livemode", B), ("payment_method_types", J),
        ("last_payment_error", J), ("metadata", J))),
    "events": ("event", EVENT_COLUMNS),   # the one events row, shared with hub serve (events.py)
}


#: every Stripe list: newest first, ``starting_after=<last id>`` while ``has_more`` (docs.stripe.com/api/pagination)
PAGING = CursorPaginator(param="starting_after", stop_path="has_more", cursor_from_last="id")
#: the only time filter Stripe lists take: ``created[gte]`` in epoch seconds (docs.stripe.com/api/pagination/search)
CREATED = Incremental(cursor_field="created", param="created[gte]", format="unix")
#: the streams as the REST engine reads them; a path with no stream of its own (an invoice's lines) reads as LIST
REST_STREAMS = {name: RestStream(name, f"/v1/{name}", records="data", primary_key="id", paginator=PAGING,
                                 incremental=CREATED, params={"limit": PAGE_LIMIT}) for name in COLUMNS}
LIST = RestStream("list", "/v1", records="data", paginator=PAGING, params={"limit": PAGE_LIMIT})
HEADERS = {"Stripe-Version": API_VERSION}


class StripeVendor(VendorProfile):
    """Stripe's ``{error: {type, code, message, param}}`` bodies, and its advice on retrying."""

    name = "Stripe"

    def should_retry(self, response: httpx.Response) -> bool | None:
        """As stripe-python decides (``_http_client.py`` ``_should_retry``): ``Stripe-Should-Retry`` first, then a 409
        (a lock or idempotency conflict) is retried; otherwise hub's default (429 paced, 5xx)."""
        advice = response.headers.get("stripe-should-retry")
        if advice in ("true", "false"):
            return advice == "true"
        return True if response.status_code == 409 else None

    def request_id(self, response: httpx.Response, body: Any) -> str | None:
        """Stripe's ``Request-Id`` header (req_...), on every answer."""
        return response.headers.get("request-id")

    def notice(self, response: httpx.Response, seen: notices.Seen) -> None:
        """Besides deprecation headers: an answer in another ``Stripe-Version`` than the one hub pinned."""
        answered, asked = response.headers.get("stripe-version"), response.request.headers.get("stripe-version")
        if answered and asked and answered != asked:
            seen.note("Stripe-Version", f"Stripe answered in API version {answered}, not the pinned {asked}: the "
                                        "objects' shape may differ; check the account's API version")
        super().notice(response, seen)

    def error_message(self, response: httpx.Response, body: Any) -> str:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("message"):
            code = error.get("code") or error.get("type")
            return f"{code}: {error['message']}" if code else str(error["message"])
        return super().error_message(response, body)


class Stripe(Connector):
    """Stripe's core billing objects and the account's event log, with the secret key (``sk_...``) as token."""

    type = "stripe"
    vendor = StripeVendor
    default_base_url = "https://api.stripe.com"
    streams = Connector.declare(*(Stream(name, name, cursor_field="created") for name in COLUMNS))
    default_streams = tuple(COLUMNS)

    @classmethod
    def api_client(cls, config: ConnectionConfig, *, http: httpx.Client | None = None,
                   **client_options: Any) -> ApiClient:
        """The connection's client, paced at Stripe's per-account limit before it answers 429: 25 requests a second
        with a test-mode key (``sk_test_``/``rk_test_``), 100 with a live one (docs.stripe.com/rate-limits)."""
        if "limiter" not in client_options:
            token = config.secrets.get("token")
            test_mode = token is not None and token.reveal().startswith(("sk_test_", "rk_test_"))
            base_url = (config.base_url or cls.default_base_url).rstrip("/")
            rate = TEST_MODE_RATE if test_mode else LIVE_MODE_RATE
            client_options["limiter"] = limiter_for(f"{config.name}@{base_url}", int(rate * PACE_SHARE), PACE_WINDOW)
        return super().api_client(config, http=http, **client_options)

    def read(self, stream: Stream, since: datetime | None, state: ReadState) -> Iterator[pa.Table]:
        """Yield the stream's records (see the module docstring for what incremental means per stream)."""
        object_name, columns = COLUMNS[stream.name]
        if stream.name == "events":
            pages = self._list("/v1/events", {}, since, REST_STREAMS["events"])
        else:
            if since is not None and since < datetime.now(timezone.utc) - EVENT_RETENTION + RETENTION_MARGIN:
                since = None  # the changes before the event window are gone: only a full listing is complete
            newest = self._page("/v1/events", {"limit": 1})["data"]
            if newest:
                state.see(_time(newest[0]["created"]))
            pages = self._changed(stream.name, object_name, since)
        schema = schema_of(stream.name)
        json_columns = [name for name, kind in columns if kind == J]
        if stream.name == "invoices":
            pages = (self._all_lines(page) for page in pages)
        tables = (_table(records, stream.name, json_columns, schema) for records in prefetch(pages))
        for table in batched(tables):
            state.rows += table.num_rows
            if stream.name == "events":
                state.see(_time(pc.max(table.column("created")).as_py()))
            yield table

    def _changed(self, path_name: str, object_name: str, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        """New objects by ``created``, then the objects that only changed, from their newest events."""
        listing = REST_STREAMS[path_name]
        if since is None:
            yield from self._list(listing.path, {}, None, listing)
            return
        changed: dict[str, dict[str, Any]] = {}
        stale: set[str] = set()   # objects whose newest event is rendered in another API version
        for events in self._list("/v1/events", {"type": f"{object_name}.*"}, since, REST_STREAMS["events"]):
            for event in events:  # newest first: the first event seen for an object has its latest state
                obj = (event.get("data") or {}).get("object") or {}
                if obj.get("object") == object_name and obj.get("id") not in changed:
                    deleted = event["type"].endswith(".deleted")
                    changed[obj["id"]] = {**obj, "deleted": deleted}
                    if event.get("api_version") != API_VERSION and not deleted:
                        stale.add(obj["id"])
        for page in self._list(listing.path, {}, since, listing):
            for obj in page:
                changed.pop(obj["id"], None)  # the list has the current version already
            yield page
        leftovers = [self._current(path_name, o) if o["id"] in stale else o for o in changed.values()]
        for start in range(0, len(leftovers), PAGE_LIMIT):
            yield leftovers[start:start + PAGE_LIMIT]

    def _current(self, path_name: str, obj: dict[str, Any]) -> dict[str, Any]:
        """The object as the pinned API version renders it now: an event keeps the shape of the account's API version
        when it happened, which may name or nest fields differently (one call per such object)."""
        try:
            return {"deleted": False, **self._page(f"/v1/{path_name}/{obj['id']}", {})}
        except SourceError as exc:
            if exc.status != 404:
                raise
            return {**obj, "deleted": True}   # gone since its last event (a deleted draft invoice, say)

    def _all_lines(self, invoices: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Invoices with every line: Stripe embeds the first ten with ``has_more``; the rest are paged from
        ``/v1/invoices/{id}/lines`` (one more call per 100 lines, for such invoices only)."""
        out = []
        for invoice in invoices:
            lines = invoice.get("lines")
            if isinstance(lines, dict) and lines.get("has_more") and lines.get("data") and not invoice.get("deleted"):
                data = list(lines["data"])
                try:
                    for page in self._list(f"/v1/invoices/{invoice['id']}/lines", {"starting_after": data[-1]["id"]}):
                        data += page
                    invoice = {**invoice, "lines": {**lines, "data": data, "has_more": False}}
                except SourceError as exc:
                    if exc.status != 404:   # 404: a draft deleted since it was listed; its events tell the rest
                        raise
            out.append(invoice)
        return out

    def _list(self, path: str, filters: dict[str, Any], since: datetime | None = None,
              stream: RestStream | None = None) -> Iterator[list[dict[str, Any]]]:
        """The pages of a Stripe list, through the REST engine (``stream``: how it pages, filters on ``created``)."""
        stream = stream or LIST
        for records, _ in rest_pages(self.client, stream, since, path=path, headers=HEADERS, params=filters):
            if records:
                yield records

    def _page(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        return self.client.get(path, params=params, headers=HEADERS)


def schema_of(stream: str) -> pa.Schema:
    """The raw table's Arrow schema of ``stream``: JSON columns are strings, ``id`` is never null."""
    return pa.schema([pa.field(name, S if kind == J else kind, nullable=name != "id")
                      for name, kind in COLUMNS[stream][1]])


def _table(records: list[dict[str, Any]], stream: str, json_columns: list[str], schema: pa.Schema) -> pa.Table:
    """One page as a flat table: nested values to JSON text; events also get their object's id and type."""
    if stream == "events":
        return records_to_table([event_row(record) for record in records], schema)
    rows = []
    for record in records:
        row = dict(record)
        row.setdefault("deleted", False)
        for name in json_columns:
            value = row.get(name)
            row[name] = None if value is None else orjson.dumps(value).decode()
        rows.append(row)
    return records_to_table(rows, schema)


def _time(unix: int | None) -> datetime | None:
    return None if unix is None else datetime.fromtimestamp(unix, tz=timezone.utc)
