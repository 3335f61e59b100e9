"""Numbers have finite ranges, a cron must fire, expressions have a depth limit: each refused at load, in one line."""

from __future__ import annotations

import pytest

from hub.errors import ConfigError
from hub.project import Project
from hub.schedule import load as load_schedules
from hub.serve.when import ExpressionError, compile_when
from tests.conftest import run_hub

CONNECTION = '[connections.hubspot]\ntype = "hubspot"\nbase_url = "http://127.0.0.1:9"\n'


@pytest.mark.parametrize("option, value", [
    ("retry_base_delay", "inf"), ("retry_base_delay", "nan"), ("retry_base_delay", "1e9"), ("timeout", "1e308"),
    ("timeout", "inf"), ("max_retries", "1000000000000"), ("timeout", "-1"),
])
def test_client_options_out_of_range_are_refused_at_load(make_project, option, value):
    root = make_project(CONNECTION + f"{option} = {value}\n")
    with pytest.raises(ConfigError) as caught:
        Project(root)
    assert f"hub.toml:4: [connections.hubspot] {option} must be" in str(caught.value)
    proc = run_hub("ingest", cwd=root, env={"HUB__CONNECTIONS__HUBSPOT__TOKEN": "pat-na1-x-limits"})
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "from 0" in proc.stderr, proc.stderr
    assert not (root / "warehouse.duckdb").exists()


def test_an_environment_override_is_range_checked_too(make_project):
    root = make_project(CONNECTION)
    with pytest.raises(ConfigError, match="timeout must be a number from"):
        Project(root, environ={"HUB__CONNECTIONS__HUBSPOT__TIMEOUT": "1e308"})


def test_options_in_range_are_kept(make_project):
    root = make_project(CONNECTION + "timeout = 3600\nretry_base_delay = 0.5\nmax_retries = 10\n")
    options = Project(root).config.connections["hubspot"].options
    assert options == {"timeout": 3600.0, "retry_base_delay": 0.5, "max_retries": 10}


@pytest.mark.parametrize("cron", ["0 2 31 2 *", "0 2 30 2 *", "0 0 31 4,6,9,11 *"])
def test_a_cron_that_never_fires_is_refused_with_one_line(make_project, cron):
    root = make_project(CONNECTION + f'[schedules.never]\ncron = "{cron}"\n')
    with pytest.raises(ConfigError, match="never fires"):
        load_schedules(Project(root))
    for args in (["schedule", "list"], ["serve", "--port", "0"]):
        proc = run_hub(*args, cwd=root)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("error: hub.toml:5: [schedules.never] cron") and proc.stderr.count("\n") == 1


def test_rare_crons_that_do_fire_are_kept(make_project):
    root = make_project(CONNECTION + '[schedules.leap]\ncron = "0 0 29 2 *"\n'
                        '[schedules.monthly]\ncron = "0 0 31 * *"\n')
    assert set(load_schedules(Project(root))) == {"leap", "monthly"}


@pytest.mark.parametrize("expression", ["(" * 3000 + "true" + ")" * 3000, "not " * 3000 + "true",
                                        "(" * 65 + "true" + ")" * 65])
def test_a_when_nested_too_deep_is_an_expression_error_not_a_recursion_error(expression):
    with pytest.raises(ExpressionError, match="nested more than 64 deep") as caught:
        compile_when(expression)
    assert len(str(caught.value)) < 300


def test_a_when_nested_64_deep_still_works():
    assert compile_when("(" * 64 + "a == 1" + ")" * 64)({"a": 1}) is True
    assert compile_when("not " * 63 + "false")({}) is True


def test_a_deep_when_in_hub_toml_is_one_line_at_load(make_project):
    deep = "(" * 3000 + "true" + ")" * 3000
    root = make_project(CONNECTION + f'[triggers.t]\non = "hubspot:contact.creation"\nwhen = "{deep}"\n'
                        'do = ["notify:https://hooks.example/x"]\n')
    proc = run_hub("serve", "--port", "0", cwd=root)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "nested more than 64 deep" in proc.stderr, \
        proc.stderr[-500:]


@pytest.mark.parametrize("wait", ["inf", "nan", "1e308"])
def test_wait_must_be_a_finite_number_of_seconds(make_project, wait):
    root = make_project(CONNECTION)
    proc = run_hub("--wait", wait, "status", cwd=root)
    assert proc.returncode == 2 and "--wait" in proc.stderr, proc.stderr
