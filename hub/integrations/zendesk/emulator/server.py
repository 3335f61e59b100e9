"""Zendesk Support API emulator: incremental exports, cursor-paginated lists, bulk jobs, show_many, webhooks' shape.

Strict where Zendesk is (docs/vendors.md has the sources):

- Auth: ``Authorization: Basic base64("{email}/token:{api_token}")`` or ``Bearer {oauth_token}``; anything else 401
  ``{"error": "Couldn't authenticate you"}``. Incremental exports are for admins: an agent's credentials get 403.
- Limits: an account-wide window (``X-Rate-Limit``/``ratelimit-*`` headers on every answer) and the incremental
  exports' own 10 requests a minute; over either, 429 with ``Retry-After``.
- Exports: cursor-based for tickets and users (``start_time`` then ``cursor``; ``after_cursor``, ``end_of_stream``),
  time-based for organizations (``next_page``, ``end_time``, inclusive of ``start_time``: records at a page's last
  second come again on the next page). ``start_time`` must be at least a minute in the past, and changes of the last
  minute are left out. An edit while a client pages moves the record behind its cursor: it is exported twice.
  Deleted tickets come with status ``deleted``, deleted users with ``active: false``, organizations with ``deleted_at``.
- Writes: ``create_many``/``update_many``/``create_or_update_many`` take at most 100 records (else 400
  ``TooManyValues``) and answer a queued ``job_status``; the records change when the job runs, per-record results
  come from ``GET /api/v2/job_statuses/{id}``. Single writes answer the record.
"""

from __future__ import annotations

import base64
import random
import ssl
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import orjson

from hub.integrations.zendesk.emulator.faults import ZendeskFaults, zendesk_error
from hub.integrations.zendesk.emulator.store import RecordInvalid, ZendeskFailure, ZendeskStore, public
from hub.sandbox.clock import AnyClock
from hub.sandbox.ratelimit import RollingWindowLimiter
from hub.sandbox.routing import Route
from hub.sandbox.server import HTTPEmulator, Request, Response

J = "{ext:(?:\\.json)?}"        # Zendesk takes every path with or without .json
ID = "{id:\\d+}"
BULK_LIMIT = 100
EXPORT_MAX_PAGE = 1000
LIST_MAX_PAGE = 100
PLURAL = {"ticket": "tickets", "user": "users", "organization": "organizations"}
KIND = {v: k for k, v in PLURAL.items()}


