"""Identity resolution: records from every connection to stable person (and company) ids, incrementally.

State lives in ``_hub``, per entity (``person`` shown):

- ``person_identity``: one row per source record: its normalized columns, match keys and ``person_id``. This is the
  persisted identity map; canonical models read it.
- ``person_ids``: every id ever minted (ids only grow, so a smaller id is an older person) and what became of it.
- ``person_merges``: the log of merges (and splits, and persons whose records all went away).
- ``person_changes``: the ids each resolution touched, by version, for models built incrementally from the map.
- ``person_priority``: per connection, the rank of each field's source under ``[models.person] priority``.

Each record also keeps, per survivable field, ``<field>_changed_at``: when its value last changed (the record's
``updated_at`` when the value differs from the one stored, kept otherwise; a new record's fields take its
``updated_at``). An edit whose record kept its ``updated_at`` (a silent edit) happened after the map last read the
record, so it takes that time (``resolved_at``) when it is later. Canonical models pick each field by it, so an edit
to one field never carries a record's other, stale fields along. A change *to the value the entity already holds*
(the hub's own push read back, or the same edit made in a second system) is not an edit: it takes the time the
entity's value was set, so an echo never outranks a real edit.

A build compares each record's key and ``content_hash`` (a hash of all its staged columns) with the map, so an edit
is seen whether or not the source moved the record's ``updated_at`` (vendors do not always): only new and changed
records are read and normalized, and only the persons they touch (their old persons and persons sharing
a key with them) are re-resolved, as one small graph. Each component of that graph keeps the id most of its records had
(when it joins several persons: the oldest id, the others logged as merged into it); a component with no previous id
gets a new one. So rebuilding, or adding records, never changes an existing person's id. When the settings, the record
columns or the SQL of the sources change, every record is re-read, and ids are still carried over from the map.

A record the hub wrote for an entity (a target in ``_hub.sync_state`` of a sync of its canonical model) has one more
primary key, ``o:<id>`` (``hub.modeling.origins``): it stays with the entity it was written for, so a record created
for a person without an email does not come back as a new person, and an email edited in one system moves with it.

Engines: the same statements run on DuckDB and PostgreSQL (:data:`DIALECTS`); what the two spell differently lives
in ``hub.warehouse.arrow`` (temporary tables, Arrow in and out, row ids, content hashes) and the warehouse's SQL
translation. ``record_hash`` (the tie-break between records, so between new ids) is DuckDB's ``hash()`` of the key on
both engines (on PostgreSQL computed on the Arrow side, stored shifted into a signed BIGINT with the same order), so
the same records get the same ids on either.

Memory bound: the warehouse holds the records; this process holds only the *batch*, never the map or the warehouse.
The batch is the new, changed and gone records (all records on a first or full resolution) plus the unchanged records
of every entity they touch (its *members*), and of those only the graph's columns: the key, the previous id, the
timestamps, the record hash and the match keys (~150-250 bytes a record in Arrow), plus, during normalizing, one
:data:`hub.modeling.batch.SLICE` of the normalizer's input columns at a time. Everything else of a record stays in the
warehouse (``hub_batch``, ``hub_norm``) and is joined back there when the map is written. So an incremental build
needs memory for its change set and the entities it touches, and the largest build, a full one, about
250 bytes x records (a million records: ~250 MB of Arrow on top of the interpreter and libraries; measured by
``benchmarks/identity.py --warehouse postgres``). On DuckDB the engine's own share is held to :data:`GRAPH_MEMORY`
while the batch is in Arrow; on PostgreSQL it is the server's, outside this process.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hub.modeling.batch import CARRIED, CONTENT, normalize_batch, read_batch
from hub.modeling.components import components
from hub.modeling.materialize import reset_if_reshaped, save_state
from hub.modeling.origins import COLUMN as ORIGIN, origin_column, origins
from hub.modeling.records import Resolver
from hub.modeling.report import IdentitySummary
from hub.modeling.settings import EntitySettings
from hub.warehouse.arrow import (any_value, arg_max, bulk_work, columns as relation_columns, create_temp_table,
                                 drop_temp, fetch_arrow, json_field, memory_limit, postgres, row_ids, table_as,
                                 temp_table_as, temp_view_as)
from hub.warehouse.bookkeeping import now
from hub.warehouse.duck import Warehouse
from hub.warehouse.sql import qualified, quote

#: the engines identity resolution runs on (``hub.modeling.builder.check_engine`` refuses the others up front)
DIALECTS = ("duckdb", "postgres")
KEY = ("connection", "stream", "source_id")
META = (*KEY, "created_at", "updated_at")
EXAMPLES = 3
STAMPS = "changed_at-v1"   # the identity map's per-field timestamps; a map without them is rebuilt (ids kept)
KEYS = "keys-computed-v1"  # the map stores no match keys (see Resolver.key_sql); one that does is re-read whole
# DuckDB's memory while the batch is in Arrow (normalized, then matched): what the process needs at once is the two
# together, and the Arrow side cannot spill.
GRAPH_MEMORY = "192MB"
_TEMP = ("hub_batch", "hub_norm", "hub_batch_ids", "hub_delta", "hub_keys", "hub_nodes", "hub_winner", "hub_final",
         "hub_events", "hub_moves", "hub_rows", "hub_origins", "hub_member_keys", "hub_member_origins", "hub_changed")


def resolve(wh: Warehouse, resolver: Resolver, settings: EntitySettings, *, source: str, run_id: str,
            inputs: dict[str, str] | None = None, unique: bool = False, full: bool = False,
            syncs: Sequence[tuple[str, str]] = ()) -> IdentitySummary:
    """Bring ``_hub.<entity>_identity`` up to date with the records in ``source``, in one transaction.

    ``inputs`` fingerprints the SQL behind ``source``, per model: when one that was read before changes, every record
    is re-read (a new one just brings new records). ``unique`` says the source is known to list each record once (its
    members audit it), which saves checking. ``full`` re-reads every record whatever changed. ``syncs`` are the
    (name, ``to`` connection) of the syncs pushing this entity's canonical model: the records they wrote belong to the
    entity they were written for (see ``hub.modeling.origins``).
    """
    t = _Tables(resolver)
    with wh.transaction():
        _ensure(wh, t)
        bulk_work(wh)
        columns = relation_columns(wh, source)
        # DuckDB's hash() may change between versions: a new one re-reads every record once instead of all of them
        # looking changed to the incremental path.
        engine = wh.query("SELECT version()").scalar()
        if postgres(wh):   # record hashes are DuckDB's there too (see batch.read_batch)
            engine = f"{engine}|duckdb {duckdb.__version__}"
        digest = f"{settings.digest}|{','.join(columns)}|{STAMPS}|{CONTENT}|{KEYS}@{engine}"
        state = wh.query("SELECT digest, inputs, version FROM _hub.identity_state WHERE entity = ?",
                         [resolver.entity.name]).rows
        exists = wh.table_exists("_hub", t.identity_name)
        # A map written before content hashes (it compared updated_at) is re-read whole once: ids are kept, and an
        # edit that never moved its record's timestamp is caught on the way.
        hashed = exists and CONTENT in relation_columns(wh, t.identity)
        inputs = inputs or {}
        before = json.loads(state[0][1] or "{}") if state else {}
        rewritten = any(before.get(name, fp) != fp for name, fp in inputs.items())
        full = full or not hashed or not state or state[0][0] != digest or rewritten
        version = (state[0][2] if state else 0) + 1
        summary = IdentitySummary(resolver.entity.name, full=full)
        written = bool(syncs) and wh.table_exists("_hub", "sync_state")
        # Only what normalizing and the graph need leaves DuckDB; the rest of each record stays in ``hub_batch``.
        wanted = [*CARRIED, *(["connection", "source_id"] if written else []),
                  *(c for c in resolver.reads if c in columns)]
        batch = read_batch(wh, source, t.identity, t.id_column, full=full, exists=exists, unique=unique,
                           wanted=wanted)
        touched = batch is not None
        if batch is not None:
            # From here to the map's write, the batch's Arrow side (normalizing, the graph) is at its largest: DuckDB
            # keeps its own share small meanwhile, moving ``hub_batch`` to its temp files if it must.
            with memory_limit(wh, GRAPH_MEMORY):
                batch = normalize_batch(wh, resolver, settings, batch)
                summary.changed_records = batch.num_rows
                if written:
                    delta = None if full else "(SELECT connection, source_id FROM hub_delta WHERE NOT gone)"
                    found = origins(wh, resolver.entity.name, resolver.id_column, syncs, name="hub_origins",
                                    scope=delta)
                members = _members(wh, resolver, t, batch, written) if not full else None
                nodes = _nodes(resolver, batch, members, full)
                primary = resolver.primary
                if written:
                    nodes = nodes.append_column(ORIGIN, _origin_keys(wh, resolver, syncs, batch, found, members))
                    primary = (*primary, ORIGIN)
                labels = components(nodes, primary, resolver.fallback)
                # The keys are done with: hand their memory back before DuckDB needs its own for the map.
                batch = batch.select(["hub_rid", *(["record_hash"] if postgres(wh) else [])])
                nodes = nodes.drop_columns([*resolver.keys, *([ORIGIN] if written else [])])
                pa.default_memory_pool().release_unused()
                ids, summary.new_ids, summary.merges = _assign(wh, resolver, t, nodes, labels, run_id, full, exists)
            _write(wh, resolver, t, batch, members, ids, full, exists, version)
            batch = nodes = members = None   # the Arrow side is done: free it before the rest of the build
            _priority(wh, settings, t, columns)
        if resolver.link:
            touched = _linked_changes(wh, resolver, t, version) or touched
        if touched:
            wh.execute("DELETE FROM _hub.identity_state WHERE entity = ?", [resolver.entity.name])
            wh.execute("INSERT INTO _hub.identity_state VALUES (?, ?, ?, ?, ?)",
                       [resolver.entity.name, digest, json.dumps({**before, **inputs}, sort_keys=True), version, now()])
        drop_temp(wh, "hub_unstamped", view=True)   # first: PostgreSQL drops no table a view reads
        drop_temp(wh, *_TEMP)
        _summarize(wh, resolver, t, summary)
    # The batch and the graph are gone: hand their memory back now, not whenever the allocator decides to, so the
    # canonical models built next do not stack their peak on top of it.
    pa.default_memory_pool().release_unused()
    return summary


class _Tables:
    """The names of one entity's tables."""

    def __init__(self, resolver: Resolver) -> None:
        name = resolver.entity.name
        self.id_column = resolver.id_column
        self.identity_name = f"{name}_identity"
        self.identity = qualified("_hub", f"{name}_identity")
        self.ids = qualified("_hub", f"{name}_ids")
        self.merges = qualified("_hub", f"{name}_merges")
        self.changes = qualified("_hub", f"{name}_changes")
        self.priority = qualified("_hub", f"{name}_priority")


