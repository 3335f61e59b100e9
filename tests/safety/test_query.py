"""`hub query` runs one read-only statement in a sandbox: no files, no network, no extensions, no SET; output masked."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.conftest import run_hub

TOKEN = "pat-na1-0123456789abcdef-query-secret"


@pytest.fixture
def project(make_project) -> Path:
    """A project with a secret in secrets.toml and a warehouse holding one table."""
    from hub.warehouse import Warehouse

    root = make_project('[connections.hubspot]\ntype = "hubspot"\n',
                        f'[connections.hubspot]\ntoken = "{TOKEN}"\n')
    with Warehouse(root / "warehouse.duckdb") as wh:
        wh.execute("CREATE SCHEMA canonical; CREATE TABLE canonical.person AS SELECT 1 AS person_id, 'a@x.io' AS email")
    return root


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("sql", [
    "COPY (SELECT 42 AS x) TO '{wh}' (FORMAT csv)",
    "SELECT * FROM read_text('secrets.toml')",
    "SELECT * FROM read_text('{root}/secrets.toml')",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "ATTACH '{root}/other.duckdb' AS other",
    "SELECT 1; DROP TABLE canonical.person",
    "PRAGMA version",
    "CALL pragma_version()",
    "EXPORT DATABASE '{root}/dump'",
    "CREATE TEMP TABLE t AS SELECT 1",
])
def test_anything_but_one_read_is_refused_with_one_line(project, sql):
    wh = project / "warehouse.duckdb"
    before = _digest(wh)
    proc = run_hub("query", sql.format(wh=wh, root=project), cwd=project)
    assert proc.returncode in (1, 2), proc.stdout
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert _digest(wh) == before
    assert not (project / "other.duckdb").exists() and not (project / "dump").exists()
    ok = run_hub("query", "--format", "csv", "SELECT email FROM canonical.person", cwd=project)
    assert ok.returncode == 0 and ok.stdout.splitlines() == ["email", "a@x.io"], ok.stderr


@pytest.mark.parametrize("sql", ["SELECT 1; SELECT 2", "COPY canonical.person TO 'out.csv'", "PRAGMA version"])
def test_statements_that_are_not_one_read_are_usage_errors(project, sql):
    proc = run_hub("query", sql, cwd=project)
    assert proc.returncode == 2 and ("read-only" in proc.stderr or "one statement" in proc.stderr), proc.stderr
    assert not (project / "out.csv").exists()


@pytest.mark.parametrize("sql", ["DESCRIBE canonical.person", "SHOW ALL TABLES", "SUMMARIZE canonical.person",
                                 "EXPLAIN SELECT * FROM canonical.person", "VALUES (1)", "FROM canonical.person",
                                 "WITH p AS (SELECT * FROM canonical.person) SELECT count(*) FROM p"])
def test_reads_of_every_shape_still_work(project, sql):
    proc = run_hub("query", sql, cwd=project)
    assert proc.returncode == 0, proc.stderr


def test_secret_values_in_results_are_masked(project):
    proc = run_hub("query", "--format", "json", f"SELECT '{TOKEN}' AS leaked, 'Bearer {TOKEN}' AS header",
                   cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert TOKEN not in proc.stdout and '"leaked": "***"' in proc.stdout and "Bearer ***" in proc.stdout


def test_query_before_any_ingest_is_sandboxed_too(make_project):
    root = make_project('[connections.hubspot]\ntype = "hubspot"\n')
    proc = run_hub("query", f"COPY (SELECT 1) TO '{root}/x.csv'", cwd=root)
    assert proc.returncode == 2 and not (root / "x.csv").exists()
    proc = run_hub("query", "SELECT * FROM read_text('hub.toml')", cwd=root)
    assert proc.returncode == 1 and "disabled" in proc.stderr and proc.stderr.count("\n") == 1
