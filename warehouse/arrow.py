"""Arrow in and out of the warehouse: for the bulk work (identity resolution) that Python rows would make slow.

Both go through the :class:`Warehouse`'s own connection, so they see (and take part in) its open transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa

from hub.errors import WarehouseError
from hub.warehouse.duck import Warehouse
from hub.warehouse.sql import quote


def fetch_arrow(wh: Warehouse, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
    """The result of ``sql`` as an Arrow table."""
    try:
        relation = wh.connect().sql(sql, params=list(params) if params else None)
        return relation.to_arrow_table() if relation is not None else pa.table({})
    except duckdb.Error as exc:
        raise WarehouseError(f"warehouse query failed: {' '.join(str(exc).split())}") from None


@contextmanager
def registered(wh: Warehouse, name: str, data: pa.Table) -> Iterator[None]:
    """``data`` readable as relation ``name`` (without a copy) for the duration of the block."""
    con = wh.connect()
    con.register(name, data)
    try:
        yield
    finally:
        con.unregister(name)


def create_temp_table(wh: Warehouse, name: str, data: pa.Table) -> None:
    """(Re)create temporary table ``name`` holding ``data``; it lives as long as the connection."""
    con = wh.connect()
    view = f"__hub_arrow_{name}"
    try:
        con.register(view, data)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {quote(name)} AS SELECT * FROM {quote(view)}")
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot load {name} into the warehouse: {' '.join(str(exc).split())}") from None
    finally:
        con.unregister(view)
