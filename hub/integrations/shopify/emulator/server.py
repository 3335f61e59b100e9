"""Shopify Admin GraphQL API emulator: ``POST /admin/api/<version>/graphql.json`` with the query-cost bucket.

Every answer is HTTP 200 with ``data``/``errors`` and ``extensions.cost`` (``requestedQueryCost``,
``actualQueryCost``, ``throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}``), except: a missing or
unknown ``X-Shopify-Access-Token`` (401, ``{"errors": "[API] Invalid API key or access token ..."}``), a version
path that is not a version (404 ``{"errors": "Not Found"}``). Each token (an app on this shop) has its own leaky
bucket: a query is charged its requested cost before it runs and refunded the difference to its actual cost after;
one that costs more than the bucket holds now is refused with ``THROTTLED`` (still HTTP 200, nothing charged), one
whose requested cost exceeds the single-query maximum (1,000) with ``MAX_COST_EXCEEDED``. A retired version falls
forward to the oldest supported one, and ``X-Shopify-API-Version`` says which version answered. The official SDK
reaches it with ``shopify.Session.setup(protocol="http", myshopify_domain="0.0.1", port=<port>)`` and the shop
``"127"`` (the SDK builds ``http://127.0.0.1:<port>/admin/api/<version>``).
"""

from __future__ import annotations

import queue
import re
import secrets as _secrets
import ssl
import threading
import time
import uuid
from collections.abc import Collection
from typing import Any

import orjson

from hub.integrations.shopify.emulator.executor import QueryError, Runner, prepare
from hub.integrations.shopify.emulator.faults import ShopifyFaults, shopify_errors
from hub.integrations.shopify.emulator.store import ShopStore
from hub.sandbox.clock import AnyClock
from hub.sandbox.routing import Route
from hub.sandbox.server import HTTPEmulator, Request, Response
from hub.webhooks import signing

#: the stable versions this emulator answers in, oldest first (Shopify supports each for at least 12 months)
SUPPORTED_VERSIONS = ("2025-01", "2025-04", "2025-07", "2025-10")
API_VERSION = "2025-01"
VERSION_FORMAT = re.compile(r"^\d{4}-(01|04|07|10)$")
ALL_SCOPES = frozenset({"read_orders", "read_customers", "read_products"})
RATE_DOCS = "https://shopify.dev/api/usage/rate-limits"
#: Standard plan: 100 points a second restored, a bucket of 2,000; any query at most 1,000 (docs/vendors.md)
STANDARD_RESTORE, STANDARD_BUCKET, MAX_QUERY_COST = 100.0, 2000.0, 1000


class CostBucket:
    """One app's leaky bucket of query-cost points on this shop."""

    def __init__(self, size: float, restore: float, clock: AnyClock) -> None:
        self.size, self.restore, self._clock = size, restore, clock
        self.available = size
        self._at = clock.seconds()
        self.lock = threading.Lock()
        self.spent = 0.0            # actual points charged, for benchmarks
        self.first_at: float | None = None
        self.last_at: float | None = None

    def _refill(self) -> float:
        now = self._clock.seconds()
        self.available = min(self.size, self.available + (now - self._at) * self.restore)
        self._at = now
        return now

    def take(self, cost: int) -> bool:
        """Charge ``cost`` now if the bucket holds it."""
        with self.lock:
            now = self._refill()
            if cost > self.available:
                return False
            self.available -= cost
            if self.first_at is None:
                self.first_at = now
            return True

    def settle(self, requested: int, actual: int) -> None:
        """Refund what the query did not use; record the points it did."""
        with self.lock:
            self._refill()
            self.available = min(self.size, self.available + requested - actual)
            self.spent += actual
            self.last_at = self._clock.seconds()

    def status(self) -> dict[str, float]:
        with self.lock:
            self._refill()
            return {"maximumAvailable": float(self.size), "currentlyAvailable": int(self.available),
                    "restoreRate": float(self.restore)}


class Webhooks:
    """Signed deliveries of the shop's changes (``customers/delete``, ``orders/delete``, ...) to subscribed URLs."""

    def __init__(self, shop_domain: str) -> None:
        self.shop_domain = shop_domain
        self.endpoints: list[tuple[str, str, frozenset[str] | None]] = []
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.delivered: list[tuple[str, str, int]] = []   # (topic, webhook id, status)

    def add(self, url: str, secret: str, topics: Collection[str] | None = None) -> None:
        self.endpoints.append((url, secret, frozenset(topics) if topics else None))

    def __call__(self, topic: str, payload: dict[str, Any]) -> None:
        if self.endpoints:
            self._queue.put((topic, payload))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sandbox-shopify-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    def drain(self) -> None:
        """Block until every change so far was delivered (or its delivery failed)."""
        self._queue.join()

    def _run(self) -> None:
        import httpx

        with httpx.Client(timeout=10) as http:
            while True:
                item = self._queue.get()
                try:
                    if item is None:
                        return
                    topic, payload = item
                    body = orjson.dumps(payload)
                    for url, secret, topics in list(self.endpoints):
                        if topics is not None and topic not in topics:
                            continue
                        webhook_id = str(uuid.uuid4())
                        headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic,
                                   "X-Shopify-Hmac-Sha256": signing.hmac_base64(secret, body),
                                   "X-Shopify-Shop-Domain": self.shop_domain, "X-Shopify-Webhook-Id": webhook_id,
                                   "X-Shopify-API-Version": API_VERSION,
                                   "X-Shopify-Triggered-At": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
                        try:
                            status = http.post(url, content=body, headers=headers).status_code
                        except httpx.HTTPError:
                            status = 0
                        self.delivered.append((topic, webhook_id, status))
                finally:
                    self._queue.task_done()


