"""The model engine: discovery, ordering, selectors, errors with positions, materializations, atomicity, audits."""

from __future__ import annotations

import pytest

from hub.errors import ModelError, UnknownNameError
from hub.modeling import build, list_models, render_result, render_summary
from hub.project import Project
from tests.modeling.raw import hubspot_contact, salesforce_contact

CANONICAL = ["_hub.company_identity", "_hub.person_identity", "canonical.company", "canonical.company_source",
             "canonical.person", "canonical.person_source", "staging.company_records", "staging.person_records"]


def seed(write_raw) -> None:
    write_raw("hubspot", "contacts", [
        hubspot_contact("1", email="ann@acme.com", firstname="Ann", lastname="Lee", phone="(415) 555-0142"),
        hubspot_contact("2", email="bob@beta.io", firstname="Bob", lastname="Ray")])
    write_raw("salesforce", "contact", [
        salesforce_contact("003A", email="ANN@acme.com ", first_name="Ann", last_name="Lee")])


def names(report) -> list[str]:
    return [r.name for r in report.results]


def statuses(report) -> dict[str, str]:
    return {r.name: r.status for r in report.results}


def test_builds_in_dependency_order_and_skips_streams_never_ingested(project, write_raw):
    seed(write_raw)
    seen = []
    report = build(project, progress=seen.append)
    assert report.ok, report.errors
    order = names(report)
    assert [r.name for r in seen] == order
    for upstream, downstream in [("staging.hubspot_contacts", "staging.person_records"),
                                 ("staging.salesforce_contact", "staging.person_records"),
                                 ("staging.person_records", "_hub.person_identity"),
                                 ("_hub.person_identity", "canonical.person"),
                                 ("_hub.company_identity", "canonical.person"),
                                 ("canonical.company", "canonical.person")]:
        assert order.index(upstream) < order.index(downstream)
    skipped = {r.name: r.note for r in report.results if r.status == "skipped"}
    assert set(skipped) == {"staging.hubspot_companies", "staging.salesforce_account", "staging.hubspot_deals",
                            "staging.hubspot_tickets", "staging.salesforce_lead", "staging.salesforce_opportunity",
                            "staging.salesforce_case"}
    assert "raw_hubspot.companies has not been ingested yet" in skipped["staging.hubspot_companies"]
    person = next(r for r in report.results if r.name == "canonical.person")
    assert person.rows == 2 and person.seconds >= 0
    assert "canonical.person" in render_result(person) and "2 rows" in render_result(person)
    assert "3 person records -> 2 persons" in render_summary(report)


def test_nothing_ingested_still_builds_empty_canonical_models(project):
    report = build(project)
    assert report.ok, report.errors
    assert project.query("SELECT count(*) FROM canonical.person").scalar() == 0
    assert report.person is not None and report.person.records == 0


def test_selectors(project, write_raw):
    seed(write_raw)
    assert build(project).ok
    assert names(build(project, ["canonical.person"])) == ["canonical.person"]
    downstream = set(names(build(project, ["staging.person_records+"])))
    # the business records link to persons, so they are downstream too
    assert downstream == {"staging.person_records", "_hub.person_identity", "canonical.person",
                          "canonical.person_source", "canonical.lead", "canonical.deal", "canonical.order",
                          "canonical.invoice", "canonical.payment", "canonical.ticket", "canonical.person_by_email"}
    upstream = set(names(build(project, ["+canonical.person_source"])))
    assert upstream == {"staging.hubspot_contacts", "staging.salesforce_contact", "staging.person_records",
                        "_hub.person_identity", "canonical.person_source"}
    by_connection = set(names(build(project, ["connection:salesforce"])))
    assert {"staging.salesforce_contact", "staging.salesforce_account", "canonical.person"} <= by_connection
    assert "staging.hubspot_contacts" not in by_connection
    assert set(names(build(project, ["staging.hubspot_*"]))) == {"staging.hubspot_contacts",
                                                                 "staging.hubspot_companies", "staging.hubspot_deals",
                                                                 "staging.hubspot_tickets"}


def test_unknown_selectors_suggest_the_closest_name(project):
    with pytest.raises(UnknownNameError, match="did you mean 'canonical.person'"):
        build(project, ["canonical.persn"])
    with pytest.raises(UnknownNameError, match="did you mean 'hubspot'"):
        build(project, ["connection:hubspt"])
    with pytest.raises(ModelError, match="matches no model"):
        build(project, ["nothing.*"])


