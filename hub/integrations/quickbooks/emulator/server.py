"""The QuickBooks Online Accounting API v3 on loopback: one company (realm), OAuth, query, CDC, batch, limits.

Requests go to ``/v3/company/<realm>/...`` with a bearer token from the token endpoint
(``/oauth2/v1/tokens/bearer``, Basic client auth) whose discovery document is ``/.well-known/openid_configuration``
(intuit-oauth's ``AuthClient`` takes that URL as its ``environment``). Per realm, 500 requests a minute and 10 at
once; beyond either, 429 with the ThrottleExceeded fault. ``requestid`` makes a write idempotent: a request that
repeats one answers what the first answered (waiting for it when it is still running), without acting again.
"""

from __future__ import annotations

import ssl
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote_plus

import orjson

from hub.integrations.quickbooks.emulator.auth import IntuitAuth
from hub.integrations.quickbooks.emulator.faults import QuickBooksFaults, fault_response, throttled
from hub.integrations.quickbooks.emulator.query import QueryError, parse
from hub.integrations.quickbooks.emulator.store import ENTITIES, Company, Fault
from hub.sandbox.ratelimit import RollingWindowLimiter
from hub.sandbox.routing import Route
from hub.sandbox.server import HTTPEmulator, Request, Response

TOKEN_PATH = "/oauth2/v1/tokens/bearer"
DISCOVERY_PATH = "/.well-known/openid_configuration"
MAX_BATCH = 30
MAX_REQUEST_ID = 50
MAX_BATCH_REQUEST_ID = 36     # and then 10 characters per bId
MAX_BID_WITH_REQUEST_ID = 10
CDC_WINDOW = timedelta(days=30)
CDC_MAX = 1000
COMPANY = "/v3/company/{realm}"


def _json(status: int, payload: Any) -> Response:
    return Response(status, orjson.dumps(payload), content_type="application/json;charset=UTF-8")


