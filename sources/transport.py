"""The parts of the HTTP client layer built on httpx's own classes: auth, transport, timeouts.

They live apart from :mod:`hub.sources.http` so that declaring connectors (every command loads the configured
connector classes to check hub.toml) imports no HTTP library: httpx loads here, when a client is made. The names are
still importable from :mod:`hub.sources.http`.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import httpx

from hub.secrets import Secret

#: transport errors that certainly left the vendor untouched: the request was never sent
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>``; the token stays a :class:`Secret` everywhere else."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing a response sets."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class Client(httpx.Client):
    """httpx's client without its cookie jar.

    The APIs hub talks to authenticate every request by a header (a bearer token, an API key, basic auth) or a query
    parameter, never by a session cookie; yet httpx offers every response to the jar, wrapping the response and its
    request for urllib's cookie machinery: measured, 7-10% of the fetch thread's time over fast pages. So no cookie is
    kept, and none is sent.
    """

    @property  # type: ignore[override]
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        return None


_NO_COOKIES = _NoCookies()


class LazyTLSTransport(httpx.BaseTransport):
    """httpx's transport, with TLS set up on the first https request, from one SSL context per process.

    ``httpx.Client()`` builds an SSL context from the CA bundle as it is made (measured: 0.05 s CPU each, 0.19 s for
    the first), which every ``hub ingest`` paid per connection even when it spoke plain http (the sandbox, a loopback
    proxy). Plain http requests go through a transport whose context is never used; https ones through a transport
    made on first use with :func:`ssl_context`, verified as httpx would (``verify`` as httpx takes it).
    """

    def __init__(self, verify: Any = True, limits: httpx.Limits | None = None) -> None:
        self._verify = verify
        self._limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._lock = threading.Lock()
        self._plain: httpx.HTTPTransport | None = None
        self._tls: httpx.HTTPTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._for(request.url.scheme == "https").handle_request(request)

    def _for(self, tls: bool) -> httpx.HTTPTransport:
        with self._lock:
            if tls and self._tls is None:
                self._tls = httpx.HTTPTransport(verify=ssl_context() if self._verify is True else self._verify,
                                                limits=self._limits)
            elif not tls and self._plain is None:
                import ssl

                # no TLS happens on a plain-http connection: this context only saves httpx from building a real one
                self._plain = httpx.HTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), limits=self._limits)
            return self._tls if tls else self._plain  # type: ignore[return-value]

    def close(self) -> None:
        for transport in (self._plain, self._tls):
            if transport is not None:
                transport.close()


@functools.cache
def ssl_context() -> Any:
    """The process's SSL context for verified https (httpx's defaults: certifi, or SSL_CERT_FILE / SSL_CERT_DIR)."""
    return httpx.create_ssl_context(verify=True, trust_env=True)
