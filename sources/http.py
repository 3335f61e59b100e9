"""The one HTTP client layer every connector (and pusher) talks through.

:class:`ApiClient` wraps an injected ``httpx.Client`` and adds, once for all vendors: bearer auth, timeouts, pacing by a
per-connection :class:`~hub.sources.ratelimit.RateLimiter`, retries with exponential backoff and full jitter on connection
errors, 429, 5xx and bodies that are not JSON (honouring Retry-After and the vendor's rate-limit headers), JSON decoding
with a clear error when retries run out, and the mapping from HTTP status to hub's error classes
(:meth:`ApiClient.raise_for`).

Only idempotent requests are retried whatever happened (GET, HEAD, PUT, DELETE, OPTIONS, and a POST or PATCH its caller
marks ``idempotent=True``: a search, a batch read, an upsert). Any other write is re-sent only when it certainly did
not reach the vendor (the connection was never made, or a 429 refused it before processing); when its fate is unknown
(timed out after sending, dropped, 5xx, a success whose body is cut) it raises
:class:`~hub.errors.UnknownOutcomeError` for the caller to reconcile, since sending it again could write twice.

What differs between vendors (where the error message sits in the body, which headers carry the limit) is data on a
:class:`VendorProfile`, declared by each connector module.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from hub.errors import (AuthError, BadResponseError, RateLimitError, SourceError, UnknownOutcomeError,
                        UnreachableError)
from hub.secrets import redact
from hub.sources import notices
from hub.sources.ratelimit import RateLimiter

if TYPE_CHECKING:  # httpx loads when a client is made (hub.sources.transport), not when connectors are declared
    import httpx

    from hub.sources.transport import BearerAuth, LazyTLSTransport  # noqa: F401 - re-exported, see __getattr__

RETRIABLE_STATUS = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: transport errors raised before any byte of the request left: re-sending cannot write twice


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Full jitter: a uniform delay in [0, min(max_delay, base * 2**attempt)]."""
        return random.uniform(0, min(self.max_delay, self.base_delay * (2 ** attempt)))


class VendorProfile:
    """What differs between vendors' HTTP conventions; connectors subclass and override attributes or methods."""

    name = "API"
    auth_hint = "check the connection's token"
    #: extra limits for paths containing a fragment: {"/search": (requests, seconds)}
    path_limits: dict[str, tuple[int, float]] = {}

    def error_message(self, response: httpx.Response, body: Any) -> str:
        """The vendor's own explanation of a failed response, for the user."""
        if isinstance(body, dict):
            for key in ("message", "error_description", "error"):
                if isinstance(body.get(key), str):
                    return body[key]
        return response.reason_phrase

    def is_auth_failure(self, response: httpx.Response, body: Any) -> bool:
        return response.status_code == 401

    def observe(self, response: httpx.Response, limiter: RateLimiter) -> None:
        """Feed the limiter from the vendor's rate-limit headers (no-op by default)."""

    def notice(self, response: httpx.Response, seen: notices.Seen) -> None:
        """Record what the response says on the side: RFC 9745 Deprecation / RFC 8594 Sunset headers by default."""
        headers = response.headers
        if "deprecation" in headers or "sunset" in headers:
            message = notices.deprecation_notice(self.name, response.request, headers)
            if message:
                seen.note(f"{response.request.method} {response.request.url.path}", message)

    def request_id(self, response: httpx.Response, body: Any) -> str | None:
        """The id the vendor's support asks for about this response (None when it sends none)."""
        return None

    def limit_message(self, response: httpx.Response, body: Any) -> str | None:
        """A 429 that waiting a few seconds will not cure (a daily quota), explained with when it resets."""
        return None

    def should_retry(self, response: httpx.Response) -> bool | None:
        """Whether the vendor says this failed response is worth retrying; None leaves it to hub (429 and 5xx)."""
        return None

    def retry_delay(self, response: httpx.Response) -> float | None:
        """How long the vendor asks us to wait before retrying, when it says so."""
        return retry_after(response)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        import email.utils   # rare (an HTTP-date Retry-After): not every command pays for the import

        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


