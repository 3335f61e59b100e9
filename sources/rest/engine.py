"""Reads :class:`~hub.sources.rest.stream.RestStream` endpoints page by page through the one HTTP client layer.

:func:`pages` is the loop every REST stream shares (declarative ``type = "rest"`` connections and built-in connectors
written in Python): the first request from the stream's path, params and incremental cursor, then whatever its
paginator says, each request paced, retried and mapped to hub's errors by :class:`~hub.sources.http.ApiClient`.
:class:`RestVendor` adds what a generic API may say about its limits, in the styles APIs use:

* ``Retry-After`` (RFC 9110 section 10.2.3), seconds or an HTTP date, on a 429 or 503;
* ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` (GitHub, Twitter and many others; the reset is epoch seconds,
  or seconds from now when it is small; an epoch is read on the API's clock, its ``Date`` header);
* ``RateLimit-Remaining`` / ``RateLimit-Reset`` (IETF httpapi draft, up to -06; the reset is seconds from now), and
  the later draft's single ``RateLimit: "policy";r=0;t=5`` field.

When the remaining count reaches 0 every request of the connection waits until the reset; a declared budget
(``rate_limit = {requests, per_seconds}``) paces requests before the API has to refuse any.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from hub.errors import BadResponseError
from hub.sources.http import ApiClient, VendorProfile, retry_after
from hub.sources.ratelimit import RateLimiter
from hub.sources.rest.stream import RestStream, dig

if TYPE_CHECKING:  # httpx loads when a client is made: declaring the connector needs none of it
    import httpx

#: a reset value above this is an epoch time, below it a number of seconds from now
EPOCH_THRESHOLD = 1_000_000_000
#: the longest pause a rate-limit header may ask for; longer claims are a clock skew or a daily quota
MAX_PAUSE = 3600.0
#: the pause when an epoch reset lies in the past by the API's and our clocks: most windows are a second long
SKEWED_RESET = 1.0
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\}")


def limit_state(headers: httpx.Headers, now: float | None = None) -> tuple[float | None, float | None]:
    """``(remaining requests, seconds until the window resets)`` from any of the common header styles."""
    # one pass over the headers (each lookup of httpx's would scan them all): most pages carry none of these
    limits = {name: value for name, value in headers.items() if "ratelimit" in name}
    if not limits:
        return None, None
    now = time.time() if now is None else now
    remaining = reset = None
    for prefix in ("x-ratelimit-", "ratelimit-"):
        if remaining is None:
            remaining = _number(limits.get(prefix + "remaining"))
        if reset is None:
            reset = _number(limits.get(prefix + "reset"))
    structured = limits.get("ratelimit")
    if structured and (remaining is None or reset is None):
        # draft-ietf-httpapi-ratelimit-headers-07+: `"default";r=0;t=10`; earlier: `limit=10, remaining=0, reset=5`
        params = dict(re.findall(r"\b(r|t|remaining|reset)\s*=\s*([0-9.]+)", structured))
        remaining = remaining if remaining is not None else _number(params.get("r") or params.get("remaining"))
        reset = reset if reset is not None else _number(params.get("t") or params.get("reset"))
    if reset is not None and reset > EPOCH_THRESHOLD:
        reset = reset - _server_time(headers, now)
        if reset <= 0:
            reset = SKEWED_RESET  # a reset in the past: the clocks disagree, and not waiting at all would spin
    if reset is not None:
        reset = min(max(reset, 0.0), MAX_PAUSE)
    return remaining, reset


def _server_time(headers: httpx.Headers, now: float) -> float:
    """The API's own clock from its ``Date`` header (an epoch reset is on that clock), else ours."""
    value = headers.get("date")
    if value:
        try:
            return email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            pass
    return now


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


class RestVendor(VendorProfile):
    """A REST API known only from its spec: generic error bodies, and every common rate-limit header style."""

    def __init__(self, name: str = "API") -> None:
        self.name = name

    def observe(self, response: httpx.Response, limiter: RateLimiter) -> None:
        """An exhausted window holds every request of the connection until it resets."""
        remaining, reset = limit_state(response.headers)
        if remaining is not None and remaining <= 0 and reset:
            limiter.pause(reset)

    def retry_delay(self, response: httpx.Response) -> float | None:
        """Retry-After, else the rate-limit reset of a 429 (None: hub's own backoff)."""
        delay = retry_after(response)
        if delay is None and response.status_code == 429:
            delay = limit_state(response.headers)[1]
        return delay


def pages(client: ApiClient, stream: RestStream, since: datetime | None = None, *, path: str | None = None,
          headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
          ) -> Iterator[tuple[list[Any], Any]]:
    """``(records, body)`` of each page of ``stream``: from ``path`` (default the stream's), its params and ``since``
    (sent as the incremental parameter), then as the paginator says, until it says the end."""
    query: dict[str, Any] = {**stream.params, **(params or {})}
    if since is not None and stream.incremental is not None:
        query[stream.incremental.param] = stream.incremental.render(since)
    paginator = stream.paginator
    url = path or stream.path
    query = paginator.first(query) if paginator is not None else query
    seen: set[str] = set()
    while True:
        response = client.request("GET", url, params=query or None, headers=dict(headers) if headers else None)
        body = client.json(response)
        records = dig(body, stream.records)
        if records is None:
            records = []
        elif isinstance(records, dict):
            records = [records]   # an endpoint of one object (``/account``) is a stream of one record
        elif not isinstance(records, list):
            where = f"'{stream.records}'" if stream.records else "the body"
            raise BadResponseError(f"{where} of GET {response.request.url.path} is not a list of records",
                                   connection=client.connection, status=response.status_code,
                                   hint=f"set records to the dotted path of the list in stream {stream.name}")
        yield records, body
        if paginator is None:
            return
        step = paginator.next(query, body, records, response.headers)
        if step is None:
            return
        next_url, query = step
        if next_url:
            # an absolute link (the usual case) needs no joining, which costs as much as parsing a page's records
            url = next_url if next_url.startswith(("http://", "https://")) else str(response.request.url.join(next_url))
        # a server that hands out the same page again would be read forever
        key = f"{url}?{sorted(query.items())}"
        if key in seen:
            return
        seen.add(key)


def child_path(stream: RestStream, parent: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The path of ``stream`` for one parent record, and the ``_<parent>_<field>`` values its records get; None when
    the parent record lacks a field the path needs."""
    keys: dict[str, Any] = {}

    def fill(match: re.Match[str]) -> str:
        value = parent.get(match.group(2))
        keys[f"_{match.group(1)}_{match.group(2)}"] = value
        return "" if value is None else quote(str(value), safe="")

    path = _PLACEHOLDER.sub(fill, stream.path)
    if any(v is None or v == "" for v in keys.values()):
        return None
    return path, keys
