"""Moving events from the inbox into ``raw_<connection>.events`` of the warehouse, in batches.

Each batch opens the warehouse for writing only for the moment of one insert (so `hub ingest`, `hub build` and the
rest queue behind it for milliseconds, not for the life of the server), then closes it. If another process holds the
warehouse, the open waits in the flusher's thread as any writer does (:mod:`hub.warehouse.lock`), and a failure just
leaves the events in the inbox for the next attempt: nothing is lost and intake never stops.

Exactly once: the inbox is already unique per (connection, event id); the insert skips ids the table already has, so a
crash between the warehouse commit and the inbox's ``flushed`` mark (or an event that `hub ingest <connection>.events`
brought in first) never makes a second row. Each event becomes a row of its connection's scheme (the integration's
``webhooks`` part, :mod:`hub.webhooks.scheme`): an integration whose connector also ingests an ``events`` stream
builds the same row both ways; other senders get ``id, created, type, data``.

Dead letters: an authentic event whose fields do not fit the table's types (``"created": "yesterday"``), or whose
row cannot be built or inserted at all, would otherwise fail its whole batch on every attempt, for ever. Such an
event is set aside in ``_hub.webhook_dead_letters`` (connection, event id, type, when received, the reason, and its
body with secret-named values masked) and in the inbox's ``dead_letters``, and the rest of the batch loads.

Deletions: an event the scheme reads as a deletion (:meth:`Scheme.deleted`) also sets ``deleted`` on its object's row
in the raw table, so the deleted record leaves the staging models at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from hub.errors import WarehouseRowError
from hub.forms.scheme import PREFIX as FORM_PREFIX, FormRows
from hub.secrets import redact
from hub.serve.inbox import Inbox, StoredEvent
from hub.webhooks import EVENTS_TABLE
from hub.webhooks.scheme import Scheme, masked_text
from hub.warehouse.sql import qualified, quote

if TYPE_CHECKING:
    from hub.integrations.spec import WebhookScheme
    from hub.project import Project

BATCH = 20_000
_ROWS_PER_INSERT = 100   # dead letters per INSERT statement
MARK = "flushed"
DEAD_LETTERS = ("_hub", "webhook_dead_letters")
I, B = pa.int64(), pa.bool_()
#: the rows of a connection no longer configured: those of a sender without a table shape of its own
GENERIC = Scheme()
#: what can go wrong turning one event into a typed row (anything else is a bug and fails the flush, loudly)
_ROW_ERRORS = (pa.ArrowException, OverflowError, TypeError, ValueError, AttributeError, orjson.JSONDecodeError)


@dataclass(frozen=True)
class DeadLetter:
    """An event the flusher set aside instead of loading, and why."""

    event: StoredEvent
    reason: str


def flush(project: Project, inbox: Inbox, *, limit: int = BATCH) -> int:
    """Move up to ``limit`` events not yet in the warehouse there; returns how many were read from the inbox."""
    after = inbox.mark(MARK)
    events = inbox.read_after(after, limit)
    if not events:
        return 0
    by_connection: dict[str, list[StoredEvent]] = {}
    for event in events:
        by_connection.setdefault(event.connection, []).append(event)
    schemes = _schemes(project, by_connection)
    tables, dead = [], []
    for connection, batch in by_connection.items():
        table, rejected = _typed(schemes[connection], batch)
        dead += rejected
        if table is not None:
            tables.append((connection, table))
    from hub.warehouse.pglocks import stream

    # on PostgreSQL an ingest of <connection>.events (on this host or another) and this insert take turns
    with project.locked([stream(c, EVENTS_TABLE) for c, _ in tables]), project.warehouse() as wh:
        try:
            with wh.transaction():
                for connection, table in tables:
                    _insert(wh, connection, table, schemes[connection])
                    _mark_deleted(wh, connection, schemes[connection].deleted(table))
                _bury(wh, dead)
        except WarehouseRowError:   # a poison row must not block the batch: isolate it, see below
            dead = _one_by_one(wh, tables, dead, by_connection, schemes)
    if dead:
        inbox.set_dead([(d.event.seq, d.reason) for d in dead])
    inbox.set_mark(MARK, events[-1].seq)
    return len(events)


def _one_by_one(wh: Any, tables: list[tuple[str, pa.Table]], dead: list[DeadLetter],
                by_connection: dict[str, list[StoredEvent]], schemes: dict[str, WebhookScheme]) -> list[DeadLetter]:
    """The batch failed on some row: insert event by event, setting aside those the warehouse refuses."""
    dead = list(dead)
    for connection, table in tables:
        events = {e.event_id: e for e in by_connection[connection]}
        for i in range(table.num_rows):
            row = table.slice(i, 1)
            try:
                with wh.transaction():
                    _insert(wh, connection, row, schemes[connection])
                    _mark_deleted(wh, connection, schemes[connection].deleted(row))
            except WarehouseRowError as exc:   # the data itself (a conversion, a constraint): set aside
                event = events[row.column("id")[0].as_py()]
                reason = str(exc.message).removeprefix("warehouse statement failed: ")
                dead.append(DeadLetter(event, f"the warehouse refused the row: {_short(reason)}"))
    with wh.transaction():
        _bury(wh, dead)
    return dead


def _schemes(project: Project, by_connection: dict[str, list[StoredEvent]]) -> dict[str, WebhookScheme]:
    """Each connection's webhook scheme; one no longer in hub.toml gets the generic rows (its events still land)."""
    from hub.webhooks.verify import scheme_for, scheme_named

    connections = project.config.connections
    schemes: dict[str, Any] = {}
    forms = None
    for name, events in by_connection.items():
        if name.startswith(FORM_PREFIX):   # a web form's submissions (hub.forms): rows of its own table
            if forms is None:
                from hub.forms.config import load

                forms = load(project) if "forms" in project.config.sections else {}
            form = name[len(FORM_PREFIX):]
            schemes[name] = FormRows(form, forms.get(form), events[0])
        else:
            schemes[name] = scheme_named(scheme_for(connections[name].type)) if name in connections else GENERIC
    return schemes


