"""hub's DuckDB statements on a real PostgreSQL, through the one translator (hub/warehouse/translate.py): each
construct with no one-to-one counterpart runs and means what it means in DuckDB, and the same statement gives the
same rows on both engines."""

from __future__ import annotations

import pytest

from hub.config import WarehouseConfig
from hub.errors import WarehouseError
from hub.secrets import Secret
from hub.warehouse.duck import Warehouse
from hub.warehouse.functions import SURVIVOR_KEY, TWO_WAY_MACROS
from hub.warehouse.postgres import PostgresWarehouse
from hub.warehouse.translate import translate
from tests.pg import PgServer


@pytest.fixture
def pg(pg_server: PgServer, pg_database: str, tmp_path):
    config = WarehouseConfig(type="postgres", dsn=pg_server.dsn(pg_database), password=Secret(pg_server.password))
    with PostgresWarehouse(config, tmp_path / ".hub" / "postgres") as wh:
        yield wh


@pytest.fixture
def duck(tmp_path):
    with Warehouse(tmp_path / "w.duckdb") as wh:
        yield wh


def both(pg: PostgresWarehouse, duck: Warehouse, *statements: str) -> None:
    for statement in statements:
        pg.execute(statement)
        duck.execute(statement)


def test_the_translation_of_each_kind():
    kinds = {sql: [(s.kind, s.sql) for s in translate(sql, "postgres")] for sql in (
        "SET memory_limit = '512MB'", "RESET preserve_insertion_order", SURVIVOR_KEY,
        "CREATE OR REPLACE TEMP TABLE hub_delta AS SELECT DISTINCT a FROM t WHERE v > ?",
        "DROP TABLE IF EXISTS temp.hub_delta", "SELECT '50%' LIKE ?")}
    assert kinds["SET memory_limit = '512MB'"] == [("skip", "")]
    assert kinds["RESET preserve_insertion_order"] == [("skip", "")]
    assert kinds[SURVIVOR_KEY] == [("skip", "")]
    assert kinds["CREATE OR REPLACE TEMP TABLE hub_delta AS SELECT DISTINCT a FROM t WHERE v > ?"] == [
        ("replace", "CREATE TEMPORARY TABLE hub_delta AS SELECT DISTINCT a FROM t WHERE v > ?")]
    assert kinds["DROP TABLE IF EXISTS temp.hub_delta"] == [("drop", "DROP TABLE IF EXISTS pg_temp.hub_delta")]
    assert kinds["SELECT '50%' LIKE ?"] == [("plain", "SELECT '50%' LIKE ?")]


def test_create_or_replace_keeps_the_views_built_on_it(pg, duck):
    both(pg, duck, "CREATE SCHEMA s", "CREATE OR REPLACE TABLE s.t AS SELECT 1 AS a, 'x' AS b",
         "CREATE OR REPLACE VIEW s.v AS SELECT a, b FROM s.t",
         "CREATE OR REPLACE VIEW s.w AS SELECT count(*) AS n FROM s.v",
         "CREATE OR REPLACE TABLE s.t AS SELECT * FROM (VALUES (2, 'y'), (3, 'z')) AS x(a, b)")
    for wh in (pg, duck):
        assert wh.query("SELECT a, b FROM s.v ORDER BY a").rows == [(2, "y"), (3, "z")]
        assert wh.query("SELECT n FROM s.w").scalar() == 2
    # a view replaced with other columns (PostgreSQL's own CREATE OR REPLACE VIEW refuses that)
    both(pg, duck, "CREATE OR REPLACE VIEW s.v AS SELECT b FROM s.t")
    assert pg.query("SELECT b FROM s.v ORDER BY b").rows == [("y",), ("z",)]
    # all or nothing: a failing replacement leaves the table and its views as they were
    with pytest.raises(WarehouseError):
        pg.execute("CREATE OR REPLACE TABLE s.t AS SELECT a / 0 AS a FROM s.t")
    assert pg.query("SELECT n FROM s.w").scalar() == 2


