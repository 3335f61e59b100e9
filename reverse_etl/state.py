"""What reverse ETL remembers, in schema ``_hub`` of the warehouse.

- ``_hub.sync_state``: one row per (sync, model key) the target acknowledged: the target's record id, the hash of the
  model's mapped values at that moment (the diff compares against it), the values the target then held (``pushed``,
  a JSON object of model column -> text, to show before -> after and to notice edits made in the target), and when.
- ``_hub.rejected_rows``: rows the target refused, with its reason; retried every run, deleted once accepted.
- ``_hub.sync_conflicts``: a field edited differently in two systems between runs, and which edit won (``status``
  ``resolved``); or held for review under ``conflicts = "hold"`` (``held``: neither side is written until one of them
  changes the field again); or a target record edited between a run's ingest and its push (``deferred``: not
  overwritten; the next run ingests that edit and settles it field by field).
- ``_hub.sync_targets``: the target's field list per (connection, object), so reruns validate without an API call.

Writes go through :class:`Acks`, which buffers the outcome of many batches and applies them in one transaction
(Arrow in, set-based SQL), so acknowledging 100,000 records costs a few inserts rather than 100,000.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson
import pyarrow as pa

from hub.warehouse.bookkeeping import now
from hub.warehouse.duck import Warehouse

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

DDL = """
CREATE SCHEMA IF NOT EXISTS _hub;
CREATE TABLE IF NOT EXISTS _hub.sync_state (
    sync VARCHAR NOT NULL, key VARCHAR NOT NULL, target_id VARCHAR, row_hash VARCHAR NOT NULL,
    pushed VARCHAR, acked_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (sync, key));
CREATE TABLE IF NOT EXISTS _hub.rejected_rows (
    sync VARCHAR NOT NULL, key VARCHAR NOT NULL, target_id VARCHAR, operation VARCHAR NOT NULL,
    reason VARCHAR NOT NULL, code VARCHAR, payload VARCHAR, attempts INTEGER NOT NULL,
    first_rejected_at TIMESTAMPTZ NOT NULL, last_rejected_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (sync, key));
CREATE TABLE IF NOT EXISTS _hub.sync_conflicts (
    conflict_id VARCHAR PRIMARY KEY, model VARCHAR NOT NULL, key VARCHAR NOT NULL, model_column VARCHAR NOT NULL,
    policy VARCHAR NOT NULL, winner VARCHAR NOT NULL, resolved_value VARCHAR, candidates VARCHAR NOT NULL,
    syncs VARCHAR NOT NULL, run_id VARCHAR, detected_at TIMESTAMPTZ NOT NULL);
ALTER TABLE _hub.sync_conflicts ADD COLUMN IF NOT EXISTS status VARCHAR DEFAULT 'resolved';
CREATE TABLE IF NOT EXISTS _hub.sync_targets (
    connection VARCHAR NOT NULL, object VARCHAR NOT NULL, fields VARCHAR NOT NULL, fetched_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connection, object));
