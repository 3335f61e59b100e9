"""A generic REST API on loopback: every paginator style, incremental reads, child resources, each auth mode, three
rate-limit header styles, chaos, churn, and writes with a whole-batch-refusing batch endpoint and Idempotency-Key.

Behaviour is chosen per request, so one emulator serves every configuration a test or a user's hub.toml can write:
a path prefix ``/_/page=cursor,auth=basic,limit=ietf`` (put it in the connection's ``base_url``), or the same keys as
query parameters with an underscore (``?_page=offset``). Keys:

- ``page``: ``next_url`` (default; ``links.next`` in the body), ``link_header`` (RFC 8288 ``Link: <..>; rel="next"``,
  ``page``/``per_page``), ``cursor`` (``meta.next_cursor`` sent back as ``cursor``), ``offset`` (``offset``/``limit``,
  ``meta.total``), ``page`` (``page``/``per_page``, ``meta.total_pages``).
- ``auth``: ``any`` (default), ``none``, ``bearer``, ``api_key_header`` (``X-API-Key``), ``api_key_query``
  (``?api_key=``), ``basic``, ``oauth2`` (tokens from ``POST /oauth/token``), see :mod:`.auth`.
- ``limit``: the rate-limit header style, ``retry_after`` (``Retry-After`` on 429 only), ``x_ratelimit``
  (``X-RateLimit-Limit/-Remaining/-Reset``, reset in epoch seconds) or ``ietf`` (``RateLimit-Limit/-Remaining/-Reset``,
  reset in seconds from now), sent on every answer when the emulator has a ``rate_limit``.

Endpoints (``{id}`` are integers):

- ``GET /tickets`` (``updated_since=<ISO-8601 UTC>``, ``per_page`` or ``limit`` up to 1000), ``GET /tickets/{id}``,
  ``GET /tickets/{id}/comments``; records under ``tickets`` / ``comments``.
- ``GET /contacts`` (any ``<field>=value``, repeated for several: a lookup), ``GET /contacts/{id}``,
  ``POST /contacts`` (201; 422 ``{errors}``; 409 ``{error: {existing_id}}`` for a taken email or external_id),
  ``PATCH /contacts/{id}``, ``DELETE /contacts/{id}``, ``PUT /contacts/by/{field}/{value}`` (upsert by ``email`` or
  ``external_id``: 201 created, 200 updated).
- ``POST /contacts/batch`` (create), ``PUT /contacts/batch?key=email`` (upsert), ``PATCH /contacts/batch`` (update
  by id): ``{"records": [...]}``, at most ``batch_limit`` (413 beyond). One invalid record refuses the WHOLE batch with
  422 ``{errors: [{index, field, code, message}]}`` and nothing is written. Update answers ``{results, errors}``, an
  unknown id being a per-record ``not_found`` error.
- Writes honour ``Idempotency-Key``: the same key and request replay the stored answer (``Idempotent-Replayed:
  true``); the same key with another request is 422, and while the first is still running, 409.
"""

from __future__ import annotations

import base64
import math
import ssl
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import orjson

from hub.integrations.rest.emulator.auth import MODES, Credentials
from hub.integrations.rest.emulator.data import UNIQUE, Churn, RestStore
from hub.integrations.rest.emulator.faults import fault_style
from hub.sandbox.clock import AnyClock
from hub.sandbox.ratelimit import RollingWindowLimiter
from hub.sandbox.routing import Route
from hub.sandbox.server import EmulatorError, HTTPEmulator, Request, Response

STYLES = ("next_url", "link_header", "cursor", "offset", "page")
LIMIT_STYLES = ("retry_after", "x_ratelimit", "ietf")
OPTIONS = {"page": STYLES, "auth": MODES, "limit": LIMIT_STYLES}
DEFAULT_PAGE, MAX_PAGE = 100, 1000
_OPTS, _PREFIX = ":options", ":prefix"   # request.headers keys no client can send (a header name is never empty)


def error(status: int, code: str, message: str, **extra: Any) -> EmulatorError:
    """An error answer: ``{"error": {"code", "message", ...}}``."""
    return EmulatorError(Response(status, orjson.dumps({"error": {"code": code, "message": message, **extra}})))


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, orjson.dumps(payload), headers=headers)


