"""How raw rows land on PostgreSQL (dlt's CSV files through COPY, hub.warehouse.pg_load): the same values as on
DuckDB for the same vendor data, an empty string kept apart from a NULL, through a full pull (replace) and an
incremental one (merge through the staging table); and the load's settings apply to that load only.
"""

from __future__ import annotations

import os

from hub.project import Project
from hub.warehouse.pg_load import LOAD_SETTINGS
from tests.warehouse.test_postgres import pg_project

HUBSPOT = """
    [connections.hubspot]
    type = "hubspot"
    base_url = "{url}"
    streams = ["contacts"]
    """


def raw_rows(project: Project) -> dict[str, tuple]:
    """Every raw contact by id, dlt's own columns left out, columns in name order."""
    columns = [r[0] for r in project.query(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw_hubspot' "
        "AND table_name = 'contacts' AND column_name NOT LIKE '\\_dlt\\_%' ESCAPE '\\' ORDER BY column_name").rows]
    listed = ", ".join(f'"{c}"' for c in columns)
    return {row[columns.index("id")]: row for row in project.query(
        f"SELECT {listed} FROM raw_hubspot.contacts").rows}


def test_empty_strings_and_nulls_land_as_on_duckdb(make_project, fresh_sandbox, pg_server, pg_database):
    sb = fresh_sandbox
    pg = Project(pg_project(make_project, sb, pg_server, pg_database))
    duck = Project(make_project(HUBSPOT.format(url=sb.hubspot.url),
                                f'[connections.hubspot]\ntoken = "{sb.hubspot.token}"\n', name="duck"))
    blank, cleared = _two_ids(duck)
    sb.hubspot.store.update("contacts", blank, {"phone": "", "jobtitle": ""})
    sb.hubspot.store.update("contacts", cleared, {"phone": None})

    for project in (pg, duck):
        report = project.ingest(full_refresh=True)
        assert report.ok, report.errors
    on_pg = raw_rows(pg)
    assert on_pg == raw_rows(duck)
    assert pg.query(f"SELECT phone, phone IS NULL, jobtitle FROM raw_hubspot.contacts WHERE id = '{blank}'").rows \
        == [("", False, "")]
    assert pg.query(f"SELECT phone IS NULL FROM raw_hubspot.contacts WHERE id = '{cleared}'").scalar() is True

    # an incremental pull merges through dlt's staging table: the same COPY, the same values
    sb.hubspot.store.update("contacts", cleared, {"phone": ""})
    sb.hubspot.store.update("contacts", blank, {"phone": "+1 212 555 0100"})
    sb.clock.advance(5)
    for project in (pg, duck):
        report = project.ingest()
        assert report.ok, report.errors
        assert [r.mode for r in report.results] == ["incremental"]
    assert raw_rows(pg) == raw_rows(duck)
    assert pg.query(f"SELECT id, phone FROM raw_hubspot.contacts WHERE id IN ('{blank}', '{cleared}') "
                    "ORDER BY phone").rows == [(cleared, ""), (blank, "+1 212 555 0100")]
    assert len(raw_rows(pg)) == len(on_pg)
    # dlt's switch is set for the load alone: nothing of it is left in the process
    assert not set(LOAD_SETTINGS) & set(os.environ)


def _two_ids(project: Project) -> list[str]:
    """Two contact ids, read from a first ingest of ``project``."""
    report = project.ingest()
    assert report.ok, report.errors
    return [r[0] for r in project.query("SELECT id FROM raw_hubspot.contacts ORDER BY id LIMIT 2").rows]
