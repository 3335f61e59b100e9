"""What a DuckDB warehouse file holds, read for `hub warehouse copy` before anything is written: its tables (columns
with the PostgreSQL types they become, keys, exact row counts), views, sequences and macros.

A column type PostgreSQL has no place for is refused here, naming the column, so a copy never starts that could not
finish. How values of each type travel is in :attr:`Column.select` (see :mod:`hub.warehouse.copy`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.errors import CopyRefusedError
from hub.warehouse.sql import qualified, quote

if TYPE_CHECKING:
    import duckdb


#: DuckDB's type name -> the PostgreSQL column type it becomes (parameterised and nested types: :func:`pg_type`).
#: UBIGINT (hub's record hashes) needs NUMERIC(20): PostgreSQL has no unsigned 64-bit integer.
PG_TYPES = {
    "BOOLEAN": "BOOLEAN", "TINYINT": "SMALLINT", "SMALLINT": "SMALLINT", "INTEGER": "INTEGER", "BIGINT": "BIGINT",
    "HUGEINT": "NUMERIC(39)", "UTINYINT": "SMALLINT", "USMALLINT": "INTEGER", "UINTEGER": "BIGINT",
    "UBIGINT": "NUMERIC(20)", "UHUGEINT": "NUMERIC(39)", "FLOAT": "REAL", "DOUBLE": "DOUBLE PRECISION",
    "VARCHAR": "VARCHAR", "JSON": "JSONB", "BLOB": "BYTEA", "DATE": "DATE", "TIME": "TIME",
    "TIME WITH TIME ZONE": "TIMETZ", "TIMESTAMP": "TIMESTAMP", "TIMESTAMP_S": "TIMESTAMP",
    "TIMESTAMP_MS": "TIMESTAMP", "TIMESTAMP_NS": "TIMESTAMP", "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ",
    "INTERVAL": "INTERVAL", "UUID": "UUID", "BIT": "VARBIT",
}
#: types whose DuckDB text PostgreSQL reads back exactly (Arrow has no CSV form for them, or a lossy one)
AS_TEXT = frozenset({"HUGEINT", "UHUGEINT", "JSON", "TIME WITH TIME ZONE", "INTERVAL", "UUID", "BIT"})
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
#: schemas left behind: dlt's merge staging (emptied before each load; dlt creates it again)
SKIPPED_SCHEMAS = re.compile(r"^_hub_staging_")
_LITERAL_DEFAULT = re.compile(r"^(?:CAST\()?('(?:[^']|'')*'|-?\d+(?:\.\d+)?|true|false|NULL)(?: AS [A-Z ]+\))?$",
                              re.I)


@dataclass(frozen=True)
class Column:
    """One column: its DuckDB type, the PostgreSQL type it becomes, and how its values leave DuckDB."""

    name: str
    duck_type: str
    pg_type: str
    not_null: bool
    default: str | None

    @property
    def select(self) -> str:
        """The DuckDB expression that reads this column in a form COPY's CSV takes as it is."""
        col = quote(self.name)
        if self.pg_type == "JSONB" and self.duck_type != "JSON":
            return f"CAST(to_json({col}) AS VARCHAR) AS {col}"     # a LIST, STRUCT, MAP or UNION
        if self.duck_type == "BLOB":
            return f"'\\x' || hex({col}) AS {col}"
        if self.duck_type in AS_TEXT or self.duck_type.startswith("ENUM("):
            return f"CAST({col} AS VARCHAR) AS {col}"
        return col


@dataclass(frozen=True)
class Table:
    """One table to copy."""

    schema: str
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    uniques: tuple[tuple[str, ...], ...]
    rows: int

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def source(self) -> str:
        return qualified(self.schema, self.name)

    @property
    def target(self) -> str:
        return qualified(target_schema(self.schema), self.name)


@dataclass(frozen=True)
class View:
    schema: str
    name: str
    sql: str

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Sequence:
    schema: str
    name: str
    start: int
    increment: int
    minimum: int
    maximum: int
    cycle: bool
    last: int | None


@dataclass
class Plan:
    """What the source holds, read (and checked) before anything is written."""

    tables: list[Table]
    views: list[View]
    sequences: list[Sequence]
    macros: list[str]

    @property
    def schemas(self) -> list[str]:
        return sorted({target_schema(t.schema) for t in self.tables} | {target_schema(v.schema) for v in self.views}
                      | {target_schema(s.schema) for s in self.sequences})


