"""Webhook signature verification: Stripe, HubSpot v3, Shopify and Standard Webhooks, one function per scheme.

Each ``verify_*`` returns None for an authentic request and raises :class:`SignatureError` otherwise, with a short
``reason`` code (``missing_header``, ``malformed_header``, ``mismatch``, ``stale``, ``bad_secret``) and a message saying
what to check. Pass the raw body bytes exactly as received: re-serialized JSON never matches. Digests are compared with
:func:`hmac.compare_digest` so that response times do not leak how much of a forged signature was right.
:func:`verify` picks the scheme by connection type.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any

from hub.errors import SignatureError, UnknownNameError

STRIPE_TOLERANCE_S = 300
HUBSPOT_MAX_AGE_MS = 300_000
STANDARD_TOLERANCE_S = 300
# HubSpot signs the URI with these escapes decoded (its v3 validation guide)
_HUBSPOT_UNESCAPE = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'",
                     "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}


def verify_stripe(body: bytes, headers: Mapping[str, str], secret: str, *, tolerance: int = STRIPE_TOLERANCE_S,
                  now: float | None = None) -> None:
    """``Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]``: any v1 may match; other schemes (v0) are ignored."""
    header = _header(headers, "stripe-signature", "Stripe")
    timestamp, signatures = None, []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamp = _int(value, "Stripe", "t")
        elif key == "v1":
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("Stripe", "malformed_header", "Stripe-Signature has no t=<timestamp>")
    if not signatures:
        raise SignatureError("Stripe", "malformed_header", "Stripe-Signature has no v1 signature",
                             hint="only the v1 scheme is trusted")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("Stripe", "mismatch", "no v1 signature matches the body",
                             hint="check the endpoint's whsec_ secret and that the raw body is passed unchanged")
    age = _now(now) - timestamp
    if age > tolerance:
        raise SignatureError("Stripe", "stale", f"signed {int(age)} s ago, more than the {tolerance} s tolerance",
                             hint="a replay, or this server's clock is wrong")


def verify_hubspot(body: bytes, headers: Mapping[str, str], secret: str, *, method: str, url: str,
                   max_age_ms: int = HUBSPOT_MAX_AGE_MS, now: float | None = None) -> None:
    """``X-HubSpot-Signature-v3``: base64 HMAC-SHA256(app secret, method + full URI + raw body + timestamp)."""
    signature = _header(headers, "x-hubspot-signature-v3", "HubSpot")
    stamp = _header(headers, "x-hubspot-request-timestamp", "HubSpot")
    timestamp = _int(stamp, "HubSpot", "X-HubSpot-Request-Timestamp")
    uri = url
    for escaped, plain in _HUBSPOT_UNESCAPE.items():
        uri = uri.replace(escaped, plain).replace(escaped.lower(), plain)
    message = method.upper().encode() + uri.encode() + body + stamp.encode()
    expected = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, signature.strip()):
        raise SignatureError("HubSpot", "mismatch", "X-HubSpot-Signature-v3 does not match",
                             hint="check the app's client secret and that url is the full public URL HubSpot called, "
                                  "query string included")
    age_ms = _now(now) * 1000 - timestamp
    if age_ms > max_age_ms:
        raise SignatureError("HubSpot", "stale", f"sent {int(age_ms // 1000)} s ago, more than "
                                                 f"{max_age_ms // 1000} s",
                             hint="a replay, or this server's clock is wrong")


def verify_shopify(body: bytes, headers: Mapping[str, str], secret: str) -> None:
    """``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256(app secret, raw body). Shopify signs no timestamp, so replays are
    caught by de-duplicating on ``X-Shopify-Webhook-Id``, not here."""
    signature = _header(headers, "x-shopify-hmac-sha256", "Shopify")
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, signature.strip()):
        raise SignatureError("Shopify", "mismatch", "X-Shopify-Hmac-Sha256 does not match the body",
                             hint="check the app's client secret and that the raw body is passed unchanged")


def verify_standard(body: bytes, headers: Mapping[str, str], secret: str, *, tolerance: int = STANDARD_TOLERANCE_S,
                    now: float | None = None) -> None:
    """Standard Webhooks: ``webhook-signature: v1,<base64 HMAC(key, id.timestamp.body)>`` (space-separated list).

    The secret is base64, optionally prefixed ``whsec_``; timestamps more than ``tolerance`` seconds away from now, in
    either direction, are refused as the specification asks.
    """
    msg_id = _header(headers, "webhook-id", "Standard Webhooks")
    stamp = _header(headers, "webhook-timestamp", "Standard Webhooks")
    signatures = _header(headers, "webhook-signature", "Standard Webhooks")
    timestamp = _int(stamp, "Standard Webhooks", "webhook-timestamp")
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("Standard Webhooks", "bad_secret", "the secret is not base64",
                             hint="use the whsec_... value exactly as the sender shows it") from None
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    candidates = [sig for version, _, sig in (s.partition(",") for s in signatures.split()) if version == "v1"]
    if not candidates:
        raise SignatureError("Standard Webhooks", "malformed_header", "webhook-signature has no v1 signature")
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("Standard Webhooks", "mismatch", "no v1 signature matches the body",
                             hint="check the secret and that the raw body is passed unchanged")
    skew = _now(now) - timestamp
    if abs(skew) > tolerance:
        raise SignatureError("Standard Webhooks", "stale", f"timestamp is {int(abs(skew))} s "
                                                           f"{'old' if skew > 0 else 'in the future'}, more than "
                                                           f"{tolerance} s", hint="a replay, or a clock is wrong")


Verifier = Callable[..., None]
SCHEMES: dict[str, Verifier] = {"stripe": verify_stripe, "hubspot": verify_hubspot, "shopify": verify_shopify,
                                "standard_webhooks": verify_standard}


def verify(connection_type: str, body: bytes, headers: Mapping[str, str], secret: str, *, method: str = "POST",
           url: str = "", now: float | None = None) -> None:
    """Verify a webhook for a connection of ``connection_type``; ``method`` and ``url`` matter for HubSpot only."""
    try:
        scheme = SCHEMES[connection_type]
    except KeyError:
        raise UnknownNameError("webhook signature scheme", connection_type, SCHEMES) from None
    options: dict[str, Any] = {}
    if scheme is verify_hubspot:
        options = {"method": method, "url": url}
    if scheme is not verify_shopify:
        options["now"] = now
    scheme(body, headers, secret, **options)


def _header(headers: Mapping[str, str], name: str, scheme: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise SignatureError(scheme, "missing_header", f"no {name} header",
                         hint="is the request really from the vendor, and does a proxy strip headers?")


def _int(value: str, scheme: str, what: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise SignatureError(scheme, "malformed_header", f"{what} is not an integer: {value[:40]!r}") from None


def _now(now: float | None) -> float:
    return time.time() if now is None else now
