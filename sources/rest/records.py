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
        array = _struct_array(rows)
        if array is None and not all(type(r) is dict for r in rows):
            rows = [r if isinstance(r, Mapping) else {"value": r} for r in rows]
            array = _struct_array(rows)
        if array is None:
            names = list(dict.fromkeys(k for row in rows for k in row))
            return self._conform(_slow_table(rows, names))
        names = [f.name for f in array.type]
        columns = array.flatten()
        for i, f in enumerate(array.type):
            if pa.types.is_nested(f.type):
                columns[i] = _json_column(rows, f.name)
        return self._conform(pa.Table.from_arrays(columns, names=names))

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


def _struct_array(rows: list[Any]) -> pa.StructArray | None:
    """One struct over every record's keys, inferred in C++; None when a record is not an object (or the fields
    disagree on their type)."""
    try:
        array = pa.array(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    # a null row is a record that is not an object (JSON null): it becomes {"value": null} like other scalars
    return array if pa.types.is_struct(array.type) and not array.null_count else None


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
