"""HubSpot CRM v3: contacts and companies, all properties, incremental on the last-modified date.

Full pulls page the list endpoint with ``after``; incremental pulls use the search endpoint filtered on the object's
modification property (``lastmodifieddate`` for contacts, ``hs_lastmodifieddate`` for companies), sorted ascending. A
search returns at most 10,000 results, so the window is moved forward to the last value seen before it fills up; where
more than a window's worth of records share one timestamp, they are paged by ``hs_object_id`` instead.

Full pulls are where the volume is, so their pages are not parsed by the thread that fetches them: it reads only the
trailing ``paging`` member (:meth:`~sources.http.ApiClient.get_lazy`) and goes on to the next page, while this thread
has pyarrow parse the records in C++, without holding the GIL (:func:`~sources.base.json_records_to_arrow`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.compute as pc

from sources.auth import OAUTH_KEYS, OAuthProfile
from sources.base import (Connector, ReadState, Stream, batched, chunks, concat_tables, fit_schema,
                          json_records_to_arrow, max_time, prefetch, records_to_arrow)
from sources.http import LazyPage, VendorProfile
from sources.ratelimit import RateLimiter

LIST_LIMIT = 100
SEARCH_LIMIT = 200
SEARCH_WINDOW = 10_000
PARSE_PAGES = 10     # pages parsed per call into pyarrow: few enough to start and finish promptly
PREFETCH_PAGES = 64  # pages the fetch thread may run ahead: it goes on fetching while dlt writes a batch
ENVELOPE = ("id", "archived", "created_at", "updated_at")


class HubSpotVendor(VendorProfile):
    """HubSpot's error bodies and rate-limit headers."""

    name = "HubSpot"
    # Search has its own limit of about 4 requests/s, on top of the 10-second window.
    path_limits = {"/search": (4, 1.0)}

    def error_message(self, response: httpx.Response, body: Any) -> str:
        if isinstance(body, dict):
            message = body.get("message") or body.get("category") or response.reason_phrase
            return f"{body['category']}: {message}" if body.get("category") and body["category"] not in message \
                else str(message)
        return response.reason_phrase

    def request_id(self, response: httpx.Response, body: Any) -> str | None:
        """HubSpot's ``correlationId`` (in every error body, and the X-HubSpot-Correlation-Id header)."""
        if isinstance(body, dict) and isinstance(body.get("correlationId"), str):
            return body["correlationId"]
        return response.headers.get("x-hubspot-correlation-id")

    def should_retry(self, response: httpx.Response) -> bool | None:
        """The daily limit (``policyName: DAILY``) lasts until midnight: retrying within the run only adds 429s."""
        return False if _daily(response) else None

    def limit_message(self, response: httpx.Response, body: Any) -> str | None:
        if not _daily(response):
            return None
        limit = response.headers.get("x-hubspot-ratelimit-daily")
        of = f" ({int(limit):,} requests)" if limit and limit.isdigit() else ""
        return (f"HubSpot's daily API limit{of} is used up (policy DAILY); it resets at midnight in the HubSpot "
                "account's time zone")

    def observe(self, response: httpx.Response, limiter: RateLimiter) -> None:
        headers = response.headers
        maximum = headers.get("x-hubspot-ratelimit-max")
        interval = headers.get("x-hubspot-ratelimit-interval-milliseconds")
        if maximum and interval:
            try:
                limiter.learn(int(maximum), int(interval) / 1000)
            except ValueError:
                pass

    def retry_delay(self, response: httpx.Response) -> float | None:
        delay = super().retry_delay(response)
        if delay is None and response.status_code == 429 and b"SECONDLY" in response.content \
                and b"TEN_SECONDLY" not in response.content:
            return 1.0
        return delay


def _daily(response: httpx.Response) -> bool:
    # HubSpot names the exhausted limit in the 429 body: "policyName": "DAILY" (or TEN_SECONDLY_ROLLING, SECONDLY)
    return response.status_code == 429 and b'"DAILY"' in response.content