def test_a_table_dropped_and_created_again_keeps_its_views(pg, duck):
    both(pg, duck, "CREATE SCHEMA s", "CREATE TABLE s.t AS SELECT 1 AS a", "CREATE VIEW s.v AS SELECT a FROM s.t",
         "DROP TABLE s.t", "CREATE TABLE s.t AS SELECT 2 AS a, 'new' AS b")
    for wh in (pg, duck):
        assert wh.query("SELECT a FROM s.v").rows == [(2,)]


def test_insert_or_replace_by_name_and_describe(pg, duck):
    both(pg, duck, "CREATE SCHEMA s", "CREATE TABLE s.kv (k VARCHAR PRIMARY KEY, v BIGINT, note VARCHAR)")
    for wh in (pg, duck):
        wh.execute("INSERT OR REPLACE INTO s.kv VALUES (?, ?, ?)", ["a", 1, "first"])
        wh.execute("INSERT OR REPLACE INTO s.kv VALUES (?, ?, ?)", ["a", 2, "50% more"])
        wh.execute("INSERT INTO s.kv BY NAME SELECT 'b' AS k, 'by name' AS note, 7 AS v")
        assert wh.query("SELECT k, v, note FROM s.kv ORDER BY k").rows == [("a", 2, "50% more"), ("b", 7, "by name")]
    assert [r[:2] for r in pg.query("DESCRIBE s.kv").rows] == [("k", "VARCHAR"), ("v", "BIGINT"), ("note", "VARCHAR")]
    assert [r[:2] for r in pg.query("DESCRIBE SELECT CAST(1.5 AS DECIMAL(18,2)) AS m, now() AS t").rows] == [
        ("m", "DECIMAL(18,2)"), ("t", "TIMESTAMP WITH TIME ZONE")]


def test_temp_tables_and_duckdb_settings(pg, duck):
    both(pg, duck, "SET preserve_insertion_order = false",
         "CREATE OR REPLACE TEMP TABLE hub_delta AS SELECT 1 AS k",
         "CREATE OR REPLACE TEMP TABLE hub_delta AS SELECT 2 AS k UNION ALL SELECT 3",
         "RESET preserve_insertion_order")
    for wh in (pg, duck):
        assert wh.query("SELECT count(*), sum(k) FROM hub_delta").rows == [(2, 5)]
        wh.execute("DROP TABLE temp.hub_delta")


def test_hubs_functions_and_arg_max_give_duckdbs_answer(pg, duck):
    duck.execute("CREATE SCHEMA IF NOT EXISTS _hub")
    duck.execute(SURVIVOR_KEY)
    duck.execute(TWO_WAY_MACROS)
    pg.execute(SURVIVOR_KEY)      # nothing to create on PostgreSQL: the functions are inlined
    rows = ("(1, 'a', 'x', true, 0, TIMESTAMPTZ '2024-01-01 00:00:00+00'), "
            "(1, 'b', NULL, true, 1, TIMESTAMPTZ '2024-03-01 00:00:00+00'), "
            "(1, 'c', 'y', false, 0, TIMESTAMPTZ '2024-05-01 00:00:00+00'), "
            "(2, 'd', 'z', NULL, NULL, NULL)")
    sql = (f"SELECT id, arg_max(v, _hub.survivor_key(ok, rnk, changed, src)) FILTER (WHERE v IS NOT NULL) AS best, "
           f"arg_max(v, changed) AS latest, bool_or(_hub.edited(ok, v, 'x')) AS edited, "
           f"max(_hub.held(ok, v, 'kept')) AS held, max(_hub.two_way_key(ok, rnk, changed, src) >> 25) AS k "
           f"FROM (VALUES {rows}) AS t(id, src, v, ok, rnk, changed) GROUP BY id ORDER BY id")
    assert pg.query(sql).rows == duck.query(sql).rows
    assert [r[1] for r in pg.query(sql).rows] == ["x", "z"]


def test_a_call_of_hubs_functions_with_the_wrong_arguments_is_one_error(pg):
    with pytest.raises(WarehouseError, match=r"^cannot run this SQL on postgres: _hub.survivor_key takes 4 "
                                             r"arguments: valid, rank, updated_at, tiebreak"):
        pg.query("SELECT _hub.survivor_key(true, 0)")
