"""Shopify's webhooks: ``X-Shopify-Hmac-Sha256`` verification and the event id from the headers.

``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256(app client secret, raw body). Shopify signs no timestamp (its own
library's webhook validation checks the HMAC and the required headers, no replay window), so a replay is caught by
de-duplicating on ``X-Shopify-Webhook-Id`` (the inbox is unique per event id), not here. The topic
(``customers/update``) is ``X-Shopify-Topic``; the body is the resource itself, not an envelope.
Source: Shopify/shopify-app-js ``packages/apps/shopify-api/lib/webhooks/validate.ts`` and ``lib/types.ts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from hub.errors import BadEventError, SignatureError
from hub.webhooks import signing
from hub.webhooks.scheme import Scheme

if TYPE_CHECKING:
    from hub.serve.inbox import InboxEvent


class ShopifyWebhooks(Scheme):
    """A Shopify app's webhook subscriptions."""

    title: ClassVar[str] = "Shopify"

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str, *, method: str = "POST", url: str = "",
               now: float | None = None) -> None:
        """Check ``X-Shopify-Hmac-Sha256`` against the raw body."""
        signature = signing.header(headers, "x-shopify-hmac-sha256", self.title)
        if not signing.any_matches(signing.hmac_base64(secret, body), [signature]):
            raise SignatureError(self.title, "mismatch", "X-Shopify-Hmac-Sha256 does not match the body",
                                 hint="check the app's client secret and that the raw body is passed unchanged")

    def events(self, connection: str, body: bytes, headers: Mapping[str, str]) -> list[InboxEvent]:
        """One event per request, keyed by ``X-Shopify-Webhook-Id`` (else ``X-Shopify-Event-Id``)."""
        from hub.serve.inbox import InboxEvent

        event_id = headers.get("x-shopify-webhook-id") or headers.get("x-shopify-event-id")
        if not event_id:
            raise BadEventError("Shopify webhook without X-Shopify-Webhook-Id")
        return [InboxEvent(connection, event_id, headers.get("x-shopify-topic"), body)]


SCHEME = ShopifyWebhooks()
