"""Identity resolution on PostgreSQL gives what it gives on DuckDB: the same person and company ids per source record,
the same identity map (normalized columns, per-field change stamps), the same id registry and merge log, and the same
canonical.person and canonical.company rows, on a first build, after incremental changes (an edit, a new record, a
merge, a record gone, a split) and on a full refresh.

The same raw tables, written as `hub ingest` lands them, go into a DuckDB project and into a PostgreSQL project (a real
server, tests/pg.py) with the same hub.toml; `hub build` runs on each.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from hub.modeling import build
from hub.project import Project
from hub.warehouse.arrow import create_temp_table, fetch_arrow
from tests.modeling import raw
from tests.modeling.conftest import HUB_TOML
from tests.modeling.raw import hubspot_company, hubspot_contact, salesforce_account, salesforce_contact
from tests import pg
from tests.pg import PgServer
pg_server, pg_database = pg.pg_server, pg.pg_database   # the throwaway cluster's fixtures, used here

SHIFT = 1 << 63   # DuckDB's UBIGINT record hash, as the signed BIGINT PostgreSQL stores (same order)
NOT_COMPARED = {"resolved_at", "content_hash"}   # when each engine resolved, and each engine's own row hash


@pytest.fixture
def pair(tmp_path: Path, pg_server: PgServer, pg_database: str) -> tuple[Project, Project]:
    """(a DuckDB project, a PostgreSQL project), the same connections."""
    (tmp_path / "duck").mkdir()
    (tmp_path / "duck" / "hub.toml").write_text(HUB_TOML)
    (tmp_path / "pg").mkdir()
    (tmp_path / "pg" / "hub.toml").write_text(
        f'[warehouse]\ntype = "postgres"\ndsn = "{pg_server.dsn(pg_database)}"\n{HUB_TOML}')
    (tmp_path / "pg" / "secrets.toml").write_text(f'[warehouse]\npassword = "{pg_server.password}"\n')
    return Project(tmp_path / "duck"), Project(tmp_path / "pg")


def write_both(pair: tuple[Project, Project], connection: str, table: str, rows: list[dict[str, Any]]) -> None:
    for project in pair:
        with project.warehouse() as wh:
            raw.write(wh, connection, table, rows)


def build_both(pair: tuple[Project, Project], *, full: bool = False) -> list[Any]:
    reports = [build(project, full_refresh=full) for project in pair]
    for report in reports:
        assert report.ok, report.errors
    return reports


def assert_same(pair: tuple[Project, Project]) -> None:
    """The identity maps, id registries, merge logs and canonical models of both projects are equal."""
    duck, pg = pair
    for entity, idc in (("person", "person_id"), ("company", "company_id")):
        want, got = _map(duck, entity), _map(pg, entity)
        for row in want:
            row["record_hash"] -= SHIFT
        assert [r["source_id"] for r in got] == [r["source_id"] for r in want]
        for g, w in zip(got, want):
            assert g == w, {k: (g.get(k), w.get(k)) for k in set(g) | set(w) if g.get(k) != w.get(k)}
        ids = f"SELECT {idc}, merged_into, ended_at IS NULL AS live FROM _hub.{entity}_ids ORDER BY {idc}"
        assert _rows(pg, ids) == _rows(duck, ids)
        merges = f"SELECT kind, {idc}, other_{idc}, records FROM _hub.{entity}_merges"
        assert sorted(_rows(pg, merges)) == sorted(_rows(duck, merges))
        canonical = f"SELECT * FROM canonical.{entity} ORDER BY {idc}"
        assert _rows(pg, canonical) == _rows(duck, canonical)
        assert entity != "person" or _rows(pg, canonical)


def _map(project: Project, entity: str) -> list[dict[str, Any]]:
    result = project.query(f"SELECT * FROM _hub.{entity}_identity ORDER BY connection, stream, source_id")
    return [{k: _value(v) for k, v in r.items() if k not in NOT_COMPARED} for r in result.records()]


def _rows(project: Project, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(_value(v) for v in row) for row in project.query(sql).rows]


def _value(value: Any) -> Any:
    """One value as both engines' drivers can agree on it (time zones by offset, decimals and floats by value)."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC) if value.tzinfo else value
    if isinstance(value, Decimal):
        return float(value)
    return value


def ids(project: Project) -> dict[str, int]:
    return {s: p for s, p in project.query("SELECT source_id, person_id FROM _hub.person_identity").rows}


