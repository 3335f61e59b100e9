"""Records of a REST API as Arrow tables: one row per record, top-level fields as columns.

Scalars keep their JSON type (a column whose values disagree is text); nested objects and lists are JSON text, so
that every record lands in one row of ``raw_<connection>.<stream>`` whatever its shape.

A batch goes one of two ways to the same table. Records whose fields each hold one scalar type (the common case) are
parsed by pyarrow's C++ JSON reader, which runs without the GIL: the fetch thread goes on paging meanwhile, where the
Python path held the GIL for every value. The reader is given the record type the Python path would infer, guessed
from the batch's first page, and it refuses what does not fit that guess: a value of another type (a nested object, a
number where text was seen), a field the first page did not have, a record that is not an object. A refused batch,
and one whose numbers the reader cannot type as the Python path would (see :meth:`TableBuilder._reader_table`), takes
the Python path: one pyarrow conversion per column, nested values as JSON text, and a field whose values disagree as
text. A batch whose first page is not flat takes it from the start.

For the reader, the fetch thread, which parsed each page for its paginator, writes its records back as JSON with
orjson (:func:`json_pages`; a tenth of what parsing costs), so no parsed record waits in a queue or a batch. While
batches go the Python path (records with nested values, most often), it passes the parsed records on instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from hub.sources.base import BATCH_ROWS, json_records_to_arrow, records_to_arrow

#: pages parsed per call of pyarrow's JSON reader: each call wins the GIL back from the fetch thread once, at its end
PARSE_PAGES = 10
#: the member a page's records are written under for the reader (the page holds nothing else)
MEMBER = "r"
#: integers from here on are not all exact as doubles: pyarrow's Python conversion refuses them in a column that also
#: holds fractions (the Python path then makes it text), where the C++ reader rounds them
EXACT_DOUBLE = float(2 ** 53)
#: the types the Python path infers for a column of scalars, which the reader can be asked for
_READER_TYPES = (pa.int64(), pa.float64(), pa.bool_(), pa.string())
T = TypeVar("T")


#: a page for :meth:`TableBuilder.add_page`: its records as :func:`page_json` writes them, or the parsed records
Payload = bytes | list[Any]


def page_json(records: list[Any]) -> bytes:
    """One page's records as the reader takes them: ``{"r": [...]}``."""
    return orjson.dumps({MEMBER: records})


def json_pages(pages: Iterator[tuple[list[Any], T]], builder: TableBuilder) -> Iterator[tuple[Payload, int, T]]:
    """``(records, extra)`` pages as ``(payload, record count, extra)`` for ``builder``: run in the fetch thread.

    The payload is the page's JSON while ``builder`` gives batches to the reader, else the records themselves."""
    for records, extra in pages:
        yield (page_json(records) if records and builder.wants_json else records), len(records), extra