def _ensure(wh: Warehouse, t: _Tables) -> None:
    i = t.id_column
    reset_if_reshaped(wh, "_hub", "identity_state", ("entity", "digest", "inputs", "version", "resolved_at"))
    # No primary keys: DuckDB checks them eagerly, which trips over a delete and re-insert in one transaction.
    wh.execute(f"""
        CREATE SCHEMA IF NOT EXISTS _hub;
        CREATE TABLE IF NOT EXISTS {t.ids} ({i} BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
            merged_into BIGINT, ended_at TIMESTAMPTZ);
        CREATE TABLE IF NOT EXISTS {t.merges} (run_id VARCHAR, logged_at TIMESTAMPTZ, kind VARCHAR NOT NULL,
            {i} BIGINT NOT NULL, other_{i} BIGINT NOT NULL, records BIGINT);
        CREATE TABLE IF NOT EXISTS {t.changes} ({i} BIGINT NOT NULL, change_version BIGINT NOT NULL);
        CREATE TABLE IF NOT EXISTS _hub.identity_state (entity VARCHAR NOT NULL, digest VARCHAR, inputs VARCHAR,
            version BIGINT NOT NULL, resolved_at TIMESTAMPTZ);""")


def _members(wh: Warehouse, resolver: Resolver, t: _Tables, batch: pa.Table, written: bool = False) -> pa.Table:
    """Unchanged records of every person the batch touches: its records' old persons, persons sharing a key, and
    (``written``) the persons the hub wrote batch records for (``hub_origins``)."""
    values = [pc.drop_null(batch.column(k)).combine_chunks().cast(pa.string()) for k in resolver.keys]
    create_temp_table(wh, "hub_keys", pa.table({"k": pc.unique(pa.concat_arrays(values))}))
    idc = t.id_column
    # One semi join per key column: DuckDB runs each as a hash join, where an OR of them would be a slow filter.
    # (Semi joins, written as IN: both engines run each as a hash join, where an OR of them would be a slow filter.)
    sharing = " UNION ".join(f"SELECT {idc} FROM {t.identity} i WHERE ({resolver.key_expression(k, 'i')}) IN "
                             f"(SELECT k FROM hub_keys)" for k in resolver.keys)
    return fetch_arrow(wh, f"""
        WITH affected AS (SELECT old_id AS id FROM hub_delta WHERE old_id IS NOT NULL UNION {sharing}
                          {"UNION SELECT origin_id FROM hub_origins" if written else ""})
        SELECT connection, stream, source_id, {idc} AS old_id, record_hash, created_at, updated_at,
               {', '.join(f"{resolver.key_expression(k, 'i')} AS {k}" for k in resolver.keys)}
        FROM {t.identity} i WHERE i.{idc} IN (SELECT id FROM affected)
        AND NOT EXISTS (SELECT 1 FROM hub_delta d WHERE d.connection = i.connection AND d.stream = i.stream
                        AND d.source_id = i.source_id)""")


