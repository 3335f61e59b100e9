"""The pieces every HMAC webhook scheme is made of: digests, constant-time comparison, headers, timestamps.

A scheme (:class:`hub.webhooks.scheme.Scheme`) composes them; vendors differ only in what they sign, how they encode
the digest and which header carries what, and that lives in their integration folder. Pass the raw body bytes exactly
as received: re-serialized JSON never matches. Digests are compared with :func:`hmac.compare_digest` so that response
times do not leak how much of a forged signature was right.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

from hub.errors import SignatureError

__all__ = ["SignatureError", "any_matches", "check_age", "hmac_base64", "hmac_hex", "header", "integer", "now"]

#: the usual replay window: how old a signed timestamp may be before the request is refused
DEFAULT_TOLERANCE_S = 300


def hmac_hex(key: bytes | str, message: bytes) -> str:
    """Hex HMAC-SHA256 of ``message``."""
    return hmac.new(_key(key), message, hashlib.sha256).hexdigest()


def hmac_base64(key: bytes | str, message: bytes) -> str:
    """Base64 HMAC-SHA256 of ``message``."""
    return base64.b64encode(hmac.new(_key(key), message, hashlib.sha256).digest()).decode()


def any_matches(expected: str, candidates: Iterable[str]) -> bool:
    """Whether any candidate equals ``expected``, each compared in constant time (senders may sign with several
    secrets while one is rotated)."""
    return any(hmac.compare_digest(expected, candidate.strip()) for candidate in candidates)


def header(headers: Mapping[str, str], name: str, scheme: str) -> str:
    """The value of header ``name`` (any case); a missing one is a :class:`SignatureError` (``missing_header``)."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    raise SignatureError(scheme, "missing_header", f"no {name} header",
                         hint="is the request really from the sender, and does a proxy strip headers?")


def integer(value: str, scheme: str, what: str) -> int:
    """``value`` as an integer; anything else is a :class:`SignatureError` (``malformed_header``)."""
    try:
        return int(value.strip())
    except ValueError:
        raise SignatureError(scheme, "malformed_header", f"{what} is not an integer: {value[:40]!r}") from None


def check_age(scheme: str, signed_at: float, at: float | None, tolerance: float, *, future: bool = False) -> None:
    """Refuse a request signed more than ``tolerance`` seconds before ``at`` (now by default), and with ``future``
    also one signed that far after it (``stale``): a replay, or a clock that is wrong."""
    skew = now(at) - signed_at
    if skew > tolerance:
        raise SignatureError(scheme, "stale", f"signed {int(skew)} s ago, more than the {tolerance:g} s tolerance",
                             hint="a replay, or this server's clock is wrong")
    if future and -skew > tolerance:
        raise SignatureError(scheme, "stale", f"timestamp is {int(-skew)} s in the future, more than {tolerance:g} s",
                             hint="a replay, or a clock is wrong")


def now(at: float | None = None) -> float:
    """``at``, or the current Unix time when None (tests pass a fixed one)."""
    return time.time() if at is None else at


def _key(key: bytes | str) -> bytes:
    return key.encode() if isinstance(key, str) else key
