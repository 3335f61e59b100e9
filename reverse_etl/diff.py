"""Change detection in the warehouse (SQL that DuckDB and PostgreSQL both run): which model rows a sync must send,
found with set-based SQL.

Per row, the mapped columns are hashed (``md5`` over their text, plus the sync's mapping signature) and compared with
the hash stored in ``_hub.sync_state`` when the target last acknowledged the row. Only rows whose hash changed, whose
target record changed, or that were rejected last time come back to Python, with everything needed to decide how to
send them:

- the target record: the row's own record in that system (``<model>_source``, e.g. ``canonical.person_source``,
  written by ``hub build``), else the one an earlier push wrote to, else one whose match field equals the row's
  (case-insensitive) in the target's last ingested data;
- the target's values from that ingest (``raw_<connection>``), and whether they can be trusted: only if the ingest
  started after our last write to the record, so they cannot predate it;
- the same for every peer sync (same model, other connection) to notice fields edited in two systems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from hub.config import CONFIG_FILE
from hub.errors import ConfigError, PushError, QueryError, UnknownNameError
from hub.reverse_etl import state
from hub.reverse_etl.config import SyncConfig, is_link
from hub.warehouse.duck import Warehouse
from hub.warehouse.sql import literal, qualified, quote

if TYPE_CHECKING:
    from hub.project import Project

LINK_UPDATED = ("source_updated_at", "updated_at", "source_modified_at")


@dataclass(frozen=True)
class Model:
    """The model a sync reads: its relation, key column, column types and the rows it keeps (``where``)."""

    relation: str
    key: str
    types: dict[str, str]
    where: str | None = None

    @property
    def rows(self) -> str:
        """``FROM ... WHERE ...`` of the rows the sync pushes."""
        condition = f"{quote(self.key)} IS NOT NULL" + (f" AND ({self.where})" if self.where else "")
        return f"{self.relation} WHERE {condition}"


@dataclass(frozen=True)
class Links:
    """``<model>_source``: which record in which system each model row came from."""

    relation: str
    key: str
    updated: str | None


@dataclass(frozen=True)
class Snapshot:
    """The target object as last ingested into ``raw_<connection>``."""

    relation: str
    id_column: str
    columns: dict[str, str]          # target field -> raw column
    deleted: str | None
    updated: str | None
    fresh_since: datetime | None     # start of the last successful ingest
    updated_is_time: bool = False    # the updated column holds timestamps already (no text to convert)


@dataclass(frozen=True)
class Side:
    """One sync as the diff sees it: its config plus where its target records and values are found."""

    sync: SyncConfig
    links: Links | None
    snapshot: Snapshot | None


@dataclass
class Candidates:
    """The rows a sync must consider this run, and the state rows whose model row is gone."""

    rows: list[dict[str, Any]]
    removals: list[tuple[str, str | None]]
    total: int
    peers: list[Side] = field(default_factory=list)


def check_model(project: Project, wh: Warehouse, sync: SyncConfig) -> Model:
    """The sync's model, its mapped columns and key, checked against the warehouse (did-you-mean on every miss)."""
    line = project.config.line_of
    if not wh.table_exists(sync.schema, sync.table):
        known = [f"{s}.{t}" for s, t in wh.query(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT LIKE '\\_%' "
            "ESCAPE '\\' AND table_schema NOT IN ('information_schema', 'pg_catalog')").rows]
        raise UnknownNameError("model", sync.model, known, file=CONFIG_FILE, line=line("syncs", sync.name, "model"),
                               where=f" in [syncs.{sync.name}] (run `hub build` first if it is a built model)")
    types = dict(wh.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
                          "AND table_name = ? ORDER BY ordinal_position", [sync.schema, sync.table]).rows)
    for column, key in [(sync.match_column, "match"), *((c, "fields") for c, _ in sync.fields)]:
        if column not in types:
            raise UnknownNameError("column", column, types, file=CONFIG_FILE, line=line("syncs", sync.name, key),
                                   where=f" of model {sync.model} in [syncs.{sync.name}] {key}")
    key = sync.key or next((k for k in (f"{sync.table}_id", "id") if k in types), None)
    if key is None:
        raise ConfigError(f"[syncs.{sync.name}] cannot tell the key column of model {sync.model}",
                          file=CONFIG_FILE, line=line("syncs", sync.name),
                          hint="add key = \"<a column that identifies each row>\"")
    if key not in types:
        raise UnknownNameError("column", key, types, file=CONFIG_FILE, line=line("syncs", sync.name, "key"),
                               where=f" of model {sync.model} in [syncs.{sync.name}] key")
    relation = _resolved(sync, qualified(sync.schema, sync.table), list(types))
    if sync.where:
        try:
            wh.query(f"SELECT count(*) FROM {relation} WHERE ({sync.where})")
        except QueryError as exc:
            raise ConfigError(f"[syncs.{sync.name}] where: {exc.message}", file=CONFIG_FILE,
                              line=line("syncs", sync.name, "where"),
                              hint="write a SQL condition on the model's columns, e.g. where = \"email_is_valid\"")
    where = sync.where
    if sync.exclude:
        where = f"({where}) AND " if where else ""
        where += _excluded(project, wh, sync, key)
    dupes = wh.query(f"SELECT count({quote(key)}) - count(DISTINCT {quote(key)}) FROM {relation}").scalar()
    if dupes:
        raise PushError(f"sync '{sync.name}': key {key} of model {sync.model} is not unique ({dupes} duplicates)",
                        hint="set key = to a unique column, or fix the model")
    return Model(relation, key, types, where)


