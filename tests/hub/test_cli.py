"""The CLI: through click's CliRunner and as a real subprocess, as users run it."""

from __future__ import annotations

import json
import os
import stat

from click.testing import CliRunner

from hub.cli import cli
from tests.conftest import run_hub, sandbox_project


def test_every_command_has_help_with_an_example():
    import click

    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert {"init", "ingest", "build", "push", "run", "query", "status", "runs", "schedule", "serve"} <= set(names)
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.help and "Example" in command.help, f"`hub {name}` needs help text with an example"
    assert CliRunner().invoke(cli, ["--help"]).exit_code == 0


def test_init_scaffolds_a_private_secrets_file(tmp_path):
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    root = tmp_path / "p"
    assert (root / "hub.toml").is_file() and (root / "models").is_dir()
    assert stat.S_IMODE(os.stat(root / "secrets.toml").st_mode) == 0o600
    assert "secrets.toml" in (root / ".gitignore").read_text()
    again = CliRunner().invoke(cli, ["init", str(root)])
    assert again.exit_code == 2 and again.output.count("\n") == 1 and "already exists" in again.output


def test_malformed_config_is_one_line_no_traceback(make_project):
    root = make_project('[connections.hubspot]\ntype = "hubspot"\nstreams = ["contacts"\n')
    proc = run_hub("-C", str(root), "ingest")
    assert proc.returncode == 2
    assert proc.stdout == "" and proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: hub.toml:3")
    assert "Traceback" not in proc.stderr
    debug = run_hub("--debug", "-C", str(root), "ingest")
    assert "Traceback" in debug.stderr and debug.returncode != 0


def test_missing_token_says_where_to_put_it(make_project):
    root = make_project('[connections.hubspot]\ntype = "hubspot"\n')
    proc = run_hub("ingest", cwd=root)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "HUB__CONNECTIONS__HUBSPOT__TOKEN" in proc.stderr and "secrets.toml" in proc.stderr
    assert not (root / "warehouse.duckdb").exists(), "bad input must change nothing"


def test_no_project_found(tmp_path):
    proc = run_hub("status", cwd=tmp_path)
    assert proc.returncode == 2 and "hub init" in proc.stderr


def test_ingest_query_status_end_to_end_in_a_subprocess(make_project, sandbox, engine):
    root = sandbox_project(make_project, sandbox)
    token = sandbox.hubspot.token
    # the token arrives by environment here; secrets.toml holds the Salesforce one
    (root / "secrets.toml").write_text(f'[connections.salesforce]\ntoken = "{sandbox.salesforce.token}"\n'
                                       + engine.secrets_toml)
    env = {"HUB__CONNECTIONS__HUBSPOT__TOKEN": token}
    proc = run_hub("ingest", cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "hubspot.contacts" in proc.stdout and "ingested" in proc.stdout
    assert proc.stderr == ""  # no progress noise when not on a terminal

    out = run_hub("query", "--format", "json", "SELECT id, email FROM raw_hubspot.contacts ORDER BY id LIMIT 3",
                  cwd=root)
    rows = json.loads(out.stdout)
    assert len(rows) == 3 and set(rows[0]) == {"id", "email"}
    csv_out = run_hub("query", "--format", "csv", "SELECT 1 AS a, 'x,y' AS b", cwd=root).stdout
    assert csv_out.splitlines() == ["a,b", '1,"x,y"']
    table_out = run_hub("query", "SELECT count(*) AS n FROM raw_salesforce.contact", cwd=root).stdout
    assert table_out.splitlines()[0].strip() == "n"

    status = json.loads(run_hub("status", "--json", cwd=root).stdout)
    streams = {s["stream"]: s for s in status["streams"]}
    assert streams["contacts"]["outcome"] == "success" and streams["contacts"]["rows_in_table"] > 0
    text = run_hub("status", cwd=root).stdout
    assert "hubspot.contacts" in text and "success" in text

    bad = run_hub("query", "SELEC 1", cwd=root)
    assert bad.returncode == 1 and bad.stderr.startswith("error:") and bad.stderr.count("\n") == 1

    # the token is nowhere: not in output, not in any project file but secrets.toml, not in the warehouse
    assert token not in proc.stdout + proc.stderr + out.stdout + text
    for path in root.rglob("*"):
        if path.is_file() and path.name != "secrets.toml":
            assert token.encode() not in path.read_bytes(), f"token found in {path}"


def test_bad_token_exit_code_and_redaction(make_project, sandbox, engine):
    root = sandbox_project(make_project, sandbox)
    proc = run_hub("ingest", "hubspot", cwd=root, env={"HUB__CONNECTIONS__HUBSPOT__TOKEN": "pat-na1-not-valid-42"})
    assert proc.returncode == 1
    assert "connection 'hubspot'" in proc.stderr and "pat-na1-not-valid-42" not in proc.stdout + proc.stderr


def test_python_dash_m_hub_works():
    proc = run_hub("--version")
    assert proc.returncode == 0 and "hub" in proc.stdout
