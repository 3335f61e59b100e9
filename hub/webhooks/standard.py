"""Standard Webhooks (standardwebhooks.com): the scheme of every connection whose integration has none of its own.

``webhook-signature: v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>`` (a space-separated
list; any v1 may match). The secret is base64, optionally prefixed ``whsec_``. Timestamps more than five minutes away
from now, in either direction, are refused, as the specification asks. The event id, the dedup key, is the
``webhook-id`` header; the type is the body's ``type``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from hub.errors import BadEventError, SignatureError
from hub.webhooks import signing
from hub.webhooks.scheme import Scheme, parse_json

if TYPE_CHECKING:
    from hub.serve.inbox import InboxEvent

NAME = "standard_webhooks"
TOLERANCE_S = signing.DEFAULT_TOLERANCE_S


class StandardWebhooks(Scheme):
    """The Standard Webhooks specification, version 1."""

    title: ClassVar[str] = "Standard Webhooks"

    def __init__(self, tolerance: int = TOLERANCE_S) -> None:
        self.tolerance = tolerance

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str, *, method: str = "POST", url: str = "",
               now: float | None = None) -> None:
        """Check ``webhook-signature`` against the body, ``webhook-id`` and ``webhook-timestamp``."""
        msg_id = signing.header(headers, "webhook-id", self.title)
        stamp = signing.header(headers, "webhook-timestamp", self.title)
        signatures = signing.header(headers, "webhook-signature", self.title)
        timestamp = signing.integer(stamp, self.title, "webhook-timestamp")
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError(self.title, "bad_secret", "the secret is not base64",
                                 hint="use the whsec_... value exactly as the sender shows it") from None
        expected = signing.hmac_base64(key, f"{msg_id}.{timestamp}.".encode() + body)
        candidates = [sig for version, _, sig in (s.partition(",") for s in signatures.split()) if version == "v1"]
        if not candidates:
            raise SignatureError(self.title, "malformed_header", "webhook-signature has no v1 signature")
        if not signing.any_matches(expected, candidates):
            raise SignatureError(self.title, "mismatch", "no v1 signature matches the body",
                                 hint="check the secret and that the raw body is passed unchanged")
        signing.check_age(self.title, timestamp, now, self.tolerance, future=True)

    def events(self, connection: str, body: bytes, headers: Mapping[str, str]) -> list[InboxEvent]:
        """One event per request: its id is the ``webhook-id`` header, its type the body's ``type``."""
        from hub.serve.inbox import InboxEvent

        data = parse_json(body)
        if not isinstance(data, dict):
            raise BadEventError("the webhook body is not a JSON object")
        event_id = headers.get("webhook-id")
        if not event_id:
            raise BadEventError("Standard Webhooks request without webhook-id")
        kind = data.get("type") if isinstance(data.get("type"), str) else None
        return [InboxEvent(connection, event_id, kind, body)]


SCHEME = StandardWebhooks()
