"""From an HTTP request to inbox events: verify the sender's signature, then split the body into events with ids.

The signature scheme follows the connection's type (:func:`hub.webhooks.verify.verify`); a type without a scheme of its
own (anything but stripe, hubspot, shopify) is taken to send Standard Webhooks. The secret is the connection's
``webhook_secret`` (``HUB__CONNECTIONS__<NAME>__WEBHOOK_SECRET`` or secrets.toml). Event ids, the dedup key, come from
where each sender puts them: Stripe's ``id``, HubSpot's ``eventId`` (one request carries a batch), Shopify's
``X-Shopify-Webhook-Id`` header, Standard Webhooks' ``webhook-id`` header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from hub.config import ConnectionConfig
from hub.errors import BadEventError
from hub.serve.inbox import InboxEvent
from hub.webhooks.verify import SCHEMES, verify

STANDARD = "standard_webhooks"


@dataclass(frozen=True)
class Receiver:
    """What hub needs to accept one connection's webhooks: its name, signature scheme and secret."""

    connection: str
    scheme: str
    secret: str

    @classmethod
    def of(cls, connection: ConnectionConfig) -> Receiver:
        """The receiver of a configured connection; its webhook_secret must be set (SecretMissingError says where)."""
        scheme = connection.type if connection.type in SCHEMES else STANDARD
        return cls(connection.name, scheme, connection.secret("webhook_secret").reveal())

    def accept(self, body: bytes, headers: Mapping[str, str], *, url: str = "") -> list[InboxEvent]:
        """Verify the request (raises SignatureError) and return its events (raises BadEventError)."""
        verify(self.scheme, body, headers, self.secret, method="POST", url=url)
        return parse(self.scheme, self.connection, body, headers)


def parse(scheme: str, connection: str, body: bytes, headers: Mapping[str, str]) -> list[InboxEvent]:
    """The events in a verified request body; ``headers`` keys are lower-case."""
    if scheme == "shopify":
        event_id = headers.get("x-shopify-webhook-id") or headers.get("x-shopify-event-id")
        if not event_id:
            raise BadEventError("Shopify webhook without X-Shopify-Webhook-Id")
        return [InboxEvent(connection, event_id, headers.get("x-shopify-topic"), body)]
    data = _json(body)
    if scheme == "hubspot":
        if not isinstance(data, list):
            raise BadEventError("HubSpot webhooks carry a JSON array of events")
        out = []
        for item in data:
            if not isinstance(item, dict) or item.get("eventId") is None:
                raise BadEventError("HubSpot event without eventId")
            out.append(InboxEvent(connection, str(item["eventId"]), item.get("subscriptionType"),
                                  orjson.dumps(item)))
        return out
    if not isinstance(data, dict):
        raise BadEventError("the webhook body is not a JSON object")
    if scheme == "stripe":
        if not isinstance(data.get("id"), str):
            raise BadEventError("Stripe event without an id")
        return [InboxEvent(connection, data["id"], data.get("type"), body)]
    event_id = headers.get("webhook-id")
    if not event_id:
        raise BadEventError("Standard Webhooks request without webhook-id")
    kind = data.get("type") if isinstance(data.get("type"), str) else None
    return [InboxEvent(connection, event_id, kind, body)]


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadEventError(f"the webhook body is not JSON: {exc}") from None