def _origin_keys(wh: Warehouse, resolver: Resolver, syncs: Sequence[tuple[str, str]], batch: pa.Table,
                 found: pa.Table, members: pa.Table | None) -> pa.Array:
    """The origin key of every node (batch, then members): whom the hub wrote the record for, if it did."""
    keys = [origin_column(batch, found)]
    if members is not None and members.num_rows:
        create_temp_table(wh, "hub_member_keys", members.select(["connection", "source_id"]))
        written = origins(wh, resolver.entity.name, resolver.id_column, syncs, name="hub_member_origins",
                          scope="hub_member_keys")
        keys.append(origin_column(members, written))
    return pa.concat_arrays(keys)


def _nodes(resolver: Resolver, batch: pa.Table, members: pa.Table | None, full: bool) -> pa.Table:
    """The graph's records (batch first, then unchanged members): previous id, age, tie-break hash, keys, and
    whether the record is unchanged (on a full resolution every record counts as unchanged)."""
    names = ["old_id", "record_hash", "created_at", "updated_at", *resolver.keys]
    parts = [batch.select(names)]
    if members is not None and members.num_rows:
        parts.append(members.select(names).cast(parts[0].schema))
    nodes = pa.concat_tables(parts).combine_chunks()
    since = pc.coalesce(nodes.column("created_at"), nodes.column("updated_at"))
    steady = np.ones(nodes.num_rows, bool)
    if not full:
        steady[: batch.num_rows] = False
    return nodes.append_column("since", since).append_column("steady", pa.array(steady))


