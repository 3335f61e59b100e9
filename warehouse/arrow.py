"""Arrow in and out of the warehouse: for the bulk work (identity resolution) that Python rows would make slow.

Every function goes through the warehouse's own connection, so it sees (and takes part in) its open transaction and
its temporary tables. DuckDB reads and writes Arrow natively. PostgreSQL speaks COPY: Arrow goes in as CSV written by
Arrow's C++ writer (``COPY ... FROM STDIN (FORMAT csv)``) and comes out as CSV parsed by Arrow's C++ reader, with each
column's type taken from the query's own result description, so no value passes through a Python object. (ADBC's
driver would move Arrow natively, but it opens a session of its own, which cannot see the temporary tables and the
open transaction identity resolution works in.)

Besides the Arrow I/O, this module holds the few statements identity resolution needs that the two engines spell
differently (temporary tables, a relation's columns, the batch's row ids, a row's content hash, DuckDB's memory
limit), so the modeling code names no vendor.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from hub.errors import WarehouseError
from hub.warehouse.duck import Warehouse
from hub.warehouse.sql import quote

#: Arrow type -> PostgreSQL column type, for tables made from Arrow (checked in order: the first match wins)
_PG_TYPES: tuple[tuple[Any, str], ...] = (
    (pa.types.is_null, "TEXT"), (pa.types.is_boolean, "BOOLEAN"), (pa.types.is_int8, "SMALLINT"),
    (pa.types.is_int16, "SMALLINT"),
    (pa.types.is_int32, "INTEGER"), (pa.types.is_int64, "BIGINT"), (pa.types.is_uint8, "SMALLINT"),
    (pa.types.is_uint16, "INTEGER"), (pa.types.is_uint32, "BIGINT"), (pa.types.is_uint64, "NUMERIC(20)"),
    (pa.types.is_float32, "REAL"), (pa.types.is_float64, "DOUBLE PRECISION"), (pa.types.is_date, "DATE"),
    (pa.types.is_string, "TEXT"), (pa.types.is_large_string, "TEXT"), (pa.types.is_binary, "BYTEA"),
)
#: PostgreSQL type OID -> how its CSV text is read into Arrow (anything else arrives as text)
_PG_ARROW = {16: pa.bool_(), 20: pa.int64(), 21: pa.int16(), 23: pa.int32(), 700: pa.float32(), 701: pa.float64(),
             1082: pa.date32(), 1700: pa.float64()}
_TIMESTAMPTZ, _TIMESTAMP = 1184, 1114
_COPY_CHUNK = 1 << 20
#: per sort or hash of identity resolution's statements on PostgreSQL (server memory; PostgreSQL spills past it)
PG_WORK_MEM = "64MB"


def postgres(wh: Any) -> bool:
    """Whether ``wh`` is a PostgreSQL warehouse (the one engine besides DuckDB here)."""
    return getattr(wh, "dialect", "duckdb") == "postgres"


def fetch_arrow(wh: Warehouse, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
    """The result of ``sql`` as an Arrow table."""
    if postgres(wh):
        return _pg_fetch(wh, sql, params)
    try:
        relation = wh.connect().sql(sql, params=list(params) if params else None)
        return relation.to_arrow_table() if relation is not None else pa.table({})
    except duckdb.Error as exc:
        raise WarehouseError(f"warehouse query failed: {' '.join(str(exc).split())}") from None


@contextmanager
def registered(wh: Warehouse, name: str, data: pa.Table) -> Iterator[None]:
    """``data`` readable as relation ``name`` for the duration of the block (DuckDB: without a copy; PostgreSQL: a
    temporary table, dropped after)."""
    if postgres(wh):
        create_temp_table(wh, name, data)
        try:
            yield
        finally:
            drop_temp(wh, name)
        return
    con = wh.connect()
    con.register(name, data)
    try:
        yield
    finally:
        con.unregister(name)


def create_temp_table(wh: Warehouse, name: str, data: pa.Table, *, analyze: bool = True) -> None:
    """(Re)create temporary table ``name`` holding ``data``; it lives as long as the connection.

    ``analyze``: on PostgreSQL, gather its statistics (autovacuum never sees temporary tables: without them the
    planner guesses, and can pick a nested loop over a million rows); worth skipping for a wide table only read
    whole."""
    if postgres(wh):
        drop_temp(wh, name)
        columns = ", ".join(f"{quote(f.name)} {_pg_type(f.type, name)}" for f in data.schema)
        wh.execute(f"CREATE TEMP TABLE {quote(name)} ({columns})")
        append_arrow(wh, name, data)
        if analyze:
            wh.execute(f"ANALYZE {quote(name)}")
        return
    con = wh.connect()
    view = f"__hub_arrow_{name}"
    try:
        con.register(view, data)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {quote(name)} AS SELECT * FROM {quote(view)}")
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot load {name} into the warehouse: {' '.join(str(exc).split())}") from None
    finally:
        con.unregister(view)


def append_arrow(wh: Warehouse, name: str, data: pa.Table) -> None:
    """Insert ``data``'s rows into the existing table ``name`` (its columns, in ``data``'s order)."""
    if not postgres(wh):
        with registered(wh, "__hub_arrow_append", data):
            wh.execute(f"INSERT INTO {name} ({', '.join(quote(c) for c in data.column_names)}) "
                       f"SELECT * FROM __hub_arrow_append")
        return
    import psycopg

    data = pa.table({c: (_pg_text(data.column(c))) for c in data.column_names})
    target = f"{name if '.' in name else quote(name)} ({', '.join(quote(c) for c in data.column_names)})"
    try:
        with wh.connect().cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN (FORMAT csv)") as copy:
            for batch in data.to_batches(max_chunksize=65_536):
                out = io.BytesIO()
                pacsv.write_csv(pa.Table.from_batches([batch], data.schema), out,
                                pacsv.WriteOptions(include_header=False))
                copy.write(out.getbuffer())
    except psycopg.Error as exc:
        raise WarehouseError(f"cannot load {name} into the warehouse: {' '.join(str(exc).split())[:500]}") from None


def temp_table_as(wh: Warehouse, name: str, sql: str, params: Sequence[Any] | None = None, *,
                  analyze: bool = True) -> None:
    """(Re)create temporary table ``name`` from a query (``analyze``: as for :func:`create_temp_table`)."""
    if postgres(wh):
        drop_temp(wh, name)
        wh.execute(f"CREATE TEMP TABLE {quote(name)} AS {sql}", params)
        if analyze:
            wh.execute(f"ANALYZE {quote(name)}")
    else:
        wh.execute(f"CREATE OR REPLACE TEMP TABLE {quote(name)} AS {sql}", params)


def table_as(wh: Warehouse, name: str, sql: str) -> None:
    """(Re)create table ``name`` (qualified) from a query, inside the caller's transaction (on PostgreSQL the
    warehouse's translation drops and re-creates it, views built on it included)."""
    wh.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")