class HubSpot(Connector):
    """HubSpot CRM v3 objects."""

    type = "hubspot"
    vendor = HubSpotVendor
    default_base_url = "https://api.hubapi.com"
    streams = Connector.declare(
        Stream("contacts", "contacts", cursor_field="lastmodifieddate"),
        Stream("companies", "companies", cursor_field="hs_lastmodifieddate"),
    )
    default_streams = ("contacts", "companies")
    secret_keys = ("token", *OAUTH_KEYS)
    # Access tokens last 30 minutes (the token response says so in expires_in); an expired one gets this 401. The v3
    # token endpoint takes the same form in the body; /oauth/v1/token is deprecated (sunset 16 Feb 2027).
    oauth = OAuthProfile(token_path="/oauth/v3/token", expired_marker="EXPIRED_AUTHENTICATION", vendor="HubSpot")

    def properties(self, stream: Stream) -> list[str]:
        """Every property name of the object, as the properties endpoint lists them."""
        body = self.client.get(f"/crm/v3/properties/{stream.name}")
        names = [p["name"] for p in body.get("results", []) if p.get("name") not in ENVELOPE]
        if stream.cursor_field not in names:
            names.append(stream.cursor_field)
        return names

    def read(self, stream: Stream, since: datetime | None, state: ReadState) -> Iterator[pa.Table]:
        props = self.properties(stream)
        record_type = pa.struct([pa.field("id", pa.string()), pa.field("archived", pa.bool_()),
                                 pa.field("createdAt", pa.string()), pa.field("updatedAt", pa.string()),
                                 pa.field("properties", pa.struct([pa.field(p, pa.string()) for p in props]))])
        schema = pa.schema([pa.field("id", pa.string(), nullable=False), pa.field("archived", pa.bool_()),
                            pa.field("created_at", pa.string()), pa.field("updated_at", pa.string()),
                            *(pa.field(p, pa.string()) for p in props)])
        pages = self._list(stream, props) if since is None else self._search(stream, props, since)
        # The fetch thread only talks HTTP; pages are parsed here, a few at a time, by pyarrow off the GIL. Pages
        # in bytes are cheap to hold, so the fetcher may run far ahead while dlt writes a batch.
        tables = (_pages_table(group, record_type, schema)
                  for group in chunks(prefetch(pages, depth=PREFETCH_PAGES), PARSE_PAGES))
        for table in batched(tables):
            state.rows += table.num_rows
            state.see(max_time([pc.max(table.column(stream.cursor_field)).as_py()]))
            yield table

    def _list(self, stream: Stream, props: list[str]) -> Iterator[LazyPage]:
        params: dict[str, Any] = {"limit": LIST_LIMIT, "properties": ",".join(props), "archived": "false"}
        while True:
            page = self.client.get_lazy(f"/crm/v3/objects/{stream.name}", params=params, member="paging")
            yield page
            after = (page.member or {}).get("next", {}).get("after")
            if not after:
                return
            params["after"] = after

    def _search(self, stream: Stream, props: list[str], since: datetime) -> Iterator[LazyPage]:
        prop = stream.cursor_field
        lower = since
        while True:
            last_value: str | None = None
            after: str | None = None
            while True:
                body = self._search_page(stream, props, [_filter(prop, "GTE", _ms(lower))], prop, after)
                results = body.get("results", [])
                if results:
                    yield _parsed(results)
                    last_value = results[-1]["properties"].get(prop) or last_value
                after = (body.get("paging") or {}).get("next", {}).get("after")
                if not after:
                    return
                if int(after) + SEARCH_LIMIT > SEARCH_WINDOW:
                    break  # the window is full: move it forward
            boundary = _parse_hs_time(last_value) if last_value else lower
            if boundary <= lower:
                # A whole window of records shares one timestamp: page that instant by id, then move past it.
                yield from self._same_instant(stream, props, lower)
                boundary = lower + timedelta(milliseconds=1)
            lower = boundary

    def _same_instant(self, stream: Stream, props: list[str], instant: datetime) -> Iterator[LazyPage]:
        last_id = "0"
        while True:
            filters = [_filter(stream.cursor_field, "EQ", _ms(instant)), _filter("hs_object_id", "GT", last_id)]
            results = self._search_page(stream, props, filters, "hs_object_id", None).get("results", [])
            if results:
                yield _parsed(results)
                last_id = results[-1]["id"]
            if len(results) < SEARCH_LIMIT:
                return

    def _search_page(self, stream: Stream, props: list[str], filters: list[dict[str, str]], sort: str,
                     after: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"filterGroups": [{"filters": filters}],
                                "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
                                "properties": props, "limit": SEARCH_LIMIT}
        if after:
            body["after"] = after
        return self.client.post(f"/crm/v3/objects/{stream.name}/search", body, idempotent=True)  # a read


def _pages_table(pages: list[LazyPage], record_type: pa.StructType, schema: pa.Schema) -> pa.Table:
    """Pages of HubSpot objects as one flat table: the envelope, then one column per property.

    Pages still in bytes are parsed together (in C++); pages parsed already (search pages, the last page of a list)
    and any page whose values do not fit the declared types go through the Python path (:func:`records_to_arrow`).
    """
    lazy = [page for page in pages if page.parsed is None]
    records = json_records_to_arrow([page.content for page in lazy], "results", record_type) if lazy else None
    if records is not None:
        tables = [_flat_table(records, schema)]
        pages = [page for page in pages if page.parsed is not None]
    else:
        tables = []
    tables += [_flat_table(_page_records(page, record_type), schema) for page in pages]
    return tables[0] if len(tables) == 1 else concat_tables(tables)


def _page_records(page: LazyPage, record_type: pa.StructType) -> pa.StructArray:
    """One page's records; values that do not fit ``record_type`` take the Python path, which keeps them."""
    records = json_records_to_arrow([page.content], "results", record_type) if page.parsed is None else None
    return records if records is not None else records_to_arrow(page.json().get("results") or [], record_type)


def _parsed(results: list[dict[str, Any]]) -> LazyPage:
    """A search page: parsed in the fetch thread already, since its pager needs the last record's timestamp."""
    return LazyPage(b"", None, {"results": results})


def _flat_table(records: pa.StructArray, schema: pa.Schema) -> pa.Table:
    envelope = records.flatten()
    columns = [*envelope[:4], *envelope[4].flatten()]
    return pa.Table.from_arrays(columns, schema=fit_schema(schema, columns))


def _filter(prop: str, operator: str, value: str) -> dict[str, str]:
    return {"propertyName": prop, "operator": operator, "value": value}


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def _parse_hs_time(value: str) -> datetime:
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc)
    return max_time([value]) or datetime.fromtimestamp(0, tz=timezone.utc)