"""

_STATE_SCHEMA = pa.schema([("sync", pa.string()), ("key", pa.string()), ("target_id", pa.string()),
                           ("row_hash", pa.string()), ("pushed", pa.string()),
                           ("acked_at", pa.timestamp("us", tz="UTC"))])
_REJECT_SCHEMA = pa.schema([("sync", pa.string()), ("key", pa.string()), ("target_id", pa.string()),
                            ("operation", pa.string()), ("reason", pa.string()), ("code", pa.string()),
                            ("payload", pa.string()), ("at", pa.timestamp("us", tz="UTC"))])


def ensure(wh: Warehouse) -> None:
    """Create the reverse-ETL tables if they are missing."""
    wh.execute(DDL)


def has_tables(wh: Warehouse) -> bool:
    return wh.table_exists("_hub", "sync_state")


@dataclass
class Acks:
    """Outcomes of one sync's batches, buffered until :meth:`flush` writes them in one transaction."""

    wh: Warehouse
    sync: str
    states: list[tuple[str, str | None, str, dict[str, str] | None]] = field(default_factory=list)
    rejects: list[tuple[str, str | None, str, str, str | None, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.states) + len(self.rejects) + len(self.removed)

    def synced(self, key: str, target_id: str | None, row_hash: str, pushed: dict[str, str] | None) -> None:
        """The target holds this row as ``pushed`` (acknowledged by a write, or seen in its own data)."""
        self.states.append((key, target_id, row_hash, pushed))

    def rejected(self, key: str, target_id: str | None, operation: str, reason: str, code: str | None,
                 payload: dict[str, Any]) -> None:
        """The target refused this row; it stays unsynced and is retried next run."""
        self.rejects.append((key, target_id, operation, reason, code,
                             orjson.dumps(payload, default=str).decode()))

    def gone(self, key: str) -> None:
        """The row left the model and its record left the target (mirror), or it was never there."""
        self.removed.append(key)

    def flush(self) -> None:
        """Write everything buffered; a synced or removed row also leaves the rejected-rows table."""
        from hub.warehouse.rowsets import staged

        if not len(self):
            return
        at = now()
        wh = self.wh
        with wh.transaction():
            if self.states:
                keys, tids, hashes, pushed = zip(*self.states)
                table = pa.table([[self.sync] * len(keys), list(keys), list(tids), list(hashes),
                                  [orjson.dumps(p).decode() if p is not None else None for p in pushed],
                                  [at] * len(keys)], schema=_STATE_SCHEMA)
                with staged(wh, "_hub_acks", table):
                    wh.execute("INSERT INTO _hub.sync_state SELECT * FROM _hub_acks ON CONFLICT (sync, key) DO "
                               "UPDATE SET target_id = excluded.target_id, row_hash = excluded.row_hash, "
                               "pushed = excluded.pushed, acked_at = excluded.acked_at")
                    wh.execute("DELETE FROM _hub.rejected_rows WHERE sync = ? AND key IN (SELECT key FROM _hub_acks)",
                               [self.sync])
            if self.removed:
                with staged(wh, "_hub_gone", pa.table({"key": pa.array(self.removed, pa.string())})):
                    wh.execute("DELETE FROM _hub.sync_state WHERE sync = ? AND key IN (SELECT key FROM _hub_gone)",
                               [self.sync])
                    wh.execute("DELETE FROM _hub.rejected_rows WHERE sync = ? AND key IN (SELECT key FROM "
                               "_hub_gone)", [self.sync])
            if self.rejects:
                cols = list(zip(*self.rejects))
                table = pa.table([[self.sync] * len(cols[0]), *map(list, cols), [at] * len(cols[0])],
                                 schema=_REJECT_SCHEMA)
                with staged(wh, "_hub_rejects", table):
                    # attempts and first_rejected_at survive from earlier runs; the latest reason replaces the old one
                    wh.execute("""
                        INSERT INTO _hub.rejected_rows
                        SELECT r.sync, r.key, r.target_id, r.operation, r.reason, r.code, r.payload,
                               coalesce(o.attempts, 0) + 1, coalesce(o.first_rejected_at, r.at), r.at
                        FROM _hub_rejects r LEFT JOIN _hub.rejected_rows o ON o.sync = r.sync AND o.key = r.key
                        ON CONFLICT (sync, key) DO UPDATE SET target_id = excluded.target_id,
                            operation = excluded.operation, reason = excluded.reason, code = excluded.code,
                            payload = excluded.payload, attempts = excluded.attempts,
                            first_rejected_at = excluded.first_rejected_at,
                            last_rejected_at = excluded.last_rejected_at""")
        self.states, self.rejects, self.removed = [], [], []


def forget_orphan_rejects(wh: Warehouse, sync: str, model_keys_sql: str) -> None:
    """Rows that left the model cannot be retried: their rejections go too."""
    wh.execute(f"DELETE FROM _hub.rejected_rows WHERE sync = ? AND key NOT IN ({model_keys_sql})", [sync])


RESOLVED, HELD, DEFERRED = "resolved", "held", "deferred"
_CONFLICT_COLUMNS = ("conflict_id, model, key, model_column, policy, winner, resolved_value, candidates, syncs, "
                     "run_id, detected_at, status")


def record_conflicts(wh: Warehouse, rows: list[dict[str, Any]]) -> None:
    """Store detected conflicts; the same conflict seen from both syncs of a pair is stored once."""
    at = now()
    for row in rows:
        wh.execute(f"INSERT INTO _hub.sync_conflicts ({_CONFLICT_COLUMNS}) "
                   f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                   [row["conflict_id"], row["model"], row["key"], row["model_column"], row["policy"], row["winner"],
                    row["resolved_value"], orjson.dumps(row["candidates"], default=str).decode(), row["syncs"],
                    row["run_id"], at, row.get("status", RESOLVED)])


class Resolutions(dict[tuple[str, str], Any]):
    """(key, model column) -> the value a peer sync's conflict decision gives this sync's target; ``held`` maps
    (key, model column) -> the values (folded text) of a conflict currently held for review."""

    held: dict[tuple[str, str], frozenset[str | None]]

    def __init__(self, decided: dict[tuple[str, str], Any], held: dict[tuple[str, str], frozenset[str | None]]):
        super().__init__(decided)
        self.held = held


def resolutions(wh: Warehouse, sync: str, model: str, connection: str,
                fresh_since: datetime | None) -> Resolutions:
    """Conflicts a peer sync decided against this sync's target that it has not applied yet: detected after this
    sync last wrote the row and after its target was last ingested (a later edit there supersedes them). Also the
    conflicts of the model held for review (their latest record per field is ``held``)."""
    # the newest non-NULL resolution per field (NULL when all are): DuckDB's arg_max, in SQL both engines run
    rows = wh.query("""
        SELECT key, model_column, resolved_value FROM (
            SELECT c.key, c.model_column, c.resolved_value, row_number() OVER (
                PARTITION BY c.key, c.model_column ORDER BY c.resolved_value IS NULL, c.detected_at DESC) AS n
            FROM _hub.sync_conflicts c LEFT JOIN _hub.sync_state st ON st.sync = ? AND st.key = c.key
            WHERE c.model = ? AND c.winner <> ? AND position(',' || ? || ',' IN ',' || c.syncs || ',') > 0
              AND c.status = 'resolved'
              AND (st.acked_at IS NULL OR st.acked_at < c.detected_at) AND c.detected_at > ?) AS latest
        WHERE n = 1""", [sync, model, connection, sync, fresh_since or EPOCH]).rows
    held = {}
    for key, column, candidates in wh.query("""
            SELECT key, model_column, candidates FROM (
                SELECT key, model_column, candidates, status, row_number() OVER (
                    PARTITION BY key, model_column ORDER BY detected_at DESC) AS n
                FROM _hub.sync_conflicts WHERE model = ? AND status <> 'deferred') AS latest
            WHERE n = 1 AND status = 'held'""", [model]).rows:
        held[(key, column)] = frozenset(c["value"] for c in orjson.loads(candidates))
    return Resolutions({(key, column): value for key, column, value in rows}, held)


def conflicts(wh: Warehouse, held_only: bool = False) -> list[dict[str, Any]]:
    """Recorded conflicts, newest first (``held_only``: those still held for review, one per field)."""
    if not has_tables(wh):
        return []
    columns = "model, key, model_column, status, policy, winner, resolved_value, candidates, syncs, detected_at"
    if held_only:   # the latest record per field, when it holds the field for review
        source = (f"(SELECT {columns}, row_number() OVER (PARTITION BY model, key, model_column ORDER BY "
                  f"detected_at DESC) AS n FROM _hub.sync_conflicts WHERE status <> 'deferred') AS latest "
                  f"WHERE n = 1 AND status = 'held'")
    else:
        source = "_hub.sync_conflicts"
    rows = wh.query(f"SELECT {columns} FROM {source} ORDER BY detected_at DESC, key, model_column").records()
    for row in rows:
        row["candidates"] = orjson.loads(row["candidates"])
    return rows


def cached_fields(wh: Warehouse, connection: str, obj: str) -> dict[str, dict[str, Any]] | None:
    """The target's field list as last fetched, or None."""
    if not wh.table_exists("_hub", "sync_targets"):
        return None
    raw = wh.query("SELECT fields FROM _hub.sync_targets WHERE connection = ? AND object = ?",
                   [connection, obj]).scalar()
    return orjson.loads(raw) if raw else None


def cache_fields(wh: Warehouse, connection: str, obj: str, fields: dict[str, dict[str, Any]]) -> None:
    wh.execute("INSERT INTO _hub.sync_targets VALUES (?, ?, ?, ?) ON CONFLICT (connection, object) DO UPDATE SET "
               "fields = excluded.fields, fetched_at = excluded.fetched_at",
               [connection, obj, orjson.dumps(fields).decode(), now()])


def rejected(wh: Warehouse, sync: str) -> list[dict[str, Any]]:
    """The rejected rows of one sync, oldest first."""
    if not has_tables(wh):
        return []
    return wh.query("""SELECT key, target_id, operation, reason, code, payload, attempts, first_rejected_at,
                              last_rejected_at FROM _hub.rejected_rows WHERE sync = ?
                       ORDER BY first_rejected_at, key""", [sync]).records()


def counts(wh: Warehouse) -> dict[str, dict[str, int]]:
    """Per sync: records in sync, rejected rows, conflicts recorded."""
    out: dict[str, dict[str, int]] = {}
    if not has_tables(wh):
        return out
    for sync, n in wh.query("SELECT sync, count(*) FROM _hub.sync_state WHERE target_id IS NOT NULL "
                            "GROUP BY sync").rows:
        out.setdefault(sync, {})["synced"] = n
    for sync, n in wh.query("SELECT sync, count(*) FROM _hub.rejected_rows GROUP BY sync").rows:
        out.setdefault(sync, {})["rejected"] = n
    for syncs, n in wh.query("SELECT syncs, count(*) FROM _hub.sync_conflicts GROUP BY syncs").rows:
        for sync in syncs.split(","):
            entry = out.setdefault(sync, {})
            entry["conflicts"] = entry.get("conflicts", 0) + n
    return out


def last_ingest_start(wh: Warehouse, connection: str, stream: str) -> datetime | None:
    """When the latest successful ingest of a stream started: target data read then reflects every earlier push."""
    if not wh.table_exists("_hub", "run_steps"):
        return None
    return wh.query("SELECT max(started_at) FROM _hub.run_steps WHERE step = 'ingest' AND status = 'success' "
                    "AND target = ?", [f"{connection}.{stream}"]).scalar()