def _excluded(project: Project, wh: Warehouse, sync: SyncConfig, key: str) -> str:
    """The condition leaving out the rows whose key ``sync.exclude`` lists (checked: it exists and has the key)."""
    assert sync.exclude is not None
    line = project.config.line_of("syncs", sync.name, "exclude")
    schema, table = sync.exclude.split(".")
    if not wh.table_exists(schema, table):
        known = [f"{s}.{t}" for s, t in wh.query(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT LIKE '\\_%' "
            "ESCAPE '\\' AND table_schema NOT IN ('information_schema', 'pg_catalog')").rows]
        raise UnknownNameError("model", sync.exclude, known, file=CONFIG_FILE, line=line,
                               where=f" in [syncs.{sync.name}] exclude (run `hub build` first if it is a built model)")
    if key not in _columns(wh, schema, table):
        raise ConfigError(f"[syncs.{sync.name}] exclude: {sync.exclude} has no column {key} (the key of "
                          f"{sync.model})", file=CONFIG_FILE, line=line, key="exclude",
                          hint=f"select the keys to leave out as {key}")
    listed = qualified(schema, table)
    return (f"CAST({quote(key)} AS VARCHAR) NOT IN (SELECT CAST({quote(key)} AS VARCHAR) FROM {listed} "
            f"WHERE {quote(key)} IS NOT NULL)")


def _resolved(sync: SyncConfig, relation: str, columns: list[str]) -> str:
    """The model with each ``refs`` column replaced by the id of the target record its sync wrote for the row it
    names (NULL while there is none), each ``associations`` column likewise (NULL: no link; '': not written yet);
    the key and every other column as they are."""
    if not sync.refs and not sync.links:
        return relation
    joins, replaced = [], {}
    for n, (column, other) in enumerate([*sync.refs, *((c, o) for c, o, _ in sync.links)]):
        joins.append(f"LEFT JOIN _hub.sync_state ref{n} ON ref{n}.sync = {literal(other)} "
                     f"AND ref{n}.key = CAST(m.{quote(column)} AS VARCHAR)")
        if n < len(sync.refs):
            replaced[column] = f"ref{n}.target_id AS {quote(column)}"
        else:   # a link: NULL when the row links to nothing, '' while the record it names is not written yet
            replaced[column] = (f"CASE WHEN m.{quote(column)} IS NULL THEN NULL ELSE coalesce(ref{n}.target_id, '') "
                                f"END AS {quote(column)}")
    # every column named (not DuckDB's ``m.* REPLACE``), in the model's order, so both engines read it
    listed = ", ".join(replaced.get(c, f"m.{quote(c)}") for c in columns)
    return f"(SELECT {listed} FROM {relation} m {' '.join(joins)}) AS {quote(sync.table)}"


