"""How the flusher lands form submissions: one row per submission in ``raw_<connection>.<form>``.

Columns: ``id`` (the submission id), ``submitted_at`` (TIMESTAMPTZ), then one VARCHAR column per declared field. A
field declared later is added to the table at the next flush (older rows have it null); a field no longer declared
keeps its column. The flusher treats this as one more sender kind (the inbox key ``form:NAME``), so submissions are
stored once, set aside as dead letters when unloadable, and fire their triggers like webhook events.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from hub.forms.config import DEFAULT_CONNECTION

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.forms.config import Form
    from hub.serve.inbox import StoredEvent

PREFIX = "form:"


class FormRows:
    """The flusher's view of one form: where its rows go and their shape (a :class:`WebhookScheme` for rows)."""

    evolve = True   # the flusher adds columns for fields declared since the table was made

    def __init__(self, name: str, form: Form | None, sample: StoredEvent | None = None) -> None:
        self.name = name
        if form is not None:
            self.connection, self.fields = form.connection, [f.name for f in form.fields]
        else:   # a form no longer in hub.toml: its waiting submissions still land, with the fields they carry
            body = _body(sample) if sample is not None else {}
            self.connection = str(body.get("connection") or DEFAULT_CONNECTION)
            self.fields = sorted((body.get("fields") or {}).keys())
        self.destination = (f"raw_{self.connection}", name)

    def row_schema(self) -> pa.Schema:
        import pyarrow as pa

        return pa.schema([pa.field("id", pa.string(), nullable=False),
                          pa.field("submitted_at", pa.timestamp("us", tz="UTC")),
                          *(pa.field(f, pa.string()) for f in self.fields)])

    def row(self, event: StoredEvent) -> dict[str, Any]:
        body = _body(event)
        values = body.get("fields")
        if not isinstance(values, dict):
            raise ValueError("a form submission without fields")
        submitted = datetime.fromisoformat(str(body["submitted_at"]))
        return {"id": event.event_id, "submitted_at": submitted,
                **{f: None if values.get(f) is None else str(values[f]) for f in self.fields}}

    def deleted(self, rows: pa.Table) -> dict[str, list[str]]:
        return {}


def _body(event: StoredEvent) -> dict[str, Any]:
    body = orjson.loads(event.body)
    if not isinstance(body, dict):
        raise ValueError("a form submission that is not a JSON object")
    return body
