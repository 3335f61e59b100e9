"""HubSpot CRM v3: contacts, companies, deals, tickets, line items and custom objects, all properties, incremental on
the last-modified date; each deal's, ticket's and line item's associations (v4) alongside.

A connection's ``streams`` may name a custom object by its fully qualified name (``p<portal>_<name>``) or object type
id (``2-NNN``), as HubSpot's URLs do: ``/crm/v3/schemas`` resolves it (one HubSpot does not have fails with the
closest names), and its records land in ``raw_<connection>.<stream name>``.

Associations are read through the v4 batch endpoint (up to 1,000 ids a request) for the records of each page, and
land as one column per associated object type, ``associations_<type>``: the associated ids separated by ``;``, the
primary one (association label "Primary") first. An incremental pull reads them for the records it reads.

Full pulls page the list endpoint with ``after``. The list takes the property names in its URL, and HubSpot's edge
refuses a request line over about 16 KB with 414: a portal with a few hundred custom properties has more names than
that. Then the list pages only ids, and each page of ids is read through ``batch/read``, which takes the property names
in its JSON body (one more request per 100 records, whatever the number of properties).

Incremental pulls use the search endpoint filtered on the object's modification property (``lastmodifieddate`` for
contacts, ``hs_lastmodifieddate`` for companies), sorted ascending. Search's ``after`` is an offset into a result set
that HubSpot evaluates again for every page: a record edited while the pull pages moves to the end, every record behind
it moves up one place, and the one at the next page boundary is never returned. So search is paged by key instead:
every page is a fresh query from the last timestamp seen (``GTE``), the records of that instant already read are
skipped, and an instant with more records than a page holds is paged by ``hs_object_id``. That also never reaches
search's cap of 10,000 results per query.

Lists and search skip archived records (deleted in the UI or by the API, or merged into another record), so an
incremental pull also pages the ids of ``?archived=true``; the ingest then sets ``archived`` on those raw rows, keeping
their values, and staging leaves them out. HubSpot keeps archived records restorable for 90 days, which bounds that
list; all of it is read every run (marking is idempotent), so a deletion missed once is caught the next time, and a
record restored since comes back through search with ``archived = false``.

Full pulls are where the volume is, so their pages are not parsed by the thread that fetches them: it reads only the
trailing ``paging`` member (:meth:`~hub.sources.http.ApiClient.get_lazy`) and goes on to the next page, while this thread
has pyarrow parse the records in C++, without holding the GIL (:func:`~hub.sources.base.json_records_to_arrow`).
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from hub.errors import SourceError
from hub.sources.auth import OAUTH_KEYS, OAuthProfile
from hub.sources.base import (Connector, ReadState, Stream, batched, chunks, concat_tables, fit_schema,
                              hold_known, json_records_to_arrow, max_time, prefetch, records_to_arrow)
from hub.sources.http import LazyPage, VendorProfile
from hub.sources.ratelimit import RateLimiter

if TYPE_CHECKING:  # pyarrow and httpx load when a stream is read: `hub status` declares connectors without them
    import httpx
    import pyarrow as pa

    from hub.config import ConnectionConfig
    from hub.sources.http import ApiClient

#: a custom object as HubSpot's URLs take it: its fully qualified name (p<portal>_<name>) or type id (2-NNN); a
#: bare name is taken for a standard object's typo, and the config check suggests the closest standard one
OBJECT_NAME = re.compile(r"^(?:2-\d+|p\d+_[a-z0-9_]+)$")
ASSOCIATIONS_READ = 1_000   # ids per v4 associations batch read (HubSpot's limit since February 2025)
LIST_LIMIT = 100
READ_LIMIT = 100     # inputs per batch/read
SEARCH_LIMIT = 200
#: the longest URL a list request may have: the edge refuses request lines over 16,384 bytes with 414, and proxies on
#: the way may cut lower (dlt verified-sources #305 met 414 at about 8,000 characters of property names)
URL_BUDGET = 8_000
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
        Stream("contacts", "contacts", cursor_field="lastmodifieddate", deleted_flag="archived",
               expects=("email", "firstname", "lastname", "phone", "mobilephone", "company", "associatedcompanyid",
                        "jobtitle", "city", "country", "lifecyclestage", "hubspotscore", "createdate")),
        Stream("companies", "companies", cursor_field="hs_lastmodifieddate", deleted_flag="archived",
               expects=("name", "domain", "phone", "industry", "city", "country", "numberofemployees",
                        "annualrevenue", "createdate")),
        Stream("deals", "deals", cursor_field="hs_lastmodifieddate", deleted_flag="archived",
               expects=("dealname", "amount", "deal_currency_code", "dealstage", "closedate", "hs_is_closed",
                        "hs_is_closed_won", "createdate")),
        Stream("tickets", "tickets", cursor_field="hs_lastmodifieddate", deleted_flag="archived",
               expects=("subject", "hs_pipeline_stage", "hs_ticket_priority", "createdate")),
        Stream("line_items", "line_items", cursor_field="hs_lastmodifieddate", deleted_flag="archived",
               expects=("name", "quantity", "price", "amount", "createdate")),
    )
    #: the object types whose associations each stream carries (``associations_<type>`` columns)
    associated: ClassVar[dict[str, tuple[str, ...]]] = {
        "deals": ("contacts", "companies"), "tickets": ("contacts", "companies"), "line_items": ("deals",)}
    hidden_cause = ("this portal has no such property, or it was deleted; the private app may also lack the scope "
                    "that shows it")
    default_streams = ("contacts", "companies")
    secret_keys = ("token", *OAUTH_KEYS)
    # Access tokens last 30 minutes (the token response says so in expires_in); an expired one gets this 401. The v3
    # token endpoint takes the same form in the body; /oauth/v1/token is deprecated (sunset 16 Feb 2027).
    oauth = OAuthProfile(token_path="/oauth/v3/token", expired_marker="EXPIRED_AUTHENTICATION", vendor="HubSpot",
                         request_id_field="correlationId", request_id_headers=("x-hubspot-correlation-id",))

    def __init__(self, config: ConnectionConfig, client: ApiClient) -> None:
        super().__init__(config, client)
        self.streams = self.stream_catalog(config)  # type: ignore[misc]  # this connection's objects
        self._types: dict[str, str] = {}

    @classmethod
    def stream_catalog(cls, config: ConnectionConfig) -> dict[str, Stream]:
        """The standard objects plus any custom object the connection's ``streams`` names (whether the portal has it
        is for ``/crm/v3/schemas`` to say; a name that cannot be an object type is left out, for the check)."""
        extra = {name: Stream(name, name.lower().replace("-", "_"), cursor_field="hs_lastmodifieddate",
                              deleted_flag="archived")
                 for name in config.streams or () if name not in cls.streams and OBJECT_NAME.match(name)}
        return {**cls.streams, **extra}

    def object_type(self, stream: Stream) -> str:
        """What URLs name the stream's object by: a standard object's name, a custom object's type id."""
        if stream.name in type(self).streams:
            return stream.name
        if stream.name not in self._types:
            schemas = self.client.get("/crm/v3/schemas").get("results") or []
            wanted = stream.name.lower()
            for schema in schemas:
                names = {str(schema.get(k) or "").lower() for k in ("fullyQualifiedName", "objectTypeId")}
                if wanted in names:
                    self._types[stream.name] = schema["objectTypeId"]
                    break
            else:
                known = [*type(self).streams, *(str(s.get("fullyQualifiedName")) for s in schemas)]
                close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.5)
                hint = (f"did you mean {' or '.join(repr(c) for c in close)}? " if close else "") + \
                    f"(HubSpot's objects: {', '.join(type(self).streams)}; custom ones: GET /crm/v3/schemas)"
                raise SourceError(f"{stream.name}: HubSpot has no object type '{stream.name}' in this account, or "
                                  f"the app's scopes do not show it", connection=self.config.name, hint=hint)
        return self._types[stream.name]

    def properties(self, stream: Stream) -> list[str]:
        """Every property name of the object, as the properties endpoint lists them."""
        body = self.client.get(f"/crm/v3/properties/{self.object_type(stream)}")
        names = [p["name"] for p in body.get("results", []) if p.get("name") not in ENVELOPE]
        if stream.cursor_field not in names:
            names.append(stream.cursor_field)
        return names

    def read(self, stream: Stream, since: datetime | None, state: ReadState) -> Iterator[pa.Table]:
        props = self.properties(stream)
        columns = props + self.absent(stream, props, state)   # never asked for: they come back null
        if since is not None:
            pages = self._search(stream, props, since)
        elif self._fits(stream, props):
            pages = self._list(stream, props)
        else:
            pages = self._list_read(stream, props)
        # The fetch thread only talks HTTP; pages are parsed here, a few at a time, by pyarrow off the GIL. Pages
        # in bytes are cheap to hold, so the fetcher may run far ahead while dlt writes a batch.
        pages = prefetch(pages, depth=PREFETCH_PAGES)
        if since is not None:   # search pages are parsed already: the records loaded last time need no Arrow
            field = stream.cursor_field
            pages = hold_known(pages, state, _search_results, key=lambda r: r.get("id"),
                               cursor=lambda r: (r.get("properties") or {}).get(field))
        yield from self._tables(stream, columns, pages, state)
        if since is not None:
            # search never returns archived records: the archived list is what tells which ones left since
            state.deleted = self.archived_ids(stream)

    def _tables(self, stream: Stream, columns: list[str], pages: Iterator[LazyPage],
                state: ReadState) -> Iterator[pa.Table]:
        """``pages`` as flat Arrow tables of about BATCH_ROWS rows; no page, no pyarrow import."""
        first = next(pages, None)
        if first is None:
            return
        import pyarrow as pa
        import pyarrow.compute as pc

        record_type = pa.struct([pa.field("id", pa.string()), pa.field("archived", pa.bool_()),
                                 pa.field("createdAt", pa.string()), pa.field("updatedAt", pa.string()),
                                 pa.field("properties", pa.struct([pa.field(p, pa.string()) for p in columns]))])
        schema = pa.schema([pa.field("id", pa.string(), nullable=False), pa.field("archived", pa.bool_()),
                            pa.field("created_at", pa.string()), pa.field("updated_at", pa.string()),
                            *(pa.field(p, pa.string()) for p in columns)])
        tables = (_pages_table(group, record_type, schema)
                  for group in chunks(itertools.chain([first], pages), PARSE_PAGES))
        targets = self.associated.get(stream.name, ())
        for table in batched(tables):
            state.rows += table.num_rows
            state.see(max_time([pc.max(table.column(stream.cursor_field)).as_py()]))
            if targets:
                ids = table.column("id").to_pylist()
                for target in targets:
                    linked = self.associations(stream, target, ids)
                    table = table.append_column(pa.field(f"associations_{target}", pa.string()),
                                                pa.array([linked.get(i) for i in ids], pa.string()))
            yield table

    def associations(self, stream: Stream, target: str, ids: list[str]) -> dict[str, str]:
        """Each record's associated ``target`` ids, ``;``-separated, the primary one first (v4 batch read; a record
        without any is a 207 error entry HubSpot reports, and simply absent here)."""
        out: dict[str, str] = {}
        for group in chunks(ids, ASSOCIATIONS_READ):
            body = self.client.post(f"/crm/v4/associations/{self.object_type(stream)}/{target}/batch/read",
                                    {"inputs": [{"id": i} for i in group]}, idempotent=True)   # a read
            for result in body.get("results") or []:
                links = sorted(result.get("to") or [], key=lambda t: (not _primary(t), int(t["toObjectId"])))
                out[str(result["from"]["id"])] = ";".join(str(t["toObjectId"]) for t in links)
        return out

    def archived_ids(self, stream: Stream) -> list[str]:
        """Ids of every archived record of the stream (``?archived=true``; HubSpot keeps them 90 days)."""
        ids: list[str] = []
        params: dict[str, Any] = {"limit": LIST_LIMIT, "properties": "hs_object_id", "archived": "true"}
        while True:
            body = self.client.get(f"/crm/v3/objects/{self.object_type(stream)}", params=params)
            ids += [r["id"] for r in body.get("results") or [] if r.get("id")]
            after = (body.get("paging") or {}).get("next", {}).get("after")
            if not after:
                return ids
            params["after"] = after

    def _list(self, stream: Stream, props: list[str]) -> Iterator[LazyPage]:
        params: dict[str, Any] = {"limit": LIST_LIMIT, "properties": ",".join(props), "archived": "false"}
        while True:
            page = self.client.get_lazy(f"/crm/v3/objects/{self.object_type(stream)}", params=params, member="paging")
            yield page
            after = (page.member or {}).get("next", {}).get("after")
            if not after:
                return
            params["after"] = after

    def _fits(self, stream: Stream, props: list[str]) -> bool:
        """Whether a list request naming every property stays within :data:`URL_BUDGET`."""
        import httpx

        params = {"limit": LIST_LIMIT, "properties": ",".join(props), "archived": "false", "after": "9" * 20}
        return len(str(httpx.URL(self.client.url(f"/crm/v3/objects/{self.object_type(stream)}"), params=params))) <= URL_BUDGET

    def _list_read(self, stream: Stream, props: list[str]) -> Iterator[LazyPage]:
        """Every record with every property: ids from the list, records from batch/read (names in the body)."""
        for ids in prefetch(self._list_ids(stream), depth=4):  # the next ids are listed while records are read
            yield self._batch_read(stream, props, ids)

    def _list_ids(self, stream: Stream) -> Iterator[list[str]]:
        params: dict[str, Any] = {"limit": LIST_LIMIT, "properties": "hs_object_id", "archived": "false"}
        while True:
            body = self.client.get(f"/crm/v3/objects/{self.object_type(stream)}", params=params)
            ids = [r["id"] for r in body.get("results") or [] if r.get("id")]
            if ids:
                yield ids
            after = (body.get("paging") or {}).get("next", {}).get("after")
            if not after:
                return
            params["after"] = after

    def _batch_read(self, stream: Stream, props: list[str], ids: list[str]) -> LazyPage:
        """One batch/read of ``ids``, kept in bytes for pyarrow. An id archived since it was listed is left out
        (207, ``errors``): the pull does not see a deleted record, as if it had been deleted before."""
        body = {"properties": props, "inputs": [{"id": i} for i in ids[:READ_LIMIT]]}
        response = self.client.request("POST", f"/crm/v3/objects/{self.object_type(stream)}/batch/read",
                                       content=orjson.dumps(body), headers={"Content-Type": "application/json"},
                                       idempotent=True, decode=_whole_object)  # a read: safe to send again
        return LazyPage(response.content, None, connection=self.config.name)

    def _search(self, stream: Stream, props: list[str], since: datetime) -> Iterator[LazyPage]:
        """Records modified at or after ``since``, paged by key: each page is a new query from the last instant seen."""
        prop = stream.cursor_field
        lower = _ms(since)
        seen: set[str] = set()   # ids already read whose timestamp is ``lower``: the next query returns them again
        while True:
            results = self._search_page(stream, props, [_filter(prop, "GTE", str(lower))], prop).get("results", [])
            # skip only a record read at this very instant: one edited since comes back later, and is read again
            fresh = [r for r in results if r["id"] not in seen or _record_ms(r, prop) != lower]
            if fresh:
                yield _parsed(fresh)
            if len(results) < SEARCH_LIMIT:
                return
            last = _record_ms(results[-1], prop)
            if last is None or last <= lower:
                # a whole page of one instant: read that instant by id, then go on after it
                yield from self._same_instant(stream, props, lower, seen)
                lower, seen = lower + 1, set()
                continue
            lower, seen = last, {r["id"] for r in results if _record_ms(r, prop) == last}

    def _same_instant(self, stream: Stream, props: list[str], instant: int, seen: set[str]) -> Iterator[LazyPage]:
        last_id = "0"
        while True:
            filters = [_filter(stream.cursor_field, "EQ", str(instant)), _filter("hs_object_id", "GT", last_id)]
            results = self._search_page(stream, props, filters, "hs_object_id").get("results", [])
            fresh = [r for r in results if r["id"] not in seen]
            if fresh:
                yield _parsed(fresh)
            if results:
                last_id = results[-1]["id"]
            if len(results) < SEARCH_LIMIT:
                return

    def _search_page(self, stream: Stream, props: list[str], filters: list[dict[str, str]],
                     sort: str) -> dict[str, Any]:
        # never an ``after``: it is an offset into a result set HubSpot evaluates again for every page
        body: dict[str, Any] = {"filterGroups": [{"filters": filters}],
                                "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
                                "properties": props, "limit": SEARCH_LIMIT}
        return self.client.post(f"/crm/v3/objects/{self.object_type(stream)}/search", body, idempotent=True)  # a read


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


