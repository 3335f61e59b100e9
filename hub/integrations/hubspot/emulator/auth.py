"""Credentials the HubSpot emulator accepts: a private-app token plus OAuth access/refresh tokens."""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass

from hub.sandbox.clock import AnyClock

ACCESS_TOKEN_TTL_S = 1800  # HubSpot OAuth access tokens last 30 minutes


@dataclass(frozen=True, slots=True)
class AuthResult:
    """Outcome of checking one bearer token."""

    ok: bool
    category: str = ""  # INVALID_AUTHENTICATION | EXPIRED_AUTHENTICATION
    expired_seconds: int = 0


class HubSpotAuth:
    """Issues and checks tokens; deterministic from the sandbox seed so configs can be written ahead."""

    def __init__(self, seed: int, clock: AnyClock) -> None:
        rng = random.Random(f"hubspot-auth-{seed}")
        self.clock = clock
        self.private_token = f"pat-na1-{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        self.client_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.client_secret = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.refresh_token = f"na1-{rng.getrandbits(16):04x}-{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        self._rng = rng
        self._lock = threading.Lock()
        self._private = {self.private_token}
        self._refresh = {self.refresh_token}
        self._access: dict[str, float] = {}  # OAuth access token -> expiry (epoch seconds)

    def check(self, token: str | None) -> AuthResult:
        """Whether a bearer token may call the API right now."""
        if not token:
            return AuthResult(False, "INVALID_AUTHENTICATION")
        with self._lock:
            if token in self._private:
                return AuthResult(True)
            expiry = self._access.get(token)
        if expiry is None:
            return AuthResult(False, "INVALID_AUTHENTICATION")
        now = self.clock.seconds()
        if now >= expiry:
            return AuthResult(False, "EXPIRED_AUTHENTICATION", int(now - expiry))
        return AuthResult(True)

    def issue_access_token(self) -> str:
        """A fresh OAuth access token valid for 30 minutes of emulated time."""
        with self._lock:
            token = f"CO{self._rng.getrandbits(256):064x}"
            self._access[token] = self.clock.seconds() + ACCESS_TOKEN_TTL_S
            return token

    def valid_refresh_token(self, token: str | None) -> bool:
        """Whether a refresh token was issued by this emulator and not revoked."""
        with self._lock:
            return token in self._refresh

    def expire(self, token: str) -> None:
        """Make an access token expired now (tests of the refresh path)."""
        with self._lock:
            if token in self._access:
                self._access[token] = self.clock.seconds() - 1

    def revoke(self, token: str) -> None:
        """Forget a token of any kind."""
        with self._lock:
            self._private.discard(token)
            self._refresh.discard(token)
            self._access.pop(token, None)


#: HubSpot deprecates the v1 OAuth token endpoint on 16 Feb 2027:
#: https://developers.hubspot.com/changelog/v1-oauth-api-deprecation
V1_SUNSET = "Tue, 16 Feb 2027 00:00:00 GMT"
V1_DEPRECATION = "@1802736000"   # RFC 9745 structured date of the same day
#: HubSpot's v1 error "status" -> the RFC 6749 "error" the v3 endpoint adds beside it
_RFC6749 = {"BAD_GRANT_TYPE": "unsupported_grant_type", "BAD_CLIENT_ID": "invalid_client",
            "BAD_CLIENT_SECRET": "invalid_client", "BAD_REFRESH_TOKEN": "invalid_grant",
            "BAD_REQUEST": "invalid_request"}


def token_answer(auth: HubSpotAuth, form: dict[str, str], query: dict[str, list[str]],
                 *, v3: bool) -> tuple[int, dict[str, object], dict[str, str]]:
    """The refresh-token grant of ``POST /oauth/v1/token`` or ``/oauth/v3/token``: (status, body, headers).

    v3 takes every parameter in the form body only (credentials in the query string are refused) and answers errors
    with RFC 6749 ``error``/``error_description`` beside HubSpot's ``status``/``message``; v1 answers as before, with
    RFC 9745 ``Deprecation`` and RFC 8594 ``Sunset`` headers announcing its end.
    """
    correlation = str(uuid.uuid4())
    headers = {"X-HubSpot-Correlation-Id": correlation}
    if not v3:
        headers.update({"Deprecation": V1_DEPRECATION, "Sunset": V1_SUNSET,
                        "Link": '<https://developers.hubspot.com/docs/api-reference/legacy/authentication/'
                                'oauth-tokens/v1/migration-guide>; rel="deprecation"'})

    def refuse(status: str, message: str) -> tuple[int, dict[str, object], dict[str, str]]:
        body: dict[str, object] = {"status": status, "message": message, "correlationId": correlation}
        if v3:
            body = {"error": _RFC6749[status], "error_description": message, **body}
        return 400, body, headers

    if v3 and any(k in query for k in ("client_id", "client_secret", "refresh_token", "code")):
        return refuse("BAD_REQUEST", "parameters must be sent in the request body, not the query string")
    if form.get("grant_type") != "refresh_token":
        return refuse("BAD_GRANT_TYPE", "missing or unsupported grant type")
    if form.get("client_id") != auth.client_id:
        return refuse("BAD_CLIENT_ID", "missing or unknown client id")
    if form.get("client_secret") != auth.client_secret:
        return refuse("BAD_CLIENT_SECRET", "missing or invalid client secret")
    if not auth.valid_refresh_token(form.get("refresh_token")):
        return refuse("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
    return 200, {"token_type": "bearer", "refresh_token": form["refresh_token"],
                 "access_token": auth.issue_access_token(), "expires_in": ACCESS_TOKEN_TTL_S}, headers
