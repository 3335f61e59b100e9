"""The push engine's own state in ``_hub`` (sync state, rejected rows, conflicts, skipped deletions, the target's
field cache) written and read the same way on DuckDB and on PostgreSQL: one script of calls, run on each engine
(a fixture parameter), must leave the same answers. The SQL is written once; what only DuckDB says (``INSERT OR
REPLACE``, ``QUALIFY``, ``arg_max``, ``* REPLACE``, named parameters) is not in it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.reverse_etl import deletions, state
from hub.reverse_etl.config import SyncConfig
from hub.reverse_etl.diff import Model, _resolved, positional

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["duckdb", "postgres"])
def wh(request, tmp_path):
    """An empty warehouse of each engine, open for writing."""
    if request.param == "duckdb":
        from hub.warehouse import Warehouse

        handle = Warehouse(tmp_path / "warehouse.duckdb")
    else:
        from hub.config import WarehouseConfig
        from hub.secrets import Secret
        from hub.warehouse.postgres import PostgresWarehouse

        server = request.getfixturevalue("pg_server")
        database = request.getfixturevalue("pg_database")
        config = WarehouseConfig(type="postgres", dsn=server.dsn(database), password=Secret(server.password))
        handle = PostgresWarehouse(config, tmp_path / ".hub" / "postgres")
    with handle:
        state.ensure(handle)
        deletions.ensure(handle)
        yield handle


def sync(name: str = "person_to_crm", **kw: Any) -> SyncConfig:
    base = dict(name=name, model="canonical.person", to="crm", connection_type="hubspot", object="contacts",
                mode="upsert", match_column="email", match_field="email", fields=(("phone", "phone"),))
    return SyncConfig(**{**base, **kw})


def test_acks_rejections_and_removals(wh):
    acks = state.Acks(wh, "person_to_crm")
    acks.rejected("3", None, "create", "bad email", "INVALID_EMAIL", {"email": "x"})
    acks.synced("1", "t1", "h1", {"email": "a@x.io"})
    acks.synced("2", "t2", "h2", None)
    acks.flush()
    acks.rejected("3", None, "create", "still bad", "INVALID_EMAIL", {"email": "y"})
    acks.synced("1", "t1", "h1b", {"email": "a@x.io", "phone": "+1"})   # replaces the row
    acks.gone("2")
    acks.flush()
    assert wh.query("SELECT key, target_id, row_hash, pushed FROM _hub.sync_state ORDER BY key").rows == [
        ("1", "t1", "h1b", '{"email":"a@x.io","phone":"+1"}')]
    [bad] = state.rejected(wh, "person_to_crm")
    assert (bad["key"], bad["reason"], bad["attempts"], bad["payload"]) == ("3", "still bad", 2, '{"email":"y"}')
    assert bad["first_rejected_at"] < bad["last_rejected_at"]
    acks.synced("3", "t3", "h3", None)   # accepted at last: it leaves the rejected rows
    acks.flush()
    assert state.rejected(wh, "person_to_crm") == []
    assert state.counts(wh) == {"person_to_crm": {"synced": 2}}


def test_conflicts_resolutions_and_held_fields(wh):
    row = dict(model="canonical.person", key="1", model_column="phone", policy="latest", candidates=[],
               syncs="person_to_crm,person_to_erp", run_id="r1")
    state.record_conflicts(wh, [
        {**row, "conflict_id": "c1", "winner": "erp", "resolved_value": "+1 old"},
        {**row, "conflict_id": "c1", "winner": "erp", "resolved_value": "+1 dup"},   # seen from both syncs: once
        {**row, "conflict_id": "c3", "key": "2", "winner": "erp", "resolved_value": None},
        {**row, "conflict_id": "c4", "key": "3", "winner": "crm", "resolved_value": "+3"},   # crm's own value
        {**row, "conflict_id": "c5", "key": "4", "winner": "-", "resolved_value": None, "status": state.HELD,
         "candidates": [{"value": "a"}, {"value": "b"}]},
    ])
    # a later decision on key 1 (detected later): the newest non-NULL resolution wins, as DuckDB's arg_max does
    wh.execute("UPDATE _hub.sync_conflicts SET detected_at = ? WHERE conflict_id = 'c1'", [T0])
    state.record_conflicts(wh, [{**row, "conflict_id": "c2", "winner": "erp", "resolved_value": "+1 new"}])
    wh.execute("UPDATE _hub.sync_conflicts SET detected_at = ? WHERE conflict_id = 'c2'", [T0 + timedelta(hours=1)])
    got = state.resolutions(wh, "person_to_crm", "canonical.person", "crm", None)
    assert dict(got) == {("1", "phone"): "+1 new", ("2", "phone"): None}
    assert got.held == {("4", "phone"): frozenset({"a", "b"})}
    assert dict(state.resolutions(wh, "person_to_other", "canonical.person", "crm", None)) == {}
    assert [(c["key"], c["status"]) for c in state.conflicts(wh, held_only=True)] == [("4", "held")]
    assert len(state.conflicts(wh)) == 5


def test_field_cache_and_skipped_deletions(wh):
    state.cache_fields(wh, "crm", "contacts", {"email": {"type": "string"}})
    state.cache_fields(wh, "crm", "contacts", {"email": {"type": "string"}, "phone": {"type": "string"}})
    assert set(state.cached_fields(wh, "crm", "contacts")) == {"email", "phone"}
    tombstones = deletions.TargetDeletions(wh, sync())
    tombstones.missing("1", "t1")
    tombstones.missing("2", "t2")
    tombstones.flush()
    tombstones.missing("1", "t1")   # seen again: recorded once
    tombstones.gone = ["2"]
    tombstones.flush()
    assert [(r["sync"], r["key"], r["target_id"]) for r in deletions.skipped(wh)] == [("person_to_crm", "1", "t1")]
    state.Acks(wh, "person_to_crm", states=[("1", "t9", "h", None)]).flush()   # re-created elsewhere
    tombstones.flush()
    assert deletions.skipped(wh) == []


def test_references_resolve_to_the_other_syncs_records_and_named_parameters_become_positional(wh):
    wh.execute("CREATE SCHEMA canonical")
    wh.execute("CREATE TABLE canonical.deal (deal_id VARCHAR, person_id VARCHAR, amount BIGINT)")
    wh.execute("INSERT INTO canonical.deal VALUES ('d1', 'p1', 10), ('d2', 'p2', 20), ('d3', NULL, 30)")
    state.Acks(wh, "person_to_crm", states=[("p1", "crm-1", "h", None)]).flush()
    deal = sync("deal_to_crm", model="canonical.deal", match_column="deal_id", fields=(("person_id", "owner"),),
                refs=(("person_id", "person_to_crm"),))
    relation = _resolved(deal, '"canonical"."deal"', ["deal_id", "person_id", "amount"])
    model = Model(relation, "deal_id", {})
    sql, params = positional("SELECT deal_id, person_id, amount FROM " + model.rows + " AND amount > $min "
                             "AND deal_id <> '$min' ORDER BY deal_id", {"min": 5})
    assert params == [5]
    assert wh.query(sql, params).rows == [("d1", "crm-1", 10), ("d2", None, 20), ("d3", None, 30)]
