"""Stripe's webhooks: ``Stripe-Signature`` verification, one Event per request, and what an event means for hub.

``Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]``: hex HMAC-SHA256(endpoint secret ``whsec_...``, ``"<t>." + body``);
any v1 may match (Stripe signs with every active secret while one is rolled); other schemes (v0) are ignored; a
``t`` older than 300 s is refused (stripe-python ``WebhookSignature.verify_header``, ``DEFAULT_TOLERANCE``).
The event id, the dedup key, is the body's ``id``. Events land in ``raw_<connection>.events`` as the connector's
``events`` stream writes them (:mod:`.events`), and a ``*.deleted`` event flags its object's raw row at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from hub.errors import SignatureError
from hub.webhooks import signing
from hub.webhooks.scheme import Scheme

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.serve.inbox import StoredEvent

TOLERANCE_S = 300


class StripeWebhooks(Scheme):
    """Stripe's webhook endpoints (``whsec_`` secrets)."""

    title: ClassVar[str] = "Stripe"

    def __init__(self, tolerance: int = TOLERANCE_S) -> None:
        self.tolerance = tolerance

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str, *, method: str = "POST", url: str = "",
               now: float | None = None) -> None:
        """Check ``Stripe-Signature`` against the raw body and its timestamp."""
        header = signing.header(headers, "stripe-signature", self.title)
        timestamp, signatures = None, []
        for item in header.split(","):
            key, _, value = item.strip().partition("=")
            if key == "t":
                timestamp = signing.integer(value, self.title, "t")
            elif key == "v1":
                signatures.append(value)
        if timestamp is None:
            raise SignatureError(self.title, "malformed_header", "Stripe-Signature has no t=<timestamp>")
        if not signatures:
            raise SignatureError(self.title, "malformed_header", "Stripe-Signature has no v1 signature",
                                 hint="only the v1 scheme is trusted")
        expected = signing.hmac_hex(secret, f"{timestamp}.".encode() + body)
        if not signing.any_matches(expected, signatures):
            raise SignatureError(self.title, "mismatch", "no v1 signature matches the body",
                                 hint="check the endpoint's whsec_ secret and that the raw body is passed unchanged")
        signing.check_age(self.title, timestamp, now, self.tolerance)

    def subject(self, event: Mapping[str, Any]) -> tuple[str, str] | None:
        """The customer an event is about: the object itself when it is a customer, else its ``customer``."""
        obj = (event.get("data") or {}).get("object") or {}
        if obj.get("object") == "customer" and isinstance(obj.get("id"), str):
            return "customers", obj["id"]
        customer = obj.get("customer")
        if isinstance(customer, dict):   # expanded
            customer = customer.get("id")
        return ("customers", customer) if isinstance(customer, str) else None

    def row_schema(self) -> pa.Schema:
        """The connector's ``events`` stream schema: both writers fill the same table."""
        from hub.integrations.stripe.events import SCHEMA

        return SCHEMA

    def row(self, event: StoredEvent) -> dict[str, Any]:
        """The connector's event row (:func:`.events.event_row`) of the stored body."""
        from hub.integrations.stripe.events import event_row

        body = orjson.loads(event.body)
        if not isinstance(body, dict):
            raise TypeError("the event is not a JSON object")
        return {**event_row(body), "id": event.event_id}

    def deleted(self, rows: pa.Table) -> dict[str, list[str]]:
        """``customer.deleted``, ``invoice.deleted``, ...: the objects' ids, per stream."""
        from hub.integrations.stripe.events import deleted_objects

        return deleted_objects(rows)


SCHEME = StripeWebhooks()
