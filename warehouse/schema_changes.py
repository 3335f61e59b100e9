"""Vendor data changes at load time: new columns, changed types, records without a primary key.

dlt adds a new column of an Arrow batch by itself, but a column whose Arrow type differs from the raw table's (a number
where text used to be, text in a numeric column) fails the load in DuckDB's cast. So every batch goes through a
:class:`LoadGuard` before dlt sees it:

- rows whose primary key is null or blank are taken out and kept as quarantined JSON (``_hub.quarantine``);
- a column whose type differs from the table's is cast to the table's type when that is exact (the values round-trip),
  else the values that fit stay in the column and the others land as text in ``<column>__v_text`` (never dropped);
- after the load, the raw tables' columns are compared with what they were before.

Every difference is a :class:`SchemaChange`, recorded in ``_hub.schema_changes`` and shown by `hub ingest` and
`hub status`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from hub.secrets import redact
from hub.warehouse.duck import Warehouse

if TYPE_CHECKING:  # pyarrow loads with the first load; `hub status` reads the recorded changes without it
    import pyarrow as pa

VARIANT_SUFFIX = "__v_text"
MAX_QUARANTINED_BYTES = 64 * 1024  # per record: a huge record is kept in part, with its size, not in full


@functools.cache
def type_maps() -> tuple[dict[pa.DataType, str], dict[str, pa.DataType]]:
    """DuckDB's name for the Arrow types connectors produce, and back (columns of other types are passed through)."""
    import pyarrow as pa

    duck = {pa.string(): "VARCHAR", pa.large_string(): "VARCHAR", pa.int64(): "BIGINT", pa.int32(): "INTEGER",
            pa.float64(): "DOUBLE", pa.bool_(): "BOOLEAN"}
    arrow = {"VARCHAR": pa.string(), "BIGINT": pa.int64(), "INTEGER": pa.int32(), "DOUBLE": pa.float64(),
             "BOOLEAN": pa.bool_()}
    return duck, arrow


@dataclass(frozen=True)
class SchemaChange:
    """One column of a raw table that is new, or whose values arrived with another type than the table's."""

    table: str
    column: str
    change: str                 # "added" | "type_changed"
    old_type: str | None
    new_type: str | None
    variant: str | None = None  # the text column that holds values that did not fit the old type

    def describe(self, schema: str) -> str:
        """The line `hub ingest` prints after ``schema: ``."""
        if self.change == "added":
            return f"{schema}.{self.table} + new column {self.column} ({self.new_type})"
        kept = f"values that are not {self.old_type} kept as text in {self.variant}" if self.variant \
            else f"kept as {self.old_type}"
        return f"{schema}.{self.table} ~ column {self.column} changed type {self.old_type} -> {self.new_type} ({kept})"


@dataclass
class Quarantined:
    """A record that could not be loaded, kept as (redacted, size-capped) JSON."""

    table: str
    reason: str
    record: str


@dataclass
class LoadOutcome:
    """What a guarded load changed and set aside."""

    changes: list[SchemaChange] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)

    def for_table(self, table: str) -> tuple[list[SchemaChange], list[Quarantined]]:
        return ([c for c in self.changes if c.table == table], [q for q in self.quarantined if q.table == table])


class LoadGuard:
    """Conforms the Arrow batches of one dlt load to the raw tables as they were before it (see the module doc)."""

    def __init__(self, wh: Warehouse, schema: str, normalize: Callable[[str], str]) -> None:
        self.wh, self.schema, self.normalize = wh, schema, normalize
        self.before = columns(wh, schema)
        self.outcome = LoadOutcome()
        self._types = {table: dict(cols) for table, cols in self.before.items()}
        self._mismatched: dict[tuple[str, str], SchemaChange] = {}

    def conform(self, table: str, primary_key: str, batches: Iterator[pa.Table]) -> Iterator[pa.Table]:
        """``batches`` without key-less rows and with every column in the type the table (or this load) set."""
        types = self._types.setdefault(table, {})
        for batch in batches:
            batch = self._quarantine(table, primary_key, batch)
            for name in batch.column_names:
                batch = self._conform_column(table, types, batch, name)
            yield batch

    def _quarantine(self, table: str, key: str, batch: pa.Table) -> pa.Table:
        import pyarrow as pa
        import pyarrow.compute as pc

        if key not in batch.column_names:
            return batch
        column = batch.column(key)
        missing = pc.is_null(column)
        if pa.types.is_string(column.type):
            missing = pc.or_kleene(missing, pc.equal(pc.utf8_trim_whitespace(column), ""))
        missing = pc.fill_null(missing, True)
        if not pc.any(missing).as_py():
            return batch
        for row in batch.filter(missing).to_pylist():
            self.outcome.quarantined.append(Quarantined(table, f"missing {key}", _record_json(row)))
        return batch.filter(pc.invert(missing))

    def _conform_column(self, table: str, types: dict[str, str], batch: pa.Table, name: str) -> pa.Table:
        import pyarrow as pa
        import pyarrow.compute as pc

        duck_types, arrow_types = type_maps()
        column = batch.column(name)
        incoming = duck_types.get(column.type)
        target_name = self.normalize(name)
        target = types.get(target_name)
        if target is None or incoming is None:
            if incoming is not None and column.null_count < len(column):
                types[target_name] = incoming  # later batches of this load follow the first that had values
            return batch
        if incoming == target or target not in arrow_types:
            return batch
        target_type = arrow_types[target]
        index = batch.column_names.index(name)
        if column.null_count == len(column):
            return batch.set_column(index, pa.field(name, target_type), pc.cast(column, target_type))
        fitted, leftover = _split(column, target_type)
        variant = None
        batch = batch.set_column(index, pa.field(name, target_type), fitted)
        if leftover is not None:
            variant_name = name + VARIANT_SUFFIX
            variant = self.normalize(variant_name)
            types.setdefault(variant, "VARCHAR")
            batch = batch.append_column(pa.field(variant_name, pa.string()), leftover)
        known = self._mismatched.get((table, target_name))
        if known is None or (variant and not known.variant):
            self._mismatched[(table, target_name)] = SchemaChange(table, target_name, "type_changed", target,
                                                                  incoming, variant)
        return batch

    def finish(self) -> LoadOutcome:
        """Compare the raw tables with how they were before; call after the load committed."""
        after = columns(self.wh, self.schema)
        variants = {c.variant for c in self._mismatched.values() if c.variant}
        changes = []
        for table, before in self.before.items():
            for name, kind in after.get(table, {}).items():
                if name.startswith("_dlt_") or name in variants:
                    continue
                if name not in before:
                    changes.append(SchemaChange(table, name, "added", None, kind))
                elif before[name] != kind and (table, name) not in self._mismatched:
                    changes.append(SchemaChange(table, name, "type_changed", before[name], kind))
        changes.extend(c for (table, _), c in self._mismatched.items() if table in self.before)
        self.outcome.changes = sorted(changes, key=lambda c: (c.table, c.change, c.column))
        return self.outcome