def _assign(wh: Warehouse, resolver: Resolver, t: _Tables, nodes: pa.Table, labels: np.ndarray, run_id: str,
            full: bool, exists: bool) -> tuple[np.ndarray, int, int]:
    """The id of each node: old ids stay where most of their records are, new ones are minted; merges are logged."""
    create_temp_table(wh, "hub_nodes", pa.table({
        "comp": pa.array(labels, pa.int64()), "old_id": nodes.column("old_id"),
        "record_hash": nodes.column("record_hash"), "since": nodes.column("since"), "steady": nodes.column("steady")}))
    # Each old id goes to the component holding most of its unchanged records, then most of its records (ties: the
    # one with the smallest record hash), so a record that moves away does not take its old person's id along.
    # A component holding several old ids keeps the smallest, i.e. the oldest person.
    votes = """WITH comps AS (SELECT comp, min(record_hash) AS first FROM hub_nodes GROUP BY comp),
             votes AS (SELECT comp, old_id, count(*) FILTER (WHERE steady) AS kept, count(*) AS n FROM hub_nodes
                       WHERE old_id IS NOT NULL GROUP BY comp, old_id)"""
    if postgres(wh):   # the same pick, as PostgreSQL spells it
        temp_table_as(wh, "hub_winner", f"""{votes}
            SELECT DISTINCT ON (v.old_id) v.old_id, v.comp, max(v.n) OVER (PARTITION BY v.old_id) AS n
            FROM votes v JOIN comps c USING (comp) ORDER BY v.old_id, v.kept DESC, v.n DESC, c.first""")
    else:
        temp_table_as(wh, "hub_winner", f"""{votes}
            SELECT v.old_id, arg_min(v.comp, (-v.kept, -v.n, c.first)) AS comp, max(v.n) AS n
            FROM votes v JOIN comps c USING (comp) GROUP BY v.old_id""")
    idc = resolver.id_column
    next_id = wh.query(f"SELECT coalesce(max({idc}), 0) + 1 FROM {t.ids}").scalar()
    temp_table_as(wh, "hub_final", """
        WITH kept AS (SELECT comp, min(old_id) AS id FROM hub_winner GROUP BY comp),
             fresh AS (SELECT comp, min(since) AS since, min(record_hash) AS first FROM hub_nodes
                       WHERE NOT EXISTS (SELECT 1 FROM kept WHERE kept.comp = hub_nodes.comp) GROUP BY comp)
        SELECT comp, id, false AS minted FROM kept
        UNION ALL
        SELECT comp, CAST(? AS BIGINT) + row_number() OVER (ORDER BY since NULLS LAST, first) - 1, true
        FROM fresh""", [next_id])
    stamp = now()
    wh.execute(f"INSERT INTO {t.ids} SELECT id, CAST(? AS TIMESTAMPTZ), NULL, NULL FROM hub_final WHERE minted",
               [stamp])
    new_ids = wh.query("SELECT count(*) FROM hub_final WHERE minted").scalar()
    # merge: an old id that won a component which kept another (older) id. split: records of an old id that went
    # to a new id; moved: records of an old id that joined another existing person. removed: an old id none of whose
    # records remain.
    temp_table_as(wh, "hub_events", """
        SELECT CAST('merge' AS VARCHAR) AS kind, f.id, w.old_id AS other_id, w.n AS records
        FROM hub_winner w JOIN hub_final f USING (comp) WHERE w.old_id <> f.id
        UNION ALL
        SELECT CASE WHEN f.minted THEN 'split' ELSE 'moved' END, n.old_id, f.id, count(*)
        FROM hub_nodes n JOIN hub_final f USING (comp)
        JOIN hub_winner w ON w.old_id = n.old_id WHERE n.comp <> w.comp GROUP BY f.minted, n.old_id, f.id""")
    if exists:
        # The map still holds the previous ids here (it is rewritten afterwards).
        considered = f"SELECT DISTINCT {idc} FROM {t.identity}" if full else \
            "SELECT DISTINCT old_id FROM hub_delta WHERE old_id IS NOT NULL"
        wh.execute(f"""INSERT INTO hub_events SELECT 'removed', id, id, 0 FROM ({considered}) AS o(id)
                       WHERE NOT EXISTS (SELECT 1 FROM hub_nodes n WHERE n.old_id = o.id)""")
    wh.execute(f"INSERT INTO {t.merges} SELECT CAST(? AS VARCHAR), CAST(? AS TIMESTAMPTZ), kind, id, other_id, "
               f"records FROM hub_events", [run_id, stamp])
    wh.execute(f"""UPDATE {t.ids} AS x SET merged_into = e.id, ended_at = ? FROM hub_events e
                   WHERE e.kind = 'merge' AND x.{idc} = e.other_id""", [stamp])
    wh.execute(f"""UPDATE {t.ids} AS x SET ended_at = ? FROM hub_events e
                   WHERE e.kind = 'removed' AND x.{idc} = e.id""", [stamp])
    merges = wh.query("SELECT count(*) FROM hub_events WHERE kind = 'merge'").scalar()
    final = fetch_arrow(wh, "SELECT comp, id FROM hub_final")
    by_comp = np.zeros(len(labels) and int(labels.max()) + 1, np.int64)
    by_comp[np.asarray(final.column("comp"))] = np.asarray(final.column("id"))
    return by_comp[labels], new_ids, merges


