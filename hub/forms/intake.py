"""``POST /forms/NAME`` and its CORS preflight: from one HTTP request to one inbox event, or one clear refusal.

Order of the checks: size (413), origin (403), rate limit per client address (429 with Retry-After), shared secret
(401), body type (415), honeypot (answered as a success, stored nowhere), fields (422 naming the field and why). A
JSON post is answered in JSON; a form-encoded (browser) post with ``redirect`` gets a 303 there, else a short page.

Idempotency: a post carrying ``Idempotency-Key`` is stored once however often it is retried (the key is the event
id in the inbox, which is unique per form); other posts get a fresh id each.
"""

from __future__ import annotations

import hmac
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson

from hub.errors import FormRefused as Refusal
from hub.sandbox.server import Request, Response, json_response
from hub.serve.inbox import InboxEvent

if TYPE_CHECKING:
    from hub.forms.config import Field, Form

SECRET_HEADER = "x-form-secret"
SECRET_FIELD = "form_secret"
EVENT_TYPE = "form.submitted"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/]+\S*$")
_TEL = re.compile(r"^\+?[0-9 ().\-]{5,30}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
#: how many client addresses the rate limiter remembers before it forgets the idlest
MAX_CLIENTS = 100_000


class RateLimiter:
    """A token bucket per client address: ``capacity`` posts, refilled evenly over ``per`` seconds."""

    def __init__(self, capacity: int, per: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity, self.rate, self.clock = capacity, capacity / per, clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when ``client`` may post now (and counts it), else how many seconds until it may."""
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(client, (float(self.capacity), now))
            tokens = min(float(self.capacity), tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                if len(self._buckets) > MAX_CLIENTS:
                    self._forget(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _forget(self, now: float) -> None:
        full = [c for c, (t, at) in self._buckets.items() if t + (now - at) * self.rate >= self.capacity]
        for client in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[client]


class FormDesk:
    """Takes the posts of one form; :meth:`handle` answers, :attr:`store` puts an accepted event in the inbox."""

    def __init__(self, form: Form, store: Callable[[list[InboxEvent]], list[bool]]) -> None:
        self.form, self.store = form, store
        self.limiter = RateLimiter(*form.rate) if form.rate else None

    # --- HTTP ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        origin = request.header("origin")
        if request.method == "OPTIONS":
            return self._preflight(origin)
        wants_json = "json" in (request.header("accept") or "") or _is_json(request)
        try:
            event = self.accept(request)
        except Refusal as refusal:
            return self._refused(refusal, wants_json, origin)
        if event is not None:
            self.store([event])   # InboxError (503) is the server's to answer
        return self._accepted(event, wants_json, origin)

    def accept(self, request: Request) -> InboxEvent | None:
        """The event of a post, None for a honeypot catch; raises :class:`Refusal`."""
        form = self.form
        if len(request.body) > form.max_body:
            raise Refusal(413, f"the post is larger than {form.max_body} bytes")
        origin = request.header("origin")
        if origin and form.origins and origin.rstrip("/") not in form.origins:
            raise Refusal(403, f"posts from origin {origin} are not accepted by form '{form.name}'")
        if self.limiter is not None:
            wait = self.limiter.take(client_address(request))
            if wait > 0:
                seconds = max(1, int(wait + 0.999))
                raise Refusal(429, f"too many posts from this address; try again in {seconds} s",
                              headers={"Retry-After": str(seconds)})
        values = _values(request)
        if form.secret is not None:
            given = request.header(SECRET_HEADER) or values.get(SECRET_FIELD) or ""
            if not hmac.compare_digest(given.encode(), form.secret.reveal().encode()):
                raise Refusal(401, f"form '{form.name}' needs its shared secret (header X-Form-Secret or field "
                                   f"{SECRET_FIELD})")
        if form.honeypot and str(values.get(form.honeypot) or "").strip():
            return None
        clean = {f.name: _check(f, values.get(f.name)) for f in form.fields}
        key = request.header("idempotency-key")
        event_id = f"key:{key[:200]}" if key else uuid.uuid4().hex
        submitted = datetime.now(UTC).isoformat(timespec="microseconds")
        body = {"id": event_id, "form": form.name, "connection": form.connection, "submitted_at": submitted,
                "fields": clean}
        return InboxEvent(form.key, event_id, EVENT_TYPE, orjson.dumps(body))

    def _cors(self, origin: str | None) -> dict[str, str]:
        if origin and origin.rstrip("/") in self.form.origins:
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {"Vary": "Origin"} if self.form.origins else {}

    def _preflight(self, origin: str | None) -> Response:
        if not origin or origin.rstrip("/") not in self.form.origins:
            return json_response(403, {"error": f"origin {origin or '(none)'} may not post to form "
                                                f"'{self.form.name}'"}, headers={"Vary": "Origin"})
        headers = {**self._cors(origin), "Access-Control-Allow-Methods": "POST, OPTIONS",
                   "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key, X-Form-Secret",
                   "Access-Control-Max-Age": "600"}
        return Response(204, headers=headers)

    def _accepted(self, event: InboxEvent | None, wants_json: bool, origin: str | None) -> Response:
        cors = self._cors(origin)
        event_id = event.event_id if event is not None else uuid.uuid4().hex   # a bot sees what a person sees
        if wants_json:
            return json_response(200, {"ok": True, "id": event_id}, headers=cors)
        if self.form.redirect:
            return Response(303, headers={**cors, "Location": self.form.redirect})
        return Response(200, b"<!doctype html><title>Thank you</title><p>Thank you, we received your message.</p>",
                        content_type="text/html; charset=utf-8", headers=cors)

    def _refused(self, refusal: Refusal, wants_json: bool, origin: str | None) -> Response:
        headers = {**self._cors(origin), **refusal.headers}
        if wants_json:
            payload: dict[str, Any] = {"error": refusal.message}
            if refusal.field:
                payload["field"] = refusal.field
            return json_response(refusal.status, payload, headers=headers)
        return Response(refusal.status, refusal.message.encode() + b"\n", content_type="text/plain; charset=utf-8",
                        headers=headers)


def client_address(request: Request) -> str:
    """The poster's address: the TCP peer, or, when that is a proxy on this machine, the address the proxy appended
    last to X-Forwarded-For (the only entry a client cannot forge)."""
    peer = getattr(request, "client", "") or ""
    forwarded = request.header("x-forwarded-for")
    if forwarded and peer in ("127.0.0.1", "::1", ""):
        return forwarded.split(",")[-1].strip() or peer
    return peer


def _is_json(request: Request) -> bool:
    return (request.header("content-type") or "").split(";")[0].strip().lower() == "application/json"


def _values(request: Request) -> dict[str, Any]:
    kind = (request.header("content-type") or "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            raise Refusal(400, "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise Refusal(400, "the JSON body must be an object of field names to values")
        return data
    if kind == "application/x-www-form-urlencoded":
        try:
            parsed = parse_qs(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise Refusal(400, "the form body is not UTF-8") from None
        return {k: v[-1] for k, v in parsed.items()}
    raise Refusal(415, "post the form as application/x-www-form-urlencoded or application/json "
                       f"(got {kind or 'no Content-Type'})")


def _check(spec: Field, value: Any) -> str | None:
    """The field's value as stored (text, trimmed; None when empty), or a 422 naming the field."""
    if isinstance(value, bool) or (value is not None and not isinstance(value, (str, int, float))):
        raise Refusal(422, f"field '{spec.name}' must be a single value", spec.name)
    text = None if value is None else str(value).strip()
    if not text:
        if spec.required:
            raise Refusal(422, f"field '{spec.name}' is required", spec.name)
        return None
    if len(text) > spec.max_length:
        raise Refusal(422, f"field '{spec.name}' is longer than {spec.max_length} characters", spec.name)
    pattern = {"email": _EMAIL, "url": _URL, "tel": _TEL, "number": _NUMBER}.get(spec.type)
    if pattern is not None and not pattern.match(text):
        raise Refusal(422, f"field '{spec.name}' is not a valid {spec.type}", spec.name)
    if spec.choices is not None and text not in spec.choices:
        raise Refusal(422, f"field '{spec.name}' must be one of: {', '.join(spec.choices)}", spec.name)
    return text


def forms_of(forms: Mapping[str, Form], store: Callable[[list[InboxEvent]], list[bool]]) -> dict[str, FormDesk]:
    """A desk per configured form."""
    return {name: FormDesk(form, store) for name, form in forms.items()}
