"""Flat batches loaded straight into DuckDB (hub.warehouse.direct) make the tables dlt makes, with the same
guarantees: merge on the key keeping the newest copy, schema changes reported, records without a key quarantined,
all or nothing. Real DuckDB files; the dlt path runs beside it for comparison."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from hub.errors import SourceError, WarehouseError
from hub.warehouse import loader
from hub.warehouse.duck import Warehouse


def table(**columns: list) -> pa.Table:
    return pa.table({name: pa.array(values) for name, values in columns.items()})


def load(wh: Warehouse, root: Path, batches: list[pa.Table] | Iterator[pa.Table], *, flat: bool = True,
         disposition: str = "replace", cursor: str | None = "updated_at", connection: str = "api"):
    item = loader.TableLoad("tickets", "id", disposition, iter(batches), cursor_field=cursor, flat=flat)  # type: ignore[arg-type]
    return loader.load(wh, root, connection, [item])


def rows(wh: Warehouse, sql: str) -> list[tuple]:
    return wh.query(sql).rows


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    yield warehouse
    warehouse.close()


FIRST = table(id=[1, 2], subject=["a", "b"], updatedAt=["2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"],
              score=[1.5, None], open=[True, False])
LATER = table(id=[2, 3, 2], subject=["b2", "c", "b-old"],
              updatedAt=["2024-01-03T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-02T00:00:00Z"],
              score=[2.5, 3.0, 0.0], open=[False, True, True])


def test_direct_and_dlt_make_the_same_tables(wh: Warehouse, tmp_path: Path) -> None:
    load(wh, tmp_path, [FIRST], flat=False, connection="viadlt", cursor="updatedAt")
    load(wh, tmp_path, [LATER], flat=False, connection="viadlt", disposition="merge", cursor="updatedAt")
    load(wh, tmp_path, [FIRST], connection="direct", cursor="updatedAt")
    load(wh, tmp_path, [LATER], connection="direct", disposition="merge", cursor="updatedAt")
    ddl = {schema: sql.replace(schema, "S") for schema, sql in rows(
        wh, "SELECT schema_name, sql FROM duckdb_tables() WHERE table_name = 'tickets'")}
    assert ddl["raw_direct"] == ddl["raw_viadlt"]
    assert "updated_at VARCHAR" in ddl["raw_direct"] and "id BIGINT NOT NULL" in ddl["raw_direct"]
    by_key = "SELECT id, subject, updated_at, score, open FROM {}.tickets ORDER BY id"
    assert rows(wh, by_key.format("raw_direct")) == rows(wh, by_key.format("raw_viadlt")) == [
        (1, "a", "2024-01-01T00:00:00Z", 1.5, True), (2, "b2", "2024-01-03T00:00:00Z", 2.5, False),
        (3, "c", "2024-01-02T00:00:00Z", 3.0, True)]
    assert rows(wh, "SELECT count(*), min(schema_name) FROM raw_direct._dlt_loads") == [(2, "hub_direct")]


def test_replace_empties_the_table_first(wh: Warehouse, tmp_path: Path) -> None:
    load(wh, tmp_path, [FIRST, LATER.slice(1, 1)])
    load(wh, tmp_path, [table(id=[7], subject=["only"])])
    assert rows(wh, "SELECT id, subject, score FROM raw_api.tickets") == [(7, "only", None)]


def test_a_table_dlt_created_takes_direct_loads_and_new_columns_are_reported(wh: Warehouse, tmp_path: Path) -> None:
    load(wh, tmp_path, [FIRST], flat=False)
    outcome = load(wh, tmp_path, [table(id=[1], subject=["a2"], updatedAt=["2024-02-01T00:00:00Z"],
                                        Priority=["high"])], disposition="merge")
    changes, quarantined = outcome.for_table("tickets")
    assert [c.describe("raw_api") for c in changes] == ["raw_api.tickets + new column priority (VARCHAR)"]
    assert not quarantined
    assert rows(wh, "SELECT id, subject, priority, score FROM raw_api.tickets ORDER BY id") == [
        (1, "a2", "high", None), (2, "b", None, None)]


def test_a_value_of_another_type_lands_in_a_text_variant_column(wh: Warehouse, tmp_path: Path) -> None:
    load(wh, tmp_path, [table(id=[1], n=[5])])
    outcome = load(wh, tmp_path, [table(id=[2, 3], n=["7", "seven"])], disposition="merge")
    changes, _ = outcome.for_table("tickets")
    assert [c.describe("raw_api") for c in changes] == [
        "raw_api.tickets ~ column n changed type BIGINT -> VARCHAR (values that are not BIGINT kept as text in "
        "n__v_text)"]
    assert rows(wh, "SELECT id, n, n__v_text FROM raw_api.tickets ORDER BY id") == [
        (1, 5, None), (2, 7, None), (3, None, "seven")]


def test_records_without_a_key_are_quarantined(wh: Warehouse, tmp_path: Path) -> None:
    outcome = load(wh, tmp_path, [table(id=[1, None], subject=["kept", "no key"])])
    assert [q.reason for q in outcome.for_table("tickets")[1]] == ["missing id"]
    assert rows(wh, "SELECT id, subject FROM raw_api.tickets") == [(1, "kept")]


def test_a_failure_mid_stream_changes_nothing(wh: Warehouse, tmp_path: Path) -> None:
    load(wh, tmp_path, [FIRST])

    def failing() -> Iterator[pa.Table]:
        yield table(id=[9], subject=["new"], extra=["x"])
        raise SourceError("GET /tickets failed with 500 after 3 tries", connection="api")

    for disposition in ("replace", "merge"):
        with pytest.raises(SourceError, match="after 3 tries"):
            load(wh, tmp_path, failing(), disposition=disposition)
        assert rows(wh, "SELECT id, subject FROM raw_api.tickets ORDER BY id") == [(1, "a"), (2, "b")]
        assert "extra" not in [c for (c,) in rows(wh, "SELECT column_name FROM information_schema.columns "
                                                       "WHERE table_name = 'tickets'")]
        assert rows(wh, "SELECT count(*) FROM raw_api._dlt_loads") == [(1,)]
        assert rows(wh, "SELECT count(*) FROM duckdb_tables() WHERE temporary") == [(0,)]


def test_fields_that_share_a_column_name_are_one_clear_error(wh: Warehouse, tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="fields updatedAt, updated_at of tickets land in the same column"):
        load(wh, tmp_path, [table(id=[1], updatedAt=["x"], updated_at=["y"])])
    assert not wh.table_exists("raw_api", "tickets")


def test_a_nested_column_is_refused_not_loaded_otherwise(wh: Warehouse, tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="not text, a number or a boolean"):
        load(wh, tmp_path, [table(id=[1], tags=[["a", "b"]])])
    assert not wh.table_exists("raw_api", "tickets")


def test_a_column_without_values_is_text(wh: Warehouse, tmp_path: Path) -> None:
    load(wh, tmp_path, [pa.table({"id": [1], "note": pa.nulls(1)})])
    load(wh, tmp_path, [pa.table({"id": [2], "note": ["x"], "later": pa.nulls(1)})], disposition="merge")
    assert rows(wh, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'tickets' "
                    "ORDER BY ordinal_position") == [("id", "BIGINT"), ("note", "VARCHAR"), ("later", "VARCHAR")]
    assert rows(wh, "SELECT id, note FROM raw_api.tickets ORDER BY id") == [(1, None), (2, "x")]