def _write(wh: Warehouse, resolver: Resolver, t: _Tables, batch: pa.Table, members: pa.Table | None,
           ids: np.ndarray, full: bool, exists: bool, version: int) -> None:
    """Apply the batch and the new ids to the map, and log which ids changed.

    The ids go back to DuckDB (``hub_batch_ids``) and meet the rest of each record (``hub_batch``) and its normalized
    columns (``hub_norm``) there: the map is written by one statement inside DuckDB, never row by row, never whole
    through Python."""
    idc = resolver.id_column
    n = batch.num_rows
    create_temp_table(wh, "hub_batch_ids", pa.table({"hub_rid": batch.column("hub_rid"),
                                                     idc: pa.array(ids[:n], pa.int64())}).combine_chunks())
    pg = postgres(wh)
    ids_of = {"hub_rid": batch.column("hub_rid"), idc: pa.array(ids[:n], pa.int64())}
    if pg:   # the record hashes were computed on the Arrow side (batch.read_batch): they travel with the ids
        ids_of["record_hash"] = batch.column("record_hash")
    create_temp_table(wh, "hub_batch_ids", pa.table(ids_of).combine_chunks())
    normalized = [c for c in relation_columns(wh, "hub_norm") if c != "hub_rid"]
    staged = [c for c in relation_columns(wh, "hub_batch") if c not in ("hub_rid", "old_id")]
    shown = [f"{'n' if c in normalized else 'b'}.{quote(c)}" for c in staged]
    shown += [f"n.{quote(c)}" for c in normalized if c not in staged] + [f"x.{quote(idc)}"]
    batch_rows = "hub_batch b" if pg else f"(SELECT {row_ids(wh)[1]}, * FROM hub_batch) b"
    if pg:
        shown.append("x.record_hash")
    joined = f"SELECT {', '.join(shown)} FROM {batch_rows} JOIN hub_norm n USING (hub_rid) " \
             f"JOIN hub_batch_ids x USING (hub_rid)"
    columns = [*staged, *(c for c in normalized if c not in staged), idc, *(["record_hash"] if pg else [])]

    def order(names: Sequence[str]) -> tuple[str, str]:
        """(the map's column list, the select list writing it): the key and the id first, then the rest."""
        rest = [c for c in names if c not in (*KEY, idc, "resolved_at")]
        listed = ", ".join(quote(c) for c in (*KEY, idc, *rest))
        return f"{listed}, resolved_at", f"{listed}, now() AS resolved_at"

    if not exists:   # the first map: every field changed when its record did
        fields = [f for f in resolver.entity.survivable if f in columns]
        stamps = "".join(f", updated_at AS {f}_changed_at" for f in fields)
        table_as(wh, t.identity, f"SELECT {order([*columns, *(f'{f}_changed_at' for f in fields)])[1]} "
                                 f"FROM (SELECT *{stamps} FROM ({joined}) j) s")
        wh.execute(f"INSERT INTO {t.changes} SELECT DISTINCT {idc}, ? FROM {t.identity}", [version])
        return
    temp_view_as(wh, "hub_unstamped", joined)
    _stamp(wh, resolver, t, columns)
    target, select = order(relation_columns(wh, "hub_rows"))
    if full:   # every previous id is touched: consumers of the change log rebuild them all
        wh.execute(f"INSERT INTO {t.changes} SELECT DISTINCT {idc}, ? FROM {t.identity}", [version])
        table_as(wh, t.identity, f"SELECT {select} FROM hub_rows")
        wh.execute(f"INSERT INTO {t.changes} SELECT DISTINCT {idc}, ? FROM {t.identity}", [version])
        return
    moved = pa.table({"connection": members.column("connection"), "stream": members.column("stream"),
                      "source_id": members.column("source_id"), "old_id": members.column("old_id"),
                      "id": pa.array(ids[n:], pa.int64())})
    create_temp_table(wh, "hub_moves", moved)
    wh.execute(f"""INSERT INTO {t.changes} SELECT id, ? FROM (
        SELECT old_id AS id FROM hub_delta WHERE old_id IS NOT NULL UNION SELECT {idc} FROM hub_rows
        UNION SELECT old_id FROM hub_moves UNION SELECT id FROM hub_moves) AS touched""", [version])
    wh.execute(f"""DELETE FROM {t.identity} AS i USING hub_delta d
                   WHERE i.connection = d.connection AND i.stream = d.stream AND i.source_id = d.source_id""")
    wh.execute(f"""UPDATE {t.identity} AS i SET {idc} = m.id FROM hub_moves m
                   WHERE m.id <> m.old_id AND i.connection = m.connection AND i.stream = m.stream
                     AND i.source_id = m.source_id""")
    wh.execute(f"INSERT INTO {t.identity} ({target}) SELECT {select} FROM hub_rows")


