"""The records one identity resolution reads: staged in the warehouse whole, normalized in Arrow a slice at a time.

Only what the normalizers read and the graph's inputs leave DuckDB (:data:`CARRIED` plus ``Resolver.reads``); each
record keeps a ``hub_rid`` on both sides, so the identity map is written by joining the normalized columns back inside
DuckDB. Python never holds a whole record set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from hub.modeling.records import Resolver
from hub.modeling.settings import EntitySettings
from hub.warehouse.arrow import (append_arrow, columns as relation_columns, content_hash, create_temp_table, drop_temp,
                                 fetch_arrow, key_hashes, postgres, row_ids, temp_table_as)
from hub.warehouse.duck import Warehouse
from hub.warehouse.sql import quote

KEY = ("connection", "stream", "source_id")
CONTENT = "content_hash"   # the hash of a record's staged columns; a map without it is re-read whole (ids kept)
# What every record brings into Arrow besides the columns its normalizer reads: the graph's inputs.
CARRIED = ("hub_rid", "old_id", "record_hash", "created_at", "updated_at")
# Records normalized at a time: a normalizer's intermediate arrays then stay small, whatever the batch's size.
SLICE = 200_000
# A record's ``hub_rid``: its row in ``hub_batch`` (a temp table, written once and read in the same transaction, so
# the rowid of each record stays put; a delete leaves the other rows' ids as they were).
RID = "rowid AS hub_rid"


def read_batch(wh: Warehouse, source: str, identity: str, id_column: str, *, full: bool, exists: bool,
               unique: bool, wanted: Sequence[str]) -> pa.Table | None:
    """The ``wanted`` columns of the records to (re)resolve; None when nothing changed.

    Leaves ``hub_batch``: those records whole, with ``record_hash``, ``content_hash`` and ``old_id``; a record's
    ``hub_rid`` is its ``rowid`` there (the Arrow side carries it, so the map is written by joining the normalized
    columns back). The rowid comes free, where a ``row_number()`` over the whole batch gathered every record's columns
    into one single-threaded window first (the largest part of the statement). Also leaves
    ``hub_delta``: the key of every record that is new, changed or gone, with its previous id.
    A record is changed when the hash of its staged columns differs from the one the map stored, whatever its
    ``updated_at`` says. The join that finds the changed records also carries their columns, so the staged union is
    read once: a scan of it is most of what an incremental build costs.
    """
    # On PostgreSQL ``record_hash`` is DuckDB's hash of the key, computed on the Arrow side (see ``_record_hashes``):
    # the map breaks ties by it, so both engines give the same ids. Its batch table numbers its rows (``hub_rid``).
    pg = postgres(wh)
    number, rid = row_ids(wh)
    row_hash = "" if pg else ", hash(u.connection, u.stream, u.source_id) AS record_hash"
    record = ", ".join(f"u.{quote(c)}" for c in relation_columns(wh, source)) if pg else None
    staged = f"(SELECT s.*, {content_hash(wh, 's')} AS {CONTENT} FROM {source} s)" if pg else \
        f"(SELECT *, hash(*COLUMNS(*)) AS {CONTENT} FROM {source})"
    numbered = f", {number}" if number else ""
    if full:
        drop_temp(wh, "hub_delta")
        wh.execute("CREATE TEMP TABLE hub_delta (connection VARCHAR, stream VARCHAR, source_id VARCHAR, "
                   "old_id BIGINT, updated_at TIMESTAMPTZ, gone BOOLEAN)")
        old = f"LEFT JOIN (SELECT connection, stream, source_id, {id_column} AS old_id FROM {identity}) o " \
              f"USING (connection, stream, source_id)" if exists else ""
        temp_table_as(wh, "hub_batch", f"""
            SELECT {record or f'u.* EXCLUDE ({CONTENT})'}{row_hash}, u.{CONTENT},
                   {'o.old_id' if exists else 'CAST(NULL AS BIGINT) AS old_id'}{numbered}
            FROM {staged} u {old}""", analyze=False)
    else:
        # A FULL JOIN keeps both sides: new and changed records (u), and records that went away (no u).
        temp_table_as(wh, "hub_changed", f"""
            SELECT u.*, i.{id_column} AS old_id, u.{CONTENT} IS NULL AS gone,
                   i.connection AS known_connection, i.stream AS known_stream, i.source_id AS known_id
            FROM {staged} u
            FULL JOIN (SELECT connection, stream, source_id, {CONTENT}, {id_column} FROM {identity}) i
                ON i.connection = u.connection AND i.stream = u.stream AND i.source_id = u.source_id
            WHERE u.{CONTENT} IS DISTINCT FROM i.{CONTENT}""", analyze=False)
        temp_table_as(wh, "hub_delta", """
            SELECT coalesce(connection, known_connection) AS connection, coalesce(stream, known_stream) AS stream,
                   coalesce(source_id, known_id) AS source_id, old_id, updated_at, gone FROM hub_changed""")
        total = wh.query("SELECT count(*) FROM hub_changed").scalar()
        if not total:
            drop_temp(wh, "hub_changed")
            return None
        # Only records that went away: an empty batch, so their persons are still re-resolved.
        skipped = f"known_connection, known_stream, known_id, gone, old_id, {CONTENT}"
        temp_table_as(wh, "hub_batch", f"""
            SELECT {record or f'u.* EXCLUDE ({skipped})'}{row_hash}, u.{CONTENT}, u.old_id{numbered}
            FROM hub_changed u WHERE NOT gone""", analyze=False)
        drop_temp(wh, "hub_changed")
    read = [c for c in wanted if not (pg and c == "record_hash")]
    if pg:
        read += [c for c in KEY if c not in read]
    select = f"SELECT {', '.join(rid if c == 'hub_rid' else quote(c) for c in read)} FROM hub_batch"
    batch = _record_hashes(fetch_arrow(wh, select), wanted) if pg else fetch_arrow(wh, select)
    if unique or not has_duplicates(batch):
        return batch
    # A source listing one record twice keeps its latest copy.
    if pg:
        wh.execute("""DELETE FROM hub_batch WHERE hub_rid IN (SELECT hub_rid FROM (SELECT hub_rid, row_number() OVER (
            PARTITION BY connection, stream, source_id ORDER BY updated_at DESC NULLS LAST, hub_rid) AS n
            FROM hub_batch) d WHERE n > 1)""")
        return _record_hashes(fetch_arrow(wh, select), wanted)
    wh.execute("""DELETE FROM hub_batch WHERE rowid IN (SELECT rowid FROM hub_batch QUALIFY row_number() OVER (
        PARTITION BY connection, stream, source_id ORDER BY updated_at DESC NULLS LAST, rowid) > 1)""")
    return fetch_arrow(wh, select)


def _record_hashes(batch: pa.Table, wanted: Sequence[str]) -> pa.Table:
    """``batch`` with ``record_hash`` (DuckDB's hash of the key, as ``key_hashes`` orders it), in ``wanted``'s
    columns."""
    hashes = key_hashes(batch, KEY)
    batch = batch.append_column("record_hash", hashes)
    return batch.select(list(wanted))


def has_duplicates(batch: pa.Table) -> bool:
    """Whether a record is listed twice (checked cheaply, on the key's hash; fixed in SQL when it happens).

    Staging views are not audited for unique ids: that would re-read every raw row on every build, while this check
    only looks at the records being resolved."""
    hashes = np.sort(np.asarray(batch.column("record_hash")))   # sorting numbers beats Arrow's hash-distinct 2x
    return batch.num_rows > 0 and bool((hashes[1:] == hashes[:-1]).any())


def normalize_batch(wh: Warehouse, resolver: Resolver, settings: EntitySettings, batch: pa.Table) -> pa.Table:
    """Normalize ``batch`` a slice at a time, moving the normalized columns into DuckDB (``hub_norm``, by
    ``hub_rid``) until the map is written; return what the graph still needs (its inputs and the match keys).

    DuckDB holds the normalized columns within its memory limit (spilling if it must), where Arrow would keep them
    whole in the process's memory through the graph. Normalizers work value by value, so slices change nothing."""
    parts = []
    for start in range(0, max(batch.num_rows, 1), SLICE):
        part = resolver.normalize(batch.slice(start, SLICE), settings)
        graph = [c for c in part.column_names if c in (*CARRIED, *KEY, *resolver.keys)]
        # One chunk per column: DuckDB reads mixed chunkings in pieces that leave a small row group mid-table, which
        # a later delete makes it merge (a one-off rewrite of the whole map, a second long).
        normalized = part.select(["hub_rid", *(c for c in part.column_names if c not in graph)]).combine_chunks()
        if start == 0:
            create_temp_table(wh, "hub_norm", normalized, analyze=False)
        else:
            append_arrow(wh, "hub_norm", normalized)
        parts.append(part.select(graph))
        part = normalized = None
        pa.default_memory_pool().release_unused()   # a slice's intermediates, before the next one's
    return pa.concat_tables(parts).combine_chunks()
