"""Running a translated statement (:mod:`hub.warehouse.translate`) on a PostgreSQL connection: each kind completed
with what only the database knows (a table's key, a query's columns, the views that read a relation).

Functions over a psycopg 3 connection, for :class:`hub.warehouse.postgres.PostgresWarehouse`, which wraps their errors.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Sequence
from typing import Any

from hub.errors import WarehouseError
from hub.warehouse.sql import quote
from hub.warehouse.translate import Statement

#: PostgreSQL's type names (as psycopg's registry and ``format_type`` write them) -> DuckDB's, for ``DESCRIBE``
TYPE_NAMES = {"text": "VARCHAR", "varchar": "VARCHAR", "character varying": "VARCHAR", "bpchar": "VARCHAR",
              "int8": "BIGINT", "bigint": "BIGINT", "int4": "INTEGER", "integer": "INTEGER", "int2": "SMALLINT",
              "smallint": "SMALLINT", "float8": "DOUBLE", "double precision": "DOUBLE", "float4": "FLOAT",
              "real": "FLOAT", "bool": "BOOLEAN", "boolean": "BOOLEAN", "timestamptz": "TIMESTAMP WITH TIME ZONE",
              "timestamp with time zone": "TIMESTAMP WITH TIME ZONE", "timestamp": "TIMESTAMP",
              "timestamp without time zone": "TIMESTAMP", "date": "DATE", "numeric": "DECIMAL", "jsonb": "JSON",
              "json": "JSON", "bytea": "BLOB", "time": "TIME", "interval": "INTERVAL", "uuid": "UUID"}
#: The views that read a relation (%s, a name as SQL writes it), and the views that read those, in the order they
#: can be re-created; a temporary one is named in pg_temp
DEPENDENT_VIEWS = """
WITH RECURSIVE dep(oid, depth) AS (
    SELECT r.ev_class, 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.refobjid = to_regclass(%s) AND r.ev_class <> d.refobjid
    UNION ALL
    SELECT r.ev_class, dep.depth + 1 FROM dep
    JOIN pg_depend d ON d.refobjid = dep.oid AND d.classid = 'pg_rewrite'::regclass
                    AND d.refclassid = 'pg_class'::regclass
    JOIN pg_rewrite r ON r.oid = d.objid
    WHERE r.ev_class <> d.refobjid AND dep.depth < 64)
SELECT CASE WHEN n.nspname LIKE 'pg_temp%%' THEN 'pg_temp' ELSE quote_ident(n.nspname) END || '.'
       || quote_ident(c.relname), pg_get_viewdef(c.oid)
FROM dep JOIN pg_class c ON c.oid = dep.oid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'v' GROUP BY 1, 2 ORDER BY max(dep.depth), 1"""
#: The primary key (else the first unique index) of a table (%s) and all its columns
KEY_COLUMNS = """
SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indexrelid = (SELECT indexrelid FROM pg_index WHERE indrelid = to_regclass(%s)
                      AND (indisprimary OR indisunique) ORDER BY indisprimary DESC, indexrelid LIMIT 1)
