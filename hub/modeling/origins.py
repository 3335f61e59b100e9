"""Origin keys: a record the hub wrote for an entity belongs to that entity, whatever its match keys say.

Reverse ETL remembers which target record it wrote for which model key (``_hub.sync_state``). Without that, a record
the hub created for a person without an email comes back on the next ingest with nothing to match it by and becomes a
new person, which the next push copies to the other system, and so on; and a contact whose email is edited in one
system would split off from its person. So every record that is the target of a sync of the entity's canonical model
gets one more *primary* match key, ``o:<id>``: the model key it was written for (the most recently acknowledged one if
several), followed through ``_hub.<entity>_ids.merged_into`` to the id it lives on now. The key is derived from the sync
state on every build, never stored in the identity map, so a full resolution finds the same keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from hub.warehouse.arrow import arg_max, create_temp_table, drop_temp, fetch_arrow, temp_table_as, try_bigint
from hub.warehouse.duck import Warehouse
from hub.warehouse.sql import qualified

COLUMN = "origin_key"
_SEP = "\x1f"   # between connection and source_id in a lookup key; neither holds control characters


def entity_syncs(syncs: Mapping[str, Any], entity: str, id_column: str) -> list[tuple[str, str]]:
    """(sync name, ``to`` connection) of the syncs pushing ``canonical.<entity>`` keyed by its id, from hub.toml.

    A sync keyed by another column writes state under keys that are not ids, so it says nothing about identity."""
    out = []
    for name, body in syncs.items():
        if not isinstance(body, Mapping):
            continue
        model, to, key = body.get("model"), body.get("to"), body.get("key", id_column)
        if isinstance(model, str) and model.strip().lower() == f"canonical.{entity}" and isinstance(to, str) \
                and key == id_column:
            out.append((str(name), to))
    return out


def origins(wh: Warehouse, entity: str, id_column: str, syncs: Iterable[tuple[str, str]], *, name: str,
            scope: str | None = None) -> pa.Table:
    """Leave temp table ``name`` (and return it): ``connection, source_id, origin_id, origin_key`` per written record.

    ``scope`` is a relation with ``connection`` and ``source_id`` columns limiting the records looked at (None: all).
    """
    create_temp_table(wh, "hub_syncs", pa.table({"sync": [s for s, _ in syncs], "connection": [c for _, c in syncs]},
                                                schema=pa.schema([("sync", pa.string()), ("connection", pa.string())])))
    ids = qualified("_hub", f"{entity}_ids")
    within = f"AND EXISTS (SELECT 1 FROM {scope} r WHERE r.connection = s.connection " \
             f"AND CAST(r.source_id AS VARCHAR) = st.target_id)" if scope else ""
    key = try_bigint(wh, "st.key")
    # Merges point from a younger id to an older one, so the chain ends; it is short, and only walked for the ids found.
    temp_table_as(wh, name, f"""
        WITH RECURSIVE written AS (
            SELECT s.connection, st.target_id AS source_id, {arg_max(wh, key, 'st.acked_at')} AS id
            FROM _hub.sync_state st JOIN hub_syncs s USING (sync)
            WHERE st.target_id IS NOT NULL AND {key} IS NOT NULL {within}
            GROUP BY s.connection, st.target_id),
        chain(start, id, depth) AS (
            SELECT DISTINCT id, id, 0 FROM written
            UNION ALL
            SELECT c.start, x.merged_into, c.depth + 1 FROM chain c JOIN {ids} x ON x.{id_column} = c.id
            WHERE x.merged_into IS NOT NULL AND c.depth < 1000),
        live AS (SELECT start, {arg_max(wh, 'id', 'depth')} AS id FROM chain GROUP BY start)
        SELECT w.connection, w.source_id, l.id AS origin_id, 'o:' || CAST(l.id AS VARCHAR) AS {COLUMN}
        FROM written w JOIN live l ON l.start = w.id""")
    drop_temp(wh, "hub_syncs")
    return fetch_arrow(wh, f"SELECT connection, source_id, {COLUMN} FROM {name}")


def origin_column(records: pa.Table, found: pa.Table) -> pa.Array:
    """Each record's origin key from ``found`` (see ``origins``), NULL for a record the hub did not write."""
    if not found.num_rows or not records.num_rows:
        return pa.nulls(records.num_rows, pa.string())
    index = pc.index_in(_lookup(records), value_set=_lookup(found))
    return found.column(COLUMN).combine_chunks().take(index)


def _lookup(table: pa.Table) -> pa.Array:
    columns = [table.column(c).combine_chunks().cast(pa.string()) for c in ("connection", "source_id")]
    return pc.binary_join_element_wise(*columns, _SEP)
