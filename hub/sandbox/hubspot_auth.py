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