def _typed(scheme: WebhookScheme, events: list[StoredEvent]) -> tuple[pa.Table | None, list[DeadLetter]]:
    """The events as one typed table, and those that do not fit it (set aside with the reason)."""
    schema = scheme.row_schema()
    rows, dead = [], []
    for event in events:
        try:
            rows.append(scheme.row(event))
        except _ROW_ERRORS as exc:
            dead.append(DeadLetter(event, f"unreadable event: {type(exc).__name__}: {_short(str(exc))}"))
    kept = [e for e in events if all(d.event is not e for d in dead)] if dead else events
    try:
        return (pa.Table.from_pylist(rows, schema=schema) if rows else None), dead
    except _ROW_ERRORS:
        pass
    good = []
    for event, row in zip(kept, rows, strict=True):   # slow path, only for a batch holding a misfit
        reason = _misfit(row, schema)
        if reason is None:
            good.append(row)
        else:
            dead.append(DeadLetter(event, reason))
    return (pa.Table.from_pylist(good, schema=schema) if good else None), dead


def _misfit(row: dict[str, Any], schema: pa.Schema) -> str | None:
    """Which field of ``row`` does not fit ``schema``, said so that the sender's bug can be found."""
    for field in schema:
        value = row.get(field.name)
        try:
            pa.array([value], type=field.type)
        except _ROW_ERRORS:
            shown = _short(redact(repr(value)), 40)
            return f"field '{field.name}' is {type(value).__name__} {shown}, expected {field.type}"
    return None


def _sql_type(kind: pa.DataType) -> str:
    return "BIGINT" if kind == I else "BOOLEAN" if kind == B else "TIMESTAMPTZ" if pa.types.is_timestamp(kind) \
        else "VARCHAR"


