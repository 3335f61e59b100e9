"""`hub compile`: every built-in model compiled for Postgres matches its golden file; other dialects compile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub.errors import ModelError, UnknownNameError
from hub.modeling import compile_model, list_models

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("HUB_UPDATE_GOLDEN") == "1"   # regenerate: HUB_UPDATE_GOLDEN=1 pytest tests/modeling


def builtin_sql_models(project) -> list[str]:
    return [m.name for m in list_models(project) if m.materialized != "identity"]


def test_every_builtin_model_matches_its_postgres_golden_file(project):
    names = builtin_sql_models(project)
    assert {"staging.hubspot_contacts", "staging.salesforce_account", "staging.person_records",
            "canonical.person", "canonical.company_source"} <= set(names)
    for name in names:
        golden = GOLDEN / f"{name}.postgres.sql"
        compiled = compile_model(project, name, "postgres")
        if UPDATE:
            golden.write_text(compiled)
        assert golden.exists(), f"no golden file for {name}: run with HUB_UPDATE_GOLDEN=1"
        assert compiled == golden.read_text(), f"{name} compiles differently from {golden.name}"
    stale = {p.name for p in GOLDEN.glob("*.postgres.sql")} - {f"{n}.postgres.sql" for n in names}
    assert not stale, f"golden files for models that no longer exist: {stale}"


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "duckdb"])
def test_builtin_models_compile_for_other_warehouses(project, dialect):
    for name in builtin_sql_models(project):
        assert "SELECT" in compile_model(project, name, dialect)


def test_compile_rewrites_the_raw_schema_per_connection(project):
    assert "FROM raw_salesforce.contact" in compile_model(project, "staging.salesforce_contact", "postgres")


def test_compile_errors(project):
    with pytest.raises(UnknownNameError, match="did you mean 'postgres'"):
        compile_model(project, "canonical.person", "postgre")
    with pytest.raises(UnknownNameError, match="did you mean 'canonical.person'"):
        compile_model(project, "canonical.persn", "postgres")
    with pytest.raises(ModelError, match="identity engine"):
        compile_model(project, "_hub.person_identity", "postgres")