class TableBuilder:
    """Collects records into Arrow tables of about ``BATCH_ROWS`` rows, with every column seen so far."""

    def __init__(self, primary_key: str, batch_rows: int = BATCH_ROWS) -> None:
        self.primary_key = primary_key
        self.batch_rows = batch_rows
        #: every column so far, in order of appearance (null: no value seen yet)
        self.columns: dict[str, pa.DataType] = {primary_key: pa.null()}
        #: batches made so far by each path: ``reader`` (pyarrow's C++ JSON reader) and ``python``
        self.batches = {"reader": 0, "python": 0}
        #: what the fetch thread should send (:func:`json_pages`): JSON while the last batch went to the reader
        self.wants_json = True
        self.count = 0                    # records in the batch so far
        self._pages: list[Payload] = []   # the batch's pages
        self._type: pa.StructType | None = None   # the record type the reader parses the batch as; None: Python path
        self._unparsed: list[bytes] = []  # the last pages, not given to the reader yet
        self._parsed: list[pa.StructArray] = []

    def add(self, records: list[Any]) -> pa.Table | None:
        """Take one page's records; a table when enough have gathered."""
        return self.add_page(records, len(records))

    def add_page(self, page: Payload, count: int) -> pa.Table | None:
        """Take one page of ``count`` records (JSON or parsed, see :data:`Payload`); a table when enough have
        gathered."""
        if count:
            if not self.count:
                self._type = self._guess(_records(page))
                self.wants_json = self._type is not None
            self.count += count
            if self._type is not None and isinstance(page, list):
                page = page_json(page)
            self._pages.append(page)
            if self._type is not None:
                assert isinstance(page, bytes)
                self._unparsed.append(page)
                if len(self._unparsed) >= PARSE_PAGES:
                    self._parse()
        return self.flush() if self.count >= self.batch_rows else None

    def flush(self) -> pa.Table | None:
        """The records gathered so far as one table (None when there are none)."""
        if not self.count:
            return None
        self._parse()
        table = self._reader_table() if self._type is not None else None
        self.batches["python" if table is None else "reader"] += 1
        if table is None:
            # a record that is not an object becomes {"value": record} there
            table = self._python_table([r for page in self._pages for r in _records(page)])
        self.count, self._type, self._pages, self._unparsed, self._parsed = 0, None, [], [], []
        return self._conform(table)

    # --- the reader's path -----------------------------------------------------------------------------------------

    def _guess(self, records: list[Any]) -> pa.StructType | None:
        """The record type the Python path would give a batch that starts with ``records``, when the reader can be
        asked for it: the columns seen so far, then the page's new ones; None when the page is not flat records."""
        if not all(type(r) is dict for r in records):
            return None
        names = list(records[0]) if all(r.keys() == records[0].keys() for r in records) \
            else list(dict.fromkeys(k for r in records for k in r))
        if not names:
            return None   # empty objects: the Python path makes no row of a batch of them, the reader would
        guessed: dict[str, pa.DataType] = {}
        for name in names:
            try:
                kind = pa.array([r.get(name) for r in records]).type
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                return None
            if not pa.types.is_null(kind) and kind not in _READER_TYPES:
                return None   # nested (JSON text), or integers past int64: the Python path decides
            known = self.columns.get(name)
            if pa.types.is_null(kind) or (kind == pa.int64() and known == pa.float64()):
                kind = known if known is not None and known in _READER_TYPES else pa.string()
            guessed[name] = kind
        fields = [pa.field(name, guessed[name] if name in guessed else kind if kind in _READER_TYPES else pa.string())
                  for name, kind in self.columns.items()]
        fields += [pa.field(name, kind) for name, kind in guessed.items() if name not in self.columns]
        return pa.struct(fields)

    def _parse(self) -> None:
        """Parse the pages not parsed yet; a page the reader refuses sends the batch to the Python path."""
        group, self._unparsed = self._unparsed, []
        if self._type is None or not group:
            return
        records = json_records_to_arrow(group, MEMBER, self._type, strict=True)
        if records is None or records.null_count:   # a value or field the type lacks, a record that is null
            self._type, self._parsed = None, []
        else:
            self._parsed.append(records)

    def _reader_table(self) -> pa.Table | None:
        """The parsed batch as the Python path would make it, or None where the reader cannot tell what that is.

        The reader takes an integer into a double column, where the Python path types a column of integers alone as
        int64: a double column whose values are all whole is left to the Python path, and so is one holding a value
        past :data:`EXACT_DOUBLE`. A column without values is untyped (:meth:`_conform` types it), as it would be.
        """
        assert self._type is not None
        columns: list[pa.ChunkedArray] = []
        parts = [records.flatten() for records in self._parsed]
        for i, field in enumerate(self._type):
            column = pa.chunked_array([part[i] for part in parts], field.type)
            if column.null_count == len(column):
                columns.append(pa.chunked_array([pa.nulls(len(column))]))
                continue
            if pa.types.is_floating(field.type):
                if pc.all(pc.equal(pc.floor(column), column)).as_py() or \
                        pc.max(pc.abs(column)).as_py() >= EXACT_DOUBLE:
                    return None
            columns.append(column)
        return pa.Table.from_arrays(columns, names=[f.name for f in self._type])

    # --- both ------------------------------------------------------------------------------------------------------

    @staticmethod
    def _python_table(rows: list[Any]) -> pa.Table:
        """Records parsed by orjson as a table, in Python."""
        table = _column_table(rows)
        if table is None and not all(type(r) is dict for r in rows):
            rows = [r if isinstance(r, Mapping) else {"value": r} for r in rows]
            table = _column_table(rows)
        if table is None:
            names = list(dict.fromkeys(k for row in rows for k in row))
            table = _slow_table(rows, names)
        return table

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


def _records(page: Payload) -> list[Any]:
    return orjson.loads(page)[MEMBER] if isinstance(page, bytes) else page


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
