"""Sessions the Salesforce emulator accepts, and the login host whose OAuth refresh-token grant issues them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import ssl
import string
import threading
from collections.abc import Callable

import orjson

from hub.sandbox.clock import AnyClock
from hub.sandbox.server import HTTPEmulator, Request, Response

_TOKEN_CHARS = string.ascii_letters + string.digits + "._"


class SalesforceAuth:
    """Access tokens ("00D...!...") and a refresh token, deterministic from the sandbox seed."""

    def __init__(self, seed: int, clock: AnyClock) -> None:
        self._rng = random.Random(f"salesforce-auth-{seed}")
        self.clock = clock
        self.org_id = "00D5g000004" + "".join(self._rng.choice(string.ascii_uppercase) for _ in range(4))
        self.client_id = "3MVG9" + "".join(self._rng.choice(_TOKEN_CHARS[:62]) for _ in range(80))
        self.client_secret = "".join(self._rng.choice(string.digits) for _ in range(19))
        self.refresh_token = "5Aep861" + "".join(self._rng.choice(_TOKEN_CHARS[:62]) for _ in range(80))
        self._lock = threading.Lock()
        self._sessions: set[str] = set()
        self._refresh = {self.refresh_token}
        self.access_token = self.issue()

    def issue(self) -> str:
        """A new valid session id."""
        with self._lock:
            token = f"{self.org_id}!AQ0AQ" + "".join(self._rng.choice(_TOKEN_CHARS) for _ in range(90))
            self._sessions.add(token)
            return token

    def valid(self, token: str | None) -> bool:
        """Whether a session id is currently accepted."""
        with self._lock:
            return token in self._sessions

    def valid_refresh_token(self, token: str | None) -> bool:
        """Whether a refresh token may be exchanged for a session."""
        with self._lock:
            return token in self._refresh

    def expire(self, token: str) -> None:
        """End a session, as a timeout or logout would (the next call gets 401 INVALID_SESSION_ID)."""
        with self._lock:
            self._sessions.discard(token)

    def revoke_refresh_token(self, token: str) -> None:
        """Make a refresh token unusable (the grant then fails with invalid_grant)."""
        with self._lock:
            self._refresh.discard(token)

    def signature(self, user_id_url: str, issued_at: str) -> str:
        """Salesforce's response signature: base64 HMAC-SHA256 of id + issued_at keyed by the client secret."""
        digest = hmac.new(self.client_secret.encode(), (user_id_url + issued_at).encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()


class SalesforceLoginEmulator(HTTPEmulator):
    """The login host (login.salesforce.com, test.salesforce.com, a My Domain login URL) on a port of its own.

    It answers only the token endpoint, with the org's ``instance_url`` (the API emulator, on another port): a client
    that keeps calling the login host for data gets Salesforce's 404, as it would from the real login host.
    """

    server_name = "salesforce-login"

    def __init__(self, token: Callable[[Request], Response], host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None) -> None:
        super().__init__(host, port, tls)
        self.router.add("POST", "/services/oauth2/token", token)

    def no_route(self, request: Request, other_method: bool) -> Response:
        """Salesforce's 404 array: the login host serves no REST resources."""
        body = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
        return Response(404, orjson.dumps(body), content_type="application/json;charset=UTF-8")