def _search_results(page: LazyPage) -> list[dict[str, Any]]:
    return page.parsed["results"]


def _parsed(results: list[dict[str, Any]]) -> LazyPage:
    """A search page: parsed in the fetch thread already, since its pager needs the last record's timestamp."""
    return LazyPage(b"", None, {"results": results})


def _flat_table(records: pa.StructArray, schema: pa.Schema) -> pa.Table:
    import pyarrow as pa

    envelope = records.flatten()
    columns = [*envelope[:4], *envelope[4].flatten()]
    return pa.Table.from_arrays(columns, schema=fit_schema(schema, columns))


def _primary(link: dict[str, Any]) -> bool:
    return any(t.get("label") == "Primary" for t in link.get("associationTypes") or [])


def _filter(prop: str, operator: str, value: str) -> dict[str, str]:
    return {"propertyName": prop, "operator": operator, "value": value}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _record_ms(record: dict[str, Any], prop: str) -> int | None:
    """A search result's ``prop`` (epoch milliseconds or ISO-8601, as HubSpot sends datetimes) in milliseconds."""
    value = (record.get("properties") or {}).get(prop)
    if not value:
        return None
    if str(value).isdigit():
        return int(value)
    moment = max_time([value])
    return _ms(moment) if moment else None


def _whole_object(response: httpx.Response) -> bool:
    """Whether a body kept in bytes is a whole JSON object (a cut-off one is fetched again); parsed later."""
    content = response.content
    return content[:1] == b"{" and content.rstrip()[-1:] == b"}"
