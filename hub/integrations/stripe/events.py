"""A Stripe event as a row of ``raw_<connection>.events``: the one definition both writers use.

Events reach the warehouse two ways: the connector's ``events`` stream (``GET /v1/events``, :mod:`.source`) and
``hub serve`` (webhooks, :mod:`.webhooks`). Both build the row here, so the table has one shape whoever wrote first.
A webhook delivery carries the same Event object as ``GET /v1/events/{id}`` (docs.stripe.com/api/events/object).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from hub.webhooks import masked_json

S, I, B, J = pa.string(), pa.int64(), pa.bool_(), "json"

#: the events table's columns; J columns are nested values kept as JSON text (``data``, secret-named values masked)
EVENT_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("id", S), ("created", I), ("type", S), ("api_version", S), ("livemode", B), ("pending_webhooks", I),
    ("object_id", S), ("object_type", S), ("request_id", S), ("idempotency_key", S), ("data", J))
#: the raw table's Arrow schema: JSON columns are strings, ``id`` is never null
SCHEMA = pa.schema([pa.field(name, S if kind == J else kind, nullable=name != "id") for name, kind in EVENT_COLUMNS])
#: the object an event is about -> the stream (and raw table) holding such objects
STREAM_OF = {"customer": "customers", "invoice": "invoices", "charge": "charges", "payment_intent": "payment_intents"}
_FIELDS = tuple(name for name, _ in EVENT_COLUMNS)


def event_row(event: Mapping[str, Any]) -> dict[str, Any]:
    """One Stripe event as a row of ``raw_<connection>.events``, whoever brought it (the connector or a webhook).

    Scalars as sent (the caller's Arrow schema decides whether they type), the object's id and type pulled up, and
    ``data`` as JSON text with secret-named values (a payment intent's ``client_secret``) masked.
    """
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    obj = obj if isinstance(obj, dict) else {}
    request = event.get("request")
    request = request if isinstance(request, dict) else {}
    row = {name: event.get(name) for name in _FIELDS}
    row.update(object_id=obj.get("id"), object_type=obj.get("object"), request_id=request.get("id"),
               idempotency_key=request.get("idempotency_key"),
               data=None if data is None else masked_json(data))
    return row


def is_deletion(event_type: str | None) -> bool:
    """Whether an event type says its object was deleted (``customer.deleted``, ``invoice.deleted``, ...)."""
    return bool(event_type) and event_type.endswith(".deleted")  # type: ignore[union-attr]


def deleted_objects(rows: pa.Table) -> dict[str, list[str]]:
    """Per stream, the ids that ``*.deleted`` events among ``rows`` (of the events table) say are gone."""
    out: dict[str, list[str]] = {}
    for kind, object_type, object_id in zip(rows.column("type").to_pylist(), rows.column("object_type").to_pylist(),
                                            rows.column("object_id").to_pylist(), strict=True):
        if is_deletion(kind) and object_type in STREAM_OF and object_id:
            out.setdefault(STREAM_OF[object_type], []).append(object_id)
    return out