def side(project: Project, wh: Warehouse, sync: SyncConfig, model: Model) -> Side:
    """Where a sync finds its target records and values (each part None when not in the warehouse yet)."""
    return Side(sync, _links(wh, sync, model), _snapshot(wh, sync))


def _columns(wh: Warehouse, schema: str, table: str) -> list[str]:
    return [r[0] for r in wh.query("SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND "
                                   "table_name = ?", [schema, table]).rows]


def _links(wh: Warehouse, sync: SyncConfig, model: Model) -> Links | None:
    table = f"{sync.table}_source"
    if not wh.table_exists(sync.schema, table):
        return None
    cols = _columns(wh, sync.schema, table)
    if not {model.key, "connection", "stream", "source_id"} <= set(cols):
        return None
    return Links(qualified(sync.schema, table), model.key, next((c for c in LINK_UPDATED if c in cols), None))


def _snapshot(wh: Warehouse, sync: SyncConfig) -> Snapshot | None:
    from hub.registry import connector_class

    streams = connector_class(sync.connection_type).streams.values()
    stream = next((s for s in streams if s.name.lower() == sync.object.lower()), None)
    if stream is None or not wh.table_exists(f"raw_{sync.to}", stream.table):
        return None
    types = dict(wh.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND "
                          "table_name = ?", [f"raw_{sync.to}", stream.table]).rows)
    by_shape = {_shape(c): c for c in types}
    id_column = by_shape.get(_shape(stream.primary_key))
    if id_column is None:
        return None
    return Snapshot(qualified(f"raw_{sync.to}", stream.table), id_column,
                    {f: by_shape[_shape(f)] for _, f in sync.mapping if _shape(f) in by_shape and not is_link(f)},
                    # the column the connector flags deleted/archived records with (Stream.deleted_flag)
                    by_shape.get(_shape(getattr(stream, "deleted_flag", None) or "")),
                    by_shape.get(_shape(stream.cursor_field or "")),
                    state.last_ingest_start(wh, sync.to, stream.name),
                    str(types.get(by_shape.get(_shape(stream.cursor_field or "")), "")).upper().startswith(
                        "TIMESTAMP"))


def _shape(name: str) -> str:
    # raw columns are the vendor's names normalized by dlt (FirstName -> first_name): compare letters and digits only
    return re.sub(r"[^a-z0-9]", "", name.lower())


def candidates(wh: Warehouse, model: Model, main: Side, peers: list[Side]) -> Candidates:
    """The rows of ``main`` to consider, with their target and peer views; and the removals (state rows gone)."""
    sync = main.sync
    cols = sync.columns
    params: dict[str, Any] = {"sig": sync.signature, "sync": sync.name}
    values = ", ".join(f"{quote(c)} AS v{i}" for i, c in enumerate(cols))
    ctes = [f"model AS (SELECT CAST({quote(model.key)} AS VARCHAR) AS key, {values}, "
            f"{row_hash(sync)} AS h FROM {model.rows})"]
    ctes += _view(0, main, list(enumerate(sync.mapping)), params)
    selected = [f"v0.{c}" for c in ("target_id", "found_by", "has_state", "old_hash", "state_tid", "pushed",
                                    "trusted", "t_updated")]
    selected += [f"v0.t{i}" for i in range(len(cols))]
    joins = []
    for p, peer in enumerate(peers, start=1):
        shared = [(i, (c, f)) for i, c in enumerate(cols) for pc, f in peer.sync.mapping if pc == c]
        ctes += _view(p, peer, shared, params)
        selected += [f"v{p}.{c} AS p{p}_{c}" for c in ("target_id", "has_state", "pushed", "trusted", "t_updated")]
        selected += [f"v{p}.t{i} AS p{p}_t{i}" for i, _ in shared]
        joins.append(f"LEFT JOIN v{p} ON v{p}.key = m.key")
    ctes.append("dups AS (SELECT m.key, first_value(m.key) OVER w AS first_key, row_number() OVER w AS n "
                "FROM model m JOIN v0 ON v0.key = m.key WHERE m.v0 IS NOT NULL "
                "WINDOW w AS (PARTITION BY lower(trim(CAST(m.v0 AS VARCHAR))) ORDER BY v0.target_id IS NULL, m.key))")
    rejected = "SELECT key FROM _hub.rejected_rows WHERE sync = $sync"
    sql = (f"WITH {', '.join(ctes)} "
           f"SELECT m.key, m.h, {', '.join(f'm.v{i}' for i in range(len(cols)))}, {', '.join(selected)}, "
           f"CASE WHEN d.n > 1 THEN d.first_key END AS dup_of, m.key IN ({rejected}) AS retry "
           f"FROM model m JOIN v0 ON v0.key = m.key {' '.join(joins)} LEFT JOIN dups d ON d.key = m.key "
           f"WHERE v0.old_hash IS DISTINCT FROM m.h "
           f"OR (v0.target_id IS NOT NULL AND v0.target_id IS DISTINCT FROM v0.state_tid) "
           f"OR m.key IN ({rejected}) ORDER BY m.key")
    rows = wh.query(*positional(sql, params)).records()
    for row in rows:  # what each target last acknowledged, stored as JSON text
        for name in [k for k in row if k == "pushed" or k.endswith("_pushed")]:
            if row[name] is not None:
                row[name] = orjson.loads(row[name])
    removals = wh.query(
        f"SELECT st.key, st.target_id FROM _hub.sync_state st WHERE st.sync = ? AND st.key NOT IN ("
        f"SELECT CAST({quote(model.key)} AS VARCHAR) FROM {model.rows}) ORDER BY st.key", [sync.name]).rows
    total = wh.query(f"SELECT count(*) FROM {model.rows}").scalar()
    return Candidates(rows, [(k, t) for k, t in removals], total, peers)