def columns(wh: Warehouse, schema: str) -> dict[str, dict[str, str]]:
    """``{table: {column: DuckDB type}}`` of one schema."""
    out: dict[str, dict[str, str]] = {}
    for table, column, kind in wh.query("SELECT table_name, column_name, data_type FROM information_schema.columns "
                                        "WHERE table_schema = ? ORDER BY table_name, ordinal_position",
                                        [schema]).rows:
        out.setdefault(table, {})[column] = wh.type_name(kind)
    return out


def _split(column: pa.ChunkedArray, target: pa.DataType) -> tuple[pa.Array, pa.Array | None]:
    """``column`` in type ``target`` where its values convert exactly, and the rest as text (None if there is none)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        cast = pc.cast(column, target)
        if pc.all(pc.equal(pc.cast(cast, column.type), column)).as_py() is not False:
            return cast, None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Rare (a vendor's type really changed): value by value, so the values that do fit keep their typed column.
    fitted: list[Any] = []
    leftover: list[str | None] = []
    for value in pc.cast(column, pa.string()).to_pylist():
        exact = _exact(value, target)
        fitted.append(exact)
        leftover.append(value if exact is None and value is not None else None)
    return pa.array(fitted, type=target), pa.array(leftover, type=pa.string())


def _exact(text: str | None, target: pa.DataType) -> Any:
    import pyarrow as pa

    if text is None:
        return None
    try:
        value = pa.scalar(text).cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return value.as_py() if value.cast(pa.string()).as_py() == text else None


def _record_json(row: dict[str, Any]) -> str:
    text = redact(orjson.dumps({k: v for k, v in row.items() if v is not None}, default=str).decode())
    if len(text) > MAX_QUARANTINED_BYTES:
        text = text[:MAX_QUARANTINED_BYTES] + f"... (truncated: {len(text):,} characters in all)"
    return text


def record(wh: Warehouse, run_id: str, connection: str, stream: str, outcome: LoadOutcome, table: str) -> None:
    """Write one stream's changes and quarantined records to ``_hub``.

    A type mismatch that persists (the vendor keeps sending numbers to a text column) is recorded once, not every run.
    """
    changes, quarantined = outcome.for_table(table)
    detected = datetime.now(UTC)
    for c in changes:
        if c.change == "type_changed":
            last = wh.query("SELECT old_type, new_type FROM _hub.schema_changes WHERE connection = ? AND stream = ? "
                            "AND column_name = ? ORDER BY detected_at DESC LIMIT 1",
                            [connection, stream, c.column]).rows
            if last and last[0] == (c.old_type, c.new_type):
                continue
        wh.execute("INSERT INTO _hub.schema_changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [run_id, connection, stream, f"raw_{connection}.{table}", c.column, c.change, c.old_type,
                    c.new_type, detected])
    for q in quarantined:
        wh.execute("INSERT INTO _hub.quarantine VALUES (?, ?, ?, ?, ?, ?)",
                   [run_id, connection, stream, q.reason, q.record, detected])


def since_last_run(wh: Warehouse) -> list[dict[str, Any]]:
    """The schema changes found by each connection's latest ingest run."""
    if not wh.table_exists("_hub", "schema_changes"):
        return []
    return wh.query("""
        WITH latest AS (   -- row_number, not DuckDB's arg_max: the same SQL runs on a postgres warehouse
            SELECT connection, run_id FROM (
                SELECT split_part(target, '.', 1) AS connection, run_id, row_number() OVER (
                    PARTITION BY split_part(target, '.', 1) ORDER BY started_at DESC) AS n
                FROM _hub.run_steps WHERE step = 'ingest') AS steps
            WHERE n = 1)
        SELECT c.run_id, c.connection, c.stream, c.table_name AS "table", c.column_name AS "column", c.change,
               c.old_type, c.new_type, c.detected_at
        FROM _hub.schema_changes c JOIN latest USING (connection, run_id)
        ORDER BY c.connection, c.stream, c.change, c.column_name""").records()
