"""Intuit's OAuth 2.0 token endpoint as the sandbox plays it: Basic client auth, 1-hour access tokens, rotating
refresh tokens (each refresh hands back a new one and the one spent stops working: invalid_grant)."""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass
from typing import Any

ACCESS_SECONDS = 3600
REFRESH_SECONDS = 8_726_400   # x_refresh_token_expires_in: about 101 days (a rolling expiry)


@dataclass
class Grant:
    """What one access token may reach."""

    realm: str
    expires_at: float


class IntuitAuth:
    """The app's client credentials and the tokens it has handed out (by value), thread-safe."""

    def __init__(self, rng: Any, clock: Any, realm: str) -> None:
        self._rng = rng
        self.clock = clock
        self.realm = realm
        self.client_id = "AB" + self._hex(22)
        self.client_secret = self._hex(20)
        self._refresh: dict[str, str] = {}        # live refresh token -> realm
        self._access: dict[str, Grant] = {}
        self._lock = threading.Lock()
        self.refreshes = 0
        self.initial_refresh_token = self.authorize()

    def _hex(self, n: int) -> str:
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(n * 2))

    def authorize(self, realm: str | None = None) -> str:
        """A new refresh token, as a user connecting the app to the company gets (tests use one per client)."""
        token = "RT1-" + self._hex(8) + "-H0-" + secrets.token_hex(12)
        with self._lock:
            self._refresh[token] = realm or self.realm
        return token

    def client_ok(self, header: str | None) -> bool:
        """Whether ``Authorization: Basic base64(client_id:client_secret)`` names this app."""
        if not header or not header.lower().startswith("basic "):
            return False
        try:
            pair = base64.b64decode(header[6:].strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        return pair == f"{self.client_id}:{self.client_secret}"

    def refresh(self, token: str) -> dict[str, Any] | None:
        """The token answer for a live refresh token (which is spent), None for one unknown or spent."""
        with self._lock:
            realm = self._refresh.pop(token, None)
            if realm is None:
                return None
            new_refresh = "RT1-" + self._hex(8) + "-H0-" + secrets.token_hex(12)
            access = "eyJ" + secrets.token_urlsafe(48)
            self._refresh[new_refresh] = realm
            self._access[access] = Grant(realm, self.clock.seconds() + ACCESS_SECONDS)
            self.refreshes += 1
        return {"token_type": "bearer", "access_token": access, "expires_in": ACCESS_SECONDS,
                "refresh_token": new_refresh, "x_refresh_token_expires_in": REFRESH_SECONDS}

    def check(self, bearer: str | None) -> tuple[str, Grant | None]:
        """``("ok", grant)``, ``("expired", None)`` or ``("invalid", None)`` for an access token."""
        with self._lock:
            grant = self._access.get(bearer or "")
        if grant is None:
            return "invalid", None
        if self.clock.seconds() >= grant.expires_at:
            return "expired", None
        return "ok", grant

    def expire_all(self) -> None:
        """Every access token handed out so far expires now (tests: the hour has passed)."""
        with self._lock:
            for grant in self._access.values():
                grant.expires_at = 0.0
