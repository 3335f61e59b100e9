"""Retry and timeout options, declared once for every connector: validated at load, applied to the API client."""

from __future__ import annotations

import pytest

from hub.config import load
from hub.errors import ConfigError, UnknownNameError
from hub.project import Project
from hub.registry import connector_class
from hub.sandbox.chaos import Chaos
from hub.sources.http import RetryPolicy
from tests.conftest import sandbox_project

HUB_TOML = """
    [connections.crm]
    type = "hubspot"
    {options}
    """
SECRETS = '[connections.crm]\ntoken = "pat-na1-abc"\n'


def client_of(root, environ=None):
    conn = load(root, environ or {}).connection("crm")
    return connector_class(conn.type).api_client(conn)


def test_options_reach_the_client(make_project):
    root = make_project(HUB_TOML.format(options="max_retries = 2\nretry_base_delay = 0.01\ntimeout = 3"), SECRETS)
    api = client_of(root)
    assert api.retry == RetryPolicy(max_attempts=3, base_delay=0.01) and api.timeout == 3.0


def test_defaults_when_unset_and_environment_overrides(make_project):
    root = make_project(HUB_TOML.format(options=""), SECRETS)
    assert client_of(root).retry == RetryPolicy() and client_of(root).timeout is None
    api = client_of(root, {"HUB__CONNECTIONS__CRM__MAX_RETRIES": "0"})
    assert api.retry.max_attempts == 1 and api.retry.base_delay == RetryPolicy.base_delay


@pytest.mark.parametrize(("line", "message"), [
    ("max_retries = -1", "max_retries must be a whole number from 0 to 100, got -1"),
    ("max_retries = 1.5", "max_retries must be a whole number from 0 to 100, got 1.5"),
    ("max_retries = true", "max_retries must be a whole number from 0 to 100, got True"),
    ("retry_base_delay = \"fast\"", "retry_base_delay must be a number from 0 to 600, got 'fast'"),
    ("timeout = 0", "timeout must be a number from 0.001 to 3600, got 0"),
])
def test_bad_values_name_file_line_and_key(make_project, line, message):
    root = make_project(HUB_TOML.format(options=line), SECRETS)
    with pytest.raises(ConfigError) as info:
        Project(root, environ={})
    assert str(info.value).startswith("hub.toml:4: [connections.crm] ") and message in str(info.value)
    assert info.value.key == line.split(" ")[0]


def test_misspelt_option_suggests_the_right_one(make_project):
    root = make_project(HUB_TOML.format(options="max_retry = 3"), SECRETS)
    with pytest.raises(UnknownNameError, match="did you mean 'max_retries'"):
        Project(root, environ={})


def test_ingest_gives_up_after_the_configured_tries(make_project, fresh_sandbox):
    sb = fresh_sandbox
    sb.hubspot.chaos = Chaos(server_error=1.0)
    root = sandbox_project(make_project, sb)
    (root / "hub.toml").write_text((root / "hub.toml").read_text().replace(
        'type = "hubspot"', 'type = "hubspot"\nmax_retries = 1\nretry_base_delay = 0.001'))
    report = Project(root).ingest()
    assert [e.connection for e in report.errors] == ["hubspot"]
    message = str(report.errors[0])
    assert "connection 'hubspot'" in message and "GET /crm/v3/" in message and "after 2 tries" in message
    assert sb.hubspot.chaos.injected["5xx"] == 2
    assert {r.connection for r in report.results if r.status == "success"} == {"salesforce"}