def _stamp(wh: Warehouse, resolver: Resolver, t: _Tables, columns: Sequence[str]) -> None:
    """Leave ``hub_rows``: the batch (``hub_unstamped``, with ``columns``) with ``<field>_changed_at`` per survivable
    field (see the module docstring).

    Read before the map is rewritten: it still holds each record's previous values and the entity's records."""
    idc = resolver.id_column
    fields = [f for f in resolver.entity.survivable if f in columns]
    old = set(relation_columns(wh, t.identity))
    entity = qualified("canonical", resolver.entity.name)
    held_cols: list[str] = []
    if wh.table_exists("canonical", resolver.entity.name):
        shown = set(relation_columns(wh, entity))
        held_cols = [f for f in fields if f in shown] if idc in shown else []
    stamps, ctes, joins = [], [], f" LEFT JOIN {t.identity} o USING ({', '.join(KEY)})"
    if held_cols:
        # the entity's current value of each field, and when it was set (the newest stamp among its records holding
        # that value); only for the entities this batch touches
        held = ", ".join(
            f"max({_changed(f, 'm', old)}) FILTER (WHERE m.{f} = e.{f}) AS {f}_held_at, "
            f"{any_value(wh, f'e.{f}')} AS {f}_held"
            for f in held_cols)
        ctes.append(f"""held AS (SELECT m.{idc}, {held} FROM {t.identity} m JOIN {entity} e ON e.{idc} = m.{idc}
                        WHERE m.{idc} IN (SELECT {idc} FROM hub_unstamped) GROUP BY m.{idc})""")
        joins += f" LEFT JOIN held h ON h.{idc} = r.{idc}"
    wrote = wh.table_exists("_hub", "sync_state")
    if wrote:
        # what the hub last wrote to each record (reverse ETL's sync state): written after the map last read the
        # record, it is the record's last known value, so changing away from it is an edit even back to the old one
        ctes.append(f"""wrote AS (SELECT key, target_id, {arg_max(wh, 'pushed', 'acked_at')} AS pushed,
                        max(acked_at) AS at FROM _hub.sync_state WHERE target_id IS NOT NULL AND pushed IS NOT NULL
                        GROUP BY key, target_id)""")
        joins += f" LEFT JOIN wrote w ON w.target_id = r.source_id AND w.key = CAST(o.{idc} AS VARCHAR)"
    for f in fields:
        known = f"o.{f}"
        if wrote:
            has, value = json_field(wh, "w.pushed", f)
            known = f"CASE WHEN w.at > o.resolved_at AND {has} THEN {value} ELSE CAST(o.{f} AS VARCHAR) END"
        arms = []
        if f in held_cols:   # the entity's own value (an echo, or the same edit twice) is not an edit
            arms.append(f"WHEN r.{f} = h.{f}_held THEN coalesce(h.{f}_held_at, r.updated_at)")
        arms.append(f"WHEN o.source_id IS NOT NULL AND CAST(r.{f} AS VARCHAR) IS NOT DISTINCT FROM "
                    f"CAST({known} AS VARCHAR) THEN {_changed(f, 'o', old)}")
        stamps.append(f"CASE {' '.join(arms)} WHEN r.updated_at IS NOT DISTINCT FROM o.updated_at "
                      f"THEN greatest(r.updated_at, o.resolved_at) ELSE r.updated_at END AS {f}_changed_at")
    with_ = f"WITH {', '.join(ctes)} " if ctes else ""
    temp_table_as(wh, "hub_rows", f"{with_}SELECT r.*, {', '.join(stamps)} FROM hub_unstamped r{joins}")