def temp_view_as(wh: Warehouse, name: str, sql: str) -> None:
    """(Re)create temporary view ``name``."""
    if postgres(wh):
        wh.execute(f"DROP VIEW IF EXISTS pg_temp.{quote(name)}")
    wh.execute(f"CREATE {'' if postgres(wh) else 'OR REPLACE '}TEMP VIEW {quote(name)} AS {sql}")


def drop_temp(wh: Warehouse, *names: str, view: bool = False) -> None:
    """Drop temporary tables (or views) if they exist."""
    schema = "pg_temp" if postgres(wh) else "temp"
    for name in names:
        wh.execute(f"DROP {'VIEW' if view else 'TABLE'} IF EXISTS {schema}.{quote(name)}")


def columns(wh: Warehouse, relation: str) -> list[str]:
    """The column names of ``relation`` (a table, a view or a parenthesized query), in order, reading no row."""
    return list(wh.query(f"SELECT * FROM {relation} AS hub_columns_of LIMIT 0").columns)


def row_ids(wh: Warehouse) -> tuple[str, str]:
    """(the column list entry that numbers a new temporary table's rows, the expression reading that number back).

    DuckDB's ``rowid`` comes free (no column, no window); PostgreSQL has no stable integer row id, so the table gets
    a ``hub_rid`` column numbered as it is written."""
    if postgres(wh):
        return "row_number() OVER () AS hub_rid", "hub_rid"
    return "", "rowid AS hub_rid"


def content_hash(wh: Warehouse, alias: str) -> str:
    """A hash of every column of row ``alias``: equal when the row is, compared only with hashes of the same engine
    (the identity map's digest names the engine, so a map moved to another engine is re-read once)."""
    if postgres(wh):
        return f"md5(CAST({alias} AS TEXT))"
    return "hash(*COLUMNS(*))"


@contextmanager
def memory_limit(wh: Warehouse, limit: str) -> Iterator[None]:
    """DuckDB keeps its own memory within ``limit`` during the block (spilling if it must), leaving room for the
    process's Arrow work. PostgreSQL's memory is the server's, never this process's: nothing to do."""
    if postgres(wh):
        yield
        return
    before = wh.query("SELECT current_setting('memory_limit')").scalar()
    wh.execute(f"SET memory_limit = '{limit}'")
    yield   # (a failure leaves it set: the transaction is rolled back and the build ends)
    wh.execute(f"SET memory_limit = '{before}'")


def bulk_work(wh: Warehouse) -> None:
    """In an open transaction about to join and group whole tables: on PostgreSQL each sort or hash gets
    :data:`PG_WORK_MEM` instead of the default 4 MB, until the transaction ends (server memory, spilled past it)."""
    if postgres(wh):
        wh.execute(f"SET LOCAL work_mem = '{PG_WORK_MEM}'")