class ShopifyEmulator(HTTPEmulator):
    """One shop's Admin GraphQL API on loopback."""

    server_name = "shopify"
    fault_style = ShopifyFaults

    def __init__(self, store: ShopStore, clock: AnyClock, *, token: str, host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None, restore_rate: float = STANDARD_RESTORE,
                 bucket_size: float = STANDARD_BUCKET, max_query_cost: int = MAX_QUERY_COST,
                 shop_name: str = "hub-sandbox") -> None:
        super().__init__(host, port, tls)
        self.store, self.clock = store, clock
        self.token = token
        self.restore_rate, self.bucket_size, self.max_query_cost = restore_rate, bucket_size, max_query_cost
        self.scopes: dict[str, frozenset[str]] = {token: ALL_SCOPES}
        self.buckets: dict[str, CostBucket] = {}
        self.refused = {"THROTTLED": 0, "MAX_COST_EXCEEDED": 0}   # answers that ran nothing, for tests
        self._lock = threading.Lock()
        self.shop = {"id": "gid://shopify/Shop/1", "name": shop_name, "myshopifyDomain": f"{shop_name}.myshopify.com",
                     "currencyCode": store.currency, "ianaTimezone": "Etc/UTC"}
        self.webhooks = Webhooks(self.shop["myshopifyDomain"])
        store.listeners.append(self.webhooks)
        self.router.add("POST", "/admin/api/{version}/graphql.json", self._graphql)

    def issue_token(self, scopes: Collection[str]) -> str:
        """A token of another app on this shop, granted ``scopes`` only (its own bucket)."""
        token = "shpat_" + _secrets.token_hex(16)
        self.scopes[token] = frozenset(scopes)
        return token

    def bucket(self, token: str | None = None) -> CostBucket:
        token = token or self.token
        with self._lock:
            if token not in self.buckets:
                self.buckets[token] = CostBucket(self.bucket_size, self.restore_rate, self.clock)
            return self.buckets[token]

    def credentials(self) -> dict[str, str]:
        return {"token": self.token}

    def to_state(self) -> dict[str, Any]:
        return self.store.to_state()

    def start(self) -> None:
        super().start()
        self.webhooks.start()

    def stop(self) -> None:
        self.webhooks.stop()
        super().stop()

    def dispatch(self, request: Request, route: Route) -> Response:
        version = request.params.get("version", "")
        if not VERSION_FORMAT.match(version) and version != "unstable":
            return shopify_errors(404, "Not Found")
        token = request.header("x-shopify-access-token")
        if not token or token not in self.scopes:
            return shopify_errors(401, "[API] Invalid API key or access token (unrecognized login or wrong password)")
        served = version if version in SUPPORTED_VERSIONS or version == "unstable" or version > SUPPORTED_VERSIONS[-1] \
            else SUPPORTED_VERSIONS[0]
        response = route.handler(request, token)
        response.headers = {"X-Shopify-API-Version": served, "X-Request-Id": str(uuid.uuid4()), **response.headers}
        return response

    def no_route(self, request: Request, other_method: bool) -> Response:
        return shopify_errors(404, "Not Found")

    def internal_error(self, request: Request) -> Response:
        return shopify_errors(500, "Internal Server Error")

    def _graphql(self, request: Request, token: str) -> Response:
        kind = (request.header("content-type") or "").split(";")[0].strip().lower()
        try:
            if kind == "application/graphql":
                body: Any = {"query": request.body.decode("utf-8")}
            else:
                body = request.json()
        except (ValueError, UnicodeDecodeError):
            return _json(400, {"errors": [{"message": "Invalid JSON in request body"}]})
        if not isinstance(body, dict):
            return _json(400, {"errors": [{"message": "Invalid JSON in request body"}]})
        try:
            prepared = prepare(body.get("query"), body.get("variables"), body.get("operationName"))
        except QueryError as exc:
            return _json(200, {"errors": exc.errors})
        bucket = self.bucket(token)
        if prepared.requested > self.max_query_cost:
            self.refused["MAX_COST_EXCEEDED"] += 1
            return _json(200, {"errors": [{
                "message": f"Query cost is {prepared.requested}, which exceeds the single query max cost limit "
                           f"({self.max_query_cost}).\n\nSee {RATE_DOCS} for more information on how the\ncost of a "
                           f"query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk "
                           f"operations should be used instead.\nSee https://shopify.dev/docs/api/usage/"
                           f"bulk-operations/queries for usage details.\n",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": prepared.requested,
                               "maxCost": self.max_query_cost, "documentation": RATE_DOCS}}]})
        if not bucket.take(prepared.requested):
            self.refused["THROTTLED"] += 1
            return _json(200, {"errors": [{"message": "Throttled",
                                           "extensions": {"code": "THROTTLED", "documentation": RATE_DOCS}}],
                               "extensions": {"cost": {"requestedQueryCost": prepared.requested,
                                                       "actualQueryCost": None,
                                                       "throttleStatus": bucket.status()}}})
        result = Runner(self.store, self.scopes[token], self.shop).run(prepared)
        bucket.settle(prepared.requested, result.actual)
        out: dict[str, Any] = {}
        if result.errors:
            out["errors"] = result.errors
        out["data"] = result.data
        extensions: dict[str, Any] = {"cost": {"requestedQueryCost": prepared.requested,
                                               "actualQueryCost": result.actual,
                                               "throttleStatus": bucket.status()}}
        if result.search:
            extensions["search"] = result.search
        out["extensions"] = extensions
        return _json(200, out)


def _json(status: int, payload: Any) -> Response:
    return Response(status, orjson.dumps(payload))