def row_hash(sync: SyncConfig) -> str:
    """The SQL expression of a model row's hash for ``sync`` (its mapped columns' text and the mapping signature,
    ``$sig``), compared with ``_hub.sync_state.row_hash``. Each engine's text of a value is its own (a DOUBLE 100.0 is
    '100.0' in DuckDB, '100' in PostgreSQL), so a hash is only ever compared with one the same engine made
    (:mod:`hub.reverse_etl.restamp` re-makes them when a warehouse moves)."""
    hashed = ", ".join(f"coalesce(CAST({quote(c)} AS VARCHAR), chr(31))" for c in sync.columns)
    return f"md5(concat_ws(chr(30), CAST($sig AS VARCHAR), {hashed}))"


def hashes(model: Model, sync: SyncConfig) -> str:
    """``SELECT key, h``: every row of ``model`` the sync pushes with its hash (``$sig`` to bind)."""
    return f"SELECT CAST({quote(model.key)} AS VARCHAR) AS key, {row_hash(sync)} AS h FROM {model.rows}"


def positional(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """``sql`` with each ``$name`` (outside quotes) as ``?``, and the values in the order they now appear: the one
    placeholder style every warehouse of hub takes."""
    out: list[str] = []
    values: list[Any] = []
    for n, part in enumerate(re.split(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")", sql)):
        if n % 2:   # a quoted string or name: as it is
            out.append(part)
            continue

        def take(found: re.Match[str]) -> str:
            values.append(params[found.group(1)])
            return "?"

        out.append(re.sub(r"\$(\w+)", take, part))
    return "".join(out), values


def _view(n: int, view: Side, cols: list[tuple[int, tuple[str, str]]], params: dict[str, Any]) -> list[str]:
    """CTEs ``s{n}`` (state), ``l{n}`` (links), ``r{n}`` (raw snapshot), ``k{n}`` (match index), ``x{n}``/``v{n}``
    (each model row's target record and values) for one sync; ``cols`` are (index in the main sync, mapping pair)."""
    sync, snap, links = view.sync, view.snapshot, view.links
    params.update({f"sync{n}": sync.name, f"to{n}": sync.to, f"obj{n}": sync.object.lower(),
                   f"fresh{n}": snap.fresh_since if snap else None})
    out = [f"s{n} AS (SELECT * FROM _hub.sync_state WHERE sync = $sync{n})"]
    joins, link, match = [f"LEFT JOIN s{n} st ON st.key = m.key"], "NULL", "NULL"
    mcol = snap.columns.get(sync.match_field) if snap else None
    if snap:
        where = f"WHERE r.{quote(snap.deleted)} IS NOT TRUE" if snap.deleted else "WHERE true"
        rid = f"CAST(r.{quote(snap.id_column)} AS VARCHAR)"
        cast = "CAST" if snap.updated_is_time else "try_cast"   # text needs the forgiving one (translated on PG)
        updated = f"{cast}(r.{quote(snap.updated)} AS TIMESTAMPTZ)" if snap.updated else "NULL"
        raw = "".join(f", r.{quote(snap.columns[f])} AS t{i}" if f in snap.columns else f", NULL AS t{i}"
                      for i, (_, f) in cols)
        mk = f"lower(trim(CAST(r.{quote(mcol)} AS VARCHAR)))" if mcol else "NULL"
        out.append(f"r{n} AS (SELECT {rid} AS target_id, {updated} AS updated, {mk} AS mk{raw} "
                   f"FROM {snap.relation} r {where})")
        if mcol and n == 0:
            out.append(f"k{n} AS (SELECT mk, target_id AS tid, row_number() OVER (PARTITION BY mk ORDER BY "
                       f"target_id) AS n FROM r{n} WHERE mk IS NOT NULL)")
            joins.append(f"LEFT JOIN k{n} k ON k.mk = lower(trim(CAST(m.v0 AS VARCHAR))) AND k.n = 1")
            match = "k.tid"
    if links:
        key = f"CAST(l.{quote(links.key)} AS VARCHAR)"
        recent = f"l.{quote(links.updated)} DESC NULLS LAST, " if links.updated else ""
        same = ""
        if mcol and n == 0:  # prefer the record that already has the row's match value: no clash with a twin
            same = "r.mk = lower(trim(CAST(m.v0 AS VARCHAR))) DESC NULLS LAST, "
        snap_join = f"LEFT JOIN r{n} r ON r.target_id = CAST(l.source_id AS VARCHAR)" if snap else ""
        # a row linked to several records of one system keeps the one it was pushed to, else the likeliest
        out.append(f"l{n} AS (SELECT m.key, CAST(l.source_id AS VARCHAR) AS tid, row_number() OVER ("
                   f"PARTITION BY m.key ORDER BY CAST(l.source_id AS VARCHAR) = st.target_id DESC NULLS LAST, "
                   f"{same}{recent}l.source_id) AS n FROM {links.relation} l JOIN model m ON m.key = {key} "
                   f"LEFT JOIN s{n} st ON st.key = m.key {snap_join} "
                   f"WHERE l.connection = $to{n} AND lower(l.stream) = $obj{n})")
        joins.append(f"LEFT JOIN l{n} l ON l.key = m.key AND l.n = 1")
        link = "l.tid"
    raw_cols = "".join((f", r.t{i}" if snap else f", NULL AS t{i}") for i, _ in cols)
    out.append(f"x{n} AS (SELECT m.key, st.key IS NOT NULL AS has_state, st.row_hash AS old_hash, "
               f"st.target_id AS state_tid, st.pushed, st.acked_at, {link} AS link_tid, {match} AS match_tid "
               f"FROM model m {' '.join(joins)})")
    found = ("CASE WHEN x.link_tid IS NOT NULL THEN 'link' WHEN x.state_tid IS NOT NULL THEN 'state' "
             "WHEN x.match_tid IS NOT NULL THEN 'match' END")
    target = "coalesce(x.link_tid, x.state_tid, x.match_tid)"
    if snap:
        # the ingest must have started after our last write to the record, or its values may predate that write
        trusted = f"coalesce(r.target_id IS NOT NULL AND (x.acked_at IS NULL OR x.acked_at < $fresh{n}), false)"
        snap_join, updated = f"LEFT JOIN r{n} r ON r.target_id = {target}", "r.updated"
    else:
        trusted, snap_join, updated = "false", "", "NULL"
    out.append(f"v{n} AS (SELECT x.key, {target} AS target_id, {found} AS found_by, x.has_state, x.old_hash, "
               f"x.state_tid, x.pushed, {trusted} AS trusted, {updated} AS t_updated{raw_cols} "
               f"FROM x{n} x {snap_join})")
    return out