def test_unselected_upstream_that_was_never_built_is_an_error(project, write_raw):
    seed(write_raw)
    with pytest.raises(ModelError, match=r"has not been built yet \(build it first: `hub build \+canonical.person`\)"):
        build(project, ["canonical.person"])


def test_cycle_is_reported_with_the_position_of_the_reference(project, write_model):
    write_model("models/marts/a.sql", "SELECT * FROM marts.b\n")
    write_model("models/marts/b.sql", "-- materialized: view\nSELECT x\nFROM   marts.a\n")
    with pytest.raises(ModelError) as error:
        build(project)
    message = str(error.value)
    assert "dependency cycle: marts.a -> marts.b -> marts.a" in message
    assert message.startswith("models/marts/a.sql:1:15:")


def test_parse_error_is_reported_with_line_and_column(project, write_model):
    write_model("models/marts/broken.sql", "-- materialized: table\nSELECT a,\nFROM t WHERE (\n")
    with pytest.raises(ModelError) as error:
        build(project)
    assert error.value.file == "models/marts/broken.sql"
    assert (error.value.line, error.value.col) == (3, 14)


def test_missing_table_is_reported_with_position_and_suggestion(project, write_model):
    write_model("models/marts/leads.sql", "SELECT person_id\nFROM canonical.persons\n")
    with pytest.raises(ModelError) as error:
        build(project)
    assert str(error.value).startswith("models/marts/leads.sql:2:6: unknown table canonical.persons")
    assert "did you mean 'canonical.person'" in str(error.value)


def test_header_mistakes_are_caught_before_building(project, write_model):
    write_model("models/marts/x.sql", "-- materialised: view\nSELECT 1 AS x\n")
    with pytest.raises(ModelError, match=r"x.sql:1:4: unknown header key 'materialised' \(did you mean 'materialized'"):
        build(project)
    write_model("models/marts/x.sql", "-- materialized: incremental\nSELECT 1 AS x\n")
    with pytest.raises(ModelError, match="needs `-- unique_key"):
        build(project)
    write_model("models/marts/x.sql", "-- audit: uniq(x)\nSELECT 1 AS x\n")
    with pytest.raises(ModelError, match=r"x.sql:1:11: unknown audit 'uniq' \(did you mean 'unique'"):
        build(project)
    write_model("models/marts/x.sql", "SELECT 1 AS x; SELECT 2 AS y\n")
    with pytest.raises(ModelError, match="exactly one SELECT"):
        build(project)


def test_runtime_error_keeps_the_previous_table_and_skips_downstream(project, write_model):
    write_model("models/marts/numbers.sql", "SELECT 1 AS n UNION ALL SELECT 2\n")
    write_model("models/marts/doubled.sql", "SELECT n * 2 AS n FROM marts.numbers\n")
    assert build(project, ["marts.*"]).ok
    write_model("models/marts/numbers.sql", "SELECT 1 AS n\nUNION ALL\nSELECT CAST('two' AS INTEGER)\n")
    report = build(project, ["marts.*"])
    assert not report.ok
    assert statuses(report) == {"marts.numbers": "failed", "marts.doubled": "skipped"}
    assert "upstream marts.numbers failed" in report.results[1].note
    error = report.errors[0]
    assert error.file == "models/marts/numbers.sql" and error.line == 3
    assert "Conversion Error" in str(error)
    assert sorted(project.query("SELECT n FROM marts.numbers").rows) == [(1,), (2,)]


def test_failing_audit_reports_count_and_sample_and_keeps_the_previous_table(project, write_model):
    write_model("models/marts/ids.sql", "-- audit: unique(id)\nSELECT 1 AS id UNION ALL SELECT 2\n")
    assert build(project, ["marts.ids"]).ok
    write_model("models/marts/ids.sql", "-- audit: unique(id)\nSELECT 1 AS id UNION ALL SELECT 1 UNION ALL SELECT 2\n")
    report = build(project, ["marts.ids"])
    message = str(report.errors[0])
    assert message.startswith("models/marts/ids.sql:1:11: audit unique(id) failed: 1 duplicated value(s) in 2 rows")
    assert "id=1" in message
    assert project.query("SELECT count(*) FROM marts.ids").scalar() == 2


