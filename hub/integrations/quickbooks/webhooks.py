"""QuickBooks Online webhooks: ``intuit-signature`` verification, CloudEvents (and the retired legacy envelope).

``intuit-signature`` is base64(HMAC-SHA256(the app's verifier token, raw body)) (python-quickbooks
``QuickBooks.validate_webhook_signature``); the verifier token is the connection's ``webhook_secret``. Nothing in the
signature carries a time, so a replayed request is only caught by its event ids (the inbox keeps each once).

Intuit moved webhooks to CloudEvents (mandatory since mid-2026; docs/vendors.md): the body is a JSON array of
events, each with its own ``id`` (the dedup key), ``type`` ``qbo.<entity>.<operation>.v1``, ``time``,
``intuitentityid`` (the record) and ``intuitaccountid`` (the realm). A body in the retired format
(``eventNotifications[].dataChangeEvent.entities[]``: name, id, operation, lastUpdated) is still taken: each entity
becomes one event in the CloudEvents shape, its id made of realm, entity, record, operation and time, so a
redelivery of it is stored once too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from hub.errors import BadEventError, SignatureError
from hub.webhooks import signing
from hub.webhooks.scheme import Scheme, masked_text, parse_json

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.serve.inbox import InboxEvent, StoredEvent

#: the entity in an event type -> the connector's stream
STREAMS = {"customer": "customers", "invoice": "invoices", "payment": "payments", "item": "items",
           "creditmemo": "credit_memos"}
#: legacy operation names -> CloudEvents' verbs
VERBS = {"create": "created", "update": "updated", "delete": "deleted", "merge": "merged", "void": "voided",
         "emailed": "emailed"}


class QuickBooksWebhooks(Scheme):
    """A QuickBooks app's webhooks, signed with its verifier token."""

    title: ClassVar[str] = "QuickBooks"

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str, *, method: str = "POST", url: str = "",
               now: float | None = None) -> None:
        signature = signing.header(headers, "intuit-signature", self.title)
        if not signing.any_matches(signing.hmac_base64(secret, body), [signature.strip()]):
            raise SignatureError(self.title, "mismatch", "intuit-signature does not match the body",
                                 hint="set webhook_secret to the app's Verifier Token (Developer portal > Webhooks)")

    def events(self, connection: str, body: bytes, headers: Mapping[str, str]) -> list[InboxEvent]:
        from hub.serve.inbox import InboxEvent

        data = parse_json(body)
        if isinstance(data, dict) and "eventNotifications" in data:
            data = _from_legacy(data)
        if not isinstance(data, list):
            raise BadEventError("QuickBooks webhooks carry a JSON array of CloudEvents (or eventNotifications)")
        out = []
        for item in data:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
                raise BadEventError("QuickBooks event without an id")
            kind = item.get("type")
            out.append(InboxEvent(connection, item["id"], kind if isinstance(kind, str) else None, orjson.dumps(item)))
        return out

    def subject(self, event: Mapping[str, Any]) -> tuple[str, str] | None:
        """``qbo.invoice.updated.v1`` is about invoice ``intuitentityid``."""
        parts = str(event.get("type") or "").split(".")
        if len(parts) >= 3 and parts[0] == "qbo" and parts[1] in STREAMS and event.get("intuitentityid"):
            return STREAMS[parts[1]], str(event["intuitentityid"])
        return None

    def row(self, event: StoredEvent) -> dict[str, Any]:
        from hub.sources.base import parse_time

        body = orjson.loads(event.body)
        moment = parse_time(body.get("time")) if isinstance(body, dict) else None
        return {"id": event.event_id, "created": int(moment.timestamp()) if moment else int(event.received_at),
                "type": event.type, "data": masked_text(event.body)}

    def deleted(self, rows: pa.Table) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for kind, data in zip(rows.column("type").to_pylist(), rows.column("data").to_pylist()):
            parts = str(kind or "").split(".")
            if len(parts) >= 3 and parts[2] == "deleted" and parts[1] in STREAMS and data:
                ident = orjson.loads(data).get("intuitentityid")
                if ident:
                    out.setdefault(STREAMS[parts[1]], []).append(str(ident))
        return out


def _from_legacy(data: dict[str, Any]) -> list[dict[str, Any]]:
    events = []
    for note in data.get("eventNotifications") or []:
        realm = str((note or {}).get("realmId") or "")
        for entity in ((note or {}).get("dataChangeEvent") or {}).get("entities") or []:
            name, ident = str(entity.get("name") or ""), str(entity.get("id") or "")
            operation = str(entity.get("operation") or "")
            if not name or not ident or not operation:
                raise BadEventError("QuickBooks eventNotifications entity without name, id or operation")
            verb = VERBS.get(operation.lower(), operation.lower())
            stamp = str(entity.get("lastUpdated") or "")
            events.append({"specversion": "1.0", "id": f"{realm}:{name}:{ident}:{operation}:{stamp}",
                           "type": f"qbo.{name.lower()}.{verb}.v1", "time": stamp or None,
                           "intuitentityid": ident, "intuitaccountid": realm, "legacy": True,
                           **({"deletedId": entity["deletedId"]} if entity.get("deletedId") else {})})
    return events


SCHEME = QuickBooksWebhooks()