def test_postgres_builds_the_same_ids_and_canonical_rows_as_duckdb(pair):
    contacts = [
        hubspot_contact("h1", email="ann.lee@acme.com", firstname="Ann", lastname="Lee", phone="(415) 555-0142",
                        company="Acme"),
        hubspot_contact("h2", email=" ANN.LEE@acme.com", firstname="Annie", lastname="Lee", city="Oslo"),
        hubspot_contact("h3", email="zed@zeta.io", firstname="Zed", lastname="Ze", jobtitle="CTO"),
        hubspot_contact("h4", email="bob@bluebird.co", firstname="Bob", lastname="Stone", phone="212-555-0199"),
        hubspot_contact("h5", email="not an email", firstname="Nia", lastname="Park"),
        hubspot_contact("h6", email="kim@keystone.com", firstname="Kim", lastname="Ng"),
    ]
    sf = [salesforce_contact("s1", first_name="Ann", last_name="Lee", phone="+1 415 555 0142", day=3),
          salesforce_contact("s2", first_name="Robert", last_name="Stone", email="rob@bluebird.co",
                             phone="+1 (212) 555-0199"),
          salesforce_contact("s3", first_name="Zed", last_name="Ze", email="ZED@zeta.io", title="Chief Technologist",
                             day=2),
          salesforce_contact("s4", first_name="Lone", last_name="Wolf")]
    write_both(pair, "hubspot", "contacts", contacts)
    write_both(pair, "salesforce", "contact", sf)
    write_both(pair, "hubspot", "companies", [hubspot_company("c1", name="Acme, Inc.", domain="https://www.acme.com")])
    write_both(pair, "salesforce", "account", [salesforce_account("a1", name="ACME Inc", website="acme.com"),
                                               salesforce_account("a2", name="Zeta", website="zeta.io")])
    _, first = build_both(pair)
    assert first.person.full and first.person.records == 10
    assert_same(pair)
    before = ids(pair[1])
    assert before["h1"] == before["h2"] == before["s1"] != before["h3"] == before["s3"]

    # incremental: an edit, a new record, a merge (h6 takes Zed's email), a record gone, and h2 splits off
    contacts[2] = hubspot_contact("h3", email="zed@zeta.io", firstname="Zed", lastname="Ze", jobtitle="CEO", day=20)
    contacts[5] = hubspot_contact("h6", email="zed@zeta.io", firstname="Kim", lastname="Ng", day=20)
    contacts[1] = hubspot_contact("h2", email="annie@elsewhere.org", firstname="Annie", lastname="Lee", day=20)
    contacts.append(hubspot_contact("h7", email="new@nimbus.io", firstname="New", lastname="Person"))
    del contacts[4]
    write_both(pair, "hubspot", "contacts", contacts)
    _, second = build_both(pair)
    assert not second.person.full and second.person.changed_records == 4 and second.person.merges == 1
    assert_same(pair)
    after = ids(pair[1])
    assert after["h6"] == after["h3"] == before["h3"] and "h5" not in after
    assert after["h1"] == before["h1"] != after["h2"]

    _, third = build_both(pair, full=True)
    assert third.person.full
    assert_same(pair)
    assert ids(pair[1]) == after


def test_arrow_round_trips_through_postgres(pair):
    data = pa.table({"s": ["x", "", None, 'q"u,o\nte'], "n": [1, None, 3, 2 ** 62], "b": [True, False, None, True],
                     "t": pa.array([datetime.datetime(2025, 3, 1, 1, 2, 3, 456789, tzinfo=datetime.UTC), None,
                                    None, None], pa.timestamp("us", tz="UTC")),
                     "f": [1.5, None, 2.0, -0.25]})
    with pair[1].warehouse() as pg, pg.transaction():
        create_temp_table(pg, "round_trip", data)
        assert fetch_arrow(pg, "SELECT * FROM round_trip").equals(data)
        assert fetch_arrow(pg, "SELECT s FROM round_trip WHERE n = ?", [3]).to_pylist() == [{"s": None}]
        empty = fetch_arrow(pg, "SELECT n, t FROM round_trip WHERE false")
        assert empty.num_rows == 0 and empty.schema.field("t").type == pa.timestamp("us", tz="UTC")


def test_a_source_listing_a_record_twice_keeps_its_latest_copy_on_both(pair):
    write_both(pair, "hubspot", "contacts", [hubspot_contact("h1", email="new@b.io", firstname="Ada")])
    for project in pair:
        target = project.root / "models" / "staging" / "csv_people.sql"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("-- materialized: view\n-- entity: person\n"
                          "SELECT source_id, email, updated_at FROM (VALUES\n"
                          "    ('x1', 'old@b.io', TIMESTAMPTZ '2025-01-01'),\n"
                          "    ('x1', 'NEW@b.io', TIMESTAMPTZ '2025-02-01')) AS t(source_id, email, updated_at)\n")
    build_both(pair)
    rows = pair[1].query("SELECT connection, source_id, email, person_id FROM _hub.person_identity "
                         "ORDER BY connection").rows
    assert [r[:3] for r in rows] == [("csv_people", "x1", "new@b.io"), ("hubspot", "h1", "new@b.io")]
    assert rows[0][3] == rows[1][3]
    assert_same(pair)
