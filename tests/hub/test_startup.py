"""Small runs pay only for what they use: which heavy modules `hub --help`, `hub status` and an ingest that finds
nothing new import, read from ``python -X importtime`` of the real CLI in a subprocess (no timings asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.project import Project
from tests.conftest import sandbox_project


def imports_of(*args: str, cwd: Path | None = None) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The modules ``hub ARGS`` imports (every name ``-X importtime`` lists), and the finished process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "hub", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return names, done


def heavy(names: set[str], *modules: str) -> list[str]:
    """Which of ``modules`` (or any of their submodules) are among ``names``."""
    return sorted(m for m in modules if any(n == m or n.startswith(m + ".") for n in names))


@pytest.fixture
def ingested(make_project, sandbox) -> Path:
    """A project of both sandbox connections, ingested twice: its cursors hold the records at their boundary."""
    root = sandbox_project(make_project, sandbox)
    project = Project(root)
    assert project.ingest().ok
    assert project.ingest().ok
    return root


def test_help_imports_neither_duckdb_nor_dlt(tmp_path):
    names, done = imports_of("--help", cwd=tmp_path)
    assert "Usage:" in done.stdout
    assert heavy(names, "duckdb", "dlt", "pyarrow", "httpx") == []


def test_status_imports_no_dlt_pyarrow_or_server(ingested):
    names, done = imports_of("status", cwd=ingested)
    assert "hubspot.contacts" in done.stdout
    assert heavy(names, "dlt", "pyarrow", "numpy", "hub.serve", "hub.sandbox", "sqlglot") == []


def test_runs_and_query_import_no_dlt_or_pyarrow(ingested):
    for args in (("runs",), ("query", "select 1")):
        names, _ = imports_of(*args, cwd=ingested)
        assert heavy(names, "dlt", "pyarrow", "hub.serve", "hub.sandbox") == [], args


def test_ingest_that_finds_nothing_new_imports_no_dlt_and_says_so(ingested):
    keys = Project(ingested).query("SELECT stream, cursor_value, loaded_keys FROM _hub.cursors ORDER BY 1").rows
    names, done = imports_of("ingest", cwd=ingested)
    assert heavy(names, "dlt") == []
    # the records at the cursor are left out as parsed JSON: no Arrow is built for them
    assert heavy(names, "pyarrow", "numpy") == []
    # the hub process runs no event loop: httpcore loads without trio (installed here, with selenium); its refused
    # ``import trio`` is still listed, alone, by -X importtime
    assert heavy(names - {"trio"}, "trio") == []
    # and they stay the boundary: the same cursors and keys as before
    assert Project(ingested).query("SELECT stream, cursor_value, loaded_keys FROM _hub.cursors ORDER BY 1").rows \
        == keys
    # no [models], [syncs], [schedules], [triggers] or [alerts]: their validators (and what they import) stay out
    assert heavy(names, "scipy", "sqlglot", "croniter", "hub.serve", "hub.sandbox", "hub.modeling") == []
    assert "ingested 0 rows" in done.stdout
    assert "hubspot: nothing new since the last ingest" in done.stdout
    assert "salesforce: nothing new since the last ingest" in done.stdout


def test_records_at_the_cursor_are_not_loaded_again(make_project, fresh_sandbox):
    sb = fresh_sandbox
    project = Project(sandbox_project(make_project, sb))
    assert project.ingest().ok
    first_again = project.ingest()
    # the vendor sends the records at the cursor again (>= since); the keys saved with the cursor leave them out
    assert {r.rows for r in first_again.results} == {0}
    assert sum(r.unchanged for r in first_again.results) >= len(first_again.results)
    assert sorted(first_again.unchanged) == ["hubspot", "salesforce"]
    assert project.query("SELECT count(*) FROM _hub.cursors WHERE loaded_keys IS NOT NULL").scalar() == 4

    hs_id = project.query("SELECT id FROM raw_hubspot.contacts ORDER BY id LIMIT 1").scalar()
    sb.hubspot.store.update("contacts", hs_id, {"phone": "+1 212 555 0142"})
    edited = project.ingest()
    rows = {r.stream: r.rows for r in edited.results}
    assert rows["contacts"] == 1 and rows["companies"] == 0, rows
    assert edited.unchanged == ["salesforce"]
    assert project.query(f"SELECT phone FROM raw_hubspot.contacts WHERE id = '{hs_id}'").scalar() == "+1 212 555 0142"
    # the edited record is now the one at the cursor: the next run leaves it out in turn
    assert {r.rows for r in project.ingest().results} == {0}


def test_deletions_are_marked_without_a_load(make_project, fresh_sandbox):
    sb = fresh_sandbox
    project = Project(sandbox_project(make_project, sb))
    assert project.ingest().ok
    sf_id = project.query("SELECT id FROM raw_salesforce.contact WHERE NOT is_deleted ORDER BY id LIMIT 1").scalar()
    sb.salesforce.store.delete("Contact", sf_id)
    assert project.ingest().ok
    assert project.query(f"SELECT is_deleted FROM raw_salesforce.contact WHERE id = '{sf_id}'").scalar() is True


def test_raw_column_matches_dlt_naming():
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    from hub.ingest import raw_column

    naming = NamingConvention()
    for vendor in ("IsDeleted", "archived", "Id", "SystemModstamp", "hs_object_id"):
        columns = ["a", naming.normalize_identifier(vendor), "z"]
        assert raw_column(columns, vendor) == naming.normalize_identifier(vendor)
    assert raw_column(["id"], "Some Field!") == naming.normalize_identifier("Some Field!")


def test_status_names_the_serve_and_sync_tables_it_checks_for():
    """hub.status names the inbox, dead-letter and sync tables instead of importing their modules: they must agree."""
    from hub import status
    from hub.reverse_etl import deletions, state
    from hub.serve.flusher import DEAD_LETTERS
    from hub.serve.service import INBOX

    assert status.INBOX == INBOX and status.DEAD_LETTERS == DEAD_LETTERS
    source = Path(deletions.__file__).read_text() + Path(state.__file__).read_text()
    assert f"_hub.{status.SKIPPED_DELETIONS}" in source and f'"_hub", "{status.SYNC_STATE}"' in source


REST_TOML = """
[connections.api]
type = "rest"
base_url = "http://127.0.0.1:9"
auth = { type = "bearer" }

[connections.api.streams.tickets]
path = "/tickets"
records = "tickets"
primary_key = "id"
paginator = { type = "link_header" }
incremental = { cursor_field = "updated_at", param = "updated_since" }
"""


def test_status_of_a_rest_project_imports_no_http_or_arrow(tmp_path):
    """Declaring a ``type = "rest"`` connection (every command checks hub.toml) loads neither httpx nor pyarrow."""
    (tmp_path / "hub.toml").write_text(REST_TOML)
    (tmp_path / "secrets.toml").write_text('[connections.api]\ntoken = "t0ken"\n')
    names, done = imports_of("status", cwd=tmp_path)
    assert "api.tickets" in done.stdout
    assert heavy(names, "httpx", "httpcore", "pyarrow", "numpy", "dlt") == []
