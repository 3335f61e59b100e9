"""Two-way survivorship for any model: what the hub last synced to each side, so a model can tell who edited a field.

Canonical persons settle two-way fields through the identity map's per-field change times (:mod:`hub.modeling.
identity`). A project's own two-way model (deals kept in two CRMs, say: one row per pair of records, each record a
row of a ``<model>_source`` table) has no such map. What it does have is reverse ETL's memory: for every (sync,
model key) the values the target acknowledged holding (``_hub.sync_state.pushed``). A record whose field now differs
from the value the hub last synced to it was edited *in that system* since; one that still holds it was not. So:

- ``_hub.synced`` (a view, rebuilt at the start of every build from hub.toml's ``[syncs]``): one row per record a
  sync of a model keeps, ``model, connection, sync, key, target_id, synced`` (JSON: model column -> the value as
  text), ``synced_at``, and ``fresh``: the target's stream was ingested (successfully) after that sync, so its
  ingested values can be compared with ``synced`` at all. A record whose ingest predates the hub's last write to it
  still shows the old value: it must not count as an edit, or the hub would revert its own write.
- ``_hub.edited(fresh, current_value, synced_value)``: this side changed the field since the hub synced it
  (``synced_value`` cast to the record value's type: ``try_cast(s.synced->>'amount' AS DOUBLE)``; ``fresh`` NULL,
  as a LEFT JOIN leaves it for a record the hub never synced: not an edit, nothing to compare with).
- ``_hub.held(fresh, current_value, synced_value)``: the value the record holds as far as the hub knows: what the
  hub synced to it when its ingested data predates that write, else its ingested value.
- ``_hub.two_way_key(edited, standing, updated_at, tiebreak)``: for ``arg_max_null(held value, ...)`` over a
  pair's records, per field: an edited side first (two edits of one field: the later one, by the record's
  ``updated_at``), then the lower ``standing`` (0 first: the side whose value stands while nobody edits the field),
  then the latest ``updated_at``, then a fixed tie-break. So an edit to one field never carries its record's other,
  unedited fields along, and the hub's own writes read back are not edits.

When both sides edited the same field to different values, the push reports it (``_hub.sync_conflicts``, see
:mod:`hub.reverse_etl.plan`) with the value the model chose as the winner, for the model columns both syncs send
(a deal's name, amount). A field each side gets from a column of its own (a stage in each CRM's own terms) is decided
the same way, but not listed: the push cannot tell two columns hold one field. No vendor is named here: the syncs say
which model, connection and object each record belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.warehouse.duck import Warehouse
from hub.warehouse.functions import TWO_WAY_MACROS
from hub.warehouse.sql import literal

VIEW = "_hub.synced"
HELPERS = ("edited", "held", "two_way_key")   # the macros below, for `hub compile` to name
MACROS = TWO_WAY_MACROS   # defined with hub's other SQL functions, once per engine
_COLUMNS = ("model VARCHAR, connection VARCHAR, sync VARCHAR, key VARCHAR, target_id VARCHAR, synced JSON, "
            "synced_at TIMESTAMPTZ, fresh BOOLEAN")


def sync_targets(syncs: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(sync, model, ``to`` connection, object) of every well-formed sync in hub.toml's ``[syncs]``; model names are
    compared lower-cased, as the warehouse does."""
    out = []
    for name, body in syncs.items():
        if not isinstance(body, Mapping):
            continue
        model, to, obj = body.get("model"), body.get("to"), body.get("object")
        if all(isinstance(v, str) and v.strip() for v in (model, to, obj)):
            out.append((str(name), model.strip().lower(), to.strip(), obj.strip()))
    return out


def ensure_synced(wh: Warehouse, syncs: Mapping[str, Any]) -> None:
    """(Re)create ``_hub.synced`` for the syncs in hub.toml, and the two-way macros models use with it."""
    wh.execute(MACROS)
    targets = sync_targets(syncs)
    if not targets or not wh.table_exists("_hub", "sync_state") or not wh.table_exists("_hub", "run_steps"):
        empty = ", ".join(f"CAST(NULL AS {c.split()[1]}) AS {c.split()[0]}" for c in _COLUMNS.split(", "))
        wh.execute(f"CREATE OR REPLACE VIEW {VIEW} AS SELECT {empty} WHERE false")
        return
    values = ", ".join("(" + ", ".join(literal(v) for v in t) + ")" for t in targets)
    # Ingest steps are recorded per "<connection>.<stream>"; a sync's object is that stream's name (any case).
    wh.execute(f"""CREATE OR REPLACE VIEW {VIEW} AS
        WITH syncs(sync, model, connection, object) AS (VALUES {values}),
        ingests AS (SELECT lower(target) AS target, max(started_at) AS started_at FROM _hub.run_steps
                    WHERE step = 'ingest' AND status = 'success' GROUP BY 1)
        SELECT s.model, s.connection, s.sync, st.key, st.target_id, CAST(st.pushed AS JSON) AS synced,
               st.acked_at AS synced_at, coalesce(i.started_at > st.acked_at, false) AS fresh
        FROM _hub.sync_state AS st
        JOIN syncs AS s ON s.sync = st.sync
        LEFT JOIN ingests AS i ON i.target = lower(s.connection || '.' || s.object)
        WHERE st.pushed IS NOT NULL""")
