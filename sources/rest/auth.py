"""Auth of a ``type = "rest"`` connection: its spec's :class:`~hub.sources.rest.stream.Auth` plus the secrets.

=================  ===========================================  =====================================================
``auth.type``      secrets (secrets.toml or HUB__CONNECTIONS__X__KEY)  what is sent
=================  ===========================================  =====================================================
``bearer``         ``token``                                    ``Authorization: Bearer <token>``
``api_key``        ``api_key``                                  header ``name`` (``in = "header"``) or query ``name``
``basic``          ``username``, ``password``                   RFC 7617 ``Authorization: Basic``
``oauth2``         ``client_id``, ``client_secret`` and, for    a bearer access token from ``token_url``: the
                   ``grant = "refresh_token"``, ``refresh_token``  refresh-token grant (rotated refresh tokens saved
                                                                in ``.hub/tokens.json`` before use) or the
                                                                client-credentials grant (RFC 6749 4.4)
=================  ===========================================  =====================================================

The refresh-token grant is :class:`hub.sources.auth.OAuth2Auth`, the same code (and token store) the built-in OAuth
connectors use; any 401 counts as an expired access token and is refreshed once.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Generator
from typing import Any
from urllib.parse import quote_plus

import httpx
import orjson

from hub.config import SECRETS_FILE, ConnectionConfig, env_var
from hub.errors import AuthError, SecretMissingError
from hub.secrets import Secret
from hub.sources.auth import EXPIRY_MARGIN_S, OAuth2Auth, OAuthProfile, TokenStore
from hub.sources.http import BearerAuth
from hub.sources.rest.stream import Auth


class ApiKeyAuth(httpx.Auth):
    """The key in header ``name``, or in query parameter ``name``."""

    def __init__(self, key: Secret, name: str, in_: str) -> None:
        self._key, self._name, self._in = key, name, in_

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._in == "query":
            request.url = request.url.copy_merge_params({self._name: self._key.reveal()})
        else:
            request.headers[self._name] = self._key.reveal()
        yield request


class ClientCredentialsAuth(httpx.Auth):
    """OAuth 2.0 client-credentials grant (RFC 6749 section 4.4): a bearer token for the client itself.

    The client authenticates with HTTP Basic, which every token endpoint must accept (RFC 6749 section 2.3.1). The
    token is kept until shortly before ``expires_in`` runs out, and fetched again once after a 401.
    """

    requires_response_body = True

    def __init__(self, connection: str, token_url: str, client_id: Secret, client_secret: Secret,
                 scopes: tuple[str, ...] = (), clock: Callable[[], float] = time.time) -> None:
        self.connection, self.token_url, self._scopes, self._clock = connection, token_url, scopes, clock
        self._client = (client_id, client_secret)
        self._token: Secret | None = None
        self._expires_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._usable()
        if token is None:
            token = yield from self._fetch(request, None)
            if token is None:
                return
        request.headers["Authorization"] = f"Bearer {token.reveal()}"
        response = yield request
        if response.status_code != 401:
            return
        token = yield from self._fetch(request, token)
        if token is None:
            return
        request.headers["Authorization"] = f"Bearer {token.reveal()}"
        yield request

    def _usable(self) -> Secret | None:
        if self._token is None:
            return None
        if self._expires_at is not None and self._clock() >= self._expires_at - EXPIRY_MARGIN_S:
            return None
        return self._token

    def _fetch(self, original: httpx.Request, stale: Secret | None) -> Generator[httpx.Request, httpx.Response,
                                                                                   Secret | None]:
        with self._lock:
            current = self._usable()
            if current is not None and current != stale:
                return current
            form = {"grant_type": "client_credentials"}
            if self._scopes:
                form["scope"] = " ".join(self._scopes)
            client_id, secret = self._client
            token_request = httpx.Request("POST", self.token_url, data=form, headers={"Accept": "application/json"},
                                          extensions={"timeout": original.extensions.get("timeout", {})})
            # RFC 6749 2.3.1: id and secret are form-encoded, then joined as HTTP Basic credentials
            pair = f"{quote_plus(client_id.reveal())}:{quote_plus(secret.reveal())}"
            token_request.headers["Authorization"] = f"Basic {base64.b64encode(pair.encode()).decode()}"
            response = yield token_request
            if response.status_code == 429 or response.status_code >= 500:
                return None  # transient: the token endpoint's answer goes back for ApiClient to retry
            body = _json(response)
            if response.status_code >= 400 or not isinstance(body, dict) or not body.get("access_token"):
                code = str(body.get("error") or "") if isinstance(body, dict) else ""
                raise AuthError(f"the token endpoint refused the client credentials ({response.status_code}"
                                f"{': ' + code if code else ''})", connection=self.connection,
                                status=response.status_code, url=self.token_url,
                                hint=_fix(self.connection, ("client_id", "client_secret")))
            self._token = Secret(str(body["access_token"]))
            expires_in = body.get("expires_in")
            self._expires_at = self._clock() + float(expires_in) if expires_in else None
            self.fetches += 1
            return self._token


def _json(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def _fix(connection: str, keys: tuple[str, ...]) -> str:
    names = ", ".join(keys)
    variables = ", ".join(env_var("connections", connection, k) for k in keys)
    return f"check {names} under [connections.{connection}] in {SECRETS_FILE} (or {variables})"


def rest_auth(config: ConnectionConfig, spec: Auth, base_url: str, username: str | None = None, *,
              clock: Callable[[], float] | None = None) -> tuple[httpx.Auth | None, str]:
    """The ``httpx.Auth`` of a rest connection and the hint its 401s carry; a missing secret fails here, naming
    where to put it."""
    name = config.name
    if spec.type == "none":
        return None, f"the API of connection '{name}' needs credentials: declare auth under [connections.{name}]"
    if spec.type == "bearer":
        return BearerAuth(config.secret("token")), _fix(name, ("token",))
    if spec.type == "api_key":
        return ApiKeyAuth(config.secret("api_key"), spec.name, spec.in_), _fix(name, ("api_key",))
    if spec.type == "basic":
        if not username:
            raise SecretMissingError(f"connection '{name}' needs a username",
                                     hint=f"set {env_var('connections', name, 'username')} or add username = "
                                          f"\"...\" under [connections.{name}] in {SECRETS_FILE}")
        return httpx.BasicAuth(username, config.secret("password").reveal()), _fix(name, ("username", "password"))
    assert spec.token_url is not None  # the spec parser requires it for oauth2
    if spec.grant == "client_credentials":
        return (ClientCredentialsAuth(name, spec.token_url, config.secret("client_id"), config.secret("client_secret"),
                                      spec.scopes, clock=clock or time.time),
                _fix(name, ("client_id", "client_secret")))
    # Any 401 means the access token is no good any more: an empty marker is found in every body.
    profile = OAuthProfile(token_path="", expired_marker="", vendor=name)
    store = TokenStore.for_project(config.root) if config.root is not None else None
    auth = OAuth2Auth(name, profile, spec.token_url, client_id=config.secret("client_id"),
                      client_secret=config.secret("client_secret"), refresh_token=config.secret("refresh_token"),
                      store=store, access_token=config.secrets.get("token"), clock=clock or time.time,
                      notes_root=config.root)
    keys = ("client_id", "client_secret", "refresh_token")
    return auth, f"re-authorize connection '{name}' if this persists; {_fix(name, keys)}"
