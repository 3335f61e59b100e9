"""Shopify: orders, customers and products from the Admin GraphQL API, paced by the query-cost bucket.

Every stream is one top-level connection, read ``first: N, after: <endCursor>`` while ``pageInfo.hasNextPage``,
sorted ``UPDATED_AT`` and, incrementally, filtered ``query: "updated_at:>='<since>'"``. Shopify's cursors hold the
last node's sort value and id, so a record edited while the read pages moves behind the cursor and would be read
again at the end: each read is bounded by ``updated_at:<='<newest update when it began>'``, so such a record is read
once now and its edit by the next run (no second row in a full pull). A deleted record is simply gone (its
``<kind>/delete`` webhook flags the raw row).

Rate limits are a leaky bucket of cost points per app and shop, reported in every answer's ``extensions.cost``. The
connector keeps a :class:`hub.sources.ratelimit.CostBucket` of the connection fed from those reports and waits for
the bucket to hold a page's *requested* cost before asking; the page size is chosen from the cost the first answer
reports per node, so one page stays under the single-query maximum (1,000) and the bucket's size. A ``THROTTLED``
answer (HTTP 200) is waited out and asked again; ``MAX_COST_EXCEEDED`` makes the pages smaller.

A token without a scope a field needs gets that field as null with an ``ACCESS_DENIED`` error: an order's
``customer`` without ``read_customers`` lands as NULL with one warning; a whole stream the token cannot read fails
with the scope to grant. A search term Shopify ignores (``extensions.search`` warnings) fails the read: the filter
would silently not apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import orjson
import pyarrow as pa

from hub.config import ConnectionConfig
from hub.errors import ConfigError, RateLimitError, SourceError
from hub.secrets import Secret
from hub.sources import notices, versions
from hub.sources.base import Connector, ReadState, Stream, batched, prefetch, records_to_table
from hub.sources.http import ApiClient, VendorProfile
from hub.sources.ratelimit import CostBucket, cost_bucket_for

MAX_PAGE = 250               # the largest first/last Shopify takes
MAX_QUERY_COST = 1000        # the most one query may cost (requested), whatever the bucket holds
FIRST_PAGE = 5               # the size of the page that learns a node's cost
LINE_ITEMS = 5               # line items asked with each order (most have fewer); the rest are paged in
MAX_THROTTLED = 20           # THROTTLED answers waited out in a row before giving up
VERSION = re.compile(r"^\d{4}-(01|04|07|10)$")
S, B, I, J = pa.string(), pa.bool_(), pa.int64(), "json"

MONEY = "shopMoney { amount currencyCode }"
NODES = {
    "orders": f"""id legacyResourceId name email phone note tags test createdAt updatedAt processedAt cancelledAt
        closedAt displayFinancialStatus displayFulfillmentStatus currencyCode
        totalPriceSet {{ {MONEY} }} subtotalPriceSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }}
        totalRefundedSet {{ {MONEY} }} totalDiscountsSet {{ {MONEY} }}
        customer {{ id email }}
        lineItems(first: {LINE_ITEMS}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {{LINE}} }} }}
        refunds {{ id createdAt note totalRefundedSet {{ {MONEY} }} }}""",
    "customers": f"""id legacyResourceId email firstName lastName displayName phone state note tags verifiedEmail
        createdAt updatedAt numberOfOrders amountSpent {{ amount currencyCode }}""",
    "products": """id legacyResourceId title handle vendor productType status tags createdAt updatedAt publishedAt
        totalInventory variants(first: 50) { nodes { id title sku price inventoryQuantity } }""",
}
LINE = f"id name sku quantity originalUnitPriceSet {{ {MONEY} }} discountedTotalSet {{ {MONEY} }}"
NODES["orders"] = NODES["orders"].replace("{LINE}", LINE)
LINES_PAGE = 100             # line items per follow-up query: 3 + 100 x 5 points, under the single-query maximum
LINES_QUERY = (f"query HubOrderLines($id: ID!, $after: String) {{ order(id: $id) {{ lineItems(first: {LINES_PAGE}, "
               f"after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE} }} }} }} }}")

COLUMNS: dict[str, tuple[tuple[str, Any], ...]] = {
    "orders": (("id", S), ("legacy_resource_id", S), ("name", S), ("email", S), ("phone", S), ("note", S),
               ("test", B), ("created_at", S), ("updated_at", S), ("processed_at", S), ("cancelled_at", S),
               ("closed_at", S), ("display_financial_status", S), ("display_fulfillment_status", S),
               ("currency_code", S), ("total_price", S), ("subtotal_price", S), ("total_tax", S),
               ("total_refunded", S), ("total_discounts", S), ("customer_id", S), ("customer_email", S),
               ("tags", J), ("line_items", J), ("refunds", J), ("deleted", B)),
    "customers": (("id", S), ("legacy_resource_id", S), ("email", S), ("first_name", S), ("last_name", S),
                  ("display_name", S), ("phone", S), ("state", S), ("note", S), ("verified_email", B),
                  ("created_at", S), ("updated_at", S), ("number_of_orders", S), ("amount_spent", S),
                  ("amount_spent_currency", S), ("tags", J), ("deleted", B)),
    "products": (("id", S), ("legacy_resource_id", S), ("title", S), ("handle", S), ("vendor", S),
                 ("product_type", S), ("status", S), ("created_at", S), ("updated_at", S), ("published_at", S),
                 ("total_inventory", I), ("tags", J), ("variants", J), ("deleted", B)),
}


def query_text(stream: str) -> str:
    """The page query of ``stream``: sorted by UPDATED_AT, filtered by ``$query``, ``$first`` nodes after ``$after``."""
    return (f"query Hub{stream.title()}($first: Int!, $after: String, $query: String) {{ {stream}(first: $first, "
            f"after: $after, query: $query, sortKey: UPDATED_AT) {{ pageInfo {{ hasNextPage endCursor }} "
            f"nodes {{ {' '.join(NODES[stream].split())} }} }} }}")


class TokenAuth(httpx.Auth):
    """``X-Shopify-Access-Token: <token>`` (an Admin API access token, ``shpat_...``)."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["X-Shopify-Access-Token"] = self._token.reveal()
        yield request


