"""The OAuth2 refresh-token flow as an ``httpx.Auth`` (see :mod:`hub.sources.auth` for the design and the store).

Kept apart from :mod:`hub.sources.auth` so that declaring connectors imports no HTTP library; importable from there too.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import httpx

from hub.config import SECRETS_FILE, env_var
from hub.errors import AuthError
from hub.secrets import Secret
from hub.sources import notices
from hub.sources.auth import EXPIRY_MARGIN_S, OAUTH_KEYS, OAuthProfile, Tokens, TokenStore, _json


class OAuth2Auth(httpx.Auth):
    """Bearer auth with an access token obtained, and renewed, through the refresh-token grant."""

    requires_response_body = True  # the 401 body says whether the token expired or is just wrong

    def __init__(self, connection: str, profile: OAuthProfile, token_url: str, *, client_id: Secret,
                 client_secret: Secret, refresh_token: Secret, store: TokenStore | None,
                 access_token: Secret | None = None, clock: Callable[[], float] = time.time,
                 base_url: str | None = None, notes_root: Path | None = None) -> None:
        self.connection = connection
        self._notes_root = notes_root
        self._base = httpx.URL(base_url) if base_url else None  # requests to it go to the instance, once known
        self.profile = profile
        self.token_url = token_url
        self._client_id, self._client_secret = client_id, client_secret
        self._configured = refresh_token
        self._store = store
        self._clock = clock
        self._tokens = store.load(connection, refresh_token) if store else Tokens(refresh_token)
        if self._tokens.access_token is None and access_token:
            self._tokens.access_token = access_token  # a configured `token` is the first access token to try
        # Every OAuth2Auth of one connection in this process (a push runs one API client per worker) shares one
        # lock, held across the token request, and the tokens the last refresh got: a rotating refresh token is
        # spent by the first refresh, so two clients must never both refresh with it.
        self._shared = _shared_state(connection, token_url, refresh_token)
        self._refresh_lock = self._shared.lock
        if self._shared.tokens is not None:
            self._tokens = self._shared.tokens
        self.refreshes = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._usable()
        if token is None:
            token = yield from self._refresh(request, stale=None)
            if token is None:
                return  # the token endpoint failed transiently; its response goes back for ApiClient to retry
        request.headers["Authorization"] = f"Bearer {token.reveal()}"
        self._route(request)
        response = yield request
        if not self._expired(response):
            return
        token = yield from self._refresh(request, stale=token)
        if token is None:
            return
        request.headers["Authorization"] = f"Bearer {token.reveal()}"
        self._route(request)
        yield request

    def _route(self, request: httpx.Request) -> None:
        """Send a request meant for the configured base_url to the instance the token endpoint named.

        A base_url may well be the vendor's login host; the account's
        API lives at the ``instance_url`` of the token answer, which can also move (an org migration).
        """
        instance, base = self._tokens.instance_url, self._base
        url = request.url
        if not instance or base is None or (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
            return
        target = httpx.URL(instance)
        if (target.scheme, target.host, target.port) == (url.scheme, url.host, url.port):
            return
        request.url = url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
        request.headers["Host"] = request.url.netloc.decode("ascii")

    def _usable(self) -> Secret | None:
        tokens = self._tokens
        if tokens.access_token is None:
            return None
        if tokens.expires_at is not None and self._clock() >= tokens.expires_at - EXPIRY_MARGIN_S:
            return None
        return tokens.access_token

    def _expired(self, response: httpx.Response) -> bool:
        return response.status_code == 401 and self.profile.expired_marker.encode() in response.content

    def _refresh(self, original: httpx.Request,
                 stale: Secret | None) -> Generator[httpx.Request, httpx.Response, Secret | None]:
        with self._refresh_lock:
            shared = self._shared.tokens
            if shared is not None and shared is not self._tokens:
                self._tokens = shared   # another client of this connection refreshed: its refresh token is the live one
            current = self._usable()
            if current is not None and current != stale:
                return current  # another thread refreshed while this one waited
            form = {"grant_type": "refresh_token", "refresh_token": self._tokens.refresh_token.reveal()}
            headers = {"Accept": "application/json"}
            if self.profile.client_auth == "basic":
                pair = f"{self._client_id.reveal()}:{self._client_secret.reveal()}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
            else:
                form.update(client_id=self._client_id.reveal(), client_secret=self._client_secret.reveal())
            response = yield httpx.Request("POST", self.token_url, data=form, headers=headers,
                                           extensions={"timeout": original.extensions.get("timeout", {})})
            notices.observe_headers(self.connection, self.profile.vendor, response, self._notes_root)
            if response.status_code == 429 or response.status_code >= 500:
                return None
            body = _json(response)
            if response.status_code >= 400 or not isinstance(body, dict) or not body.get("access_token"):
                raise self._refused(response, body)
            expires_in = body.get("expires_in")
            instance = body.get("instance_url") if self.profile.instance_url else None
            tokens = Tokens(Secret(str(body.get("refresh_token") or self._tokens.refresh_token.reveal())),
                            Secret(str(body["access_token"])),
                            self._clock() + float(expires_in) if expires_in else None,
                            str(instance).rstrip("/") if instance else self._tokens.instance_url)
            if self._store is not None:
                self._store.save(self.connection, self._configured, tokens)  # before the new token is ever used
            self._tokens = self._shared.tokens = tokens
            self.refreshes += 1
            return tokens.access_token

    def _refused(self, response: httpx.Response, body: Any) -> AuthError:
        code = ""
        if isinstance(body, dict):
            code = str(body.get("error") or body.get("status") or "")
        keys = ", ".join(env_var("connections", self.connection, k) for k in OAUTH_KEYS)
        fix = (f"re-authorize connection '{self.connection}' and update client_id, client_secret and refresh_token "
               f"under [connections.{self.connection}] in {SECRETS_FILE} (or {keys})")
        if code in ("invalid_grant", "BAD_REFRESH_TOKEN"):
            what = "the refresh token was refused (revoked or expired)"
        elif code in ("invalid_client", "invalid_client_id", "BAD_CLIENT_ID", "BAD_CLIENT_SECRET"):
            what = "the client id or client secret was refused"
        else:
            what = f"the token endpoint answered {response.status_code}"
        field = self.profile.request_id_field
        rid = (body.get(field) if field and isinstance(body, dict) else None) \
            or next((response.headers[h] for h in self.profile.request_id_headers if h in response.headers), None)
        said = f" (request id {rid})" if rid else ""
        return AuthError(f"{what} ({code or response.reason_phrase}){said}", connection=self.connection,
                         status=response.status_code, url=self.token_url, hint=fix)


class _Shared:
    """What the OAuth2Auth instances of one connection share within a process: the refresh lock and the newest
    tokens."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tokens: Tokens | None = None


_shared: dict[tuple[str, str, str], _Shared] = {}
_shared_lock = threading.Lock()


def _shared_state(connection: str, token_url: str, configured: Secret) -> _Shared:
    from hub.sources.auth import fingerprint

    key = (connection, token_url, fingerprint(configured.reveal()))   # re-authorized: a fresh start
    with _shared_lock:
        return _shared.setdefault(key, _Shared())
