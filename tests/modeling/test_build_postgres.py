"""`hub build` on a PostgreSQL warehouse gives the rows it gives on DuckDB.

One sandbox (HubSpot and Salesforce over loopback HTTP) is ingested into a DuckDB project and into a PostgreSQL
project (tests/pg.py) with the same hub.toml and the same models of the project's own: a table with audits, an
incremental model on a cursor, one on a change log, a view using ``arg_max``. Every built-in staging model, every
generated union, identity resolution, the canonical models and the project's models are built on both, and each
relation's rows must be equal (the same person ids included).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hub.errors import WarehouseError
from hub.project import Project
from tests.conftest import run_hub
from tests.pg import PgServer

SELECTORS = ("staging.*", "marts.*")
MODELS = {
    "models/marts/people_by_connection.sql": """
        -- materialized: table
        -- audit: unique(connection)
        -- audit: not_null(connection, people)
        -- audit: accepted_values(connection, ['hubspot', 'salesforce'])
        SELECT connection, count(*) AS people, count(email) AS with_email,
               max(updated_at) AS last_update, try_cast('12.5' AS DOUBLE) AS parsed
        FROM staging.person_records
        GROUP BY connection
        """,
    "models/marts/person_log.sql": """
        -- materialized: incremental
        -- unique_key: connection, source_id
        -- cursor: updated_at
        SELECT connection, source_id, lower(trim(email)) AS email, first_name, updated_at
        FROM staging.person_records
        """,
    "models/marts/person_counts.sql": """
        -- materialized: incremental
        -- unique_key: connection, source_id
        -- changes: raw_log.person_changes
        SELECT connection, source_id, count(*) AS n, max(updated_at) AS updated_at
        FROM staging.person_records
        GROUP BY connection, source_id
        """,
    "models/marts/latest_deal.sql": """
        -- materialized: view
        SELECT connection, arg_max(name, updated_at) AS latest, count(*) AS deals, sum(amount) AS amount
        FROM staging.deal_records
        GROUP BY connection
        """,
}


def _toml(sb: Any, warehouse: str) -> str:
    return textwrap.dedent(f"""
        {warehouse}
        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"
        streams = ["contacts", "companies", "deals", "tickets"]

        [connections.salesforce]
        type = "salesforce"
        base_url = "{sb.salesforce.url}"
        streams = ["Contact", "Account", "Lead", "Opportunity", "Case"]
        """)


def _project(root: Path, sb: Any, warehouse: str, secrets: str = "") -> Project:
    root.mkdir(parents=True)
    (root / "hub.toml").write_text(_toml(sb, warehouse))
    (root / "secrets.toml").write_text(f'{secrets}[connections.hubspot]\ntoken = "{sb.hubspot.token}"\n'
                                       f'[connections.salesforce]\ntoken = "{sb.salesforce.token}"\n')
    for path, text in MODELS.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(textwrap.dedent(text).lstrip())
    return Project(root)


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    from hub.sandbox import Sandbox

    with Sandbox(seed=23, people=60, hubspot_rate_limit=None) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def pair(sb: Any, pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Project]:
    """(DuckDB project, PostgreSQL project), both ingested from the same sandbox."""
    base = tmp_path_factory.mktemp("build_pg")
    duck = _project(base / "duck", sb, "")
    dsn = pg_server.dsn(pg_server.new_database())
    pg = _project(base / "pg", sb, f'[warehouse]\ntype = "postgres"\ndsn = "{dsn}"\n',
                  f'[warehouse]\npassword = "{pg_server.password}"\n')
    for project in (duck, pg):
        report = project.ingest()
        assert report.ok, report.errors
        with project.warehouse() as wh:   # a change log of keys, as identity keeps them for canonical.person
            wh.execute("CREATE SCHEMA raw_log")
            wh.execute("CREATE TABLE raw_log.person_changes (connection VARCHAR, source_id VARCHAR, "
                       "change_version BIGINT)")
    return duck, pg


def _value(value: Any) -> Any:
    """One value as both engines' drivers can agree on it (JSON parsed, times in UTC, floats rounded)."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def rows(project: Project, relation: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    result = project.query(f"SELECT * FROM {relation}")
    return result.columns, sorted((tuple(_value(v) for v in row) for row in result.rows), key=repr)


def assert_same(duck: Project, pg: Project, names: list[str]) -> None:
    for name in names:
        duck_columns, duck_rows = rows(duck, name)
        pg_columns, pg_rows = rows(pg, name)
        assert pg_columns == duck_columns, name
        assert pg_rows == duck_rows, f"{name}: PostgreSQL and DuckDB differ"


