"""The base of every webhook scheme: subclass, set ``title``, override :meth:`Scheme.verify` (and what differs).

A scheme is one sender's way of signing and shaping webhooks (:class:`hub.integrations.spec.WebhookScheme`). The
defaults here are those of a sender that signs one JSON object per request, puts the event id in the body's ``id``
and the type in its ``type``, and whose events land in ``raw_<connection>.events`` as ``id, created, type, data``
(:data:`GENERIC_COLUMNS`). An integration overrides only what is its own: how it signs (:meth:`Scheme.verify`),
where the event ids are (:meth:`Scheme.events`), which record an event is about (:meth:`Scheme.subject`), its own
events table shape (:meth:`Scheme.row_schema`, :meth:`Scheme.row`) and which events mean a record was deleted
(:meth:`Scheme.deleted`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from hub.errors import BadEventError

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.serve.inbox import InboxEvent, StoredEvent

#: the columns of ``raw_<connection>.events`` for a sender without a table shape of its own (Arrow type names)
GENERIC_COLUMNS = (("id", "string"), ("created", "int64"), ("type", "string"), ("data", "string"))
#: body fields that may hold when an event happened, as Unix seconds, in the order tried
CREATED_FIELDS: tuple[tuple[str, int], ...] = (("created", 1), ("timestamp", 1))


class Scheme:
    """A webhook sender's scheme; the base implements everything but :meth:`verify`."""

    #: the sender's name in messages ("Acme")
    title: ClassVar[str] = ""
    #: body fields holding when an event happened, with the divisor that makes Unix seconds of them (1000 for ms)
    created_fields: ClassVar[tuple[tuple[str, int], ...]] = CREATED_FIELDS

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str, *, method: str = "POST", url: str = "",
               now: float | None = None) -> None:
        """Return None for an authentic request; raise :class:`hub.errors.SignatureError` otherwise. ``url`` is the
        full URL the sender called (for schemes that sign it); ``now`` the current Unix time (tests fix it)."""
        raise NotImplementedError

    def events(self, connection: str, body: bytes, headers: Mapping[str, str]) -> list[InboxEvent]:
        """The events of a verified request (``headers`` keys lower-case); raise ``BadEventError`` when malformed.

        The default: one JSON object with a string ``id`` (the event id) and an optional ``type``."""
        from hub.serve.inbox import InboxEvent

        data = parse_json(body)
        if not isinstance(data, dict):
            raise BadEventError(f"{self.title} webhook body is not a JSON object")
        if not isinstance(data.get("id"), str):
            raise BadEventError(f"{self.title} event without an id")
        kind = data.get("type")
        return [InboxEvent(connection, data["id"], kind if isinstance(kind, str) else None, body)]

    def subject(self, event: Mapping[str, Any]) -> tuple[str, str] | None:
        """``(stream, source id)`` of the record an event (parsed JSON) is about, for triggers; None when unknown."""
        return None

    def row_schema(self) -> pa.Schema:
        """The Arrow schema of ``raw_<connection>.events`` rows; ``id`` first, never null."""
        import pyarrow as pa

        return pa.schema([pa.field(name, getattr(pa, kind)(), nullable=name != "id") for name, kind in GENERIC_COLUMNS])

    def row(self, event: StoredEvent) -> dict[str, Any]:
        """One stored event as a row of :meth:`row_schema`, its ``id`` the event id (the inbox's dedup key). Raise
        ``TypeError``/``ValueError`` for an event that cannot be a row: it is set aside as a dead letter."""
        return {"id": event.event_id, "created": self.created(event), "type": event.type,
                "data": masked_text(event.body)}

    def created(self, event: StoredEvent) -> int:
        """When the event happened (Unix seconds): the first of :attr:`created_fields` the body has as a number,
        else when hub received it."""
        try:
            body = orjson.loads(event.body)
        except orjson.JSONDecodeError:
            return int(event.received_at)
        if isinstance(body, dict):
            for key, divisor in self.created_fields:
                value = body.get(key)
                if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 2**62:
                    return int(value / divisor) if divisor != 1 else int(value)
        return int(event.received_at)

    def deleted(self, rows: pa.Table) -> dict[str, list[str]]:
        """Per stream, the ids of records that deletion events among ``rows`` (a batch of :meth:`row_schema` rows)
        say are gone; the flusher flags them ``deleted`` in ``raw_<connection>.<stream>`` at once."""
        return {}


def parse_json(body: bytes) -> Any:
    """The body as JSON; anything else is a :class:`BadEventError`."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadEventError(f"the webhook body is not JSON: {exc}") from None


def masked_text(body: bytes) -> str:
    """The body as text for the warehouse: secret-named JSON values masked, known secrets redacted."""
    from hub.secrets import redact
    from hub.webhooks import masked_json

    try:
        return redact(masked_json(orjson.loads(body)))
    except orjson.JSONDecodeError:
        return redact(body.decode("utf-8", "replace"))