class QuickBooksEmulator(HTTPEmulator):
    """A stateful QuickBooks Online company behind Intuit's OAuth."""

    server_name = "quickbooks"
    fault_style = QuickBooksFaults

    def __init__(self, company: Company, auth: IntuitAuth, clock: Any, *, host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None, rate_limit: tuple[int, float] | None = (500, 60.0),
                 concurrency: int | None = 10, batch_max: int = MAX_BATCH,
                 batch_rate_limit: tuple[int, float] | None = None) -> None:
        super().__init__(host, port, tls)
        self.batch_max = batch_max
        # Intuit's batch page also names 40 batch requests a minute (docs/vendors.md); off unless asked for
        self.batch_limiter = RollingWindowLimiter(*batch_rate_limit, clock.seconds) if batch_rate_limit else None
        self.company = company
        self.auth = auth
        self.clock = clock
        self.limiter = RollingWindowLimiter(*rate_limit, clock.seconds) if rate_limit else None
        self.concurrency = concurrency
        #: seconds each API request spends inside the company while counted as running (a big company answers
        #: slowly; tests use it to have requests overlap for certain)
        self.latency = 0.0
        self.active = 0
        self.peak = 0                       # most requests served at once (tests read it)
        self.throttled = 0
        self._active_lock = threading.Lock()
        self._replies: dict[str, tuple[str, Response] | threading.Event] = {}
        self._replies_lock = threading.Lock()
        self.minorversions: set[str] = set()
        add = self.router.add
        add("GET", DISCOVERY_PATH, self.discovery, {"public": True})
        add("POST", TOKEN_PATH, self.token, {"public": True})
        add("GET", COMPANY + "/query", self.query_get)
        add("POST", COMPANY + "/query", self.query_post)
        add("GET", COMPANY + "/cdc", self.cdc)
        add("POST", COMPANY + "/batch", self.batch, {"write": True})
        add("GET", COMPANY + "/{entity}/{ident}", self.read)
        add("POST", COMPANY + "/{entity}", self.write, {"write": True})

    @property
    def realm(self) -> str:
        return self.company.realm

    def credentials(self) -> dict[str, str]:
        """A connection's secrets: the app's client id and secret and a refresh token (spent on first use)."""
        return {"client_id": self.auth.client_id, "client_secret": self.auth.client_secret,
                "refresh_token": self.auth.initial_refresh_token}

    def to_state(self) -> dict[str, Any]:
        return self.company.to_state()

    # --- cross-cutting ----------------------------------------------------------------------------------------

    def dispatch(self, request: Request, route: Route) -> Response:
        meta = route.meta or {}
        if meta.get("public"):
            return route.handler(request)
        header = request.headers.get("authorization", "")
        bearer = header[7:].strip() if header[:7].lower() == "bearer " else None
        verdict, grant = self.auth.check(bearer)
        if grant is None:
            return _json(401, {"fault": {"error": [{
                "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                "detail": "Token expired" if verdict == "expired" else "Token invalid", "code": "3200"}],
                "type": "AUTHENTICATION"}, "time": self._time()})
        realm = request.params.get("realm", "")
        if grant.realm != realm or realm != self.realm:
            return _json(403, {"Fault": {"Error": [{
                "Message": "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                "Detail": f"the token does not authorize company {realm}", "code": "3100"}],
                "type": "SECURITY"}, "time": self._time()})
        if request.arg("minorversion"):
            self.minorversions.add(str(request.arg("minorversion")))
        with self._active_lock:
            if self.concurrency is not None and self.active >= self.concurrency:
                self.throttled += 1
                return throttled(self._time())
            if self.limiter is not None and not self.limiter.hit(realm).allowed or (
                    self.batch_limiter is not None and request.template.endswith("/batch")
                    and not self.batch_limiter.hit(realm).allowed):
                self.throttled += 1
                return throttled(self._time())
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            if self.latency:
                time.sleep(self.latency)
            request_id = request.arg("requestid") if meta.get("write") else None
            if request_id is not None:
                return self._once(request, route, request_id)
            return self._run(request, route)
        finally:
            with self._active_lock:
                self.active -= 1

    def _run(self, request: Request, route: Route) -> Response:
        try:
            return route.handler(request)
        except Fault as fault:
            return fault_response(fault.status, fault.body(), self._time())
        except QueryError as exc:
            return fault_response(400, {"Error": [{"Message": "Error parsing query", "Detail": f"QueryParserError: "
                                                   f"{exc}", "code": "4000"}], "type": "ValidationFault"},
                                  self._time())

    def _once(self, request: Request, route: Route, request_id: str) -> Response:
        """Act on a ``requestid`` once; a repeat gets the first answer (after it, if it is still running)."""
        limit = MAX_BATCH_REQUEST_ID if request.template.endswith("/batch") else MAX_REQUEST_ID
        if not request_id or len(request_id) > limit:
            return fault_response(400, {"Error": [{"Message": "Invalid requestid", "Detail": f"requestid must be 1 "
                                                   f"to {limit} characters", "code": "2010"}],
                                        "type": "ValidationFault"}, self._time())
        while True:
            with self._replies_lock:
                seen = self._replies.get(request_id)
                if seen is None:
                    running = self._replies[request_id] = threading.Event()
                    break
            if isinstance(seen, threading.Event):
                seen.wait()
                continue
            _, answer = seen
            return Response(answer.status, answer.body, content_type=answer.content_type,
                            headers=dict(answer.headers))
        try:
            response = self._run(request, route)
        except BaseException:
            with self._replies_lock:
                del self._replies[request_id]
            running.set()
            raise
        with self._replies_lock:
            self._replies[request_id] = (request.path, response)
        running.set()
        return response

    def _time(self) -> str:
        return self.company.stamp(self.clock.now())

    # --- OAuth ------------------------------------------------------------------------------------------------

    def discovery(self, request: Request) -> Response:
        base = self.url
        return _json(200, {"issuer": base, "authorization_endpoint": f"{base}/connect/oauth2",
                           "token_endpoint": f"{base}{TOKEN_PATH}", "revocation_endpoint": f"{base}/oauth2/v1/tokens/revoke",
                           "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
                           "jwks_uri": f"{base}/oauth2/v1/keys"})

    def token(self, request: Request) -> Response:
        if not self.auth.client_ok(request.header("authorization")):
            return _json(401, {"error": "invalid_client"})
        form = request.form()
        if form.get("grant_type") != "refresh_token":
            return _json(400, {"error": "unsupported_grant_type"})
        answer = self.auth.refresh(form.get("refresh_token", ""))
        if answer is None:
            return _json(400, {"error": "invalid_grant"})
        return _json(200, answer)

    # --- reads ------------------------------------------------------------------------------------------------

    def query_get(self, request: Request) -> Response:
        return self._query(request.arg("query") or "")

    def query_post(self, request: Request) -> Response:
        kind = (request.header("content-type") or "").split(";")[0].strip().lower()
        if kind not in ("application/text", "text/plain"):
            raise Fault("2010", "Request has invalid or unsupported property",
                        f"a query is sent as application/text, not {kind or 'no content type'}")
        return self._query(request.body.decode("utf-8", "replace"))

    def _query(self, text: str) -> Response:
        return _json(200, {"QueryResponse": self.query_response(text), "time": self._time()})

    def query_response(self, text: str) -> dict[str, Any]:
        query = parse(text)
        page, total = self.company.query(query)
        if query.count:
            return {"totalCount": total}
        if not page:
            return {}
        entity = next(e for e in ENTITIES if e.lower() == query.entity.lower())
        return {entity: page, "startPosition": query.start, "maxResults": len(page)}

    def read(self, request: Request) -> Response:
        entity = request.params["entity"]
        record = self.company.get(entity, request.params["ident"])
        return _json(200, {_name(entity): record, "time": self._time()})

    def cdc(self, request: Request) -> Response:
        entities = [e.strip() for e in (request.arg("entities") or "").split(",") if e.strip()]
        since_text = request.arg("changedSince")
        if not entities or not since_text:
            raise Fault("2020", "Required param missing, need to supply the required value for the API",
                        "entities and changedSince are required", element="changedSince" if entities else "entities")
        since = _parse_time(unquote_plus(since_text))
        if since is None:
            raise Fault("2010", "Request has invalid or unsupported property", f"changedSince {since_text!r} is not a "
                        "date-time", element="changedSince")
        if since < self.clock.now() - CDC_WINDOW:
            raise Fault("2010", "Request has invalid or unsupported property",
                        "changedSince cannot be more than 30 days in the past", element="changedSince")
        left = CDC_MAX
        responses = []
        for entity in entities:
            try:
                rows = self.company.changed_since(entity, since)
            except QueryError as exc:
                raise Fault("2010", "Request has invalid or unsupported property", str(exc)) from None
            rows = rows[:left]
            left -= len(rows)
            name = _name(entity)
            responses.append({name: rows, "startPosition": 1, "maxResults": len(rows), "totalCount": len(rows)}
                             if rows else {})
        return _json(200, {"CDCResponse": [{"QueryResponse": responses}], "time": self._time()})

    # --- writes -----------------------------------------------------------------------------------------------

    def write(self, request: Request) -> Response:
        entity = request.params["entity"]
        try:
            body = request.json()
        except ValueError:
            raise Fault("2010", "Request has invalid or unsupported property", "the body is not JSON") from None
        name = _name(entity)
        return _json(200, {name: self.apply(name, request.arg("operation"), body), "time": self._time()})

    def apply(self, entity: str, operation: str | None, body: Any) -> dict[str, Any]:
        if operation == "delete":
            return self.company.delete(entity, body)
        if operation not in (None, "update", "create"):
            raise Fault("2010", "Request has invalid or unsupported property", f"operation {operation!r}")
        if operation == "update" or (isinstance(body, dict) and body.get("Id")):
            return self.company.update(entity, body)
        return self.company.create(entity, body)

    def batch(self, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            raise Fault("2010", "Request has invalid or unsupported property", "the body is not JSON") from None
        items = body.get("BatchItemRequest") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise Fault("2020", "Required param missing, need to supply the required value for the API",
                        "BatchItemRequest is missing or empty", element="BatchItemRequest")
        if len(items) > self.batch_max:   # refused as a whole: nothing is applied
            raise Fault("2010", "Request has invalid or unsupported property",
                        f"a batch takes at most {self.batch_max} BatchItemRequest, not {len(items)}")
        ids = [str(item.get("bId") or "") for item in items]
        if any(not i for i in ids) or len(set(ids)) != len(ids):
            raise Fault("2010", "Request has invalid or unsupported property", "every bId must be present and unique")
        if request.arg("requestid") and any(len(i) > MAX_BID_WITH_REQUEST_ID for i in ids):
            raise Fault("2010", "Request has invalid or unsupported property",
                        f"with a requestid, a bId has at most {MAX_BID_WITH_REQUEST_ID} characters")
        out = []
        for item, bid in zip(items, ids):
            out.append({"bId": bid, **self._batch_item(item)})
        return _json(200, {"BatchItemResponse": out, "time": self._time()})

    def _batch_item(self, item: dict[str, Any]) -> dict[str, Any]:
        try:
            if "Query" in item:
                return {"QueryResponse": self.query_response(str(item["Query"]))}
            entity = next((e for e in ENTITIES if e in item), None)
            if entity is None:
                raise Fault("2010", "Request has invalid or unsupported property", "no entity in BatchItemRequest")
            operation = item.get("operation") or "create"
            if operation == "create" and isinstance(item[entity], dict) and item[entity].get("Id"):
                raise Fault("2010", "Request has invalid or unsupported property", "a create cannot name an Id")
            return {entity: self.apply(entity, operation, item[entity])}
        except Fault as fault:
            return {"Fault": fault.body()}
        except QueryError as exc:
            return {"Fault": {"Error": [{"Message": "Error parsing query", "Detail": f"QueryParserError: {exc}",
                                         "code": "4000"}], "type": "ValidationFault"}}


def _name(entity: str) -> str:
    for name in ENTITIES:
        if name.lower() == entity.lower():
            return name
    raise Fault("2010", "Request has invalid or unsupported property", f"Unsupported entity {entity}")


def _parse_time(text: str) -> datetime | None:
    text = text.strip().replace(" ", "+")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
