"""Flat Arrow batches straight into a DuckDB warehouse, in one transaction, each batch as it arrives.

dlt's load of a stream runs after the stream's last page: it writes every batch to a parquet file while pages come,
then normalizes, then loads the files with INSERT ... FROM read_parquet, then commits, and resolves its configuration
about a dozen times along the way. For batches whose columns are all scalars (text, integers, doubles, booleans: what
the ``type = "rest"`` engine makes of any record, see :mod:`hub.sources.rest.records`) none of that is needed: each
batch is inserted from Arrow while the next pages are fetched, and the load ends with the commit. Measured on 100,000
REST records (benchmarks/rest.py's pages, machine load 8-18 on 2 CPUs): the ingest's CPU from the last page to the
close went from about 0.45 s to 0.15-0.27 s, its whole CPU from 1.6-2.1 s to 1.0-1.1 s.

The tables are the ones dlt makes, so either path can load a table the other created:

- names go through dlt's naming convention (snake_case), as :class:`~hub.warehouse.schema_changes.LoadGuard` assumes;
- a new table gets its columns in the batch's order, in DuckDB's types for the Arrow ones (the types dlt picks for
  those), the primary key ``NOT NULL``; a column first seen in a later batch is added (``ALTER TABLE ADD COLUMN``);
- ``replace`` empties the table and inserts the batches; ``merge`` inserts them into a temporary table, deletes the
  rows whose key it holds, and inserts one row per key: the one with the highest cursor value when the load names a
  cursor field (dlt's ``dedup_sort = "desc"``);
- each load is recorded in ``raw_<connection>._dlt_loads`` as dlt records its own;
- a large load is checkpointed at its commit (see :data:`COMMIT_CHECKPOINT`), not written to the WAL first.

Everything happens in one transaction: a failure anywhere (the API, mid-stream, or the warehouse) leaves every table as
it was, and the ingest engine saves cursors only after :func:`load` returned.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import duckdb

from hub.errors import WarehouseError
from hub.secrets import redact
from hub.warehouse.duck import Warehouse
from hub.warehouse.schema_changes import LoadGuard, LoadOutcome
from hub.warehouse.sql import qualified, quote

if TYPE_CHECKING:
    import pyarrow as pa

    from dlt.common.normalizers.naming import NamingConvention

    from hub.warehouse.loader import TableLoad

#: the Arrow types a flat batch may hold (what the loader checks before it takes this path)
FLAT_TYPES = ("string", "large_string", "int64", "int32", "double", "bool", "null")
#: dlt's table of loads, as dlt creates it
LOADS_DDL = ("CREATE TABLE IF NOT EXISTS {table} (load_id VARCHAR NOT NULL, schema_name VARCHAR, status BIGINT NOT NULL, "
             "inserted_at TIMESTAMP WITH TIME ZONE NOT NULL, schema_version_hash VARCHAR)")
_BATCH = "_hub_arrow_batch"
#: the checkpoint threshold at the load's commit: a load that would write more than this to the WAL is written to the
#: file at its commit, once, instead of to the WAL and again at the next checkpoint (the close). Measured on 100,000
#: REST records (a 13.6 MB WAL): 0.07 s less CPU after the last page.
COMMIT_CHECKPOINT = "1MB"


def is_flat(batch: pa.Table) -> bool:
    """Whether every column of ``batch`` is a scalar this path loads as dlt would."""
    return all(str(field.type) in FLAT_TYPES for field in batch.schema)


def load(warehouse: Warehouse, connection: str, loads: list[TableLoad]) -> LoadOutcome:
    """Load ``loads`` into ``raw_<connection>`` in one transaction; the schema changes and quarantined records."""
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    naming = NamingConvention()
    schema = f"raw_{connection}"
    guard = LoadGuard(warehouse, schema, naming.normalize_path)
    con = warehouse.connect()
    threshold = con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()[0]
    try:
        with warehouse.transaction() as con:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
            for n, item in enumerate(loads):
                _Table(con, schema, item, naming, n).load(
                    guard.conform(item.table, item.primary_key, item.batches))
            con.execute(LOADS_DDL.format(table=qualified(schema, "_dlt_loads")))
            con.execute(f"INSERT INTO {qualified(schema, '_dlt_loads')} VALUES (?, ?, 0, now(), NULL)",
                        [f"{time.time():.6f}", f"hub_{connection}"])
            con.execute(f"SET GLOBAL checkpoint_threshold = '{COMMIT_CHECKPOINT}'")
    except duckdb.Error as exc:
        raise WarehouseError(f"loading {schema} failed: {redact(' '.join(str(exc).split())[:500])}") from None
    finally:
        con.execute("SET GLOBAL checkpoint_threshold = ?", [threshold])
    return guard.finish()


class _Table:
    """One table's load: its columns as they stand in this transaction, and where batches go."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str, item: TableLoad, naming: NamingConvention,
                 n: int) -> None:
        self.con, self.item = con, item
        # as dlt names them: a column's name as a path (``a__b`` stays), the table's as a path of table names
        self.normalize: Callable[[str], str] = naming.normalize_path
        normalize = self.normalize
        self.name = naming.normalize_tables_path(item.table)
        self.target = qualified(schema, self.name)
        self.key = normalize(item.primary_key)
        self.cursor = normalize(item.cursor_field) if item.cursor_field else None
        self.merge = item.disposition == "merge"
        self.staging_name = f"_hub_merge_{n}"
        self.staging = f"temp.main.{quote(self.staging_name)}"
        self.columns: dict[str, str] | None = self._existing(schema)

    def _existing(self, schema: str) -> dict[str, str] | None:
        rows = self.con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
                                "AND table_name = ? ORDER BY ordinal_position", [schema, self.name]).fetchall()
        return {name: kind for name, kind in rows} if rows else None

    def load(self, batches: Iterator[pa.Table]) -> None:
        started = False
        for batch in batches:
            if not is_flat(batch):
                raise WarehouseError(f"a batch of {self.item.table} holds a column that is not text, a number or a "
                                     f"boolean ({batch.schema}), where its connector promised flat records",
                                     hint="this is a bug in the connector: run again with --debug and report it")
            batch = self._renamed(batch)
            self.con.register(_BATCH, batch)
            try:
                if not started:
                    self._start(batch)
                    started = True
                self._add_columns(batch)
                if batch.num_rows:
                    names = ", ".join(quote(c) for c in batch.column_names)
                    self.con.execute(f"INSERT INTO {self.staging if self.merge else self.target} ({names}) "
                                     f"SELECT {names} FROM {_BATCH}")
            finally:
                self.con.unregister(_BATCH)
        if not started:
            if self.columns is not None and not self.merge:
                self.con.execute(f"DELETE FROM {self.target}")   # replaced by nothing
            return
        if self.merge:
            self._merge()

    def _renamed(self, batch: pa.Table) -> pa.Table:
        names = [self.normalize(c) for c in batch.column_names]
        if len(set(names)) != len(names):
            clash = sorted({c for c, n in zip(batch.column_names, names) if names.count(n) > 1})
            raise WarehouseError(f"fields {', '.join(clash)} of {self.item.table} land in the same column of "
                                 f"{self.target} (column names are snake_case)",
                                 hint="rename one of them in the API's answer, or select fewer fields")
        return batch if names == batch.column_names else batch.rename_columns(names)

    def _start(self, batch: pa.Table) -> None:
        """Create the table (from the first batch) or empty it (replace); create the merge's staging table."""
        if self.columns is None:
            self.columns = self._described(batch.column_names)
            self.con.execute(f"CREATE TABLE {self.target} (" + ", ".join(
                f"{quote(name)} {kind}{' NOT NULL' if name == self.key else ''}"
                for name, kind in self.columns.items()) + ")")
        elif not self.merge:
            self.con.execute(f"DELETE FROM {self.target}")
        if self.merge:
            self.con.execute(f"CREATE OR REPLACE TEMPORARY TABLE {quote(self.staging_name)} AS "
                             f"SELECT * FROM {self.target} LIMIT 0")

    def _add_columns(self, batch: pa.Table) -> None:
        assert self.columns is not None
        new = [c for c in batch.column_names if c not in self.columns]
        if not new:
            return
        for name, kind in self._described(new).items():
            for table in (self.target, self.staging) if self.merge else (self.target,):
                self.con.execute(f"ALTER TABLE {table} ADD COLUMN {quote(name)} {kind}")
            self.columns[name] = kind

    def _described(self, names: list[str]) -> dict[str, str]:
        """DuckDB's types of the batch's columns ``names``."""
        rows = self.con.execute(f"DESCRIBE SELECT {', '.join(quote(c) for c in names)} FROM {_BATCH}").fetchall()
        return {row[0]: ("VARCHAR" if row[1] == '"NULL"' else row[1]) for row in rows}

    def _merge(self) -> None:
        """The staged rows replace the table's rows with the same key, one row per key."""
        assert self.columns is not None
        key = quote(self.key)
        order = f"ORDER BY {quote(self.cursor)} DESC NULLS LAST" if self.cursor and self.cursor in self.columns else ""
        names = ", ".join(quote(c) for c in self.columns)
        self.con.execute(f"DELETE FROM {self.target} WHERE {key} IN (SELECT {key} FROM {self.staging})")
        self.con.execute(f"INSERT INTO {self.target} ({names}) SELECT {names} FROM (SELECT *, row_number() OVER "
                         f"(PARTITION BY {key} {order}) AS _hub_row FROM {self.staging}) WHERE _hub_row = 1")
        self.con.execute(f"DROP TABLE {self.staging}")
