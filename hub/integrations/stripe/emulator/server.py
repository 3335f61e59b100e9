"""Stripe API emulator: customers, invoices, charges, payment intents and events, with Stripe's lists, errors,
idempotency keys, rate limit and signed webhook deliveries.

Lists are ``{object: "list", url, has_more, data}``, newest first, paged with ``starting_after``/``ending_before`` and
filtered with ``created[gte|gt|lte|lt]``. Writes are form-encoded (``metadata[key]=value``). The official ``stripe``
SDK works against it over plain http: ``stripe.api_base = sb.stripe.url``.
"""

from __future__ import annotations

import base64
import random
import ssl
import threading
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from hub.sandbox.clock import AnyClock
from hub.sandbox.ratelimit import RollingWindowLimiter
from hub.sandbox.routing import Route
from hub.sandbox.server import HTTPEmulator, Request, Response
from hub.integrations.stripe.emulator.faults import StripeFaults
from hub.integrations.stripe.emulator.objects import API_VERSION, StripeFailure, decode_form, deleted_stub, public
from hub.integrations.stripe.emulator.store import Origin, StripeStore
from hub.integrations.stripe.emulator.webhooks import Webhooks

MAX_LIMIT = 100
IDEMPOTENCY_TTL_S = 24 * 3600
LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "created", "expand"})
# per list endpoint: its store kind and the equality filters it takes beyond the common ones
LISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "customers": ("customer", ("email",)),
    "invoices": ("invoice", ("customer", "status")),
    "invoiceitems": ("invoiceitem", ("customer", "invoice")),
    "charges": ("charge", ("customer", "payment_intent")),
    "payment_intents": ("payment_intent", ("customer",)),
    "events": ("event", ("type", "types")),
}
NO_KEY = ("You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer "
          "auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for "
          "details, or we can help at https://support.stripe.com/.")


def stripe_error(failure: StripeFailure, headers: dict[str, str] | None = None) -> Response:
    """A response in Stripe's error shape."""
    return Response(failure.status, orjson.dumps(failure.body()), headers=headers or {})


