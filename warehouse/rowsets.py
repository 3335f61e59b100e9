"""A batch of rows from the hub process, readable by hub's SQL as a relation for the length of a block, on either
engine: the set-based writes of reverse ETL (acknowledgements, rejected rows, tombstones) and of ``hub serve``'s
flusher (inbox events into raw tables) join against it instead of sending one statement per row.

- DuckDB: the Arrow table itself, registered on the warehouse's connection (no copy);
- PostgreSQL: a temporary table of the session, filled with ``COPY ... FROM STDIN`` of Arrow's CSV (one round trip
  for the batch; :func:`hub.warehouse.arrow.create_temp_table`), dropped when the block ends. It lives on the
  warehouse's own connection, so it takes part in its open transaction: a rollback drops it too.

Unlike :func:`hub.warehouse.arrow.registered`, a statement that fails inside the block keeps its own error: nothing is
dropped or unregistered on the way out of a failed (possibly aborted) transaction, whose rollback removes the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa


@contextmanager
def staged(wh: Any, name: str, data: pa.Table) -> Iterator[None]:
    """``data`` readable as relation ``name`` (unqualified) on ``wh``'s connection for the duration of the block."""
    if getattr(wh, "dialect", "duckdb") == "postgres":
        with _pg_staged(wh, name, data):
            yield
        return
    import duckdb

    con = wh.connect()
    con.register(name, data)
    try:
        yield
    finally:
        try:
            con.unregister(name)
        except duckdb.Error:   # after a failed statement the transaction is aborted: the rollback drops it
            pass


@contextmanager
def _pg_staged(wh: Any, name: str, data: pa.Table) -> Iterator[None]:
    from hub.warehouse.arrow import create_temp_table, drop_temp

    create_temp_table(wh, name, data)   # COPY of Arrow's CSV, then ANALYZE (hub.warehouse.arrow)
    failed = False
    try:
        yield
    except BaseException:
        failed = True   # the transaction may be aborted: its rollback (or the session's end) drops the table
        raise
    finally:
        if not failed:
            drop_temp(wh, name)
