"""Records of a REST API as Arrow tables: one row per record, top-level fields as columns.

Scalars keep their JSON type (a column whose values disagree is text); nested objects and lists are JSON text, so
that every record lands in one row of ``raw_<connection>.<stream>`` whatever its shape. The common case, records
whose fields each hold one type, is converted by pyarrow in C++ without touching the records in Python; only the
nested columns are serialized one value at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import pyarrow as pa

from hub.sources.base import BATCH_ROWS, records_to_arrow


class TableBuilder:
    """Collects records into Arrow tables of about ``BATCH_ROWS`` rows, with every column seen so far."""

    def __init__(self, primary_key: str, batch_rows: int = BATCH_ROWS) -> None:
        self.primary_key = primary_key
        self.batch_rows = batch_rows
        self.rows: list[dict[str, Any]] = []
        #: every column so far, in order of appearance (null: no value seen yet)
        self.columns: dict[str, pa.DataType] = {primary_key: pa.null()}

    def add(self, records: list[Any]) -> pa.Table | None:
        """Take one page's records; a table when enough have gathered."""
        self.rows += records   # a record that is not an object becomes {"value": record} in flush, when one is seen
        return self.flush() if len(self.rows) >= self.batch_rows else None

    def flush(self) -> pa.Table | None:
        """The records gathered so far as one table (None when there are none)."""
        rows, self.rows = self.rows, []
        if not rows:
            return None
        table = _column_table(rows)
        if table is None and not all(type(r) is dict for r in rows):
            rows = [r if isinstance(r, Mapping) else {"value": r} for r in rows]
            table = _column_table(rows)
        if table is None:
            names = list(dict.fromkeys(k for row in rows for k in row))
            table = _slow_table(rows, names)
        return self._conform(table)

    def _conform(self, table: pa.Table) -> pa.Table:
        """``table`` with every column seen so far, in first-seen order; untyped columns as text."""
        for field in table.schema:
            if not pa.types.is_null(field.type) or field.name not in self.columns:
                self.columns[field.name] = field.type
        columns = []
        for name, kind in self.columns.items():
            kind = pa.string() if pa.types.is_null(kind) else kind
            column = table.column(name) if name in table.column_names else pa.nulls(table.num_rows, kind)
            columns.append(column.cast(kind) if pa.types.is_null(column.type) else column)
        return pa.Table.from_arrays(columns, names=list(self.columns))


def _column_table(rows: list[Any]) -> pa.Table | None:
    """Records that are objects as a table, one pyarrow conversion per column (a third of the time of inferring one
    struct over the records); nested values as JSON text. None when a record is not an object or a column's values
    disagree on their type (the slow path then decides, field by field)."""
    first = rows[0]
    if type(first) is not dict:
        return None
    keys = first.keys()
    if all(type(r) is dict and r.keys() == keys for r in rows):   # the common case: every record has the same fields
        names = list(first)
    elif all(type(r) is dict for r in rows):
        names = list(dict.fromkeys(k for row in rows for k in row))
    else:
        return None
    columns = []
    for name in names:
        try:
            column = pa.array([r.get(name) for r in rows])
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
        columns.append(_json_column(rows, name) if pa.types.is_nested(column.type) else column)
    return pa.Table.from_arrays(columns, names=names)


def _json_column(rows: list[dict[str, Any]], name: str) -> pa.Array:
    """Column ``name`` as JSON text (nested values), or as the text of a scalar that shares the column."""
    dumps = orjson.dumps
    values = []
    for row in rows:
        value = row.get(name)
        values.append(None if value is None else value if isinstance(value, str) else dumps(value).decode())
    return pa.array(values, pa.string())


def _slow_table(rows: list[dict[str, Any]], names: list[str]) -> pa.Table:
    """Records whose fields disagree on their type: such a field is text, nested values JSON text."""
    dumps = orjson.dumps
    flat = [{k: dumps(v).decode() if isinstance(v, (dict, list)) else v for k, v in row.items()} for row in rows]
    record_type = pa.struct([pa.field(n, _inferred(n, flat)) for n in names])
    array = records_to_arrow(flat, record_type)
    return pa.Table.from_arrays(array.flatten(), names=names)


def _inferred(name: str, rows: list[dict[str, Any]]) -> pa.DataType:
    """The type of column ``name`` in ``rows`` as pyarrow infers it; text when its values disagree."""
    try:
        return pa.array([row.get(name) for row in rows]).type
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.string()