class ShopifyVendor(VendorProfile):
    """Shopify's ``{"errors": "..."}`` bodies, its request id, and the version that answered."""

    name = "Shopify"

    def error_message(self, response: httpx.Response, body: Any) -> str:
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, str):
            return errors
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message"))
        return super().error_message(response, body)

    def request_id(self, response: httpx.Response, body: Any) -> str | None:
        return response.headers.get("x-request-id")

    def notice(self, response: httpx.Response, seen: notices.Seen) -> None:
        """An answer in another version than the path asked for: Shopify fell forward from a retired version."""
        answered = response.headers.get("x-shopify-api-version")
        asked = response.request.url.path.split("/admin/api/")[-1].split("/")[0]
        if answered and asked and answered != asked:
            seen.note("X-Shopify-API-Version", f"Shopify answered in API version {answered}, not the pinned {asked} "
                                               "(a retired version falls forward): pin a supported version")
        super().notice(response, seen)


class Shopify(Connector):
    """One shop's orders, customers and products, with an Admin API access token as ``token``."""

    type = "shopify"
    vendor = ShopifyVendor
    default_base_url = None
    base_url_example = "https://your-shop.myshopify.com"
    streams = Connector.declare(*(Stream(name, name, cursor_field="updated_at", deleted_flag="deleted")
                                  for name in COLUMNS))
    default_streams = tuple(COLUMNS)
    hidden_cause = "the app's token lacks the access scope"

    @classmethod
    def api_client(cls, config: ConnectionConfig, *, http: httpx.Client | None = None,
                   **client_options: Any) -> ApiClient:
        """The connection's client: the token goes in ``X-Shopify-Access-Token``, not ``Authorization``."""
        base_url = config.base_url
        if not base_url:
            raise ConfigError(f"[connections.{config.name}] needs base_url (the shop's URL)", file="hub.toml",
                              hint=f"e.g. base_url = \"{cls.base_url_example}\"")
        from hub.sources.base import client_settings

        vendor = cls.vendor()
        vendor.auth_hint = f"check the token of connection '{config.name}' (an Admin API access token, shpat_...)"
        return ApiClient(config.name, base_url, auth=TokenAuth(config.secret("token")), http=http, vendor=vendor,
                         notes_root=config.root, **{**client_settings(config), **client_options})

    @classmethod
    def check_config(cls, name: str, body: dict[str, Any], text: str) -> None:
        """A pinned ``api_version`` must be a Shopify stable version (YYYY-01, -04, -07 or -10)."""
        from hub.config import line_of

        value = body.get("api_version")
        if value is not None and not VERSION.match(str(value)):
            raise ConfigError(f"[connections.{name}] api_version is {value!r}, not a Shopify stable version",
                              file="hub.toml", line=line_of(text, ["connections", name], "api_version"),
                              hint="write a quarterly release such as \"2025-01\" (YYYY-01, -04, -07 or -10)")

    def __init__(self, config: ConnectionConfig, client: ApiClient) -> None:
        super().__init__(config, client)
        self.version = versions.api_version("shopify", config.options) or "2025-01"
        self.path = f"/admin/api/{self.version}/graphql.json"
        self.bucket: CostBucket = cost_bucket_for(f"{config.name}@{client.base_url}")
        self.node_cost: dict[str, float] = {}

    # --- one GraphQL request, paced by the bucket ---------------------------------------------------------

    def graphql(self, query: str, variables: dict[str, Any], *, cost: float | None = None) -> dict[str, Any]:
        """POST one query; waits for the bucket to hold ``cost`` (the requested cost, when known) first, waits out
        THROTTLED answers, and returns the body (``data``, ``errors``, ``extensions``)."""
        for _ in range(MAX_THROTTLED):
            if cost is not None:
                self.bucket.acquire(cost)
            body = self.client.post(self.path, {"query": query, "variables": variables}, idempotent=True)
            if not isinstance(body, dict):
                raise SourceError("Shopify answered a GraphQL request with a body that is not an object",
                                  connection=self.config.name)
            report = (body.get("extensions") or {}).get("cost") or {}
            status = report.get("throttleStatus")
            if isinstance(status, dict):
                self.bucket.observe(status["maximumAvailable"], status["currentlyAvailable"], status["restoreRate"])
            codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or [] if isinstance(e, dict)}
            if "THROTTLED" in codes:
                cost = report.get("requestedQueryCost") or cost
                continue
            return body
        raise RateLimitError(f"still THROTTLED by Shopify after {MAX_THROTTLED} tries", connection=self.config.name,
                             retriable=True, hint="another app may be using this shop's query-cost bucket; try later")

    def _fail(self, errors: list[dict[str, Any]], what: str) -> SourceError:
        first = errors[0] if errors else {}
        code = (first.get("extensions") or {}).get("code")
        hint = None
        if code == "ACCESS_DENIED":
            hint = f"grant the app the scope it names ({(first.get('extensions') or {}).get('requiredAccess')})"
        return SourceError(f"Shopify refused {what}: {first.get('message')}" + (f" ({code})" if code else ""),
                           connection=self.config.name, hint=hint)

    # --- reading a stream ---------------------------------------------------------------------------------

    def read(self, stream: Stream, since: datetime | None, state: ReadState) -> Iterator[pa.Table]:
        """Yield the stream's records updated at or after ``since`` (all when None)."""
        schema = schema_of(stream.name)
        pages = prefetch(self._pages(stream.name, since, state))
        for table in batched(_table(records, stream.name, schema) for records in pages):
            state.rows += table.num_rows
            yield table

    def _newest(self, name: str) -> str | None:
        """``updatedAt`` of the stream's most recently updated record (None: the stream is empty)."""
        body = self.graphql(f"query HubNewest {{ {name}(first: 1, sortKey: UPDATED_AT, reverse: true) "
                            f"{{ nodes {{ updatedAt }} }} }}", {}, cost=3)
        connection = (body.get("data") or {}).get(name)
        if connection is None:
            raise self._fail([e for e in body.get("errors") or [] if isinstance(e, dict)], f"reading {name}")
        nodes = connection.get("nodes") or []
        return nodes[0].get("updatedAt") if nodes else None

    def _pages(self, name: str, since: datetime | None, state: ReadState) -> Iterator[list[dict[str, Any]]]:
        query = query_text(name)
        # The read stops at the newest update when it began: a record edited while the pages are read would come
        # again at the end (a second row in a full pull); it is left for the next run, which starts at the cursor.
        bound = self._newest(name)
        if bound is None:
            return
        search = f"updated_at:<='{bound}'"
        if since is not None:
            search = f"updated_at:>='{_iso(since)}' AND {search}"
        after: str | None = None
        hidden: set[str] = set()
        while True:
            first = self._page_size(name)
            requested = 2 + first * self.node_cost[name] if name in self.node_cost else None
            body = self.graphql(query, {"first": first, "after": after, "query": search}, cost=requested)
            errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
            if any((e.get("extensions") or {}).get("code") == "MAX_COST_EXCEEDED" for e in errors):
                if first <= 1:
                    raise self._fail(errors, f"a page of {name}")
                cost = (errors[0].get("extensions") or {}).get("cost") or 2 + first * 1000
                self.node_cost[name] = max(self.node_cost.get(name, 0), (cost - 2) / first)
                continue
            data = body.get("data") or {}
            connection = data.get(name)
            if connection is None:
                raise self._fail(errors, f"reading {name}")
            for error in errors:   # a field the token may not read, inside the nodes: it is null
                path = error.get("path") or []
                if (error.get("extensions") or {}).get("code") != "ACCESS_DENIED" or len(path) < 3:
                    raise self._fail([error], f"reading {name}")
                hidden.add(str(path[-1]))
            warnings = (body.get("extensions") or {}).get("search") or []
            if warnings:
                detail = "; ".join(f"{w.get('field')}: {w.get('message')}" for s in warnings
                                   for w in s.get("warnings") or [])
                raise SourceError(f"Shopify ignored part of the search {search!r} on {name} ({detail})",
                                  connection=self.config.name, hint="the API version may not filter on this "
                                                                    "field; pin another api_version")
            report = (body.get("extensions") or {}).get("cost") or {}
            if report.get("requestedQueryCost") and first:
                self.node_cost[name] = max(1.0, (report["requestedQueryCost"] - 2) / first)
            nodes = connection.get("nodes") or []
            if name == "orders":
                nodes = [self._all_lines(node) for node in nodes]
            for node in nodes:
                state.see(_time(node.get("updatedAt")))
            if nodes:
                yield nodes
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                break
            after = info.get("endCursor")
        for field_name in sorted(hidden):
            state.notices.append(f"warning: {self.config.name}.{name}: Shopify hid {field_name} ({self.hidden_cause}: "
                                 f"ACCESS_DENIED); it is NULL in raw_{self.config.name}.{name} and in staging")

    def _page_size(self, name: str) -> int:
        """As many nodes as one query may cost: under the single-query maximum and the bucket's size."""
        per_node = self.node_cost.get(name)
        if per_node is None:
            return FIRST_PAGE
        budget = min(MAX_QUERY_COST, self.bucket.maximum or MAX_QUERY_COST) - 2
        return max(1, min(MAX_PAGE, int(budget // per_node)))

    def _all_lines(self, order: dict[str, Any]) -> dict[str, Any]:
        """An order with every line item: the first five come with it, the rest are paged in."""
        lines = order.get("lineItems")
        if not isinstance(lines, dict) or not (lines.get("pageInfo") or {}).get("hasNextPage"):
            return order
        nodes = list(lines.get("nodes") or [])
        after = (lines.get("pageInfo") or {}).get("endCursor")
        while after:
            body = self.graphql(LINES_QUERY, {"id": order["id"], "after": after}, cost=3 + LINES_PAGE * 5)
            more = ((body.get("data") or {}).get("order") or {}).get("lineItems")
            if more is None:
                raise self._fail(body.get("errors") or [], f"the line items of {order['id']}")
            nodes += more.get("nodes") or []
            after = (more.get("pageInfo") or {}).get("endCursor") if (more.get("pageInfo") or {}).get(
                "hasNextPage") else None
        return {**order, "lineItems": {"nodes": nodes, "pageInfo": {"hasNextPage": False}}}


def schema_of(stream: str) -> pa.Schema:
    """The raw table's Arrow schema: JSON columns are strings, ``id`` is never null."""
    return pa.schema([pa.field(name, S if kind == J else kind, nullable=name != "id")
                      for name, kind in COLUMNS[stream]])


def _money(value: Any) -> tuple[str | None, str | None]:
    shop = (value or {}).get("shopMoney") if isinstance(value, dict) else None
    return (shop.get("amount"), shop.get("currencyCode")) if isinstance(shop, dict) else (None, None)


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _row(stream: str, node: dict[str, Any]) -> dict[str, Any]:
    """A node as a flat raw row (money as decimal strings, nested lists as JSON text)."""
    get = node.get
    common = {"id": get("id"), "legacy_resource_id": get("legacyResourceId"), "created_at": get("createdAt"),
              "updated_at": get("updatedAt"), "tags": _json(get("tags")), "deleted": False}
    if stream == "orders":
        customer = get("customer") or {}
        lines = (get("lineItems") or {}).get("nodes")
        return {**common, "name": get("name"), "email": get("email"), "phone": get("phone"), "note": get("note"),
                "test": get("test"), "processed_at": get("processedAt"), "cancelled_at": get("cancelledAt"),
                "closed_at": get("closedAt"), "display_financial_status": get("displayFinancialStatus"),
                "display_fulfillment_status": get("displayFulfillmentStatus"), "currency_code": get("currencyCode"),
                "total_price": _money(get("totalPriceSet"))[0], "subtotal_price": _money(get("subtotalPriceSet"))[0],
                "total_tax": _money(get("totalTaxSet"))[0], "total_refunded": _money(get("totalRefundedSet"))[0],
                "total_discounts": _money(get("totalDiscountsSet"))[0], "customer_id": customer.get("id"),
                "customer_email": customer.get("email"), "line_items": _json(lines),
                "refunds": _json(get("refunds"))}
    if stream == "customers":
        spent = get("amountSpent") or {}
        return {**common, "email": get("email"), "first_name": get("firstName"), "last_name": get("lastName"),
                "display_name": get("displayName"), "phone": get("phone"), "state": get("state"), "note": get("note"),
                "verified_email": get("verifiedEmail"), "number_of_orders": get("numberOfOrders"),
                "amount_spent": spent.get("amount"), "amount_spent_currency": spent.get("currencyCode")}
    return {**common, "title": get("title"), "handle": get("handle"), "vendor": get("vendor"),
            "product_type": get("productType"), "status": get("status"), "published_at": get("publishedAt"),
            "total_inventory": get("totalInventory"), "variants": _json((get("variants") or {}).get("nodes"))}


def _table(records: list[dict[str, Any]], stream: str, schema: pa.Schema) -> pa.Table:
    return records_to_table([_row(stream, r) for r in records], schema)


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