_UNPARSED: Any = object()
_limiters: dict[str, RateLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(key: str, max_requests: int | None = None, interval: float = 10.0) -> RateLimiter:
    """The process-wide limiter of one connection (ingest and push share it)."""
    with _limiters_lock:
        if key not in _limiters:
            _limiters[key] = RateLimiter(max_requests, interval)
        return _limiters[key]


class ApiClient:
    """A vendor API as one connection sees it: base URL, auth, pacing, retries and error mapping."""

    def __init__(self, connection: str, base_url: str, *, auth: httpx.Auth | None = None,
                 http: httpx.Client | None = None, vendor: VendorProfile | None = None,
                 retry: RetryPolicy = RetryPolicy(), limiter: RateLimiter | None = None,
                 sleep: Callable[[float], None] = time.sleep, verify: Any = True,
                 timeout: float | None = None, notes_root: Any = None) -> None:
        self.connection = connection
        self.seen = notices.seen(connection, notes_root)
        self.notes_root = notes_root  # the project whose .hub/api_notes.json keeps what the vendor said
        self.base_url = base_url.rstrip("/")
        self.vendor = vendor or VendorProfile()
        self.retry = retry
        self.timeout = timeout  # per request, over the injected client's own timeout (None keeps that)
        self.limiter = limiter or limiter_for(f"{connection}@{self.base_url}")
        self._path_limiters = [(fragment, limiter_for(f"{connection}@{self.base_url}{fragment}", *limit))
                               for fragment, limit in self.vendor.path_limits.items()]
        self._sleep = sleep
        self._auth = auth
        self._own_http = http is None
        if http is None:
            from hub.sources.transport import DEFAULT_TIMEOUT, Client, LazyTLSTransport

            http = Client(timeout=DEFAULT_TIMEOUT, transport=LazyTLSTransport(verify),
                                headers={"User-Agent": "hub/0.1", "Accept": "application/json"})
        self.http = http
        self.calls = 0

    def close(self) -> None:
        """Close the HTTP client if this object made it, and keep the vendor's notices for ``hub status``."""
        if self.notes_root is not None:
            notices.save(self.notes_root, self.connection)
        if self._own_http:
            self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    def get(self, path: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return self.json(self.request("GET", path, params=params, **kw))

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        """POST JSON and parse the answer; pass ``idempotent=True`` for a read (search) so that it is retried."""
        return self.json(self.request("POST", path, content=orjson.dumps(body),
                                      headers={"Content-Type": "application/json", **kw.pop("headers", {})}, **kw))

    def get_lazy(self, path: str, params: Mapping[str, Any] | None = None, *, member: str, **kw: Any) -> LazyPage:
        """GET a JSON object without parsing all of it: its bytes, plus its top-level ``member``, found from the end.

        For pages whose records are parsed elsewhere (in C++, off the GIL, while the next page is fetched): the pager
        only needs the paging member, which vendors send last. A body that does not end with that member is parsed
        whole (the page keeps the result); a body that is not JSON is retried like any other.
        """
        response = self.request("GET", path, params=params, decode=lambda r: _decode_lazy(r, member), **kw)
        page = response.extensions.get(_JSON) or LazyPage(response.content, None, {})
        page.connection = self.connection
        return page

    def request(self, method: str, path: str, *, expect_json: bool = True, idempotent: bool | None = None,
                decode: Callable[[httpx.Response], bool] | None = None, **kw: Any) -> httpx.Response:
        """Send with pacing and retries; returns a 2xx/3xx response or raises a :class:`SourceError`.

        Transient faults are retried with backoff, up to ``retry.max_attempts`` tries in all: transport errors (refused,
        dropped, timed out), 429 and 5xx, and, when ``expect_json``, a 2xx/3xx whose body is not JSON (an HTML page
        from a flaky proxy, a cut-off body). The parsed body is kept on the response for :meth:`json` (``decode``
        replaces that parsing: it keeps what it wants on the response and says whether the body is usable).

        ``idempotent`` (default: by method) says whether sending the request twice is harmless. When it is not, only
        faults that certainly left the vendor untouched are retried; the others raise :class:`UnknownOutcomeError`.
        """
        import httpx

        from hub.sources.transport import NOT_SENT

        decode = decode or _decode
        url = self.url(path)
        safe = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        if self.timeout is not None:
            kw.setdefault("timeout", self.timeout)
        attempts = self.retry.max_attempts
        for attempt in range(attempts):
            last = attempt == attempts - 1
            self._pace(url)
            self.calls += 1
            try:
                response = self.http.request(method, url, auth=self._auth, **kw)
            except httpx.TransportError as exc:
                if not safe and not isinstance(exc, NOT_SENT):
                    raise self._unknown(method, url, _describe(exc)) from None
                if last:
                    raise UnreachableError(
                        f"cannot reach {self.vendor.name} at {_origin(url)} on {method} {_path(httpx.URL(url))} "
                        f"({_describe(exc)}; "
                        f"no response after {attempt + 1} tries)", connection=self.connection, url=url,
                        retriable=True, hint="check that base_url is right and the service is up") from None
                self._sleep(self.retry.backoff(attempt))
                continue
            self.vendor.observe(response, self.limiter)
            self.vendor.notice(response, self.seen)
            status = response.status_code
            if not safe and status >= 500:
                raise self._unknown(method, url, f"answered {status}{self._request_id(response)}", status=status)
            retry = self.vendor.should_retry(response) if status >= 400 else False
            if (status in RETRIABLE_STATUS if retry is None else retry) and not last:
                delay = self.vendor.retry_delay(response)
                if delay is not None:
                    self.limiter.pause(delay)
                else:
                    self._sleep(self.retry.backoff(attempt))
                continue
            if status >= 400:
                self.raise_for(response, attempts=attempt + 1)
            if expect_json and response.content and not decode(response):
                if not safe:
                    raise self._unknown(method, url, f"answered {status} with a body that is not JSON",
                                        status=status)
                if last:
                    raise self._not_json(response, attempt + 1)
                self._sleep(self.retry.backoff(attempt))
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _unknown(self, method: str, url: str, cause: str, status: int | None = None) -> UnknownOutcomeError:
        import httpx

        path = _path(httpx.URL(url))
        return UnknownOutcomeError(
            f"{self.vendor.name} may or may not have applied {method} {path} ({cause}); it was not sent again",
            connection=self.connection, method=method, path=path, cause=cause, status=status, url=url,
            hint="hub reconciles it by looking the records up; check the target if this persists")

    def _request_id(self, response: httpx.Response, body: Any = _UNPARSED) -> str:
        """`` (request id X)`` for an error line, or nothing when the vendor sent no id."""
        if body is _UNPARSED:
            body = _body(response)
        rid = self.vendor.request_id(response, body)
        return f" (request id {redact(rid)})" if rid else ""

    def limit_path(self, fragment: str, limiter: RateLimiter) -> None:
        """Pace requests whose URL contains ``fragment`` with ``limiter`` too (a connection's own limit for one
        endpoint, beside the vendor profile's ``path_limits``)."""
        self._path_limiters.append((fragment, limiter))

    def _pace(self, url: str) -> None:
        self.limiter.acquire()
        for fragment, limiter in self._path_limiters:
            if fragment in url:
                limiter.acquire()

    def json(self, response: httpx.Response) -> Any:
        """The response body parsed as JSON, or a :class:`BadResponseError` that shows what came instead."""
        if _JSON in response.extensions or _decode(response):
            return response.extensions[_JSON]
        raise self._not_json(response, 1)

    def _not_json(self, response: httpx.Response, attempts: int) -> BadResponseError:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        sample = redact(response.text[:60].replace("\n", " "))
        tries = f" after {attempts} tries" if attempts > 1 else ""
        return BadResponseError(
            f"{self.vendor.name} answered {response.request.method} {_path(response.request.url)} "
            f"({response.status_code}) with {kind} that is not JSON{tries}: {sample!r}", connection=self.connection,
            status=response.status_code, url=str(response.request.url), retriable=True,
            hint="check base_url points at the API, not a web page or proxy")

    def raise_for(self, response: httpx.Response, *, attempts: int = 1) -> None:
        """Map a failed response to the right error class: the one place that decides retriable vs fatal."""
        status = response.status_code
        body = _body(response)
        detail = redact(self.vendor.error_message(response, body))
        rid = self._request_id(response, body)  # support asks for it: it goes into every error line
        rid = "" if rid[13:-1] and rid[13:-1] in detail else rid  # already quoted by the vendor's message
        where = f"{response.request.method} {_path(response.request.url)}"
        common = dict(connection=self.connection, status=status, url=str(response.request.url))
        if self.vendor.is_auth_failure(response, body):
            raise AuthError(f"{self.vendor.name} rejected the credentials ({status}: {detail}){rid}",
                            hint=self.vendor.auth_hint, **common)
        if status == 429:
            quota = self.vendor.limit_message(response, body)
            if quota:
                raise RateLimitError(f"{quota} ({where}){rid}", retriable=False,
                                     hint="run again after the reset, or ask the vendor for a higher limit", **common)
            raise RateLimitError(f"still rate-limited by {self.vendor.name} (429) on {where} after {attempts} tries"
                                 f"{rid}", retriable=True, hint="lower the request rate or try again later", **common)
        if status >= 500:
            raise SourceError(f"{self.vendor.name} failed with {status} on {where} after {attempts} tries: {detail}"
                              f"{rid}", retriable=True, hint="the vendor's service is having trouble; try again later",
                              **common)
        raise SourceError(f"{self.vendor.name} refused {where} ({status}): {detail}{rid}", **common)


_JSON = "hub.json"  # where request() keeps the parsed body, in the response's extensions


def _body(response: httpx.Response) -> Any:
    """A failed response's JSON body, or None."""
    try:
        return orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        return None


def _decode(response: httpx.Response) -> bool:
    """Parse the body once and keep it on the response; False when it is not JSON."""
    try:
        response.extensions[_JSON] = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        return False
    return True


@dataclass
class LazyPage:
    """A JSON object as received, for a consumer to parse: its bytes and the one member the pager needed."""

    content: bytes
    member: Any            # the value of the member asked for (None when the body has none)
    parsed: Any = None     # the whole body, when finding the member already took a full parse
    connection: str = ""

    def json(self) -> Any:
        """The whole body parsed (once), or a :class:`BadResponseError` when it is not JSON after all."""
        if self.parsed is None:
            try:
                self.parsed = orjson.loads(self.content)
            except orjson.JSONDecodeError:
                sample = redact(self.content[:60].decode(errors="replace"))
                raise BadResponseError(f"a page of {self.connection} is not JSON: {sample!r}",
                                       connection=self.connection, retriable=True,
                                       hint="try again; if it persists, the vendor's API is sending broken pages") \
                    from None
        return self.parsed


_ABSENT = object()


def tail_member(content: bytes, key: str) -> Any:
    """The value of ``key`` when it is the last member of the JSON object ``content``, else ``_ABSENT``.

    Only the end is parsed: the last ``"key":`` is found, and what follows it must parse as a one-member object. A
    ``"key":`` nested deeper (a record's own field) leaves closing brackets unmatched and does not parse; a top-level
    ``key`` followed by other members parses with more than one member. Both give ``_ABSENT``: parse the whole body.
    """
    if content[:1] != b"{":
        return _ABSENT
    at = content.rfind(b'"' + key.encode() + b'":')
    if at < 0:
        return _ABSENT
    try:
        tail = orjson.loads(b"{" + content[at:])
    except orjson.JSONDecodeError:
        return _ABSENT
    return tail[key] if len(tail) == 1 else _ABSENT


def _decode_lazy(response: httpx.Response, member: str) -> bool:
    """Keep a :class:`LazyPage` on the response; False when the body is not JSON."""
    content = response.content
    value = tail_member(content, member)
    if value is not _ABSENT:
        response.extensions[_JSON] = LazyPage(content, value)
        return True
    if not _decode(response):
        return False
    body = response.extensions[_JSON]
    response.extensions[_JSON] = LazyPage(content, body.get(member) if isinstance(body, dict) else None, body)
    return True


def _describe(exc: httpx.TransportError) -> str:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host not found"
    return type(exc).__name__


def _origin(url: str) -> str:
    import httpx

    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode()}"


def _path(url: httpx.URL) -> str:
    return url.path


#: names this module had before the parts built on httpx's classes moved to :mod:`hub.sources.transport`
_TRANSPORT_NAMES = frozenset({"BearerAuth", "LazyTLSTransport", "ssl_context", "DEFAULT_TIMEOUT", "NOT_SENT"})


def __getattr__(name: str) -> Any:
    """``from hub.sources.http import BearerAuth`` (and the others moved) still works, loading httpx only then."""
    if name in _TRANSPORT_NAMES:
        from hub.sources import transport

        return getattr(transport, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