class ZendeskEmulator(HTTPEmulator):
    """A stateful Zendesk Support account on loopback."""

    server_name = "zendesk"
    fault_style = ZendeskFaults

    def __init__(self, store: ZendeskStore, clock: AnyClock, *, seed: int = 7, host: str = "127.0.0.1",
                 port: int = 0, tls: ssl.SSLContext | None = None,
                 rate_limit: tuple[int, float] | None = (700, 60.0),
                 export_rate_limit: tuple[int, float] | None = (10, 60.0)) -> None:
        super().__init__(host, port, tls)
        self.store, self.clock = store, clock
        rng = random.Random(f"zendesk-auth-{seed}")
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        self.email = "admin@sandbox.example"
        self.api_token = "".join(rng.choice(alphabet) for _ in range(40))
        self.oauth_token = "".join(rng.choice(alphabet) for _ in range(64))
        #: an agent's credentials: the API answers, but not the admin-only exports
        self.agent_email, self.agent_token = "agent@sandbox.example", "".join(rng.choice(alphabet) for _ in range(40))
        self.limiter = RollingWindowLimiter(*rate_limit, clock.seconds) if rate_limit else None
        self.export_limiter = RollingWindowLimiter(*export_rate_limit, clock.seconds) if export_rate_limit else None
        #: fields the API user may not see, by kind ({"user": {"phone"}}): left out of every answer, as Zendesk leaves
        #: out what a role's permissions or an account's settings hide
        self.hidden: dict[str, set[str]] = {}
        #: requests refused with 429, by limit ("account", "export"), for tests to see the limits bite
        self.limited: Counter[str] = Counter()
        add = self.router.add
        add("GET", f"/api/v2/incremental/tickets/cursor{J}", self._cursor_export("ticket"))
        add("GET", f"/api/v2/incremental/users/cursor{J}", self._cursor_export("user"))
        add("GET", f"/api/v2/incremental/organizations{J}", self._time_export("organization"))
        add("GET", f"/api/v2/job_statuses/show_many{J}", self._jobs_many)
        add("GET", f"/api/v2/job_statuses/{{job:[0-9a-f]+}}{J}", self._job)
        add("GET", f"/api/v2/job_statuses{J}", self._jobs_list)
        for plural, kind in KIND.items():
            base = f"/api/v2/{plural}"
            add("GET", f"{base}/show_many{J}", self._show_many(kind))
            add("POST", f"{base}/create_many{J}", self._bulk(kind, "create"))
            add("PUT", f"{base}/update_many{J}", self._bulk(kind, "update"))
            if kind == "user":
                add("POST", f"{base}/create_or_update_many{J}", self._bulk(kind, "create_or_update"))
            if kind != "ticket":
                add("POST", f"{base}/create_or_update{J}", self._upsert_one(kind))
            add("GET", f"{base}/{ID}{J}", self._show(kind))
            add("PUT", f"{base}/{ID}{J}", self._update_one(kind))
            add("DELETE", f"{base}/{ID}{J}", self._delete_one(kind))
            add("GET", f"{base}{J}", self._list(kind))
            add("POST", f"{base}{J}", self._create_one(kind))
        for kind in ("user", "organization", "ticket"):
            add("GET", f"/api/v2/{kind}_fields{J}", self._fields(kind))
        add("GET", f"/api/v2/users/me{J}", self._me)

    def to_state(self) -> dict[str, Any]:
        return self.store.to_state()

    def _public(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """A record as this account's API shows it: fields hidden from the API user (``hidden``) left out."""
        shown = public(kind, record, self.url)
        for name in self.hidden.get(kind, ()):
            shown.pop(name, None)
        return shown

    def credentials(self) -> dict[str, str]:
        """A connection's ``token`` (the admin's API token) and its ``email`` option, which makes it one."""
        return {"token": self.api_token, "email": self.email}

    # --- cross-cutting ------------------------------------------------------------------------------

    def dispatch(self, request: Request, route: Route) -> Response:
        headers: dict[str, str] = {}
        try:
            who = self._authenticate(request)
            if self.limiter is not None:
                verdict = self.limiter.hit(who)
                reset = str(max(1, int(self.limiter.window)))
                headers.update({"X-Rate-Limit": str(verdict.limit), "X-Rate-Limit-Remaining": str(verdict.remaining),
                                "ratelimit-limit": str(verdict.limit), "ratelimit-remaining": str(verdict.remaining),
                                "ratelimit-reset": reset})
                if not verdict.allowed:
                    self.limited["account"] += 1
                    return zendesk_error(429, "APIRateLimitExceeded", "Number of allowed API requests per minute "
                                         "exceeded", headers={**headers, "Retry-After": reset})
            if "/incremental/" in request.path:
                if who != "admin":
                    raise ZendeskFailure(403, "Forbidden", "You do not have access to this page. Please contact "
                                                           "the account owner of this help desk for further help.")
                if self.export_limiter is not None and not self.export_limiter.hit(who).allowed:
                    self.limited["export"] += 1
                    wait = str(max(1, int(self.export_limiter.window)))
                    return zendesk_error(429, "APIRateLimitExceeded", "Number of allowed incremental export API "
                                         "requests per minute exceeded", headers={**headers, "Retry-After": wait})
            with self.store.lock:
                self.store.run_jobs()
                response = route.handler(request)
        except ZendeskFailure as failure:
            response = Response(failure.status, orjson.dumps(failure.body()))
        response.headers = {**headers, **response.headers}
        return response

    def _authenticate(self, request: Request) -> str:
        header = request.header("authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip() == self.oauth_token:
            return "admin"
        if scheme.lower() == "basic":
            try:
                user, _, secret = base64.b64decode(value.strip()).decode().partition(":")
            except ValueError:
                user, secret = "", ""
            if user == f"{self.email}/token" and secret == self.api_token:
                return "admin"
            if user == f"{self.agent_email}/token" and secret == self.agent_token:
                return "agent"
        raise ZendeskFailure(401, "Couldn't authenticate you")

    def no_route(self, request: Request, other_method: bool) -> Response:
        return zendesk_error(404, "InvalidEndpoint", "Not found")

    def internal_error(self, request: Request) -> Response:
        return zendesk_error(500, "InternalError", "Something went wrong")

    # --- incremental exports ------------------------------------------------------------------------

    def _window(self, request: Request) -> tuple[int, int]:
        """``per_page`` and the newest second an export may show (the last minute is left out)."""
        per_page = _int(request.arg("per_page") or str(EXPORT_MAX_PAGE), "per_page")
        if not 1 <= per_page <= EXPORT_MAX_PAGE:
            raise ZendeskFailure(400, "InvalidValue", f"per_page must be between 1 and {EXPORT_MAX_PAGE}")
        return per_page, int(self.store.now()) - 60

    def _start_time(self, request: Request, newest: int) -> int:
        raw = request.arg("start_time")
        if raw is None:
            raise ZendeskFailure(400, "InvalidPaginationParameter", "start_time is required")
        start = _int(raw, "start_time")
        if start > newest:
            raise ZendeskFailure(400, "InvalidPaginationParameter",
                                 "Too recent start_time. Use a start_time that is older than one minute.")
        return start

    def _cursor_export(self, kind: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            per_page, newest = self._window(request)
            cursor = request.arg("cursor")
            if cursor is not None and request.arg("start_time") is not None:
                raise ZendeskFailure(400, "InvalidPaginationParameter", "Use either start_time or cursor")
            if cursor is not None:
                after = _decode_cursor(cursor)
            else:
                after = (self._start_time(request, newest), 0)   # start_time is inclusive: every id at it
            exclude_deleted = request.arg("exclude_deleted") == "true"
            rows = sorted((r for r in self.store.records[kind].values()
                           if (r["_ts"], r["id"]) > after and r["_ts"] <= newest
                           and not (exclude_deleted and r.get("status") == "deleted")), key=self.store.order_key)
            page = rows[:per_page]
            last = (page[-1]["_ts"], page[-1]["id"]) if page else after
            token = _encode_cursor(last)
            path = f"/api/v2/incremental/{PLURAL[kind]}/cursor.json"
            body = {PLURAL[kind]: [self._public(kind, r) for r in page], "after_cursor": token,
                    "after_url": f"{self.url}{path}?{urlencode({'cursor': token, 'per_page': per_page})}",
                    "before_cursor": None, "before_url": None, "end_of_stream": len(rows) <= per_page}
            return Response(200, orjson.dumps(body))

        return handle

    def _time_export(self, kind: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            per_page, newest = self._window(request)
            start = self._start_time(request, newest)
            rows = sorted((r for r in self.store.records[kind].values() if start <= r["_ts"] <= newest),
                          key=self.store.order_key)
            page = rows[:per_page]
            end = page[-1]["_ts"] if page else start
            path = f"/api/v2/incremental/{PLURAL[kind]}.json"
            more = len(rows) > per_page
            body = {PLURAL[kind]: [self._public(kind, r) for r in page], "count": len(page), "end_time": end,
                    "next_page": f"{self.url}{path}?{urlencode({'start_time': end, 'per_page': per_page})}",
                    "end_of_stream": not more}
            return Response(200, orjson.dumps(body))

        return handle

    # --- reads --------------------------------------------------------------------------------------

    def _show(self, kind: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            record = self.store.get(kind, int(request.params["id"]))
            return Response(200, orjson.dumps({kind: self._public(kind, record)}))

        return handle

    def _show_many(self, kind: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            ids, external = request.arg("ids"), request.arg("external_ids")
            if (ids is None) == (external is None) or (external is not None and kind == "ticket"):
                raise ZendeskFailure(400, "InvalidValue", "ids or external_ids is required")
            values = [v for v in (ids or external or "").split(",") if v]
            if len(values) > BULK_LIMIT:
                raise ZendeskFailure(400, "TooManyValues",
                                     f"Too many values specified for {'ids' if ids else 'external_ids'}. "
                                     f"Maximum is {BULK_LIMIT}.")
            found: list[dict[str, Any]] = []
            for value in values:
                if ids is not None:
                    record = self.store.records[kind].get(_int(value, "ids"))
                    found += [record] if record is not None and not _deleted(kind, record) else []
                else:
                    found += self.store.by_external_id(kind, value)
            return Response(200, orjson.dumps({PLURAL[kind]: [self._public(kind, r) for r in found],
                                               "next_page": None, "previous_page": None, "count": len(found)}))

        return handle

    def _list(self, kind: str) -> Callable[[Request], Response]:
        """Cursor pagination (``page[size]``, ``page[after]``); tickets filter on ``external_id``."""
        def handle(request: Request) -> Response:
            size = _int(request.arg("page[size]") or str(LIST_MAX_PAGE), "page[size]")
            if not 1 <= size <= LIST_MAX_PAGE:
                raise ZendeskFailure(400, "InvalidPaginationParameter", f"page[size] must be at most {LIST_MAX_PAGE}")
            rows = self.store.live(kind)
            if request.arg("external_id") is not None:
                rows = [r for r in rows if str(r.get("external_id") or "").lower() == request.arg("external_id",
                                                                                                    "").lower()]
            after = request.arg("page[after]")
            if after:
                last = _decode_cursor(after)[1]
                rows = [r for r in rows if r["id"] > last]
            page, more = rows[:size], len(rows) > size
            token = _encode_cursor((0, page[-1]["id"])) if page else None
            path = f"{self.url}/api/v2/{PLURAL[kind]}.json"
            body = {PLURAL[kind]: [self._public(kind, r) for r in page],
                    "meta": {"has_more": more, "after_cursor": token, "before_cursor": None},
                    "links": {"next": f"{path}?{urlencode({'page[size]': size, 'page[after]': token})}" if more
                              else None, "prev": None}}
            return Response(200, orjson.dumps(body))

        return handle

    def _fields(self, kind: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            keys = self.store.custom_fields[kind]
            fields = [{"id": 900 + i, "key": key, "title": key.title(), "type": "text", "active": True}
                      for i, key in enumerate(keys)]
            return Response(200, orjson.dumps({f"{kind}_fields": fields, "next_page": None, "count": len(fields)}))

        return handle

    def _me(self, request: Request) -> Response:
        who = self._authenticate(request)
        email = self.email if who == "admin" else self.agent_email
        return Response(200, orjson.dumps({"user": {"id": 1, "email": email, "role": who, "name": who.title()}}))

    # --- jobs ---------------------------------------------------------------------------------------

    def _job(self, request: Request) -> Response:
        job = self.store.jobs.get(request.params["job"])
        if job is None:
            raise ZendeskFailure(404, "RecordNotFound", "Not found")
        return Response(200, orjson.dumps({"job_status": job.public(self.url)}))

    def _jobs_many(self, request: Request) -> Response:
        ids = [i for i in (request.arg("ids") or "").split(",") if i]
        jobs = [self.store.jobs[i].public(self.url) for i in ids if i in self.store.jobs]
        return Response(200, orjson.dumps({"job_statuses": jobs}))

    def _jobs_list(self, request: Request) -> Response:
        # Zendesk keeps the last 100 jobs, newest first
        jobs = list(self.store.jobs.values())[-100:][::-1]
        return Response(200, orjson.dumps({"job_statuses": [j.public(self.url) for j in jobs]}))

    # --- writes -------------------------------------------------------------------------------------

    def _bulk(self, kind: str, action: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            items = _body(request).get(PLURAL[kind])
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise ZendeskFailure(400, "InvalidValue", f"{PLURAL[kind]} must be an array of objects")
            if len(items) > BULK_LIMIT:
                raise ZendeskFailure(400, "TooManyValues",
                                     f"Too many values specified for {PLURAL[kind]}. Maximum is {BULK_LIMIT}.")
            job = self.store.queue(kind, action, items)
            return Response(200, orjson.dumps({"job_status": job.public(self.url)}))

        return handle

    def _create_one(self, kind: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            values = _body(request).get(kind)
            if not isinstance(values, dict):
                raise ZendeskFailure(400, "InvalidValue", f"{kind} is required")
            try:
                record = self.store.create(kind, values)
            except RecordInvalid as exc:
                raise _invalid(exc) from None
            body: dict[str, Any] = {kind: self._public(kind, record)}
            if kind == "ticket":   # Create Ticket answers the ticket and the audit of its creation
                body["audit"] = {"id": record["_seq"], "ticket_id": record["id"], "created_at": record["created_at"],
                                 "author_id": record["requester_id"], "events": [], "metadata": {},
                                 "via": record["via"]}
            return Response(201, orjson.dumps(body))

        return handle

    def _upsert_one(self, kind: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            values = _body(request).get(kind)
            if not isinstance(values, dict):
                raise ZendeskFailure(400, "InvalidValue", f"{kind} is required")
            try:
                record, created = self.store.create_or_update(kind, values)
            except RecordInvalid as exc:
                raise _invalid(exc) from None
            return Response(201 if created else 200, orjson.dumps({kind: self._public(kind, record)}))

        return handle

    def _update_one(self, kind: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            values = _body(request).get(kind)
            if not isinstance(values, dict):
                raise ZendeskFailure(400, "InvalidValue", f"{kind} is required")
            self.store.get(kind, int(request.params["id"]))
            try:
                record = self.store.update(kind, int(request.params["id"]), values)
            except RecordInvalid as exc:
                raise _invalid(exc) from None
            return Response(200, orjson.dumps({kind: self._public(kind, record)}))

        return handle

    def _delete_one(self, kind: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            record = self.store.delete(kind, int(request.params["id"]))
            if kind == "user":   # Delete User answers the user, now inactive
                return Response(200, orjson.dumps({"user": self._public(kind, record)}))
            return Response(204, b"")

        return handle


def _deleted(kind: str, record: dict[str, Any]) -> bool:
    return (kind == "ticket" and record.get("status") == "deleted") or (kind == "user" and not record["active"]) \
        or (kind == "organization" and record.get("deleted_at") is not None)


def _invalid(exc: RecordInvalid) -> ZendeskFailure:
    if exc.details == "RecordNotFound":
        return ZendeskFailure(404, "RecordNotFound", "Not found")
    return ZendeskFailure(422, "RecordInvalid", "Record validation errors", details={"base": [{"description":
                                                                                               exc.details}]})


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise ZendeskFailure(400, "InvalidValue", "The request body is not JSON") from None
    if not isinstance(body, dict):
        raise ZendeskFailure(400, "InvalidValue", "The request body must be a JSON object")
    return body


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ZendeskFailure(400, "InvalidValue", f"{name} must be an integer") from None


def _encode_cursor(position: tuple[int, int]) -> str:
    return base64.urlsafe_b64encode(f"{position[0]}.{position[1]}".encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> tuple[int, int]:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        ts, _, ident = text.partition(".")
        return int(ts), int(ident)
    except ValueError:
        raise ZendeskFailure(400, "InvalidPaginationParameter", "Invalid cursor") from None