def key_hashes(table: pa.Table, names: Sequence[str]) -> pa.Array:
    """DuckDB's ``hash(<names>)`` of each row of ``table``, as int64 with the same order (``h - 2**63``).

    The identity map breaks ties between records by this hash; computing it with DuckDB's own function on every
    engine keeps ids the same on PostgreSQL as on DuckDB. The shift keeps its order in a signed BIGINT."""
    con = duckdb.connect()
    try:
        con.register("hub_keys_in", table.select(list(names)))
        return con.sql(f"SELECT CAST(CAST(hash({', '.join(quote(n) for n in names)}) AS HUGEINT) "
                       f"- 9223372036854775808 AS BIGINT) AS h FROM hub_keys_in").to_arrow_table().column(0) \
            .combine_chunks()
    finally:
        con.close()


def _pg_type(arrow: pa.DataType, name: str) -> str:
    if pa.types.is_timestamp(arrow):
        return "TIMESTAMPTZ" if arrow.tz else "TIMESTAMP"
    if pa.types.is_decimal(arrow):
        return f"NUMERIC({arrow.precision},{arrow.scale})"
    if pa.types.is_dictionary(arrow):
        return _pg_type(arrow.value_type, name)
    for test, sql in _PG_TYPES:
        if test(arrow):
            return sql
    raise WarehouseError(f"cannot load {name} into the warehouse: no PostgreSQL type for Arrow {arrow}")


def _pg_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column as COPY's CSV reads it back exactly (timestamps in UTC with their zone, dictionaries decoded)."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return column.cast(kind.value_type)
    return column


def _pg_fetch(wh: Any, sql: str, params: Sequence[Any] | None) -> pa.Table:
    import psycopg

    from hub.warehouse.postgres import placeholders

    con = wh.connect()
    text = placeholders(sql) if params else sql
    args = list(params) if params else None
    try:
        described = con.execute(f"SELECT * FROM ({text}) AS hub_arrow LIMIT 0", args).description or []
        names = [d.name for d in described]
        if not names:
            return pa.table({})
        # timestamps leave as epoch microseconds: exact, and no zone or date style to parse
        shown = [f"(extract(epoch FROM {quote(d.name)}) * 1000000)::bigint" if d.type_code in (_TIMESTAMPTZ,
                 _TIMESTAMP) else quote(d.name) for d in described]
        body = io.BytesIO()
        with con.cursor() as cursor:
            query = f"COPY (SELECT {', '.join(shown)} FROM ({text}) AS hub_arrow) TO STDOUT (FORMAT csv)"
            with cursor.copy(query, args) as copy:
                for chunk in copy:
                    body.write(chunk)
    except psycopg.Error as exc:
        raise WarehouseError(f"warehouse query failed: {' '.join(str(exc).split())[:500]}") from None
    types = {}
    for d in described:
        if d.type_code in (_TIMESTAMPTZ, _TIMESTAMP):
            types[d.name] = pa.int64()
        else:
            types[d.name] = _PG_ARROW.get(d.type_code, pa.string())
    if len(set(names)) != len(names):
        raise WarehouseError(f"warehouse query returns a column name twice: {names}")
    if not body.tell():
        table = pa.table({n: pa.array([], types[n]) for n in names})
    else:
        body.seek(0)
        table = pacsv.read_csv(body, read_options=pacsv.ReadOptions(column_names=names, block_size=_COPY_CHUNK * 16),
                               parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
                               convert_options=pacsv.ConvertOptions(
                                   column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False,
                                   # PostgreSQL's CSV writes NULL as an unquoted empty field and nothing else:
                                   # Arrow's default list would also read the text n/a, NA, null as NULL
                                   null_values=[""], true_values=["t"], false_values=["f"]))
    for d in described:
        if d.type_code in (_TIMESTAMPTZ, _TIMESTAMP):
            index = names.index(d.name)
            zone = "UTC" if d.type_code == _TIMESTAMPTZ else None
            table = table.set_column(index, d.name, table.column(index).cast(pa.timestamp("us", tz=zone)))
    return table


def arg_max(wh: Warehouse, value: str, by: str) -> str:
    """The aggregate ``value`` of the row with the largest ``by`` (rows whose ``by`` is NULL ignored)."""
    if postgres(wh):
        return f"(array_agg({value} ORDER BY {by} DESC) FILTER (WHERE {by} IS NOT NULL))[1]"
    return f"arg_max({value}, {by})"


def any_value(wh: Warehouse, value: str) -> str:
    """The aggregate of some non-NULL ``value`` of the group (callers use it where all are equal)."""
    return f"min({value})" if postgres(wh) else f"any_value({value})"


def json_field(wh: Warehouse, document: str, key: str) -> tuple[str, str]:
    """(whether the JSON text ``document`` has top-level ``key``, its value as text)."""
    if postgres(wh):
        return f"jsonb_exists(CAST({document} AS JSONB), '{key}')", f"(CAST({document} AS JSONB) ->> '{key}')"
    return f"json_exists({document}, '$.{key}')", f"json_extract_string({document}, '$.{key}')"


def try_bigint(wh: Warehouse, value: str) -> str:
    """``value`` (text) as BIGINT, NULL when it is not an integer."""
    if postgres(wh):
        return f"CASE WHEN {value} ~ '^\\s*[-+]?[0-9]{{1,18}}\\s*$' THEN CAST({value} AS BIGINT) END"
    return f"try_cast({value} AS BIGINT)"
