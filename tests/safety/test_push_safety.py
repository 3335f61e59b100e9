"""A sync's `where` is one checked condition, never SQL pasted into the warehouse; a dry run writes nothing at all."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hub.errors import ConfigError, UnknownNameError
from hub.reverse_etl import push
from hub.reverse_etl.where import parse, render
from tests.conftest import run_hub
from tests.reverse_etl.conftest import TO_HUBSPOT, person, quiet_sandbox, sandbox_syncs, write_people  # noqa: F401

COLUMNS = {"person_id": "VARCHAR", "email": "VARCHAR", "phone": "VARCHAR", "email_is_valid": "BOOLEAN",
           "updated_at": "TIMESTAMP WITH TIME ZONE", "source_count": "INTEGER"}
PEOPLE = [person(1, "ann@x.io"), person(2, "bob@x.io", "Bob"), person(3, "cy@x.io", "Cy")]


def _digest(root: Path) -> dict[str, str]:
    """Every file of the project directory, by content."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("where", [
    "true); DELETE FROM canonical.person; SELECT (true",
    "true) OR (SELECT count(*) FROM canonical.person) > 0 OR (true",
    "email IN (SELECT email FROM canonical.person)",
    "(SELECT true)",
    "length(read_text('secrets.toml')) > 0",
    "exists(SELECT 1)",
    "true; DROP TABLE canonical.person",
    "DELETE FROM canonical.person",
    "LOAD httpfs",
])
def test_a_where_that_is_not_one_condition_is_refused_and_changes_nothing(quiet_sandbox, sandbox_syncs, where):
    sync = TO_HUBSPOT.format(mode="upsert") + "where = '''" + where + "'''\n"
    project = sandbox_syncs(quiet_sandbox, sync)
    write_people(project, PEOPLE)
    for dry_run in (True, False):
        with pytest.raises(ConfigError) as caught:
            push(project, dry_run=dry_run)
        assert "[syncs.person_to_hubspot] where" in str(caught.value) and caught.value.exit_code == 2
    assert project.query("SELECT count(*) FROM canonical.person").scalar() == 3
    proc = run_hub("push", "--dry-run", cwd=project.root)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "hub.toml:" in proc.stderr, proc.stderr
    assert project.query("SELECT count(*) FROM canonical.person").scalar() == 3


def test_where_columns_are_the_models_with_did_you_mean():
    with pytest.raises(UnknownNameError) as caught:
        render("emial_is_valid and phone is not null", COLUMNS, sync="s", model="canonical.person")
    assert caught.value.suggestion == "email_is_valid"
    with pytest.raises(ConfigError, match="not a condition"):
        render("phone", COLUMNS, sync="s", model="canonical.person")
    with pytest.raises(ConfigError, match="not a condition"):
        render("42", COLUMNS, sync="s", model="canonical.person")


@pytest.mark.parametrize("where, sql", [
    ("email_is_valid", "email_is_valid"),
    ("email_is_valid AND phone IS NOT NULL", "email_is_valid AND NOT phone IS NULL"),
    ("lower(email) like '%@x.io' or source_count >= 2", "LOWER(email) LIKE '%@x.io' OR source_count >= 2"),
    ("updated_at > now() - interval 30 day", "updated_at > NOW() - INTERVAL '30' DAY"),
    ("coalesce(phone, '') <> '' and email in ('a@x.io', 'b@x.io')",
     "COALESCE(phone, '') <> '' AND email IN ('a@x.io', 'b@x.io')"),
])
def test_ordinary_conditions_are_rendered_from_the_parsed_tree(where, sql):
    assert render(where, COLUMNS, sync="s", model="canonical.person") == sql


@pytest.mark.parametrize("where", ["getenv('HOME') = ''", "current_setting('threads') = '1'", "count(*) > 1",
                                   "p.email = 'x'", "email = ?", "row_number() over () = 1", "*"])
def test_functions_outside_the_safe_list_tables_and_parameters_are_refused(where):
    with pytest.raises(ConfigError):
        parse(where, sync="s")


def test_deep_where_is_refused_not_a_recursion_error():
    with pytest.raises(ConfigError, match="deep"):
        parse("(" * 3000 + "true" + ")" * 3000, sync="s")
    with pytest.raises(ConfigError):
        parse("not " * 3000 + "true", sync="s")


def test_a_valid_where_still_filters_the_push(quiet_sandbox, sandbox_syncs):
    project = sandbox_syncs(quiet_sandbox, TO_HUBSPOT.format(mode="upsert") + "where = \"first_name <> 'Bob'\"\n")
    write_people(project, PEOPLE)
    report = push(project)
    assert report.ok, report.errors
    assert report.results[0].creates == 2
    assert quiet_sandbox.hubspot.store.count("contacts") >= 2


def test_a_dry_run_writes_nothing_at_all(quiet_sandbox, sandbox_syncs):
    project = sandbox_syncs(quiet_sandbox, TO_HUBSPOT.format(mode="upsert"))
    write_people(project, PEOPLE)
    before, contacts = _digest(project.root), quiet_sandbox.hubspot.store.count("contacts")
    proc = run_hub("push", "--dry-run", cwd=project.root)
    assert proc.returncode == 0, proc.stderr
    assert "person_to_hubspot" in proc.stdout
    assert _digest(project.root) == before
    assert quiet_sandbox.hubspot.store.count("contacts") == contacts
    report = push(project, dry_run=True)
    assert report.results[0].creates == 3 and report.run_id is None
    assert _digest(project.root) == before


def test_a_dry_run_of_a_project_never_built_creates_no_warehouse(quiet_sandbox, sandbox_syncs):
    project = sandbox_syncs(quiet_sandbox, TO_HUBSPOT.format(mode="upsert"))
    before = _digest(project.root)
    proc = run_hub("push", "--dry-run", cwd=project.root)
    assert proc.returncode == 2 and "hub build" in proc.stderr, proc.stderr
    assert _digest(project.root) == before and not project.warehouse_path.exists()
