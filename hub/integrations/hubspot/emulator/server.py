"""HubSpot CRM v3 emulator: objects, properties, search, batch, OAuth, rate limits, HubSpot error bodies."""

from __future__ import annotations

import re
import ssl
import uuid
from collections import OrderedDict
from typing import Any

import orjson

from hub.integrations.hubspot.emulator import search as hubspot_search
from hub.sandbox.clock import AnyClock, iso_millis_z
from hub.integrations.hubspot.emulator.auth import HubSpotAuth, token_answer
from hub.integrations.hubspot.emulator.faults import HubSpotFaults
from hub.integrations.hubspot.emulator.associations import AssociationRoutes, resolve_links
from hub.integrations.hubspot.emulator.batch import run_batch
from hub.integrations.hubspot.emulator.objects import custom_schema
from hub.integrations.hubspot.emulator.store import Failure, HubObject, HubSpotStore, Table
from hub.sandbox.ratelimit import DailyQuota, RollingWindowLimiter, Verdict
from hub.sandbox.routing import Route
from hub.sandbox.server import EmulatorError, HTTPEmulator, Request, Response

CONTENT_TYPE = "application/json;charset=utf-8"
MAX_LIST_LIMIT = 100
MAX_BATCH = 100
PAGE_CACHE_SIZE = 2048
AUTH_MESSAGE = ("Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
                "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
OBJECTS = "/crm/v3/objects/{objectType}"
_AFTER = re.compile(r"(?:^|&)after=[^&]*")


def hubspot_error(status: int, message: str, category: str, *, context: dict[str, Any] | None = None,
                  errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
                  **extra: Any) -> Response:
    """A response in HubSpot's error shape: {status, message, correlationId, category, ...}."""
    correlation = str(uuid.uuid4())
    body: dict[str, Any] = {"status": "error", "message": message, "correlationId": correlation}
    if category:
        body["category"] = category
    body.update(extra)
    if context:
        body["context"] = context
    if errors:
        body["errors"] = errors
    return Response(status, orjson.dumps(body), content_type=CONTENT_TYPE,
                    headers={"X-HubSpot-Correlation-Id": correlation, **(headers or {})})


def _json(status: int, payload: Any) -> Response:
    return Response(status, orjson.dumps(payload), content_type=CONTENT_TYPE)


class HubSpotEmulator(HTTPEmulator):
    """A stateful HubSpot CRM API on loopback: v3 objects (contacts, companies, deals, tickets, line items, a custom
    object), properties, schemas, search and batch, and v4 associations."""

    server_name = "hubspot"
    fault_style = HubSpotFaults

    def __init__(self, store: HubSpotStore, clock: AnyClock, *, seed: int = 7, host: str = "127.0.0.1",
                 port: int = 0, tls: ssl.SSLContext | None = None,
                 rate_limit: tuple[int, float] | None = (190, 10.0),
                 search_rate_limit: tuple[int, float] | None = (5, 1.0), daily_limit: int = 500_000) -> None:
        super().__init__(host, port, tls)
        self.store = store
        self.clock = clock
        self.auth = HubSpotAuth(seed, clock)
        self.limiter = RollingWindowLimiter(*rate_limit, clock.seconds) if rate_limit else None
        self.search_limiter = RollingWindowLimiter(*search_rate_limit, clock.seconds) if search_rate_limit else None
        self.daily = DailyQuota(daily_limit, clock.seconds)
        self._property_cache: dict[str, bytes] = {}
        self._page_cache: OrderedDict[tuple[str, str, int], bytes] = OrderedDict()
        add = self.router.add
        add("POST", "/oauth/v1/token", self.oauth_token, {"public": True})
        add("POST", "/oauth/v3/token", self.oauth_token_v3, {"public": True})
        add("GET", "/crm/v3/properties/{objectType}", self.list_properties)
        add("GET", "/crm/v3/properties/{objectType}/{propertyName}", self.get_property)
        add("POST", OBJECTS + "/search", self.search, {"search": True})
        add("POST", OBJECTS + "/batch/read", self.batch_read)   # counted apart: tests tell reads from writes
        add("POST", OBJECTS + "/batch/{action}", self.batch)
        add("POST", OBJECTS + "/merge", self.merge)
        add("GET", OBJECTS, self.list_objects)
        add("POST", OBJECTS, self.create_object)
        add("GET", OBJECTS + "/{objectId}", self.get_object)
        add("PATCH", OBJECTS + "/{objectId}", self.update_object)
        add("DELETE", OBJECTS + "/{objectId}", self.archive_object)
        for schemas in ("/crm/v3/schemas", "/crm-object-schemas/v3/schemas"):   # the SDK calls the second
            add("GET", schemas, self.list_schemas)
            add("GET", schemas + "/{objectType}", self.get_schema)
        AssociationRoutes(store, self.store.table, clock.millis).register(add, _json)

    @property
    def token(self) -> str:
        """The private-app access token the emulator accepts."""
        return self.auth.private_token

    def to_state(self) -> dict[str, Any]:
        """The portal's records, for the sandbox's state file."""
        return self.store.to_state()

    def credentials(self) -> dict[str, str]:
        """A connection's ``token``: the private-app token."""
        return {"token": self.token}

    # --- cross-cutting: auth, limits, error rendering -------------------------------------------

    def dispatch(self, request: Request, route: Route) -> Response:
        """Authenticate, apply the rolling/daily/search limits, run the handler, add limit headers."""
        meta = route.meta or {}
        if meta.get("public"):
            return route.handler(request)
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
        verdict = self.auth.check(token)
        if not verdict.ok:
            if verdict.category == "EXPIRED_AUTHENTICATION":
                return hubspot_error(401, f"The OAuth token used to make this call expired "
                                          f"{verdict.expired_seconds} second(s) ago.", "EXPIRED_AUTHENTICATION")
            return hubspot_error(401, AUTH_MESSAGE, "INVALID_AUTHENTICATION")
        headers = self._limit_headers(token or "", meta.get("search", False))
        try:
            response = route.handler(request)
        except Failure as failure:
            response = hubspot_error(failure.status, failure.message, failure.category, context=failure.context,
                                     errors=failure.errors)
        response.headers.update(headers)
        return response

    def _limit_headers(self, token: str, search: bool) -> dict[str, str]:
        day = self.daily.hit()
        headers = {"X-HubSpot-RateLimit-Daily": str(day.limit),
                   "X-HubSpot-RateLimit-Daily-Remaining": str(max(day.remaining, 0))}
        if not day.allowed:
            raise self._too_many("You have reached your daily limit.", "DAILY", headers)
        if self.limiter is not None:
            window = self.limiter.hit(token)
            headers.update({"X-HubSpot-RateLimit-Interval-Milliseconds": str(window.window_ms),
                            "X-HubSpot-RateLimit-Max": str(window.limit),
                            "X-HubSpot-RateLimit-Remaining": str(max(window.remaining, 0))})
            if not window.allowed:
                raise self._too_many("You have reached your ten_secondly_rolling limit.", "TEN_SECONDLY_ROLLING",
                                     headers)
        if search and self.search_limiter is not None:
            second: Verdict = self.search_limiter.hit(token)
            headers.update({"X-HubSpot-RateLimit-Secondly": str(second.limit),
                            "X-HubSpot-RateLimit-Secondly-Remaining": str(max(second.remaining, 0))})
            if not second.allowed:
                raise self._too_many("You have reached your secondly limit.", "SECONDLY", headers)
        return headers

    @staticmethod
    def _too_many(message: str, policy: str, headers: dict[str, str]) -> EmulatorError:
        # HubSpot sends no Retry-After: clients must back off on the interval themselves
        return EmulatorError(hubspot_error(429, message, "", headers=headers, errorType="RATE_LIMIT",
                                           policyName=policy))

    def no_route(self, request: Request, other_method: bool) -> Response:
        """HubSpot's 404/405 in its error shape."""
        if other_method:
            return hubspot_error(405, f"HTTP method {request.method} is not supported by this route.",
                                 "VALIDATION_ERROR")
        return hubspot_error(404, f"resource not found: {request.path}", "OBJECT_NOT_FOUND")

    def uri_too_long(self) -> Response:
        """HubSpot's edge (nginx) refuses a request line over 16,384 bytes with its HTML page, before the API."""
        return Response(414, b"<html>\r\n<head><title>414 Request-URI Too Large</title></head>\r\n<body>\r\n"
                             b"<center><h1>414 Request-URI Too Large</h1></center>\r\n</body>\r\n</html>\r\n",
                        content_type="text/html")

    def internal_error(self, request: Request) -> Response:
        """HubSpot's 500 body."""
        return hubspot_error(500, "internal error", "INTERNAL_ERROR")

    # --- helpers -------------------------------------------------------------------------------

    def _table(self, request: Request) -> Table:
        return self.store.table(request.params["objectType"])

    @staticmethod
    def _body(request: Request) -> Any:
        try:
            return request.json()
        except ValueError as exc:
            raise Failure(400, "VALIDATION_ERROR", f"Invalid input JSON on line 1, column 1: {exc}") from None

    @staticmethod
    def _requested(request: Request, table: Table) -> tuple[str, ...] | None:
        raw = [p.strip() for value in request.query.get("properties", []) for p in value.split(",") if p.strip()]
        return table.selection(raw) if raw else None

    @staticmethod
    def _written(table: Table, values: dict[str, Any]) -> tuple[str, ...] | None:
        return table.selection(values)

    def _with_associations(self, request: Request, table: Table, obj: HubObject, out: dict[str, Any]) -> None:
        wanted = request.arg("associations") or ""
        if table.schema.name == "contacts" and "compan" in wanted:
            company = obj.props.get("associatedcompanyid")
            if company:
                out["associations"] = {"companies": {"results": [{"id": company, "type": "contact_to_company"}]}}

    # --- endpoints -----------------------------------------------------------------------------

    def oauth_token(self, request: Request) -> Response:
        """POST /oauth/v1/token (refresh_token grant; deprecated, answers with Deprecation and Sunset headers)."""
        status, body, headers = token_answer(self.auth, request.form(), request.query, v3=False)
        return Response(status, orjson.dumps(body), content_type=CONTENT_TYPE, headers=headers)

    def oauth_token_v3(self, request: Request) -> Response:
        """POST /oauth/v3/token (refresh_token grant, parameters in the body only)."""
        status, body, headers = token_answer(self.auth, request.form(), request.query, v3=True)
        return Response(status, orjson.dumps(body), content_type=CONTENT_TYPE, headers=headers)

    def list_properties(self, request: Request) -> Response:
        """GET /crm/v3/properties/{objectType}."""
        table = self._table(request)
        cached = self._property_cache.get(table.schema.name)
        if cached is None:
            cached = self._property_cache[table.schema.name] = orjson.dumps({"results": table.schema.definitions()})
        return Response(200, cached, content_type=CONTENT_TYPE)

    def list_schemas(self, request: Request) -> Response:
        """GET /crm/v3/schemas: the portal's custom object types."""
        custom = [t.schema for t in self.store.tables.values() if t.schema.type_id.startswith("2-")]
        return _json(200, {"results": [custom_schema(schema) for schema in custom]})

    def get_schema(self, request: Request) -> Response:
        """GET /crm/v3/schemas/{objectType} (a custom object's id or fully qualified name)."""
        table = self._table(request)
        if not table.schema.type_id.startswith("2-"):
            raise Failure(404, "OBJECT_NOT_FOUND", f"Unable to find object schema {request.params['objectType']}")
        return _json(200, custom_schema(table.schema))

    def get_property(self, request: Request) -> Response:
        """GET /crm/v3/properties/{objectType}/{propertyName}."""
        table = self._table(request)
        name = request.params["propertyName"]
        for definition in table.schema.definitions():
            if definition["name"] == name:
                return _json(200, definition)
        raise Failure(404, "OBJECT_NOT_FOUND", f"Unable to find property {name} on {table.schema.name}")

    def list_objects(self, request: Request) -> Response:
        """GET /crm/v3/objects/{objectType}: id-ordered pages with an ``after`` cursor."""
        table = self._table(request)
        try:
            limit = int(request.arg("limit") or 10)
            after = int(request.arg("after") or 0)
        except ValueError:
            raise Failure(400, "VALIDATION_ERROR", "limit and after must be integers") from None
        if limit < 1 or limit > MAX_LIST_LIMIT:
            raise Failure(400, "VALIDATION_ERROR", f"limit must be between 1 and {MAX_LIST_LIMIT}, got {limit}")
        archived = (request.arg("archived") or "false").lower() == "true"
        names = self._requested(request, table)
        store = self.store
        with store.lock:
            key = (table.schema.name, request.query_string, table.version)
            cached = self._page_cache.get(key)
            if cached is not None:
                return Response(200, cached, content_type=CONTENT_TYPE)
            objects, next_after = table.page(after, limit, archived)
            results = [store.public(table, obj, names) for obj in objects]
            if request.arg("associations"):
                for obj, out in zip(objects, results):
                    self._with_associations(request, table, obj, out)
        body: dict[str, Any] = {"results": results}
        if next_after is not None:
            query = _AFTER.sub("", request.query_string).strip("&")
            link = f"{self.url}{request.path}?{query + '&' if query else ''}after={next_after}"
            body["paging"] = {"next": {"after": str(next_after), "link": link}}
        data = orjson.dumps(body)
        with store.lock:
            # repeated syncs over unchanged data re-read identical pages; any write bumps table.version
            self._page_cache[key] = data
            if len(self._page_cache) > PAGE_CACHE_SIZE:
                self._page_cache.popitem(last=False)
        return Response(200, data, content_type=CONTENT_TYPE)

    def get_object(self, request: Request) -> Response:
        """GET /crm/v3/objects/{objectType}/{objectId} (idProperty= for unique properties such as email)."""
        table = self._table(request)
        archived = (request.arg("archived") or "false").lower() == "true"
        with self.store.lock:
            if archived:   # ?archived=true answers only for an archived record (by id)
                obj = self.store.archived_object(table, request.params["objectId"])
                if obj is None:
                    raise Failure(404, "OBJECT_NOT_FOUND", "resource not found", {"id": [request.params["objectId"]]})
            else:
                obj = self._find(table, request.params["objectId"], request.arg("idProperty"))
            out = self.store.public(table, obj, self._requested(request, table))
            self._with_associations(request, table, obj, out)
        return _json(200, out)

    def _find(self, table: Table, value: str, id_property: str | None) -> HubObject:
        if id_property not in (None, "", "hs_object_id") and id_property not in table.unique:
            raise Failure(400, "VALIDATION_ERROR", f"Property {id_property} is not a unique identifier property "
                                                   f"for {table.schema.name}")
        obj = table.find(value, id_property)
        if obj is None:
            raise Failure(404, "OBJECT_NOT_FOUND", "resource not found", {"id": [value]})
        return obj

    def create_object(self, request: Request) -> Response:
        """POST /crm/v3/objects/{objectType}: 201, or 409 CONFLICT when the email is taken."""
        table = self._table(request)
        body = self._body(request)
        store = self.store
        with store.lock:
            values = store.validate(table, (body or {}).get("properties", {}))
            links = resolve_links(store, table, (body or {}).get("associations") or [])
            values.update(self._association_values(table, body.get("associations") or []))
            clash = store.conflict(table, values, None)
            if clash:
                raise clash
            obj = store.insert(table, values)
            for target, target_id, primary in links:
                store.associations.link(table.schema.name, obj.id, target, target_id, primary=primary)
            return _json(201, store.public(table, obj, self._written(table, values)))

    def _association_values(self, table: Table, associations: Any) -> dict[str, str]:
        # a contact created with a company association gets it as its primary company
        if table.schema.name != "contacts" or not isinstance(associations, list):
            return {}
        companies = self.store.tables["companies"]
        for assoc in associations:
            target = str(((assoc or {}).get("to") or {}).get("id", ""))
            if companies.find(target, None) is not None:
                return {"associatedcompanyid": target}
        return {}

    def update_object(self, request: Request) -> Response:
        """PATCH /crm/v3/objects/{objectType}/{objectId}."""
        table = self._table(request)
        body = self._body(request)
        store = self.store
        with store.lock:
            obj = self._find(table, request.params["objectId"], request.arg("idProperty"))
            values = store.validate(table, (body or {}).get("properties", {}))
            clash = store.conflict(table, values, obj.id)
            if clash:
                raise clash
            store.apply(table, obj, values)
            return _json(200, store.public(table, obj, self._written(table, values)))

    def archive_object(self, request: Request) -> Response:
        """DELETE /crm/v3/objects/{objectType}/{objectId}: 204 even if already gone, like HubSpot."""
        table = self._table(request)
        self.store.archive(table.schema.name, request.params["objectId"])
        return Response(204)

    def merge(self, request: Request) -> Response:
        """POST /crm/v3/objects/{objectType}/merge: the primary keeps its id and takes the other's values where it
        has none; the merged-away record is archived (listed under ?archived=true, gone from lists and search)."""
        table = self._table(request)
        body = self._body(request)
        primary = str((body or {}).get("primaryObjectId") or "") if isinstance(body, dict) else ""
        other = str((body or {}).get("objectIdToMerge") or "") if isinstance(body, dict) else ""
        if not primary or not other:
            raise Failure(400, "VALIDATION_ERROR", "primaryObjectId and objectIdToMerge are required")
        if primary == other:
            raise Failure(400, "VALIDATION_ERROR", f"Cannot merge {table.schema.singular} {primary} with itself")
        with self.store.lock:
            winner, loser = self._find(table, primary, None), self._find(table, other, None)
            merged = self.store.merge(table, winner, loser)
            return _json(200, self.store.public(table, merged, table.all_names))

    def search(self, request: Request) -> Response:
        """POST /crm/v3/objects/{objectType}/search."""
        table = self._table(request)
        body = self._body(request)
        with self.store.lock:
            result = hubspot_search.search(self.store, table, body)
        return _json(200, result)

    def batch_read(self, request: Request) -> Response:
        """POST /crm/v3/objects/{objectType}/batch/read."""
        request.params["action"] = "read"
        return self.batch(request)

    def batch(self, request: Request) -> Response:
        """POST /crm/v3/objects/{objectType}/batch/{create|update|upsert|read|archive}."""
        table = self._table(request)
        body = self._body(request)
        action = request.params["action"]
        started = iso_millis_z(self.clock.millis())
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise Failure(400, "VALIDATION_ERROR", "Invalid input JSON: inputs must be a list")
        if len(inputs) > MAX_BATCH:
            raise Failure(400, "VALIDATION_ERROR", f"Batch input size {len(inputs)} exceeds the maximum of "
                                                   f"{MAX_BATCH} inputs")
        with self.store.lock:
            outcome = run_batch(self.store, table, action, body, inputs,
                                archived=(request.arg("archived") or "false").lower() == "true")
        if outcome is None:
            return Response(204)
        results, errors, status = outcome
        payload: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                                   "completedAt": iso_millis_z(self.clock.millis())}
        if errors:
            payload["numErrors"] = len(errors)
            payload["errors"] = [e.batch_error() for e in errors]
            status = 207
        return _json(status, payload)