def _changed(field: str, alias: str, columns: set[str]) -> str:
    """When a stored record's field last changed (a map from before per-field stamps: its ``updated_at``)."""
    return f"{alias}.{field}_changed_at" if f"{field}_changed_at" in columns else f"{alias}.updated_at"


def _linked_changes(wh: Warehouse, resolver: Resolver, t: _Tables, version: int) -> bool:
    """Log as changed the records whose linked records (a contact's account) changed since we last looked."""
    assert resolver.link is not None
    entity, stream, source_id = resolver.link
    name = f"_hub.{entity}_changes"
    log, linked, other = qualified("_hub", f"{entity}_changes"), qualified("_hub", f"{entity}_identity"), f"{entity}_id"
    if not (wh.table_exists("_hub", f"{entity}_changes") and wh.table_exists("_hub", f"{entity}_identity")):
        return False
    seen = wh.query("SELECT change_version FROM _hub.model_state WHERE model = ? AND changes = ?",
                    [resolver.entity.identity, name]).scalar()
    latest = wh.query(f"SELECT max(change_version) FROM {log}").scalar()
    if latest is None or (seen is not None and latest <= seen):
        return False
    if seen is not None:   # the first look only sets the mark: this build resolves what it must anyway
        wh.execute(f"""
            INSERT INTO {t.changes}
            SELECT DISTINCT i.{t.id_column}, ? FROM {t.identity} i JOIN {linked} c
                ON c.connection = i.connection AND c.stream = i.{stream} AND c.source_id = i.{source_id}
            WHERE c.{other} IN (SELECT {other} FROM {log} WHERE change_version > ?)""", [version, seen])
    save_state(wh, resolver.entity.identity, "", "identity", name, latest)
    return seen is not None


