"""Moving events from the inbox into ``raw_<connection>.events`` of the warehouse, in batches.

Each batch opens the warehouse for writing only for the moment of one insert (so `hub ingest`, `hub build` and the
rest queue behind it for milliseconds, not for the life of the server), then closes it. If another process holds the
warehouse, the open waits in the flusher's thread as any writer does (:mod:`warehouse.lock`), and a failure just
leaves the events in the inbox for the next attempt: nothing is lost and intake never stops.

Exactly once: the inbox is already unique per (connection, event id); the insert skips ids the table already has, so a
crash between the warehouse commit and the inbox's ``flushed`` mark (or an event that `hub ingest stripe.events`
brought in first) never makes a second row. Stripe events get the columns of the Stripe connector's ``events``
stream, so both writers fill one table alike; other senders get ``id, created, type, data``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from hub.serve.inbox import Inbox, StoredEvent
from warehouse.sql import qualified, quote

if TYPE_CHECKING:
    from hub.project import Project

BATCH = 20_000
MARK = "flushed"
S, I, B = pa.string(), pa.int64(), pa.bool_()
STRIPE = pa.schema([("id", S), ("created", I), ("type", S), ("api_version", S), ("livemode", B),
                    ("pending_webhooks", I), ("object_id", S), ("object_type", S), ("request_id", S),
                    ("idempotency_key", S), ("data", S)])
GENERIC = pa.schema([("id", S), ("created", I), ("type", S), ("data", S)])


def flush(project: Project, inbox: Inbox, *, limit: int = BATCH) -> int:
    """Move up to ``limit`` events not yet in the warehouse there; returns how many were read from the inbox."""
    after = inbox.mark(MARK)
    events = inbox.read_after(after, limit)
    if not events:
        return 0
    by_connection: dict[str, list[StoredEvent]] = {}
    for event in events:
        by_connection.setdefault(event.connection, []).append(event)
    types = {name: c.type for name, c in project.config.connections.items()}
    with project.warehouse() as wh, wh.transaction() as con:
        for connection, batch in by_connection.items():
            _insert(con, connection, _table(types.get(connection), batch))
    inbox.set_mark(MARK, events[-1].seq)
    return len(events)


def _insert(con: Any, connection: str, table: pa.Table) -> None:
    schema, relation = f"raw_{connection}", qualified(f"raw_{connection}", "events")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
    columns = ", ".join(f"{quote(f.name)} {'BIGINT' if f.type == I else 'BOOLEAN' if f.type == B else 'VARCHAR'}"
                        for f in table.schema)
    con.execute(f"CREATE TABLE IF NOT EXISTS {relation} ({columns})")
    existing = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                                          "AND table_name = 'events'", [schema]).fetchall()]
    mine = [n for n in table.column_names if n in existing]
    names, values = [quote(n) for n in mine], [f"b.{quote(n)}" for n in mine]
    # the table may be dlt's (hub ingest <stripe>.events made it first): fill its bookkeeping columns too
    if "_dlt_load_id" in existing:
        names.append("_dlt_load_id")
        values.append(f"'serve-{time.time():.6f}'")
    if "_dlt_id" in existing:
        names.append("_dlt_id")
        values.append("md5(b.id)")
    con.register("hub_serve_batch", table)
    try:
        con.execute(f"INSERT INTO {relation} ({', '.join(names)}) SELECT {', '.join(values)} FROM hub_serve_batch b "
                    f"WHERE b.id NOT IN (SELECT id FROM {relation} WHERE id IS NOT NULL)")
    finally:
        con.unregister("hub_serve_batch")


def _table(connection_type: str | None, events: list[StoredEvent]) -> pa.Table:
    if connection_type == "stripe":
        return pa.Table.from_pylist([_stripe_row(e) for e in events], schema=STRIPE)
    rows = []
    for event in events:
        rows.append({"id": event.event_id, "created": _created(event), "type": event.type,
                     "data": event.body.decode("utf-8", "replace")})
    return pa.Table.from_pylist(rows, schema=GENERIC)


def _stripe_row(event: StoredEvent) -> dict[str, Any]:
    """Like the Stripe connector's events stream: scalars typed, ``data`` as JSON text, the object's id and type."""
    body = orjson.loads(event.body)
    data = body.get("data") or {}
    obj = (data.get("object") or {}) if isinstance(data, Mapping) else {}
    request = body.get("request") or {}
    return {"id": event.event_id, "created": body.get("created"), "type": body.get("type"),
            "api_version": body.get("api_version"), "livemode": body.get("livemode"),
            "pending_webhooks": body.get("pending_webhooks"), "object_id": obj.get("id"),
            "object_type": obj.get("object"), "request_id": request.get("id") if isinstance(request, Mapping) else None,
            "idempotency_key": request.get("idempotency_key") if isinstance(request, Mapping) else None,
            "data": orjson.dumps(data).decode()}


def _created(event: StoredEvent) -> int:
    try:
        body = orjson.loads(event.body)
    except orjson.JSONDecodeError:
        return int(event.received_at)
    for key in ("created", "occurredAt", "timestamp"):
        value = body.get(key) if isinstance(body, dict) else None
        if isinstance(value, (int, float)):
            return int(value / 1000) if key == "occurredAt" else int(value)
    return int(event.received_at)