def _insert(wh: Any, connection: str, table: pa.Table, scheme: Any = None) -> None:
    from hub.warehouse.rowsets import staged

    schema, name = getattr(scheme, "destination", None) or (f"raw_{connection}", EVENTS_TABLE)
    relation = qualified(schema, name)
    wh.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
    columns = ", ".join(f"{quote(f.name)} {_sql_type(f.type)}" for f in table.schema)
    wh.execute(f"CREATE TABLE IF NOT EXISTS {relation} ({columns})")
    existing = [r[0] for r in wh.query("SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                                       "AND table_name = ?", [schema, name]).rows]
    if getattr(scheme, "evolve", False):   # a form's newly declared fields become columns
        for f in table.schema:
            if f.name not in existing:
                wh.execute(f"ALTER TABLE {relation} ADD COLUMN {quote(f.name)} {_sql_type(f.type)}")
                existing.append(f.name)
    mine = [n for n in table.column_names if n in existing]
    names, values = [quote(n) for n in mine], [f"b.{quote(n)}" for n in mine]
    # the table may be dlt's (hub ingest <connection>.events made it first): fill its bookkeeping columns too
    if "_dlt_load_id" in existing:
        names.append("_dlt_load_id")
        values.append(f"'serve-{time.time():.6f}'")
    if "_dlt_id" in existing:
        names.append("_dlt_id")
        values.append("md5(b.id)")
    with staged(wh, "hub_serve_batch", table):
        wh.execute(f"INSERT INTO {relation} ({', '.join(names)}) SELECT {', '.join(values)} FROM hub_serve_batch b "
                   f"WHERE b.id NOT IN (SELECT id FROM {relation} WHERE id IS NOT NULL)")


def _mark_deleted(wh: Any, connection: str, deleted: dict[str, list[str]]) -> None:
    """Deletion events flag their object's raw row (``deleted``) at once, so it leaves the models now, not at the next
    ingest; a row not ingested yet is left alone (the ingest reads the deletion from the events)."""
    for stream, ids in deleted.items():
        has_flag = wh.query("SELECT count(*) FROM information_schema.columns WHERE table_schema = ? AND "
                            "table_name = ? AND column_name = 'deleted'", [f"raw_{connection}", stream]).scalar()
        if has_flag:
            # ids arrive as text; a vendor's numeric ids land as BIGINT: compare as text, as hub.ingest.mark_deleted does
            wh.execute(f"UPDATE {qualified(f'raw_{connection}', stream)} SET deleted = true WHERE CAST(id AS VARCHAR) "
                       "IN (SELECT unnest(CAST(? AS VARCHAR[])))", [ids])


def _bury(wh: Any, dead: Iterable[DeadLetter]) -> None:
    """Record dead letters in the warehouse, once per (connection, event id)."""
    rows = [(d.event.connection, d.event.event_id, d.event.type,
             datetime.fromtimestamp(d.event.received_at, tz=UTC), d.reason, masked_text(d.event.body))
            for d in dead]
    if not rows:
        return
    relation = qualified(*DEAD_LETTERS)
    wh.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(DEAD_LETTERS[0])}")
    wh.execute(f"CREATE TABLE IF NOT EXISTS {relation} (connection VARCHAR NOT NULL, event_id VARCHAR NOT NULL, "
               "type VARCHAR, received_at TIMESTAMPTZ NOT NULL, set_aside_at TIMESTAMPTZ NOT NULL, reason VARCHAR "
               "NOT NULL, body VARCHAR, PRIMARY KEY (connection, event_id))")
    for part in range(0, len(rows), _ROWS_PER_INSERT):   # multi-row VALUES: a few statements, on either engine
        chunk = rows[part:part + _ROWS_PER_INSERT]
        wh.execute(f"INSERT INTO {relation} VALUES " + ", ".join("(?, ?, ?, ?, now(), ?, ?)" for _ in chunk)
                   + " ON CONFLICT DO NOTHING", [v for r in chunk for v in r])


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