def built(report: Any) -> list[str]:
    return [r.name for r in report.results if r.status == "success"]


def test_staging_unions_and_project_models_build_the_same_rows_on_both(pair):
    duck, pg = pair
    duck_report, pg_report = duck.build(SELECTORS), pg.build(SELECTORS)
    assert duck_report.ok and pg_report.ok, (duck_report.errors, pg_report.errors)
    assert [(r.name, r.status, r.mode, r.rows) for r in pg_report.results] == \
        [(r.name, r.status, r.mode, r.rows) for r in duck_report.results]
    names = built(pg_report)
    assert {"staging.hubspot_contacts", "staging.salesforce_contact", "staging.person_records",
            "staging.deal_records", "marts.people_by_connection", "marts.person_log", "marts.person_counts",
            "marts.latest_deal"} <= set(names)
    assert pg.query("SELECT count(*) FROM staging.person_records").scalar() > 50
    assert_same(duck, pg, names)

    # the second build: the incremental model adds nothing; the table and the views are rebuilt in place, and the
    # views over them still read them (PostgreSQL binds a view to its tables)
    again = pg.build(SELECTORS)
    assert again.ok, again.errors
    log = next(r for r in again.results if r.name == "marts.person_log")
    assert (log.mode, log.written) == ("incremental", 0)
    assert pg.query("SELECT count(*) FROM staging.person_records").scalar() == \
        duck.query("SELECT count(*) FROM staging.person_records").scalar()
    state = pg.query("SELECT model, materialized FROM _hub.model_state WHERE model LIKE 'marts.%' ORDER BY 1").rows
    assert state == [("marts.latest_deal", "view"), ("marts.people_by_connection", "table"),
                     ("marts.person_counts", "incremental"), ("marts.person_log", "incremental")]

    full = pg.build(["marts.person_log"], full_refresh=True)
    assert [(r.name, r.mode) for r in full.results] == [("marts.person_log", "full")]
    assert_same(duck, pg, ["marts.person_log"])


def test_an_edit_flows_through_incrementally_on_both(pair, sb):
    duck, pg = pair
    for project in (duck, pg):
        assert project.build(SELECTORS).ok
    contact = sb.hubspot.store.tables["contacts"].order[0]
    sb.hubspot.store.update("contacts", contact, {"firstname": "Zelda"})
    sb.clock.advance(60)
    for project in (duck, pg):
        assert project.ingest().ok
        with project.warehouse() as wh:
            wh.execute("INSERT INTO raw_log.person_changes SELECT 'hubspot', id, 1 FROM raw_hubspot.contacts "
                       "WHERE firstname = 'Zelda'")
        report = project.build(SELECTORS)
        assert report.ok, report.errors
        modes = {r.name: (r.mode, r.written) for r in report.results}
        assert modes["marts.person_log"] == ("incremental", 1)       # past the cursor
        assert modes["marts.person_counts"] == ("incremental", 1)    # logged in the change log
        # every reader consumed the log: pruned
        assert project.query("SELECT count(*) FROM raw_log.person_changes").scalar() == 0
    assert pg.query("SELECT count(*) FROM marts.person_log WHERE first_name = 'Zelda'").scalar() == 1
    assert_same(duck, pg, ["marts.person_log", "marts.person_counts", "marts.people_by_connection",
                           "staging.person_records"])


def test_a_failing_audit_keeps_the_previous_table(pair):
    _, pg = pair
    assert pg.build(["marts.people_by_connection"]).ok
    before = rows(pg, "marts.people_by_connection")
    path = pg.root / "models/marts/people_by_connection.sql"
    text = path.read_text()
    try:
        path.write_text(text.replace("'hubspot', 'salesforce'", "'hubspot'"))
        report = Project(pg.root).build(["marts.people_by_connection"])
        assert not report.ok
        [error] = report.errors
        assert "audit accepted_values(connection, ['hubspot']) failed: 1 row(s) outside ['hubspot']" in str(error)
        assert rows(pg, "marts.people_by_connection") == before
    finally:
        path.write_text(text)


