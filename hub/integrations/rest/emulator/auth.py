"""Credentials of the generic REST emulator: bearer token, API key (header or query), basic, and OAuth 2.0.

Every credential is derived from the sandbox's seed. A request's accepted ``mode`` is chosen per request (the
``auth=`` option, see :mod:`.server`); ``any`` accepts each kind. The token endpoint (``POST /oauth/token``, form
encoded, RFC 6749) serves two grants:

- ``refresh_token``: the answer carries a NEW refresh token and the one sent is revoked (rotation, as the OAuth 2.0
  Security BCP recommends); sending a revoked one again is ``invalid_grant``. A client must save the new token
  before using the access token, or it is locked out after its next crash.
- ``client_credentials``: an access token and no refresh token (RFC 6749 section 4.4.3).

Clients authenticate with HTTP Basic or ``client_id``/``client_secret`` in the body (section 2.3.1). Access tokens
expire after ``ttl`` seconds of the emulator's clock; an expired or unknown one gets 401 with
``WWW-Authenticate: Bearer error="invalid_token"`` (RFC 6750 section 3).
"""

from __future__ import annotations

import base64
import random
import threading
from urllib.parse import parse_qs

import orjson

from hub.sandbox.clock import AnyClock
from hub.sandbox.server import EmulatorError, Request, Response

MODES = ("any", "none", "bearer", "api_key_header", "api_key_query", "basic", "oauth2")
API_KEY_HEADER = "x-api-key"
API_KEY_PARAM = "api_key"
ACCESS_TTL = 3600.0


def _secret(rng: random.Random, prefix: str, n: int = 32) -> str:
    return prefix + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def unauthorized(message: str, *, bearer_error: str | None = None) -> EmulatorError:
    """A 401 in the emulator's error shape (with the RFC 6750 challenge for bearer tokens)."""
    challenge = f'Bearer realm="sandbox", error="{bearer_error}"' if bearer_error else 'Bearer realm="sandbox"'
    body = orjson.dumps({"error": {"code": "unauthorized", "message": message}})
    return EmulatorError(Response(401, body, headers={"WWW-Authenticate": challenge}))


def oauth_error(status: int, code: str, description: str) -> Response:
    """RFC 6749 section 5.2 error body."""
    return Response(status, orjson.dumps({"error": code, "error_description": description}),
                    headers={"Cache-Control": "no-store"})


class Credentials:
    """The emulator's secrets and the OAuth tokens it has issued."""

    def __init__(self, clock: AnyClock, seed: int, *, ttl: float = ACCESS_TTL) -> None:
        rng = random.Random(f"rest-auth-{seed}")
        self.clock = clock
        self.ttl = ttl
        self.token = _secret(rng, "tok_")
        self.api_key = _secret(rng, "key_")
        self.username = "sandbox"
        self.password = _secret(rng, "pw_", 16)
        self.client_id = _secret(rng, "cid_", 16)
        self.client_secret = _secret(rng, "cs_")
        #: the refresh token currently valid (rotated on every use)
        self.refresh_token = _secret(rng, "rt_")
        self._rng = rng
        self._lock = threading.Lock()
        self._access: dict[str, float] = {}   # access token -> expiry (clock seconds)
        self.refreshes = 0
        self.grants: dict[str, int] = {"refresh_token": 0, "client_credentials": 0}

    def __call__(self) -> dict[str, str]:
        """Every secret a ``type = "rest"`` connection may need, under the connection's secret key names."""
        return {"token": self.token, "api_key": self.api_key, "username": self.username, "password": self.password,
                "client_id": self.client_id, "client_secret": self.client_secret, "refresh_token": self.refresh_token}

    def check(self, request: Request, mode: str) -> str:
        """The identity of an authenticated request (its rate-limit key); raises a 401 EmulatorError otherwise."""
        if mode == "none":
            return "anonymous"
        header = request.header("authorization") or ""
        scheme, _, value = header.partition(" ")
        scheme, value = scheme.lower(), value.strip()
        if mode in ("any", "api_key_header") and request.header(API_KEY_HEADER) is not None:
            if request.header(API_KEY_HEADER) == self.api_key:
                return "api_key"
            raise unauthorized("invalid API key")
        if mode in ("any", "api_key_query") and request.arg(API_KEY_PARAM) is not None:
            if request.arg(API_KEY_PARAM) == self.api_key:
                return "api_key"
            raise unauthorized("invalid API key")
        if mode in ("any", "basic") and scheme == "basic":
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                raise unauthorized("malformed Basic credentials") from None
            if (user, password) == (self.username, self.password):
                return user
            raise unauthorized("invalid user name or password")
        if mode in ("any", "bearer") and scheme == "bearer" and value == self.token:
            return "token"
        if mode in ("any", "oauth2") and scheme == "bearer":
            with self._lock:
                expiry = self._access.get(value)
            if expiry is None:
                raise unauthorized("invalid access token", bearer_error="invalid_token")
            if expiry <= self.clock.seconds():
                raise unauthorized("the access token expired", bearer_error="invalid_token")
            return "oauth"
        raise unauthorized(f"authentication required ({mode.replace('_', ' ')})")

    def token_endpoint(self, request: Request) -> Response:
        """``POST /oauth/token``: the refresh_token (rotating) and client_credentials grants."""
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        header = request.header("authorization") or ""
        if header.lower().startswith("basic "):
            try:
                client_id, _, client_secret = base64.b64decode(header[6:].strip()).decode().partition(":")
            except ValueError:
                return oauth_error(401, "invalid_client", "malformed Basic credentials")
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return oauth_error(401, "invalid_client", "unknown client or wrong secret")
        grant = form.get("grant_type")
        with self._lock:
            if grant == "refresh_token":
                if form.get("refresh_token") != self.refresh_token:
                    return oauth_error(400, "invalid_grant", "the refresh token is invalid or was already used")
                self.refresh_token = _secret(self._rng, "rt_")   # rotation: the old one is dead from now on
                self.refreshes += 1
                body = {"refresh_token": self.refresh_token}
            elif grant == "client_credentials":
                body = {}
            else:
                return oauth_error(400, "unsupported_grant_type", f"grant_type '{grant}' is not supported")
            self.grants[grant] += 1
            access = _secret(self._rng, "at_")
            self._access[access] = self.clock.seconds() + self.ttl
        body.update(access_token=access, token_type="Bearer", expires_in=int(self.ttl))
        return Response(200, orjson.dumps(body), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def expire_all(self) -> None:
        """Expire every issued access token now (to test a client's refresh on 401)."""
        with self._lock:
            self._access = dict.fromkeys(self._access, 0.0)