class StripeEmulator(HTTPEmulator):
    """A stateful Stripe test-mode account on loopback."""

    server_name = "stripe"
    fault_style = StripeFaults

    def __init__(self, store: StripeStore, clock: AnyClock, *, seed: int = 7, host: str = "127.0.0.1",
                 port: int = 0, tls: ssl.SSLContext | None = None,
                 rate_limit: tuple[int, float] | None = (25, 1.0)) -> None:   # test-mode keys: 25/s
        super().__init__(host, port, tls)
        self.store = store
        self.clock = clock
        rng = random.Random(f"stripe-auth-{seed}")
        self.token = "sk_test_" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                                          for _ in range(99))
        self.limiter = RollingWindowLimiter(*rate_limit, clock.seconds) if rate_limit else None
        self.webhooks = Webhooks(store)
        self._idempotent: dict[tuple[str, str], tuple[str, float, Response]] = {}
        self._idempotency_lock = threading.Lock()
        add = self.router.add
        for name in LISTS:
            add("GET", f"/v1/{name}", self._lister(name))
        for name, kind in (("customers", "customer"), ("invoices", "invoice"), ("charges", "charge"),
                           ("payment_intents", "payment_intent"), ("events", "event"),
                           ("invoiceitems", "invoiceitem")):
            add("GET", f"/v1/{name}/{{id}}", self._getter(kind))
        add("GET", "/v1/invoices/{id}/lines", self._invoice_lines)
        add("POST", "/v1/customers", self._writer(lambda r, p, o: self.store.create_customer(p, o)))
        add("POST", "/v1/customers/{id}", self._writer(lambda r, p, o: self.store.update_customer(
            r.params["id"], p, o)))
        add("DELETE", "/v1/customers/{id}", lambda r, o: Response(200, orjson.dumps(self.store.delete_customer(
            r.params["id"], o))))
        add("POST", "/v1/invoices", self._writer(lambda r, p, o: self.store.create_invoice(p, o)))
        add("POST", "/v1/invoices/{id}/finalize", self._writer(lambda r, p, o: self.store.finalize_invoice(
            r.params["id"], o)))
        add("POST", "/v1/invoices/{id}/pay", self._writer(lambda r, p, o: self.store.pay_invoice(r.params["id"], p, o)))
        add("POST", "/v1/invoiceitems", self._writer(lambda r, p, o: self.store.create_invoice_item(p, o)))
        add("POST", "/v1/payment_intents", self._writer(lambda r, p, o: self.store.create_payment_intent(p, o)))
        add("POST", "/v1/webhook_endpoints", self._writer(lambda r, p, o: self._add_endpoint(p)))

    def to_state(self) -> dict[str, Any]:
        """The account's objects and events, for the sandbox's state file."""
        return self.store.to_state()

    def credentials(self) -> dict[str, str]:
        """A connection's ``token``: the test-mode secret key."""
        return {"token": self.token}

    def start(self) -> None:
        """Serve, and start the webhook delivery thread."""
        super().start()
        self.webhooks.start()

    def stop(self) -> None:
        """Stop serving and delivering."""
        self.webhooks.stop()
        super().stop()

    # --- cross-cutting: auth, rate limit, idempotency, errors -----------------------------------

    def dispatch(self, request: Request, route: Route) -> Response:
        """Authenticate, rate-limit, replay idempotent POSTs, run the handler, render Stripe errors."""
        request_id = f"req_{uuid.uuid4().hex[:14]}"
        headers = {"Request-Id": request_id, "Stripe-Version": request.header("stripe-version") or API_VERSION}
        try:
            key = self._api_key(request)
            if self.limiter is not None and not self.limiter.hit(key).allowed:
                raise StripeFailure(429, "Request rate limit exceeded. Learn more about rate limits here "
                                         "https://stripe.com/docs/rate-limits.", code="rate_limit")
            idem = request.header("idempotency-key") if request.method == "POST" else None
            if idem is None:
                # writes (POST, DELETE) record the request that made them in their events
                response = route.handler(request, (request_id, None)) if request.method in ("POST", "DELETE") \
                    else route.handler(request)
            else:
                response = self._idempotent_call(request, route, key, idem, request_id)
                headers["Idempotency-Key"] = idem
        except StripeFailure as failure:
            response = stripe_error(failure)
        response.headers = {**headers, **response.headers}
        return response

    def _api_key(self, request: Request) -> str:
        header = request.header("authorization") or ""
        scheme, _, value = header.partition(" ")
        key = value.strip()
        if scheme.lower() == "basic":  # curl -u sk_test_...: the key is the user name
            try:
                key = base64.b64decode(key).decode().partition(":")[0]
            except ValueError:
                key = ""
        elif scheme.lower() != "bearer":
            key = ""
        if not key:
            raise StripeFailure(401, NO_KEY)
        if key != self.token:
            raise StripeFailure(401, f"Invalid API Key provided: {key[:8]}{'*' * 12}{key[-4:]}")
        return key

    def _idempotent_call(self, request: Request, route: Route, api_key: str, idem: str,
                         request_id: str) -> Response:
        if len(idem) > 255:
            raise StripeFailure(400, "Idempotency-Key must be at most 255 characters.", type="idempotency_error")
        fingerprint = f"{request.path}?{'&'.join(sorted(request.body.decode('utf-8', 'replace').split('&')))}"
        now = self.clock.seconds()
        with self._idempotency_lock:  # held across the call so a concurrent retry waits for the first result
            saved = self._idempotent.get((api_key, idem))
            if saved is not None and saved[1] > now - IDEMPOTENCY_TTL_S:
                if saved[0] != fingerprint:
                    raise StripeFailure(400, f"Keys for idempotent requests can only be used with the same "
                                             f"parameters they were first used with. Try using a key other than "
                                             f"'{idem}' if you meant to execute a different request.",
                                        type="idempotency_error")
                original = saved[2]
                return Response(original.status, original.body, headers={**original.headers,
                                                                           "Idempotent-Replayed": "true"})
            response = route.handler(request, (request_id, idem))
            # only executed requests are saved: a refused one may be retried with the same key after a fix
            if response.status < 400:
                self._idempotent[(api_key, idem)] = (fingerprint, now, response)
            return response

    def no_route(self, request: Request, other_method: bool) -> Response:
        """Stripe's answer for a URL it does not serve."""
        return stripe_error(StripeFailure(404, f"Unrecognized request URL ({request.method}: {request.path}). "
                                               f"Please see https://stripe.com/docs or we can help at "
                                               f"https://support.stripe.com/."))

    def internal_error(self, request: Request) -> Response:
        """Stripe's 500 body."""
        return stripe_error(StripeFailure(500, "An unknown error occurred", type="api_error"))

    # --- endpoints -----------------------------------------------------------------------------

    def _lister(self, name: str) -> Callable[[Request], Response]:
        kind, filters = LISTS[name]

        def handle(request: Request) -> Response:
            query = decode_form(request.query_string)
            for param in query:
                if param not in LIST_PARAMS and param not in filters:
                    raise StripeFailure(400, f"Received unknown parameter: {param}", code="parameter_unknown",
                                        param=param)
            limit = _int(query.get("limit", "10"), "limit")
            if not 1 <= limit <= MAX_LIMIT:
                raise StripeFailure(400, f"This value must be between 1 and {MAX_LIMIT}.", code="parameter_invalid",
                                    param="limit")
            with self.store.lock:
                data, has_more = self.store.page(kind, limit=limit, starting_after=query.get("starting_after"),
                                                 ending_before=query.get("ending_before"),
                                                 created=_created(query.get("created")), match=_matcher(query, filters))
                body = orjson.dumps({"object": "list", "data": [public(o) for o in data], "has_more": has_more,
                                     "url": f"/v1/{name}"})
            return Response(200, body)

        return handle

    def _getter(self, kind: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            with self.store.lock:
                if kind == "customer" and request.params["id"] in self.store.deleted_customers:
                    return Response(200, orjson.dumps(deleted_stub(request.params["id"], kind)))
                return Response(200, orjson.dumps(public(self.store.get(kind, request.params["id"]))))

        return handle

    def _invoice_lines(self, request: Request) -> Response:
        """``GET /v1/invoices/{id}/lines``: every line of an invoice, paged like any Stripe list."""
        query = decode_form(request.query_string)
        for param in query:
            if param not in LIST_PARAMS - {"created"}:
                raise StripeFailure(400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param)
        limit = _int(query.get("limit", "10"), "limit")
        if not 1 <= limit <= MAX_LIMIT:
            raise StripeFailure(400, f"This value must be between 1 and {MAX_LIMIT}.", code="parameter_invalid",
                                param="limit")
        with self.store.lock:
            lines = list(self.store.get("invoice", request.params["id"], "invoice")["lines"]["data"])
        ids = [line["id"] for line in lines]
        start, stop = 0, len(lines)
        for param in ("starting_after", "ending_before"):
            anchor = query.get(param)
            if anchor is not None and anchor not in ids:
                raise StripeFailure(400, f"No such line item: '{anchor}'", code="resource_missing", param=param)
        if query.get("starting_after"):
            start = ids.index(query["starting_after"]) + 1
        if query.get("ending_before"):
            stop = ids.index(query["ending_before"])
            start = max(start, stop - limit)
        page = lines[start:stop][:limit]
        more = start > 0 if query.get("ending_before") else start + len(page) < stop
        return Response(200, orjson.dumps({"object": "list", "data": page, "has_more": more,
                                           "url": f"/v1/invoices/{request.params['id']}/lines"}))

    def _writer(self, action: Callable[[Request, dict[str, Any], Origin], dict[str, Any]],
                ) -> Callable[[Request, Origin], Response]:
        def handle(request: Request, origin: Origin) -> Response:
            params = decode_form(request.body.decode("utf-8", "replace"))
            params.pop("expand", None)
            with self.store.lock:
                return Response(200, orjson.dumps(public(action(request, params, origin))))

        return handle

    def _add_endpoint(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("url"):
            raise StripeFailure(400, "Missing required param: url.", code="parameter_missing", param="url")
        events = params.get("enabled_events") or ["*"]
        endpoint = self.webhooks.add(params["url"], enabled_events=events if isinstance(events, list) else [events])
        return {"id": endpoint.id, "object": "webhook_endpoint", "api_version": None, "created": self.store.now(),
                "enabled_events": list(endpoint.enabled_events), "livemode": False, "metadata": {},
                "secret": endpoint.secret, "status": "enabled", "url": endpoint.url}


def _int(value: Any, param: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise StripeFailure(400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param) from None


def _created(value: Any) -> dict[str, int]:
    """``created=<unix>`` or ``created[gte|gt|lte|lt]=<unix>`` as a range."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        exact = _int(value, "created")
        return {"gte": exact, "lte": exact}
    out = {}
    for op, bound in value.items():
        if op not in ("gte", "gt", "lte", "lt"):
            raise StripeFailure(400, f"Received unknown parameter: created[{op}]", code="parameter_unknown",
                                param=f"created[{op}]")
        out[op] = _int(bound, f"created[{op}]")
    return out


def _matcher(query: dict[str, Any], filters: tuple[str, ...]) -> Callable[[dict[str, Any]], bool] | None:
    wanted = {k: v for k, v in query.items() if k in filters}
    if not wanted:
        return None
    types = wanted.pop("types", None)
    if isinstance(types, str):
        types = [types]
    pattern = wanted.pop("type", None)

    def type_ok(kind: str) -> bool:
        if types is not None and kind not in types:
            return False
        if pattern is None:
            return True
        return kind.startswith(pattern[:-1]) if pattern.endswith("*") else kind == pattern

    return lambda obj: all(obj.get(k) == v for k, v in wanted.items()) and (
        (types is None and pattern is None) or type_ok(obj.get("type", "")))