def target_schema(schema: str) -> str:
    """DuckDB's default schema ``main`` is PostgreSQL's ``public``; every other name stays."""
    return "public" if schema == "main" else schema


def pg_type(duck_type: str) -> str | None:
    """The PostgreSQL type for a DuckDB column type, or None when there is none."""
    if duck_type in PG_TYPES:
        return PG_TYPES[duck_type]
    match = _DECIMAL.match(duck_type)
    if match:
        return f"NUMERIC({match.group(1)},{match.group(2)})"
    if duck_type.endswith("]") or duck_type.startswith(("STRUCT(", "MAP(", "UNION(")):
        return "JSONB"
    if duck_type.startswith("ENUM("):
        return "VARCHAR"
    return None


def read_plan(con: duckdb.DuckDBPyConnection) -> Plan:
    """Every table, view, sequence and macro of the DuckDB file; refuses a column type PostgreSQL lacks."""
    db = con.execute("SELECT current_database()").fetchone()[0]
    keys: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]] = {}
    for schema, table, kind, cols in con.execute(
            "SELECT schema_name, table_name, constraint_type, constraint_column_names FROM duckdb_constraints() "
            "WHERE database_name = ? AND constraint_type IN ('PRIMARY KEY', 'UNIQUE') "
            "ORDER BY schema_name, table_name, constraint_index", [db]).fetchall():
        keys.setdefault((schema, table), []).append((kind, tuple(cols)))
    columns: dict[tuple[str, str], list[Column]] = {}
    unmapped = []
    for schema, table, name, duck_type, nullable, default in con.execute(
            "SELECT schema_name, table_name, column_name, data_type, is_nullable, column_default "
            "FROM duckdb_columns() WHERE database_name = ? AND NOT internal ORDER BY schema_name, table_name, "
            "column_index", [db]).fetchall():
        if SKIPPED_SCHEMAS.match(schema):
            continue
        pg = pg_type(duck_type)
        if pg is None:
            unmapped.append(f"{schema}.{table}.{name} ({duck_type})")
        columns.setdefault((schema, table), []).append(
            Column(name, duck_type, pg or "", not nullable, _default(default)))
    tables = []
    for schema, name, rows in con.execute(
            "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() WHERE database_name = ? "
            "AND NOT internal AND NOT temporary ORDER BY schema_name = '_hub', schema_name, table_name",
            [db]).fetchall():
        if SKIPPED_SCHEMAS.match(schema):
            continue
        constraints = keys.get((schema, name), [])
        exact = con.execute(f"SELECT count(*) FROM {qualified(schema, name)}").fetchone()[0]
        tables.append(Table(schema, name, tuple(columns.get((schema, name), ())),
                            next((c for k, c in constraints if k == "PRIMARY KEY"), ()),
                            tuple(c for k, c in constraints if k == "UNIQUE"), exact))
    if unmapped:
        raise CopyRefusedError(f"no PostgreSQL type for {len(unmapped)} column(s): {', '.join(unmapped[:3])}",
                               hint="change or drop those columns in DuckDB first (e.g. CAST them to VARCHAR)")
    views = [View(s, n, sql) for s, n, sql in con.execute(
        "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE database_name = ? AND NOT internal "
        "AND NOT temporary ORDER BY schema_name, view_name", [db]).fetchall() if not SKIPPED_SCHEMAS.match(s)]
    sequences = [Sequence(*row) for row in con.execute(
        "SELECT schema_name, sequence_name, start_value, increment_by, min_value, max_value, cycle, last_value "
        "FROM duckdb_sequences() WHERE database_name = ? AND NOT temporary ORDER BY 1, 2", [db]).fetchall()]
    macros = [f"{s}.{n}" for s, n in con.execute(
        "SELECT DISTINCT schema_name, function_name FROM duckdb_functions() WHERE database_name = ? "
        "AND NOT internal AND function_type IN ('macro', 'table_macro') ORDER BY 1, 2", [db]).fetchall()]
    return Plan(tables, views, sequences, macros)


def _default(text: str | None) -> str | None:
    """A column default PostgreSQL takes as DuckDB wrote it (a literal, or now()); others are left out."""
    if text is None:
        return None
    text = text.strip()
    match = _LITERAL_DEFAULT.match(text)
    if match:
        return match.group(1)
    if text.lower() in ("now()", "current_timestamp", "get_current_timestamp()", "current_date"):
        return "now()" if text.lower() != "current_date" else "CURRENT_DATE"
    seq = re.match(r"^nextval\('([^']+)'\)$", text)
    return f"nextval('{seq.group(1)}')" if seq else None
