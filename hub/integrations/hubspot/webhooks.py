"""HubSpot's webhooks (v3 signatures): verification, batches of events, and which contact an event is about.

``X-HubSpot-Signature-v3``: base64 HMAC-SHA256(app client secret, method + full URI + raw body + timestamp), with
``X-HubSpot-Request-Timestamp`` in milliseconds; a timestamp more than five minutes old is refused (hubspot-api-client
``hubspot/utils/signature.py``, ``MAX_ALLOWED_TIMESTAMP = 300``). HubSpot signs the URI with some percent-escapes
decoded (its v3 validation guide), so the URL is decoded the same way before signing. One request carries a JSON
array of events, each with its ``eventId`` (the dedup key), ``subscriptionType`` and ``occurredAt`` (milliseconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from hub.errors import BadEventError, SignatureError
from hub.webhooks import signing
from hub.webhooks.scheme import Scheme, parse_json

if TYPE_CHECKING:
    from hub.serve.inbox import InboxEvent

MAX_AGE_MS = 300_000
# HubSpot signs the URI with these escapes decoded (its v3 validation guide)
_UNESCAPE = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'",
             "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}


class HubSpotWebhooks(Scheme):
    """A HubSpot app's webhook subscriptions (the app's client secret signs them)."""

    title: ClassVar[str] = "HubSpot"
    created_fields: ClassVar[tuple[tuple[str, int], ...]] = (("occurredAt", 1000),)

    def __init__(self, max_age_ms: int = MAX_AGE_MS) -> None:
        self.max_age_ms = max_age_ms

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str, *, method: str = "POST", url: str = "",
               now: float | None = None) -> None:
        """Check ``X-HubSpot-Signature-v3`` against method, the URL HubSpot called, the body and the timestamp."""
        signature = signing.header(headers, "x-hubspot-signature-v3", self.title)
        stamp = signing.header(headers, "x-hubspot-request-timestamp", self.title)
        timestamp = signing.integer(stamp, self.title, "X-HubSpot-Request-Timestamp")
        uri = url
        for escaped, plain in _UNESCAPE.items():
            uri = uri.replace(escaped, plain).replace(escaped.lower(), plain)
        expected = signing.hmac_base64(secret, method.upper().encode() + uri.encode() + body + stamp.encode())
        if not signing.any_matches(expected, [signature]):
            raise SignatureError(self.title, "mismatch", "X-HubSpot-Signature-v3 does not match",
                                 hint="check the app's client secret and that url is the full public URL HubSpot "
                                      "called, query string included")
        signing.check_age(self.title, timestamp / 1000, now, self.max_age_ms / 1000)

    def events(self, connection: str, body: bytes, headers: Mapping[str, str]) -> list[InboxEvent]:
        """Each event of the request's JSON array, keyed by its ``eventId``."""
        from hub.serve.inbox import InboxEvent

        data = parse_json(body)
        if not isinstance(data, list):
            raise BadEventError("HubSpot webhooks carry a JSON array of events")
        out = []
        for item in data:
            if not isinstance(item, dict) or item.get("eventId") is None:
                raise BadEventError("HubSpot event without eventId")
            out.append(InboxEvent(connection, str(item["eventId"]), item.get("subscriptionType"), orjson.dumps(item)))
        return out

    def subject(self, event: Mapping[str, Any]) -> tuple[str, str] | None:
        """A ``contact.*`` event is about the contact ``objectId``."""
        kind = str(event.get("subscriptionType") or "")
        if kind.startswith("contact.") and event.get("objectId") is not None:
            return "contacts", str(event["objectId"])
        return None


SCHEME = HubSpotWebhooks()
