"""Shopify's webhooks: ``X-Shopify-Hmac-Sha256`` verification and the event id from the headers.

``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256(app client secret, raw body). Shopify signs no timestamp (its own
library's webhook validation checks the HMAC and the required headers, no replay window), so a replay is caught by
de-duplicating on ``X-Shopify-Webhook-Id`` (the inbox is unique per event id), not here. The topic
(``customers/update``) is ``X-Shopify-Topic``; the body is the resource itself, not an envelope.
Source: Shopify/shopify-app-js ``packages/apps/shopify-api/lib/webhooks/validate.ts`` and ``lib/types.ts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from hub.errors import BadEventError, SignatureError
from hub.webhooks import signing
from hub.webhooks.scheme import Scheme

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.serve.inbox import InboxEvent

#: delete topics -> (stream, GraphQL type of the GID the connector lands as ``id``); the body is ``{"id": <number>}``
DELETE_TOPICS = {"orders/delete": ("orders", "Order"), "customers/delete": ("customers", "Customer"),
                 "products/delete": ("products", "Product")}


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

    def subject(self, event: Mapping[str, Any]) -> tuple[str, str] | None:
        """A body with a numeric ``id`` is about that record; which stream needs the topic, so None here."""
        return None

    def deleted(self, rows: pa.Table) -> dict[str, list[str]]:
        """``orders/delete``, ``customers/delete``, ``products/delete``: the record's GID, per stream (the
        connector's raw ``id`` is the GraphQL GID, ``gid://shopify/Customer/<id>``; the body has the number)."""
        out: dict[str, list[str]] = {}
        for topic, data in zip(rows.column("type").to_pylist(), rows.column("data").to_pylist(), strict=True):
            if topic not in DELETE_TOPICS or not data:
                continue
            try:
                number = orjson.loads(data).get("id")
            except (orjson.JSONDecodeError, AttributeError):
                continue
            if isinstance(number, int) and not isinstance(number, bool):
                stream, kind = DELETE_TOPICS[topic]
                out.setdefault(stream, []).append(f"gid://shopify/{kind}/{number}")
        return out


SCHEME = ShopifyWebhooks()