ORDER BY array_position(i.indkey::int2[], a.attnum)"""
#: per connection: relation key -> the views a DROP of it took along, to re-create when it is created again
_dropped: weakref.WeakKeyDictionary[Any, dict[str, list[tuple[str, str]]]] = weakref.WeakKeyDictionary()
TABLE_COLUMNS = """SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped
ORDER BY attnum"""


def run(con: Any, statement: Statement, params: Sequence[Any] | None) -> Any:
    """Run one translated statement on ``con`` (completing it with what the database knows, by its kind); its
    cursor."""
    sql = statement.sql
    if statement.kind == "replace":
        return _replace(con, statement, params)
    if statement.kind == "drop":
        return _drop(con, statement, params)
    if statement.kind == "create":
        cursor = con.execute(driver(sql, params), _params(params))
        _restore(con, statement)
        return cursor
    if statement.kind == "upsert":
        sql += _on_conflict(con, statement.target or "")
    elif statement.kind == "by_name":
        names = _columns_of(con, sql, params)
        sql = f"INSERT INTO {statement.target} ({', '.join(quote(n) for n in names)}) {sql}"
    return con.execute(driver(sql, params), _params(params))


def _replace(con: Any, statement: Statement, params: Sequence[Any] | None) -> Any:
    """``CREATE OR REPLACE``: drop and create in one transaction. PostgreSQL binds a view to the relations it
    reads (DuckDB does not), so the views built on the old relation are dropped with it and re-created over the
    new one; a view that no longer fits (a column it reads is gone) stays dropped until its own next build."""
    target = statement.target or ""
    if statement.temporary and "." not in target:
        target = f"pg_temp.{target}"   # never the permanent relation of that name further down the search path
    with con.transaction():
        views = [] if statement.temporary else con.execute(DEPENDENT_VIEWS, [target]).fetchall()
        con.execute(f"DROP {statement.relation} IF EXISTS {target}{' CASCADE' if views else ''}")
        cursor = con.execute(driver(statement.sql, params), _params(params))
        _recreate(con, views)
        _restore(con, statement)
    return cursor


def _drop(con: Any, statement: Statement, params: Sequence[Any] | None) -> Any:
    """``DROP TABLE|VIEW x``: DuckDB leaves the views that read ``x`` to find a new ``x`` later; PostgreSQL refuses
    the drop. So they are dropped with ``x`` and remembered, and re-created when ``x`` is created again (by this
    connection)."""
    temporary = (statement.key or "").startswith("pg_temp.")   # hub reads no temporary relation through a view
    views = [] if temporary else con.execute(DEPENDENT_VIEWS, [statement.target]).fetchall()
    if not views:
        return con.execute(driver(statement.sql, params), _params(params))
    with con.transaction():
        cursor = con.execute(driver(f"{statement.sql} CASCADE", params), _params(params))
    _dropped.setdefault(con, {}).setdefault(statement.key or "", []).extend(views)
    return cursor


def _restore(con: Any, statement: Statement) -> None:
    """Re-create the views a ``DROP`` of this relation took with it (see :func:`_drop`)."""
    pending = _dropped.get(con, {}).pop(statement.key or "", None)
    if pending:
        _recreate(con, pending)


def _recreate(con: Any, views: list[tuple[str, str]]) -> None:
    """Create ``views`` (name, definition) in order; one that no longer fits what it reads (a column gone) stays
    dropped until its own next build."""
    import psycopg

    for name, definition in views:
        try:
            with con.transaction():
                con.execute(f"CREATE VIEW {name} AS {definition}")
        except psycopg.Error:
            continue


def _on_conflict(con: Any, target: str) -> str:
    """``INSERT OR REPLACE``'s meaning for ``target``: on a clash of its primary key, take the new row."""
    keys = [r[0] for r in con.execute(KEY_COLUMNS, [target]).fetchall()]
    if not keys:
        raise WarehouseError(f"INSERT OR REPLACE into {target}, which has no primary key")
    columns = [r[0] for r in con.execute(TABLE_COLUMNS, [target]).fetchall() if r[0] not in keys]
    action = ("UPDATE SET " + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in columns)) if columns \
        else "NOTHING"
    return f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO {action}"


def _columns_of(con: Any, select: str, params: Sequence[Any] | None) -> list[str]:
    cursor = con.execute(driver(f"SELECT * FROM ({select}) AS _q LIMIT 0", params), _params(params))
    return [d.name for d in cursor.description or []]


def describe(con: Any, statement: Statement,
             params: Sequence[Any] | None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """DuckDB's ``DESCRIBE``: one row per column, its type as DuckDB names it."""
    cursor = con.execute(driver(statement.sql, params), _params(params))
    rows = [(d.name, duck_type(d.type_display), "YES", None, None, None) for d in cursor.description or []]
    return ["column_name", "column_type", "null", "key", "default", "extra"], rows


def duck_type(display: str) -> str:
    """A PostgreSQL type (as ``format_type`` writes it) as DuckDB names it: ``numeric(18,2)`` -> ``DECIMAL(18,2)``."""
    if display.endswith("[]"):
        return duck_type(display[:-2]) + "[]"
    base, _, size = display.partition("(")
    if base == "numeric" and size:
        return f"DECIMAL({size.replace(' ', '')}"
    if base in ("character varying", "character", "varchar", "bpchar"):
        return "VARCHAR"
    return TYPE_NAMES.get(display, display.upper())


def driver(sql: str, params: Sequence[Any] | None) -> str:
    """The SQL psycopg is given: ``?`` as ``%s`` (and a literal ``%`` doubled) when there are parameters."""
    return placeholders(sql) if params is not None else sql


def _params(params: Sequence[Any] | None) -> Sequence[Any] | None:
    return list(params) if params is not None else None


@functools.lru_cache(maxsize=512)


def placeholders(sql: str) -> str:
    """hub's ``?`` placeholders as psycopg's ``%s`` (and a literal ``%`` doubled), outside quotes and comments."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            end = sql.find(c, i + 1)
            while end != -1 and end + 1 < n and sql[end + 1] == c:   # '' and "" escape the quote
                end = sql.find(c, end + 2)
            end = n if end == -1 else end + 1
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end == -1 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        else:
            out.append("%s" if c == "?" else "%%" if c == "%" else c)
            i += 1
    return "".join(out)
