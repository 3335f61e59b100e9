"""Zendesk's webhooks: signature verification, and which ticket, user or organization an event is about.

``X-Zendesk-Webhook-Signature`` is base64(HMAC-SHA256(signing secret, timestamp + raw body)), the timestamp being the
``X-Zendesk-Webhook-Signature-Timestamp`` header exactly as sent (ISO 8601, e.g. ``2024-05-01T12:00:00Z``), so a
replayed request cannot be re-dated. A request signed more than five minutes ago is refused.

Event-subscription webhooks carry one JSON object per request: ``id`` (the event id, the dedup key), ``type``
(``zen:event-type:ticket.status_changed``...) and ``subject`` (``zen:ticket:123``, ``zen:user:456``,
``zen:organization:789``); a trigger's webhook sends whatever JSON the trigger builds, which must then include ``id``
and ``type`` for hub to keep it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from hub.errors import SignatureError
from hub.webhooks import signing
from hub.webhooks.scheme import Scheme

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.serve.inbox import StoredEvent

MAX_AGE_S = 300
STREAMS = {"ticket": "tickets", "user": "users", "organization": "organizations"}
#: event types that mean the record is gone (soft-deleted tickets are exported with status "deleted")
DELETIONS = {"zen:event-type:ticket.soft_deleted": "tickets", "zen:event-type:ticket.permanently_deleted": "tickets",
             "zen:event-type:user.deleted": "users", "zen:event-type:organization.deleted": "organizations"}
#: a user soft-deleted shows as its active status changed to false (``event.current``)
ACTIVE_CHANGED = "zen:event-type:user.active_changed"


class ZendeskWebhooks(Scheme):
    """A Zendesk webhook (its signing secret, from Admin Center > Webhooks, verifies it)."""

    title: ClassVar[str] = "Zendesk"

    def __init__(self, max_age_s: float = MAX_AGE_S) -> None:
        self.max_age_s = max_age_s

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str, *, method: str = "POST", url: str = "",
               now: float | None = None) -> None:
        """Check the signature over the timestamp header's text followed by the raw body, then the timestamp's age."""
        signature = signing.header(headers, "x-zendesk-webhook-signature", self.title)
        stamp = signing.header(headers, "x-zendesk-webhook-signature-timestamp", self.title)
        expected = signing.hmac_base64(secret, stamp.encode() + body)
        if not signing.any_matches(expected, [signature]):
            raise SignatureError(self.title, "mismatch", "X-Zendesk-Webhook-Signature does not match",
                                 hint="check webhook_secret: the webhook's signing secret in Admin Center")
        signing.check_age(self.title, _seconds(stamp, self.title), now, self.max_age_s, future=True)

    def subject(self, event: Mapping[str, Any]) -> tuple[str, str] | None:
        """``subject: "zen:ticket:123"`` -> ``("tickets", "123")``."""
        parts = str(event.get("subject") or "").split(":")
        if len(parts) == 3 and parts[0] == "zen" and parts[1] in STREAMS and parts[2]:
            return STREAMS[parts[1]], parts[2]
        return None

    def created(self, event: StoredEvent) -> int:
        """When the event happened: its ISO 8601 ``time``, else when hub received it."""
        import orjson

        try:
            moment = orjson.loads(event.body).get("time")
            return int(_seconds(moment, self.title)) if isinstance(moment, str) else int(event.received_at)
        except (orjson.JSONDecodeError, AttributeError, SignatureError):
            return int(event.received_at)

    def deleted(self, rows: pa.Table) -> dict[str, list[str]]:
        """Deletion events (``ticket.soft_deleted``, ``user.deleted``, ...) name the record in their ``subject``."""
        import orjson

        out: dict[str, list[str]] = {}
        for kind, data in zip(rows.column("type").to_pylist(), rows.column("data").to_pylist()):
            if (kind not in DELETIONS and kind != ACTIVE_CHANGED) or not data:
                continue
            try:
                body = orjson.loads(data)
            except orjson.JSONDecodeError:
                continue
            if kind == ACTIVE_CHANGED and (body.get("event") or {}).get("current") is not False:
                continue   # made active again, not deleted
            about = self.subject(body)
            if about is not None:
                out.setdefault(about[0], []).append(about[1])
        return out


def _seconds(stamp: str, scheme: str) -> float:
    """The signature timestamp as Unix seconds: ISO 8601 as Zendesk sends it (digits accepted too)."""
    text = stamp.strip()
    if text.isdigit():
        return float(text)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise SignatureError(scheme, "malformed_header", f"X-Zendesk-Webhook-Signature-Timestamp is not a time: "
                                                         f"{text[:40]!r}") from None


SCHEME = ZendeskWebhooks()