def test_the_cli_builds_every_model_on_postgres_as_on_duckdb(pair):
    """`hub build` as a user runs it, identity resolution and the canonical models included: the same persons,
    companies and business records, under the same ids, as DuckDB's build."""
    duck, pg = pair
    done = run_hub("build", cwd=pg.root)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    duck_report = duck.build()
    assert duck_report.ok, duck_report.errors
    names = [r.name for r in duck_report.results if r.status == "success" and r.mode != "identity"]
    assert {"canonical.person", "canonical.company", "canonical.deal", "canonical.ticket", "canonical.lead",
            "canonical.person_source"} <= set(names)
    assert pg.query("SELECT count(*) FROM canonical.person").scalar() > 40
    assert_same(duck, pg, names)
    again = pg.build()
    assert again.ok, again.errors
    assert again.person.changed_records == 0
    person = next(r for r in again.results if r.name == "canonical.person")
    assert (person.mode, person.written) == ("incremental", 0)
    listed = run_hub("models", cwd=pg.root)     # last build and row counts, read from PostgreSQL
    assert listed.returncode == 0, listed.stderr
    assert "canonical.person" in listed.stdout


def test_a_plan_an_engine_cannot_run_is_refused_before_anything_is_written():
    from hub.modeling.builder import check_engine
    from hub.modeling.model import Header, Model

    step = Model(name="_hub.person_identity", kind="identity", header=Header(materialized="identity"), file="x")
    check_engine([step], "postgres")
    with pytest.raises(WarehouseError, match=r"^hub build: identity resolution \(_hub.person_identity\) does not "
                                             r"run on a snowflake warehouse yet"):
        check_engine([step], "snowflake")


def test_a_broken_model_fails_in_one_line_on_postgres(pair):
    _, pg = pair
    path = pg.root / "models/marts/broken.sql"
    path.write_text("-- materialized: table\nSELECT connection, no_such_column FROM staging.person_records\n")
    try:
        done = run_hub("build", "+marts.broken", cwd=pg.root)
    finally:
        path.unlink()
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        'error: models/marts/broken.sql: column "no_such_column" does not exist (fix the SQL; the previous version '
        'was kept)']
    assert "OK    staging.person_records" in done.stdout


def test_every_built_in_model_of_every_integration_builds_the_same_rows(make_project, pg_server):
    """Raw tables for every staging model of the six integrations (typed as dlt lands them, with values try_cast
    must turn into NULL), loaded alike into both engines; then the whole build, compared relation by relation.

    The raw rows share their times across connections, so every field is given a source priority: survivorship ties
    are broken by another hash on PostgreSQL (the `-- differs:` note of `hub compile`), and this compares the rest."""
    from hub.modeling.entities import ENTITIES
    from tests.modeling.test_compile import EVERY_INTEGRATION
    from tests.modeling.test_compile_postgres import load_inputs

    order = '["hubspot", "salesforce", "shopify", "stripe", "quickbooks", "zendesk"]'
    toml = EVERY_INTEGRATION + "".join(
        f"\n[models.{e.name}]\npriority = {{ {', '.join(f'{f} = {order}' for f in e.survivable)} }}\n"
        for e in ENTITIES.values())

    duck = Project(make_project(toml, name="every_duck"))
    pg = Project(make_project(f'[warehouse]\ntype = "postgres"\ndsn = "{pg_server.dsn(pg_server.new_database())}"\n'
                              f'{toml}', f'[warehouse]\npassword = "{pg_server.password}"\n',
                              name="every_pg"))
    models = {m.name: m for m in duck.models()}
    staging = {name: duck.compile(name, "duckdb") for name in models
               if name.startswith("staging.") and not name.endswith("_records")}
    setup = load_inputs(staging)
    # nothing ingested yet: each staging model is skipped with a note, the unions and all built from them are empty
    empty = pg.build()
    assert empty.ok, empty.errors
    skipped = {r.name: r.note for r in empty.results if r.status == "skipped"}
    assert set(skipped) == set(staging)
    assert skipped["staging.hubspot_contacts"] == "raw_hubspot.contacts has not been ingested yet (`hub ingest`)"
    assert pg.query("SELECT count(*) FROM canonical.person").scalar() == 0
    for project in (duck, pg):
        with project.warehouse() as wh:
            for statement in setup:
                wh.execute(statement.replace("DOUBLE PRECISION", "DOUBLE"))
    duck_report, pg_report = duck.build(), pg.build()
    assert duck_report.ok and pg_report.ok, (duck_report.errors, pg_report.errors)
    statuses = [(r.name, r.status, r.mode) for r in pg_report.results]
    assert statuses == [(r.name, r.status, r.mode) for r in duck_report.results]
    names = [r.name for r in pg_report.results if r.status == "success" and r.mode != "identity"]
    assert len(names) == len([m for m in models.values() if m.materialized != "identity"]) == 40
    assert_same(duck, pg, names)