@pytest.mark.parametrize("audit, rows, expected", [
    ("not_null(email)", "SELECT 'a@x.io' AS email UNION ALL SELECT NULL", "1 row(s) with NULL"),
    ("accepted_values(stage, ['lead', 'customer'])",
     "SELECT 'lead' AS stage UNION ALL SELECT 'alien' UNION ALL SELECT 'alien'",
     "2 row(s) outside ['lead', 'customer']"),
    ("audits/no_example.sql", "SELECT 'a@example.com' AS email", "1 offending row(s); e.g. {email='a@example.com'}"),
])
def test_builtin_and_custom_audits(project, write_model, audit, rows, expected):
    write_model("audits/no_example.sql", "SELECT email FROM marts.checked WHERE email LIKE '%@example.com'\n")
    write_model("models/marts/checked.sql", f"-- audit: {audit}\n{rows}\n")
    report = build(project, ["marts.checked"])
    assert not report.ok
    assert expected in str(report.errors[0])
    write_model("models/marts/checked.sql", f"-- audit: {audit}\nSELECT 'lead' AS stage, 'a@b.io' AS email\n")
    assert build(project, ["marts.checked"]).ok


def test_view_and_table_switch_materialization(project, write_model):
    write_model("models/marts/m.sql", "-- materialized: view\nSELECT 1 AS x\n")
    assert build(project, ["marts.m"]).results[0].rows is None
    kind = "SELECT table_type FROM information_schema.tables WHERE table_name = 'm'"
    assert project.query(kind).scalar() == "VIEW"
    write_model("models/marts/m.sql", "SELECT 1 AS x\n")
    assert build(project, ["marts.m"]).results[0].rows == 1
    assert project.query(kind).scalar() == "BASE TABLE"


def test_incremental_by_cursor_replaces_rows_by_key(project, write_model):
    write_model("models/marts/events.sql", "SELECT * FROM main.source_events\n")
    write_model("models/marts/latest.sql", """
        -- materialized: incremental
        -- unique_key: id
        -- cursor: ts
        SELECT id, payload, ts FROM marts.events
        """)
    with project.warehouse() as wh:
        wh.execute("CREATE TABLE main.source_events AS "
                   "SELECT * FROM (VALUES (1, 'a', 1), (2, 'b', 2)) t(id, payload, ts)")
    first = build(project, ["marts.events", "marts.latest"]).results[1]
    assert (first.mode, first.rows) == ("full", 2)
    with project.warehouse() as wh:
        wh.execute("INSERT INTO main.source_events VALUES (2, 'b2', 3), (3, 'c', 4)")
    second = build(project, ["marts.events", "marts.latest"]).results[1]
    assert (second.mode, second.rows, second.written) == ("incremental", 3, 2)
    assert project.query("SELECT id, payload FROM marts.latest ORDER BY id").rows == [(1, "a"), (2, "b2"), (3, "c")]


def test_incremental_by_change_log_rebuilds_changed_keys_and_drops_vanished_ones(project, write_model):
    with project.warehouse() as wh:
        wh.execute("CREATE TABLE main.items AS SELECT * FROM (VALUES (1, 10), (1, 5), (2, 7)) t(k, v)")
        wh.execute("CREATE TABLE main.item_log (k INTEGER, change_version BIGINT)")
    write_model("models/marts/totals.sql", """
        -- materialized: incremental
        -- unique_key: k
        -- changes: main.item_log
        SELECT k, sum(v) AS total FROM main.items GROUP BY k
        """)
    assert build(project, ["marts.totals"]).results[0].mode == "full"
    with project.warehouse() as wh:
        wh.execute("DELETE FROM main.items WHERE k = 2")
        wh.execute("INSERT INTO main.items VALUES (1, 1), (3, 3)")
        wh.execute("INSERT INTO main.item_log VALUES (1, 1), (2, 1), (3, 1)")
    result = build(project, ["marts.totals"]).results[0]
    assert (result.mode, result.written) == ("incremental", 2)
    assert project.query("SELECT k, total FROM marts.totals ORDER BY k").rows == [(1, 16), (3, 3)]
    assert project.query("SELECT count(*) FROM main.item_log").scalar() == 0   # consumed, so pruned


def test_changed_sql_rebuilds_an_incremental_model_whole(project, write_model):
    with project.warehouse() as wh:
        wh.execute("CREATE TABLE main.src AS SELECT 1 AS id, 1 AS ts")
    text = "-- materialized: incremental\n-- unique_key: id\n-- cursor: ts\nSELECT id, ts{extra} FROM main.src\n"
    write_model("models/marts/inc.sql", text.format(extra=""))
    build(project, ["marts.inc"])
    write_model("models/marts/inc.sql", text.format(extra=", 'new' AS tag"))
    result = build(project, ["marts.inc"]).results[0]
    assert result.mode == "full"
    assert project.query("SELECT tag FROM marts.inc").scalar() == "new"