def _priority(wh: Warehouse, settings: EntitySettings, t: _Tables, columns: list[str]) -> None:
    """One row per connection, one ``<field>_rank`` column per field: 0 is the preferred source."""
    connections = [r[0] for r in wh.query(f"SELECT DISTINCT connection FROM {t.identity} ORDER BY 1").rows]
    data = {"connection": pa.array(connections, pa.string())}
    for name in (c for c in columns if c not in META):
        data[f"{name}_rank"] = pa.array([settings.rank(name, c) for c in connections], pa.int32())
    create_temp_table(wh, "hub_priority", pa.table(data))
    table_as(wh, t.priority, "SELECT * FROM hub_priority")
    drop_temp(wh, "hub_priority")


def _summarize(wh: Warehouse, resolver: Resolver, t: _Tables, summary: IdentitySummary) -> None:
    idc = resolver.id_column
    summary.records = wh.query(f"SELECT count(*) FROM {t.identity}").scalar()
    summary.entities = wh.query(f"SELECT count(*) FROM {t.ids} WHERE ended_at IS NULL").scalar()
    shown = [c for c in ("email", "first_name", "last_name", "name", "domain", "phone")
             if c in relation_columns(wh, t.identity)]
    # Examples: the oldest persons found in several systems. Looking among the first ids, then widening, avoids
    # grouping the whole map (a filter on the id is a cheap scan).
    limit, top = 1_000, wh.query(f"SELECT max({idc}) FROM {t.ids}").scalar() or 0
    while True:
        found = [r[0] for r in wh.query(f"""
            SELECT {idc} FROM {t.identity} WHERE {idc} <= ? GROUP BY {idc}
            HAVING count(DISTINCT connection) > 1 ORDER BY {idc} LIMIT {EXAMPLES}""", [limit]).rows]
        if len(found) == EXAMPLES or limit >= top:
            break
        limit *= 10
    if not found:
        return
    marks = ", ".join("?" for _ in found)
    rows = wh.query(f"""SELECT {idc}, connection, stream, source_id, {', '.join(shown)} FROM {t.identity}
                        WHERE {idc} IN ({marks}) ORDER BY {idc}, connection, source_id""", found).records()
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row.pop(idc), []).append(row)
    summary.merged_examples = [{idc: key, "records": records} for key, records in grouped.items()]
