"""`hub compile`: every built-in model, in every dialect, matches its golden file; the output parses back in its
dialect; the DuckDB output (helpers inlined) computes what the model computes.

Golden files: tests/modeling/golden/compile/<dialect>/<model>.sql. Regenerate them with
``HUB_UPDATE_GOLDEN=1 pytest tests/modeling/test_compile.py`` and read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot

from hub.errors import ModelError, UnknownNameError
from hub.modeling import compile_model, list_models
from hub.modeling.compile import DIALECTS
from hub.project import Project
from tests.conftest import run_hub

GOLDEN = Path(__file__).parent / "golden" / "compile"
UPDATE = os.environ.get("HUB_UPDATE_GOLDEN") == "1"

#: One connection of every integration that ships staging models, so every built-in model is compiled.
EVERY_INTEGRATION = """
[connections.hubspot]
type = "hubspot"

[connections.salesforce]
type = "salesforce"
base_url = "https://example.my.salesforce.com"

[connections.shopify]
type = "shopify"

[connections.stripe]
type = "stripe"

[connections.quickbooks]
type = "quickbooks"
realm_id = "9341453050298431"

[connections.zendesk]
type = "zendesk"
subdomain = "example"
"""
#: What must not survive into a dialect's SQL: DuckDB functions it lacks, or that mean something else there.
DUCKDB_ONLY = {
    "postgres": ("ARG_MAX(", "TRY_CAST(", "HASH(", "EPOCH(", "REGEXP_EXTRACT(", "JSON_EXTRACT_PATH_TEXT(",
                 "_HUB.SURVIVOR_KEY("),
    "snowflake": ("ARG_MAX(", " HASH(i", "EPOCH(", "REGEXP_EXTRACT(", "CONCAT_WS(", "TO_TIMESTAMP(", "FILTER(",
                  "_HUB.SURVIVOR_KEY("),
    "bigquery": ("ARG_MAX(", "MAX_BY(", "HASH(", "EPOCH(", "TIME_TO_UNIX(", "SPLIT_PART(", "CONCAT_WS(", "FILTER(",
                 "_HUB.SURVIVOR_KEY("),
    "duckdb": ("_HUB.SURVIVOR_KEY(",),
}


@pytest.fixture(scope="module")
def every(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("every")
    (root / "hub.toml").write_text(EVERY_INTEGRATION)
    return Project(root)


@pytest.fixture(scope="module")
def names(every: Project) -> list[str]:
    return [m.name for m in list_models(every) if m.materialized != "identity"]


@pytest.fixture(scope="module")
def compiled(every: Project, names: list[str]) -> dict[tuple[str, str], str]:
    """Every built-in model in every dialect, compiled from one catalog (loading it per model takes 30 s more)."""
    from hub.modeling.catalog import load_catalog
    from hub.modeling.compile import compile_sql

    catalog = load_catalog(every)
    return {(dialect, name): compile_sql(catalog, name, dialect) for dialect in DIALECTS for name in names}


def test_the_public_entry_point_compiles_as_the_catalog_does(every, compiled):
    for key in (("postgres", "canonical.person"), ("bigquery", "staging.stripe_customers")):
        assert compile_model(every, key[1], key[0]) == compiled[key]


def test_the_project_has_every_integration_with_staging_models(every):
    from hub.integrations import all_integrations

    with_staging = {name for name, integration in all_integrations().items() if integration.staging_dir()}
    assert with_staging <= {c.type for c in every.config.connections.values()}, \
        "add the new integration to EVERY_INTEGRATION so its staging models get golden files"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_builtin_model_matches_its_golden_file(compiled, names, dialect):
    folder = GOLDEN / dialect
    assert {"staging.hubspot_contacts", "staging.zendesk_tickets", "staging.quickbooks_payments",
            "staging.person_records", "canonical.person", "canonical.company"} <= set(names)
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        golden = folder / f"{name}.sql"
        if UPDATE:
            golden.write_text(compiled[dialect, name])
        assert golden.exists(), f"no golden file for {name} in {dialect}: run with HUB_UPDATE_GOLDEN=1"
        assert compiled[dialect, name] == golden.read_text(), f"{name} compiles for {dialect} differently from {golden}"
    stale = {p.name for p in folder.glob("*.sql")} - {f"{n}.sql" for n in names}
    if UPDATE:
        for name in stale:
            (folder / name).unlink()
    else:
        assert not stale, f"golden files for models that no longer exist: {stale}"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_compiled_sql_parses_back_in_its_dialect_and_holds_no_duckdb_only_call(compiled, names, dialect):
    """The round trip is all that is checked for Snowflake and BigQuery: no such warehouse runs here."""
    for name in names:
        output = compiled[dialect, name]
        body = "\n".join(line for line in output.splitlines() if not line.startswith("-- "))
        tree = sqlglot.parse_one(body, read=dialect)
        assert tree.find(sqlglot.exp.Select), name
        again = sqlglot.parse_one(tree.sql(dialect=dialect), read=dialect)
        assert again.sql(dialect=dialect) == tree.sql(dialect=dialect), f"{name} does not round-trip in {dialect}"
        upper = body.upper()
        left = [call for call in DUCKDB_ONLY[dialect] if call in upper]
        assert not left, f"{name} in {dialect} still calls {left}"
        assert "-- not portable" not in output and "-- needs hub's SQL helper" not in output, name


def test_the_notes_head_exactly_the_outputs_they_are_about(compiled, names):
    """A survivorship note on the two models calling the survivor key, in the three warehouses whose tie-break hash
    differs; a try_cast note on the Postgres output of every model calling try_cast; nothing else."""
    for (dialect, name), output in compiled.items():
        notes = [line for line in output.splitlines() if line.startswith("-- ")]
        expected = []
        if dialect != "duckdb" and name in ("canonical.person", "canonical.company"):
            expected.append("survivorship ties")
        if dialect == "postgres" and "TRY_CAST(" in compiled["duckdb", name].upper():
            expected.append("try_cast is a CAST guarded")
        assert len(notes) == len(expected), (dialect, name, notes)
        for note, words in zip(notes, expected):
            assert note.startswith(f"-- differs: {words}"), (dialect, name, note)
    assert any("TRY_CAST(" in compiled["duckdb", n].upper() for n in names)


FIELDS = ("name", "domain", "phone", "industry", "city", "country", "employee_count", "annual_revenue")


def test_the_inlined_duckdb_sql_computes_what_the_macro_model_computes(project, every):
    """Same rows from canonical.person's own SQL (calling the _hub.survivor_key macro) and from its compiled DuckDB
    SQL (the macro inlined), on the same identity rows, ties included."""
    from hub.modeling.catalog import load_catalog
    from hub.modeling.materialize import SURVIVOR_KEY

    model = load_catalog(every).get("canonical.company")
    with project.warehouse() as wh:
        wh.execute("CREATE SCHEMA IF NOT EXISTS _hub")
        wh.execute(SURVIVOR_KEY)
        ranks = ", ".join(f"r AS {field}_rank" for field in FIELDS)
        wh.execute(f"CREATE TABLE _hub.company_priority AS SELECT connection, {ranks} "
                   f"FROM (VALUES ('crm', 0), ('erp', 1)) t(connection, r)")
        wh.execute("""
            CREATE TABLE _hub.company_identity AS SELECT * FROM (VALUES
              ('c1', 'crm', 'companies', 's1', 'Acme', 'acme.com', true, '+1555', true, 'Tools', 'Oslo', 'NO',
               10, 1.5, TIMESTAMPTZ '2024-01-01 00:00:00+00', TIMESTAMPTZ '2024-01-02 00:00:00+00'),
              ('c1', 'erp', 'customers', 's2', 'ACME AS', 'bad domain', false, NULL, NULL, NULL, 'Bergen', 'NO',
               12, NULL, TIMESTAMPTZ '2023-01-01 00:00:00+00', TIMESTAMPTZ '2024-06-01 00:00:00+00'),
              ('c1', 'crm', 'companies', 's3', 'Acme Inc', 'acme.io', true, '+1666', false, NULL, 'Oslo', 'SE',
               10, 2.5, TIMESTAMPTZ '2024-01-01 00:00:00+00', TIMESTAMPTZ '2024-01-01 12:00:00+00'),
              ('c2', 'erp', 'customers', 's4', NULL, NULL, NULL, NULL, NULL, 'Food', NULL, NULL,
               NULL, NULL, NULL, TIMESTAMPTZ '2024-02-01 00:00:00+00')
            ) t(company_id, connection, stream, source_id, name, domain, domain_is_valid, phone, phone_is_valid,
                industry, city, country, employee_count, annual_revenue, created_at, updated_at)
            """)
        for field in FIELDS:
            wh.execute(f"ALTER TABLE _hub.company_identity ADD COLUMN {field}_changed_at TIMESTAMPTZ")
            wh.execute(f"UPDATE _hub.company_identity SET {field}_changed_at = updated_at")
        body = "\n".join(line for line in compile_model(every, "canonical.company", "duckdb").splitlines()
                         if not line.startswith("-- "))
        assert "SURVIVOR_KEY(" not in body.upper()
        own = sorted(wh.query(f"SELECT * FROM ({model.body}\n) m").rows, key=str)
        inlined = sorted(wh.query(f"SELECT * FROM ({body}\n) m").rows, key=str)
    assert own == inlined
    # valid before invalid, then crm (rank 0) before erp, then the latest change
    assert [(r[1], r[2], r[4]) for r in own] == [("Acme", "acme.com", "+1555"), (None, None, None)]


def test_compile_rewrites_the_raw_schema_per_connection(project):
    assert "FROM raw_salesforce.contact" in compile_model(project, "staging.salesforce_contact", "postgres")


def test_compile_errors(project):
    with pytest.raises(UnknownNameError, match="did you mean 'postgres'"):
        compile_model(project, "canonical.person", "postgre")
    with pytest.raises(UnknownNameError, match="did you mean 'canonical.person'"):
        compile_model(project, "canonical.persn", "postgres")
    with pytest.raises(ModelError, match="identity engine"):
        compile_model(project, "_hub.person_identity", "postgres")


@pytest.mark.parametrize(("name", "dialect"), [("canonical.person", "bigquery"),
                                               ("staging.quickbooks_invoices", "snowflake")])
def test_the_cli_prints_the_golden_sql(every, name, dialect):
    result = run_hub("-C", str(every.root), "compile", name, "--dialect", dialect)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (GOLDEN / dialect / f"{name}.sql").read_text() + "\n"


def test_the_cli_refuses_an_unknown_dialect_in_one_line(every):
    result = run_hub("-C", str(every.root), "compile", "canonical.person", "--dialect", "oracle")
    assert result.returncode != 0
    assert "oracle" in result.stderr and "postgres" in result.stderr


def test_a_project_models_arg_max_over_its_own_key_says_what_snowflake_is_assumed_to_do(every, root, write_model):
    """Only hub's helpers are known never to be NULL: another key relies on MAX_BY skipping NULL keys, and the
    compiled SQL says so."""
    write_model("models/marts/latest_stage.sql", """
        SELECT connection, arg_max(stage, updated_at) FILTER (WHERE stage <> 'lost') AS stage
        FROM staging.deal_records GROUP BY connection
        """)
    project = Project(root)
    snowflake = compile_model(project, "marts.latest_stage", "snowflake")
    assert snowflake.startswith("-- differs: arg_max became MAX_BY with a NULL key")
    assert ('MAX_BY("STAGE", IFF(NOT "STAGE" IS NULL AND ("STAGE" <> \'lost\') AND NOT updated_at IS NULL, '
            'updated_at, NULL))') in flat(snowflake, "snowflake")     # STAGE is a Snowflake keyword: quoted
    postgres = compile_model(project, "marts.latest_stage", "postgres")
    assert "(ARRAY_AGG(stage ORDER BY updated_at DESC) FILTER(WHERE NOT stage IS NULL AND (stage <> 'lost') AND " \
           "NOT updated_at IS NULL))[1]" in flat(postgres, "postgres")
    assert not postgres.startswith("--")


def flat(compiled: str, dialect: str) -> str:
    """Compiled SQL on one line, as sqlglot writes it unindented."""
    body = "\n".join(line for line in compiled.splitlines() if not line.startswith("-- "))
    return sqlglot.parse_one(body, read=dialect).sql(dialect=dialect)


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery"])
def test_the_second_of_change_rounds_as_duckdb_does(project, dialect):
    """The integer arithmetic that stands in for DuckDB's rounding of epoch(), translated back to DuckDB by sqlglot
    and run there, gives DuckDB's own seconds: half a second rounds to even, before 1970 is 0, far future clamps."""
    from hub.modeling.dialects import SECOND_OF_CHANGE

    times = ["2024-03-01 10:00:00.5+00", "2024-03-01 10:00:01.5+00", "2024-03-01 10:00:01.499999+00",
             "2024-03-01 10:00:01.500001+00", "2024-03-01 10:00:02+00", "1970-01-01 00:00:00.5+00",
             "1969-12-31 23:59:59.5+00", "1900-01-01 00:00:00+00", "2400-01-01 00:00:00.5+00"]
    rows = ", ".join(f"({n}, TIMESTAMPTZ '{t}')" for n, t in enumerate(times)) + f", ({len(times)}, NULL)"
    ported = sqlglot.transpile(SECOND_OF_CHANGE[dialect].replace("__updated_at", "ts"), read=dialect,
                               write="duckdb")[0]
    with project.warehouse() as wh:
        got = wh.query(f"SELECT n, {ported}, CAST(LEAST(GREATEST(COALESCE(epoch(ts), 0), 0), 8589934591) AS BIGINT) "
                       f"FROM (VALUES {rows}) AS t(n, ts) ORDER BY n").rows
    assert [(n, a) for n, a, _ in got] == [(n, b) for n, _, b in got]
    assert [a for _, a, _ in got][:2] == [1709287200, 1709287202]      # to even: .5 down, 1.5 up


def test_snowflake_names_are_the_upper_case_ones_dlt_creates(compiled):
    """dlt's Snowflake destination folds names to upper case; a quoted or keyword name is written so, quoted."""
    assert 'FROM raw_salesforce."CASE"' in compiled["snowflake", "staging.salesforce_case"]
    assert 'FROM canonical."ORDER"' in compiled["snowflake", "canonical.invoice"]
    assert 'FROM raw_salesforce."case"' in compiled["postgres", "staging.salesforce_case"]
    assert "FROM canonical.`order`" in compiled["bigquery", "canonical.invoice"]


def test_a_try_cast_postgres_has_no_pattern_for_says_it_became_a_plain_cast():
    from hub.modeling.dialects import rewrite

    tree, notes = rewrite(sqlglot.parse_one("SELECT try_cast(a AS TIME), try_cast(b AS VARCHAR) FROM t",
                                            read="duckdb"), "postgres")
    assert tree.sql(dialect="postgres") == "SELECT CAST(a AS TIME), CAST(b AS TEXT) FROM t"
    assert notes == ["try_cast to a type hub has no pattern for is a plain CAST here: a value that does not convert "
                     "fails the query instead of becoming NULL"]