class RestEmulator(HTTPEmulator):
    """The generic REST emulator; ``auth`` holds every secret a client needs (see :mod:`.auth`)."""

    server_name = "rest"

    def __init__(self, store: RestStore, clock: AnyClock, *, seed: int = 7, host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None, rate_limit: tuple[int, float] | None = None,
                 rate_limit_style: str = "retry_after", batch_limit: int = 100, churn: Churn | None = None) -> None:
        super().__init__(host, port, tls)
        self.store = store
        self.clock = clock
        self.auth = Credentials(clock, seed)
        self.limiter = RollingWindowLimiter(*rate_limit, clock.seconds) if rate_limit else None
        self.rate_limit_style = rate_limit_style
        self.batch_limit = batch_limit
        #: edits and deletions after every tickets page served (None: the data holds still)
        self.churn = churn
        self.fault_style = fault_style()
        self._idem: dict[tuple[str, str], tuple[bytes, Response | None]] = {}
        self._idem_lock = threading.Lock()
        add = self.router.add
        add("POST", "/oauth/token", self.auth.token_endpoint, meta="public")
        add("GET", "/tickets", self._tickets)
        add("GET", r"/tickets/{id:\d+}", self._ticket)
        add("GET", r"/tickets/{id:\d+}/comments", self._comments)
        add("POST", "/contacts/batch", self._batch_create)
        add("PUT", "/contacts/batch", self._batch_upsert)
        add("PATCH", "/contacts/batch", self._batch_update)
        add("GET", "/contacts", self._contacts)
        add("POST", "/contacts", self._create)
        add("GET", r"/contacts/{id:\d+}", self._contact)
        add("PATCH", r"/contacts/{id:\d+}", self._update)
        add("DELETE", r"/contacts/{id:\d+}", self._delete)
        add("PUT", "/contacts/by/{field}/{value}", self._upsert)

    @property
    def credentials(self) -> Credentials:
        """The emulator's secrets: attributes (``credentials.token``), and called, the sandbox's
        ``Emulator.credentials()`` dict of what a connection needs (see :meth:`Credentials.__call__`)."""
        return self.auth

    def to_state(self) -> Any:
        """The records as JSON-ready values (the sandbox saves them in its state file)."""
        return self.store.to_state()

    # --- per-request options, auth, limits, idempotency ------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Strip the ``/_/k=v,...`` prefix into the request's options, then route as usual."""
        spec, prefix = "", ""
        if request.path.startswith("/_/"):
            spec, _, rest = request.path[3:].partition("/")
            prefix, request.path = f"/_/{spec}", "/" + rest
        request.headers[_OPTS] = spec
        request.headers[_PREFIX] = prefix
        return super().handle(request)

    def options(self, request: Request) -> dict[str, str]:
        """The request's options: the path prefix's, overridden by ``_key`` query parameters; checked."""
        found: dict[str, str] = {}
        for item in filter(None, request.headers.get(_OPTS, "").split(",")):
            key, _, value = item.partition("=")
            found[key] = value
        for key in OPTIONS:
            value = request.arg(f"_{key}")
            if value is not None:
                found[key] = value
        for key, value in found.items():
            allowed = OPTIONS.get(key)
            if allowed is None:
                raise error(400, "bad_option", f"unknown emulator option '{key}' (known: {', '.join(OPTIONS)})")
            if value not in allowed:
                raise error(400, "bad_option", f"option {key}={value}: expected one of {', '.join(allowed)}")
        return found

    def dispatch(self, request: Request, route: Route) -> Response:
        """Authenticate, count against the rate limit, replay idempotent writes, add the rate-limit headers."""
        opts = self.options(request)
        if route.meta == "public":
            return route.handler(request)
        who = self.auth.check(request, opts.get("auth", "any"))
        style = opts.get("limit", self.rate_limit_style)
        headers: dict[str, str] = {}
        if self.limiter is not None:
            verdict = self.limiter.hit(who)
            reset = max(1, math.ceil(self.limiter.window))
            if style == "x_ratelimit":
                headers = {"X-RateLimit-Limit": str(verdict.limit), "X-RateLimit-Remaining": str(verdict.remaining),
                           "X-RateLimit-Reset": str(math.ceil(self.clock.seconds()) + reset)}
            elif style == "ietf":
                headers = {"RateLimit-Limit": str(verdict.limit), "RateLimit-Remaining": str(verdict.remaining),
                           "RateLimit-Reset": str(reset)}
            if not verdict.allowed:
                if style == "retry_after":
                    headers["Retry-After"] = str(reset)
                return _json(429, {"error": {"code": "rate_limited", "message": "too many requests"}}, headers)
        key = request.header("idempotency-key") if request.method in ("POST", "PATCH", "PUT") else None
        try:
            response = self._idempotent(request, route, who, key) if key else route.handler(request)
        except EmulatorError as exc:
            response = exc.response
        response.headers.update(headers)
        return response

    def _idempotent(self, request: Request, route: Route, who: str, key: str) -> Response:
        fingerprint = orjson.dumps([request.method, request.path, request.query_string]) + request.body
        slot = (who, key)
        with self._idem_lock:
            saved = self._idem.get(slot)
            if saved is not None and saved[0] != fingerprint:
                raise error(422, "idempotency_key_reused", f"Idempotency-Key '{key}' was used for another request")
            if saved is not None and saved[1] is None:
                raise error(409, "idempotency_key_in_use", f"a request with Idempotency-Key '{key}' is in progress")
            if saved is not None:
                original = saved[1]
                return Response(original.status, original.body, content_type=original.content_type,
                                headers={**original.headers, "Idempotent-Replayed": "true"})
            self._idem[slot] = (fingerprint, None)
        try:
            response = route.handler(request)
        except EmulatorError as exc:
            response = exc.response
        except BaseException:
            with self._idem_lock:
                self._idem.pop(slot, None)
            raise
        with self._idem_lock:
            if response.status >= 500 or response.status == 429:
                self._idem.pop(slot, None)   # not executed: the client may send it again under the same key
            else:
                self._idem[slot] = (fingerprint, Response(response.status, response.body,
                                                          content_type=response.content_type,
                                                          headers=dict(response.headers)))
        return response

    def no_route(self, request: Request, other_method: bool) -> Response:
        """404 / 405 in the emulator's error shape."""
        status = 405 if other_method else 404
        return _json(status, {"error": {"code": "not_found" if status == 404 else "method_not_allowed",
                                        "message": f"no route for {request.method} {request.path}"}})

    # --- reads ---------------------------------------------------------------------------------------------------

    def _tickets(self, request: Request) -> Response:
        since = request.arg("updated_since")
        if since is not None:
            try:
                from hub.sandbox.clock import parse_iso

                parse_iso(since)
            except ValueError:
                raise error(400, "bad_parameter", f"updated_since '{since}' is not ISO-8601") from None
        ids, records = self.store.view(since)
        response = self.page(request, "tickets", ids, records)
        if self.churn is not None:
            self.store.churn(self.churn)
        return response

    def _ticket(self, request: Request) -> Response:
        ticket = self.store.tickets.get(int(request.params["id"]))
        if ticket is None:
            raise error(404, "not_found", f"no ticket {request.params['id']}")
        return _json(200, {"ticket": ticket})

    def _comments(self, request: Request) -> Response:
        with self.store.lock:
            rows = self.store.comments.get(int(request.params["id"]))
            if rows is None:
                raise error(404, "not_found", f"no ticket {request.params['id']}")
            rows = list(rows)
        return self.page(request, "comments", [r["id"] for r in rows], rows)

    def page(self, request: Request, name: str, ids: list[int], records: list[dict[str, Any]]) -> Response:
        """One page of ``records`` (in ``ids`` order) under ``name``, paged the way the request's ``page`` says."""
        style = self.options(request).get("page", "next_url")
        size = _int(request, "per_page", None) or _int(request, "limit", DEFAULT_PAGE)
        if not 1 <= size <= MAX_PAGE:
            raise error(400, "bad_parameter", f"page size must be 1..{MAX_PAGE}")
        total, meta, headers = len(records), {}, {}
        if style in ("next_url", "cursor"):
            last = _int(request, "after", 0) if style == "next_url" else _cursor(request.arg("cursor"))
            start = RestStore.after(ids, last) if last else 0
            chunk = records[start:start + size]
            more = start + size < total
            position = chunk[-1]["id"] if chunk and more else None
            if style == "cursor":
                meta = {"next_cursor": _encode(position) if position else None, "has_more": more}
            else:
                meta = {"has_more": more}
            links = {"next": self._url(request, after=str(position)) if position else None} \
                if style == "next_url" else {}
        elif style == "offset":
            offset = _int(request, "offset", 0)
            chunk = records[offset:offset + size]
            meta, links = {"offset": offset, "limit": size, "total": total}, {}
        else:
            number = _int(request, "page", 1)
            if number < 1:
                raise error(400, "bad_parameter", "page starts at 1")
            pages = max(1, -(-total // size))
            chunk = records[(number - 1) * size:number * size]
            meta, links = {"page": number, "per_page": size, "total_pages": pages, "total": total}, {}
            if style == "link_header":
                rels = [f'<{self._url(request, page="1")}>; rel="first"',
                        f'<{self._url(request, page=str(pages))}>; rel="last"']
                if number < pages:
                    rels.insert(0, f'<{self._url(request, page=str(number + 1))}>; rel="next"')
                headers["Link"] = ", ".join(rels)
        body = orjson.dumps({name: chunk, "links": links, "meta": meta})
        return Response(200, body, headers=headers)

    def _url(self, request: Request, **changes: str) -> str:
        """This request's URL with some query parameters replaced (for next links)."""
        query = {k: v[-1] for k, v in request.query.items()}
        query.update(changes)
        return f"{self.url}{request.headers.get(_PREFIX, '')}{request.path}?{urlencode(query)}"

    # --- writes --------------------------------------------------------------------------------------------------

    def _contacts(self, request: Request) -> Response:
        filters = {k: v for k, v in request.query.items() if not k.startswith("_") and k not in _PAGING}
        with self.store.lock:
            rows = [dict(c) for c in self.store.contacts.values()
                    if all(_match(field, c.get(field), wanted) for field, wanted in filters.items())]
        return self.page(request, "contacts", [r["id"] for r in rows], rows)

    def _contact(self, request: Request) -> Response:
        with self.store.lock:
            found = self.store.contacts.get(int(request.params["id"]))
            if found is None:
                raise error(404, "not_found", f"no contact {request.params['id']}")
            return _json(200, dict(found))

    def _create(self, request: Request) -> Response:
        record = _body(request)
        _refuse(self.store.problems(record))
        with self.store.lock:
            self._unique(record)
            return _json(201, self.store.create_contact(record))

    def _update(self, request: Request) -> Response:
        record, contact_id = _body(request), int(request.params["id"])
        _refuse(self.store.problems(record, partial=True))
        with self.store.lock:
            if contact_id not in self.store.contacts:
                raise error(404, "not_found", f"no contact {contact_id}")
            self._unique(record, contact_id)
            return _json(200, self.store.update_contact(contact_id, record))

    def _delete(self, request: Request) -> Response:
        if not self.store.delete_contact(int(request.params["id"])):
            raise error(404, "not_found", f"no contact {request.params['id']}")
        return Response(204)

    def _upsert(self, request: Request) -> Response:
        field, value = request.params["field"], request.params["value"]
        if field not in UNIQUE:
            raise error(400, "bad_key", f"upsert by '{field}' is not supported (unique fields: {', '.join(UNIQUE)})")
        record = {**_body(request), field: value}
        with self.store.lock:
            existing = self.store.find(field, value)
            _refuse(self.store.problems(record, partial=existing is not None))
            own = existing["id"] if existing else None
            self._unique(record, own)
            if existing is not None:
                return _json(200, self.store.update_contact(own, record))
            return _json(201, self.store.create_contact(record))

    def _unique(self, record: dict[str, Any], own_id: int | None = None) -> None:
        clash = self.store.clash(record, own_id)
        if clash is not None:
            raise error(409, "duplicate", f"a contact with this email or external_id exists (id {clash['id']})",
                        existing_id=clash["id"])

    def _batch(self, request: Request, check: Callable[[int, dict[str, Any]], list[dict[str, Any]]]) -> list[Any]:
        """The batch's records after the whole-batch checks: size limit, then every record valid, or nothing."""
        body = _body(request)
        records = body.get("records")
        if not isinstance(records, list):
            raise error(400, "bad_request", "the body must be {\"records\": [...]}")
        if len(records) > self.batch_limit:
            raise error(413, "batch_too_large", f"at most {self.batch_limit} records per batch, got {len(records)}")
        errors = []
        for i, record in enumerate(records):
            errors += [{"index": i, **p} for p in check(i, record)]
        if errors:
            first = errors[0]
            message = f"the batch was refused, nothing was written: record {first['index']}: {first['message']}"
            raise EmulatorError(_json(422, {"errors": errors, "message": message}))
        return records

    def _batch_create(self, request: Request) -> Response:
        with self.store.lock:
            seen: dict[tuple[str, str], int] = {}

            def check(i: int, record: Any) -> list[dict[str, Any]]:
                found = self.store.problems(record)
                if not found:
                    found = self._batch_clash(record, None, seen, i)
                return found

            records = self._batch(request, check)
            return _json(200, {"results": [self.store.create_contact(r) for r in records]})

    def _batch_upsert(self, request: Request) -> Response:
        key = request.arg("key", "email")
        if key not in UNIQUE:
            raise error(400, "bad_key", f"upsert by '{key}' is not supported (unique fields: {', '.join(UNIQUE)})")
        with self.store.lock:
            seen: dict[tuple[str, str], int] = {}

            def check(i: int, record: Any) -> list[dict[str, Any]]:
                if not isinstance(record, dict) or record.get(key) in (None, ""):
                    return [{"field": key, "code": "required", "message": f"{key} is required to upsert"}]
                existing = self.store.find(key, record[key])
                return self.store.problems(record, partial=existing is not None) or self._batch_clash(
                    record, existing["id"] if existing else None, seen, i)

            results = []
            for record in self._batch(request, check):
                existing = self.store.find(key, record[key])
                if existing is not None:
                    results.append({**self.store.update_contact(existing["id"], record), "created": False})
                else:
                    results.append({**self.store.create_contact(record), "created": True})
            return _json(200, {"results": results})

    def _batch_update(self, request: Request) -> Response:
        with self.store.lock:
            def check(i: int, record: Any) -> list[dict[str, Any]]:
                if not isinstance(record, dict) or not isinstance(record.get("id"), int):
                    return [{"field": "id", "code": "required", "message": "each update needs an integer id"}]
                return self.store.problems(record, partial=True)

            results, errors = [], []
            for i, record in enumerate(self._batch(request, check)):
                if record["id"] not in self.store.contacts:
                    errors.append({"index": i, "id": record["id"], "code": "not_found",
                                   "message": f"no contact {record['id']}"})
                elif (clash := self.store.clash(record, record["id"])) is not None:
                    errors.append({"index": i, "id": record["id"], "code": "duplicate", "existing_id": clash["id"],
                                   "message": "a contact with this email or external_id exists"})
                else:
                    results.append(self.store.update_contact(record["id"], record))
            return _json(200, {"results": results, "errors": errors})

    def _batch_clash(self, record: dict[str, Any], own: int | None, seen: dict[tuple[str, str], int],
                     i: int) -> list[dict[str, Any]]:
        clash = self.store.clash(record, own)
        if clash is not None:
            return [{"field": "email", "code": "duplicate", "existing_id": clash["id"],
                     "message": "a contact with this email or external_id exists"}]
        for field in UNIQUE:
            value = record.get(field)
            if value not in (None, ""):
                mark = (field, str(value).lower())
                if mark in seen:
                    return [{"field": field, "code": "duplicate", "message": f"same {field} as record {seen[mark]}"}]
                seen[mark] = i
        return []


_PAGING = frozenset({"after", "cursor", "offset", "limit", "page", "per_page", "api_key", "updated_since"})


def _int(request: Request, name: str, default: int | None) -> Any:
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise error(400, "bad_parameter", f"{name} must be an integer, got '{raw}'") from None


def _encode(position: int) -> str:
    return base64.urlsafe_b64encode(f"id:{position}".encode()).decode().rstrip("=")


def _cursor(raw: str | None) -> int:
    if not raw:
        return 0
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "id":
            raise ValueError(text)
        return int(value)
    except ValueError:
        raise error(400, "bad_cursor", "the cursor is not one this API issued") from None


def _body(request: Request) -> Any:
    try:
        body = request.json()
    except ValueError:
        raise error(400, "bad_json", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise error(400, "bad_json", "the body must be a JSON object")
    return body


def _refuse(problems: list[dict[str, str]]) -> None:
    if problems:
        raise EmulatorError(_json(422, {"errors": problems, "message": problems[0]["message"]}))


def _match(field: str, value: Any, wanted: list[str]) -> bool:
    if value is None:
        return False
    if field == "email":
        return str(value).lower() in {w.lower() for w in wanted}
    return str(value) in wanted
