"""A batch of rows from the hub process, readable by hub's SQL as a relation for the length of a block, on either
engine: the set-based writes of reverse ETL (acknowledgements, rejected rows, tombstones) and of ``hub serve``'s
flusher (inbox events into raw tables) join against it instead of sending one statement per row.

- DuckDB: the Arrow table itself, registered on the warehouse's connection (no copy);
- PostgreSQL: a temporary table of the session, filled with ``COPY ... FROM STDIN`` (one round trip for the batch),
  dropped when the block ends. It lives on the warehouse's own connection, so it takes part in its open transaction:
  a rollback drops it too.

Only Arrow's plain types appear here (text, integers, booleans, floats, timestamps), as in the tables hub writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from hub.errors import WarehouseError
from hub.warehouse.sql import quote


@contextmanager
def staged(wh: Any, name: str, data: pa.Table) -> Iterator[None]:
    """``data`` readable as relation ``name`` (unqualified) on ``wh``'s connection for the duration of the block."""
    if getattr(wh, "dialect", "duckdb") == "postgres":
        with _pg_staged(wh, name, data):
            yield
        return
    con = wh.connect()
    con.register(name, data)
    try:
        yield
    finally:
        try:
            con.unregister(name)
        except Exception:   # noqa: BLE001 - after a failed statement the transaction is aborted: the rollback drops it
            pass


def pg_type(kind: pa.DataType) -> str:
    """The PostgreSQL column type holding an Arrow type's values."""
    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    if pa.types.is_integer(kind):
        return "BIGINT"
    if pa.types.is_floating(kind):
        return "DOUBLE PRECISION"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMPTZ" if kind.tz else "TIMESTAMP"
    if pa.types.is_date(kind):
        return "DATE"
    return "TEXT"


@contextmanager
def _pg_staged(wh: Any, name: str, data: pa.Table) -> Iterator[None]:
    import psycopg

    con = wh.connect()
    relation = quote(name)
    columns = ", ".join(f"{quote(f.name)} {pg_type(f.type)}" for f in data.schema)
    try:
        con.execute(f"DROP TABLE IF EXISTS pg_temp.{relation}")
        con.execute(f"CREATE TEMP TABLE {relation} ({columns})")
        names = ", ".join(quote(f.name) for f in data.schema)
        with con.cursor() as cursor, cursor.copy(f"COPY {relation} ({names}) FROM STDIN") as copy:
            for row in zip(*(data.column(i).to_pylist() for i in range(data.num_columns)), strict=True):
                copy.write_row(row)
    except psycopg.Error as exc:
        raise WarehouseError(f"cannot stage {name} in the warehouse: {' '.join(str(exc).split())[:300]}") from None
    failed = False
    try:
        yield
    except BaseException:
        failed = True   # the transaction may be aborted: its rollback (or the session's end) drops the table
        raise
    finally:
        if not failed:
            try:
                con.execute(f"DROP TABLE IF EXISTS pg_temp.{relation}")
            except psycopg.Error:
                pass
