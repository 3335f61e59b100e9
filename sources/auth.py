"""OAuth2 refresh-token auth for connectors, and the token store that keeps rotated tokens across runs.

A connection with the secrets ``client_id``, ``client_secret`` and ``refresh_token`` gets an :class:`OAuth2Auth`. It
exchanges the refresh token for an access token when it has none, shortly before a known expiry (some vendors send
``expires_in``; without it a token counts as valid until a 401), and exactly once after a 401 that the
vendor marks as an expired session, then retries the request. What differs between vendors is data on an
:class:`OAuthProfile`.

Tokens the vendor hands back are written to ``<project>/.hub/tokens.json`` (mode 0600, atomically) *before* the new
access token is used, so a crash between the refresh and the save cannot leave the only valid refresh token in memory.
On start, the store's refresh token wins over secrets.toml's, unless secrets.toml's changed since the store was written
(the user re-authorized): each entry remembers a hash of the configured token it descends from. Tokens never go to the
warehouse, logs or error messages (every value is a :class:`~hub.secrets.Secret`).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from hub.config import SECRETS_FILE, ConnectionConfig, env_var
from hub.errors import ConfigError
from hub.secrets import Secret
from hub.sources import notices

if TYPE_CHECKING:  # httpx loads when a connection's auth is made, not when connectors are declared
    import httpx

    from hub.sources.oauth import OAuth2Auth

STORE_DIR = ".hub"
STORE_FILE = "tokens.json"
#: Refresh this long before a known expiry, so a request never leaves with a token that dies in flight.
EXPIRY_MARGIN_S = 120.0
OAUTH_KEYS = ("client_id", "client_secret", "refresh_token")


@dataclass(frozen=True)
class OAuthProfile:
    """Where a vendor's token endpoint is and how its API says "this access token expired"."""

    token_path: str                 # appended to the auth root URL
    expired_marker: str             # text in a 401 body that means "refresh and retry"
    url_option: str | None = None   # connection option holding the auth root URL (else base_url)
    default_url: str | None = None  # the auth root URL when that option is not set
    vendor: str = "API"             # for notices about the token endpoint (its deprecation headers)
    #: the token answer's ``instance_url`` is where the API lives: requests for base_url go there
    instance_url: bool = False
    #: where the token endpoint puts its request id (quoted in errors for support): a body field, then headers
    request_id_field: str | None = None
    request_id_headers: tuple[str, ...] = ("request-id", "x-request-id")
    #: how the client authenticates to the token endpoint (RFC 6749 2.3.1): ``"body"`` sends client_id and
    #: client_secret in the form, ``"basic"`` in an HTTP Basic Authorization header (some vendors take only that)
    client_auth: str = "body"

    def token_url(self, options: dict[str, Any], base_url: str) -> str:
        root = (self.url_option and options.get(self.url_option)) or self.default_url or base_url
        return f"{str(root).rstrip('/')}{self.token_path}"


@dataclass
class Tokens:
    """One connection's current tokens; ``expires_at`` is epoch seconds, None when the vendor does not say."""

    refresh_token: Secret
    access_token: Secret | None = None
    expires_at: float | None = None
    instance_url: str | None = None


def fingerprint(value: str) -> str:
    """A hash that identifies a configured refresh token without storing it twice."""
    import hashlib   # OpenSSL's: loaded when a token is cached, not by every command that declares connectors

    return hashlib.sha256(value.encode()).hexdigest()[:16]


class TokenStore:
    """``.hub/tokens.json``: ``{connection: {origin, refresh_token, access_token, expires_at, saved_at}}``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def for_project(cls, root: Path) -> TokenStore:
        return cls(Path(root) / STORE_DIR / STORE_FILE)

    def load(self, connection: str, configured_refresh: Secret) -> Tokens:
        """The tokens to start from: the store's when they descend from the configured refresh token."""
        entry = self._read().get(connection)
        if not isinstance(entry, dict) or entry.get("origin") != fingerprint(configured_refresh.reveal()) \
                or not entry.get("refresh_token"):
            return Tokens(configured_refresh)
        access = entry.get("access_token")
        return Tokens(Secret(entry["refresh_token"]), Secret(access) if access else None, entry.get("expires_at"),
                      entry.get("instance_url"))

    def save(self, connection: str, configured_refresh: Secret, tokens: Tokens) -> None:
        """Write one connection's tokens: temp file, fsync, rename; 0600 from the start."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._locked():
            data = self._read()
            data[connection] = {
                "origin": fingerprint(configured_refresh.reveal()),
                "refresh_token": tokens.refresh_token.reveal(),
                "access_token": tokens.access_token.reveal() if tokens.access_token else None,
                "expires_at": tokens.expires_at,
                "instance_url": tokens.instance_url,
                "saved_at": time.time(),
            }
            fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)  # mkstemp creates it 0600
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # make the rename itself durable
            finally:
                os.close(dir_fd)

    def _read(self) -> dict[str, Any]:
        try:
            data = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, orjson.JSONDecodeError):
            raise ConfigError(f"cannot read the token store {self.path}",
                              hint="delete it and the refresh tokens in secrets.toml are used again") from None
        return data if isinstance(data, dict) else {}

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # Two processes refreshing different connections must not drop each other's entry.
        fd = os.open(self.path.parent / ".tokens.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _json(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def connection_auth(config: ConnectionConfig, base_url: str, profile: OAuthProfile | None, *,
                    clock: Callable[[], float] | None = None) -> tuple[httpx.Auth, str]:
    """The auth of one connection and the hint its 401s should carry.

    OAuth when the connector has a profile and the connection has a refresh_token (a ``token`` beside it is tried as
    the first access token); a static bearer token otherwise.
    """
    if profile is not None and config.secrets.get("refresh_token"):
        from hub.sources.oauth import OAuth2Auth

        store = TokenStore.for_project(config.root) if config.root is not None else None
        auth = OAuth2Auth(config.name, profile, profile.token_url(config.options, base_url),
                          client_id=config.secret("client_id"), client_secret=config.secret("client_secret"),
                          refresh_token=config.secret("refresh_token"), store=store,
                          access_token=config.secrets.get("token"), clock=clock or time.time, base_url=base_url,
                          notes_root=config.root)
        hint = (f"re-authorize connection '{config.name}' if this persists, and update client_id, client_secret and "
                f"refresh_token in {SECRETS_FILE}")
        return auth, hint
    hint = (f"check the token of connection '{config.name}' "
            f"({env_var('connections', config.name, 'token')} or {SECRETS_FILE})")
    from hub.sources.transport import BearerAuth

    return BearerAuth(config.secret("token")), hint


def __getattr__(name: str) -> Any:
    """``from hub.sources.auth import OAuth2Auth`` still works: it lives in :mod:`hub.sources.oauth`, with httpx."""
    if name == "OAuth2Auth":
        from hub.sources.oauth import OAuth2Auth

        return OAuth2Auth
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