def test_project_model_overrides_builtin_and_projects_add_their_own(project, write_raw, write_model):
    seed(write_raw)
    write_model("models/canonical/person_source.sql", """
        -- materialized: table
        SELECT person_id, connection, source_id, 'mine' AS flavour FROM _hub.person_identity
        """)
    write_model("models/marts/people_by_domain.sql", """
        SELECT split_part(email, '@', 2) AS domain, count(*) AS people FROM canonical.person GROUP BY 1
        """)
    report = build(project)
    assert report.ok, report.errors
    assert project.query("SELECT DISTINCT flavour FROM canonical.person_source").scalar() == "mine"
    assert dict(project.query("SELECT * FROM marts.people_by_domain").rows) == {"acme.com": 1, "beta.io": 1}
    info = {m.name: m for m in list_models(project)}
    assert info["canonical.person_source"].path == "models/canonical/person_source.sql"
    assert info["canonical.person"].path == "builtin:canonical/person.sql"


def test_staging_models_are_instantiated_per_connection(make_project):
    root = make_project("""
        [connections.hubspot]
        type = "hubspot"

        [connections.crm]
        type = "hubspot"
        """, name="two_portals")
    project = Project(root)
    from tests.modeling import raw

    with project.warehouse() as wh:
        raw.write(wh, "hubspot", "contacts", [hubspot_contact("1", email="ann@acme.com", firstname="Ann")])
        raw.write(wh, "crm", "contacts", [hubspot_contact("1", email="ANN@acme.com", firstname="Ann"),
                                          hubspot_contact("2", email="zoe@zeta.io", firstname="Zoe")])
    report = build(project)
    assert report.ok, report.errors
    info = {m.name: m for m in list_models(project)}
    assert info["staging.crm_contacts"].connection == "crm"
    assert info["staging.crm_contacts"].depends_on == ["raw_crm.contacts"]
    assert info["staging.hubspot_contacts"].depends_on == ["raw_hubspot.contacts"]
    rows = project.query("SELECT connection, stream, source_id FROM canonical.person_source ORDER BY 1, 3").rows
    assert rows == [("crm", "contacts", "1"), ("crm", "contacts", "2"), ("hubspot", "contacts", "1")]
    assert project.query("SELECT count(*) FROM canonical.person").scalar() == 2
    assert "staging.hubspot_contacts" not in names(build(project, ["connection:crm"]))


def test_list_models_shows_dependencies_materialization_and_last_build(project, write_raw):
    before = {m.name: m for m in list_models(project)}
    assert before["canonical.person"].last_built_at is None
    assert before["canonical.person"].materialized == "incremental"
    assert before["_hub.person_identity"].depends_on == ["staging.person_records"]
    seed(write_raw)
    build(project)
    after = {m.name: m for m in list_models(project)}
    assert after["canonical.person"].rows == 2
    assert after["canonical.person"].last_built_at is not None
    assert after["staging.person_records"].rows is None
    assert set(after["canonical.person"].depends_on) == {"_hub.person_identity", "_hub.company_identity",
                                                         "canonical.company"}
    steps = project.query("SELECT DISTINCT step FROM _hub.run_steps").rows
    assert steps == [("build",)]


def test_a_project_can_replace_the_person_union(project, write_raw, write_model):
    write_raw("hubspot", "contacts", [hubspot_contact("1", email="ann@acme.com", firstname="Ann")])
    write_model("models/staging/person_records.sql", """
        -- materialized: view
        SELECT connection, stream, source_id, email, first_name, last_name, phone, mobile_phone, company_name,
               company_stream, company_source_id, job_title, city, country, lifecycle_stage, lead_source,
               created_at, updated_at
        FROM (SELECT 'hubspot' AS connection, 'contacts' AS stream, NULL AS lead_source, *
              FROM staging.hubspot_contacts)
        UNION ALL
        SELECT 'csv', 'people', 'row-1', 'ANN@acme.com', 'Ann', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, 'import', NULL, TIMESTAMPTZ '2025-01-01'
        """)
    report = build(project)
    assert report.ok, report.errors
    assert report.person.records == 2 and report.person.entities == 1
