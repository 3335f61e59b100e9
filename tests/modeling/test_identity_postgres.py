"""Identity resolution on PostgreSQL gives the identity map DuckDB gives: the same person and company ids per source
record, the same normalized columns, the same id registry and merge log, on a first resolution, after incremental
changes (an edit, a new record, a merge, a record gone, a split) and on a full re-resolution.

Both engines resolve the same input: the project is built on DuckDB from raw tables written as `hub ingest` lands
them, and the staged unions identity reads (``staging.person_records``, ``staging.company_records``) are copied row for
row into a real PostgreSQL database (tests/pg.py), where :func:`hub.modeling.identity.resolve` runs through a
:class:`PostgresWarehouse`. (`hub build` as a whole does not run on PostgreSQL yet: its staging and canonical models
need the SQL translation; identity's own SQL is what this covers.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from hub.config import WarehouseConfig
from hub.modeling import build
from hub.modeling.builder import rankable_fields
from hub.modeling.catalog import load_catalog
from hub.modeling.identity import resolve
from hub.modeling.materialize import STATE_DDL
from hub.modeling.records import RESOLVERS
from hub.modeling.settings import load_settings
from hub.project import Project
from hub.secrets import Secret
from hub.warehouse.arrow import create_temp_table, fetch_arrow
from hub.warehouse.postgres import PostgresWarehouse
from hub.warehouse.sql import qualified
from tests.modeling.raw import hubspot_company, hubspot_contact, salesforce_account, salesforce_contact
from tests.pg import PgServer, pg_database, pg_server  # noqa: F401 - fixtures

SHIFT = 1 << 63   # DuckDB's UBIGINT record hash, as the signed BIGINT PostgreSQL stores (same order)
NOT_COMPARED = {"resolved_at", "content_hash"}   # when each engine resolved, and each engine's own row hash


@pytest.fixture
def pg(pg_server: PgServer, pg_database: str, tmp_path: Path) -> PostgresWarehouse:  # noqa: F811
    config = WarehouseConfig(type="postgres", dsn=pg_server.dsn(pg_database), password=Secret(pg_server.password))
    wh = PostgresWarehouse(config, tmp_path / ".hub" / "postgres")
    with wh.transaction():
        wh.execute(STATE_DDL)
    yield wh
    wh.close()


def resolve_both(project: Project, pg: PostgresWarehouse, *, full: bool = False, run: int = 1) -> dict[str, Any]:
    """Build on DuckDB, copy its staged unions into PostgreSQL and resolve them there (companies first, as a build
    does); the PostgreSQL summaries.

    Identity also reads the canonical models of the previous build (an echo of the value an entity already holds is
    no edit): those are copied as they stand before this build, as a build on PostgreSQL would have left them."""
    with project.warehouse(read_only=True) as duck:
        previous = {name: fetch_arrow(duck, f"SELECT * FROM {name}") for name in ("canonical.person",
                                                                                 "canonical.company")
                    if duck.table_exists(*name.split("."))}
    for name, rows in previous.items():
        copy(pg, name, rows)
    report = build(project, full_refresh=full)
    assert report.ok, report.errors
    catalog = load_catalog(project)
    settings = load_settings(project, rankable_fields(catalog))
    summaries = {}
    for entity in ("company", "person"):
        resolver = RESOLVERS[entity]
        union = resolver.entity.union
        with project.warehouse(read_only=True) as duck:
            copy(pg, union, fetch_arrow(duck, f"SELECT * FROM {union}"))
        summaries[entity] = resolve(pg, resolver, settings[entity], source=union, run_id=f"pg-{run}", full=full)
    return summaries


def copy(pg: PostgresWarehouse, name: str, rows: pa.Table) -> None:
    """Replace table ``name`` in PostgreSQL with ``rows``."""
    schema, _, table = name.partition(".")
    with pg.transaction():
        create_temp_table(pg, "incoming", rows)
        pg.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        pg.execute(f"DROP TABLE IF EXISTS {qualified(schema, table)}")
        pg.execute(f"CREATE TABLE {qualified(schema, table)} AS SELECT * FROM incoming")
        pg.execute("DROP TABLE pg_temp.incoming")


def table(wh: Any, sql: str) -> list[dict[str, Any]]:
    return fetch_arrow(wh, sql).to_pylist()


def assert_same_maps(project: Project, pg: PostgresWarehouse) -> None:
    with project.warehouse(read_only=True) as duck:
        for entity, idc in (("person", "person_id"), ("company", "company_id")):
            got, want = _map(pg, entity), _map(duck, entity)
            assert {r["source_id"] for r in got} == {r["source_id"] for r in want}
            for row in want:
                row["record_hash"] -= SHIFT
            for g, w in zip(got, want):
                assert g == w, {k: (g.get(k), w.get(k)) for k in set(g) | set(w) if g.get(k) != w.get(k)}
            assert got == want
            order = f"ORDER BY {idc}"
            ids = f"SELECT {idc}, merged_into, ended_at IS NULL AS live FROM _hub.{entity}_ids {order}"
            assert table(pg, ids) == table(duck, ids)
            merges = f"SELECT kind, {idc}, other_{idc}, records FROM _hub.{entity}_merges " \
                     f"ORDER BY run_id, kind, {idc}, other_{idc}"
            assert sorted(map(_row, table(pg, merges))) == sorted(map(_row, table(duck, merges)))


def _map(wh: Any, entity: str) -> list[dict[str, Any]]:
    rows = table(wh, f"SELECT * FROM _hub.{entity}_identity ORDER BY connection, stream, source_id")
    return [{k: v for k, v in r.items() if k not in NOT_COMPARED} for r in rows]


def _row(r: dict[str, Any]) -> tuple:
    return tuple(str(v) for v in r.values())


def person_ids(pg: PostgresWarehouse) -> dict[str, int]:
    return {r["source_id"]: r["person_id"] for r in table(pg, "SELECT source_id, person_id FROM _hub.person_identity")}


def test_postgres_resolves_to_the_same_ids_as_duckdb_first_incrementally_and_in_full(project, write_raw, pg):
    contacts = [
        hubspot_contact("h1", email="ann.lee@acme.com", firstname="Ann", lastname="Lee", phone="(415) 555-0142"),
        hubspot_contact("h2", email=" ANN.LEE@acme.com", firstname="Annie", lastname="Lee"),
        hubspot_contact("h3", email="zed@zeta.io", firstname="Zed", lastname="Ze", jobtitle="CTO"),
        hubspot_contact("h4", email="bob@bluebird.co", firstname="Bob", lastname="Stone", phone="212-555-0199"),
        hubspot_contact("h5", email="not an email", firstname="Nia", lastname="Park"),
        hubspot_contact("h6", email="kim@keystone.com", firstname="Kim", lastname="Ng"),
    ]
    sf = [salesforce_contact("s1", first_name="Ann", last_name="Lee", phone="+1 415 555 0142"),
          salesforce_contact("s2", first_name="Robert", last_name="Stone", email="rob@bluebird.co",
                             phone="+1 (212) 555-0199"),
          salesforce_contact("s3", first_name="Zed", last_name="Ze", email="ZED@zeta.io", title="Chief Technologist"),
          salesforce_contact("s4", first_name="Lone", last_name="Wolf")]
    write_raw("hubspot", "contacts", contacts)
    write_raw("salesforce", "contact", sf)
    write_raw("hubspot", "companies", [hubspot_company("c1", name="Acme, Inc.", domain="https://www.acme.com")])
    write_raw("salesforce", "account", [salesforce_account("a1", name="ACME Inc", website="acme.com"),
                                        salesforce_account("a2", name="Zeta", website="zeta.io")])
    first = resolve_both(project, pg, run=1)
    assert first["person"].full and first["person"].records == 10
    assert_same_maps(project, pg)
    before = person_ids(pg)
    assert before["h1"] == before["h2"] == before["s1"] != before["h3"] == before["s3"]

    # incremental: an edit, a new record, a merge (h6 takes Zed's email), a record gone, and h2 splits off
    contacts[2] = hubspot_contact("h3", email="zed@zeta.io", firstname="Zed", lastname="Ze", jobtitle="CEO", day=20)
    contacts[5] = hubspot_contact("h6", email="zed@zeta.io", firstname="Kim", lastname="Ng", day=20)
    contacts[1] = hubspot_contact("h2", email="annie@elsewhere.org", firstname="Annie", lastname="Lee", day=20)
    contacts.append(hubspot_contact("h7", email="new@nimbus.io", firstname="New", lastname="Person"))
    del contacts[4]
    write_raw("hubspot", "contacts", contacts)
    second = resolve_both(project, pg, run=2)
    assert not second["person"].full and second["person"].changed_records == 4
    assert second["person"].merges == 1
    assert_same_maps(project, pg)
    after = person_ids(pg)
    assert after["h6"] == after["h3"] == before["h3"] and "h5" not in after
    assert after["h1"] == before["h1"] != after["h2"]

    third = resolve_both(project, pg, full=True, run=3)
    assert third["person"].full
    assert_same_maps(project, pg)
    assert person_ids(pg) == after


def test_arrow_round_trips_through_postgres(pg):
    import datetime

    data = pa.table({"s": ["x", "", None, 'q"u,o\nte'], "n": [1, None, 3, 2 ** 62], "b": [True, False, None, True],
                     "t": pa.array([datetime.datetime(2025, 3, 1, 1, 2, 3, 456789, tzinfo=datetime.UTC), None,
                                    None, None], pa.timestamp("us", tz="UTC")),
                     "f": [1.5, None, 2.0, -0.25]})
    with pg.transaction():
        create_temp_table(pg, "round_trip", data)
        assert fetch_arrow(pg, "SELECT * FROM round_trip").equals(data)
        assert fetch_arrow(pg, "SELECT s FROM round_trip WHERE n = ?", [3]).to_pylist() == [{"s": None}]
        empty = fetch_arrow(pg, "SELECT n, t FROM round_trip WHERE false")
        assert empty.num_rows == 0 and empty.schema.field("t").type == pa.timestamp("us", tz="UTC")
