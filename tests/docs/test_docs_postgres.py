"""`hub docs` on a PostgreSQL warehouse: the site is read from ``_hub`` in the database (runs, steps, sync state,
rejected rows) after a real ingest and push, with no secret on any page and no DuckDB file made."""

from __future__ import annotations

from hub.project import Project
from tests.conftest import run_hub
from tests.reverse_etl.conftest import quiet_sandbox  # noqa: F401 - fixture
from tests.reverse_etl.test_push_postgres import D, pg_push_project, write_people


def test_docs_site_reads_runs_syncs_and_rejected_rows_from_postgres(make_project, quiet_sandbox, pg_server,
                                                                    pg_database):
    sb = quiet_sandbox
    project = pg_push_project(make_project, sb, pg_server, pg_database)
    root = project.root
    done = run_hub("ingest", cwd=root)
    assert done.returncode == 0, done.stderr
    write_people(project, [("1", f"docs1{D}", "Ann", None), ("2", "no-email-here", "Bob", None)])
    done = run_hub("push", cwd=root)
    assert done.returncode == 0, done.stderr

    done = run_hub("docs", cwd=root)
    assert done.returncode == 0, done.stderr
    site = root / ".hub" / "docs"
    assert f"open: {site / 'index.html'}" in done.stdout
    names = {p.name for p in site.iterdir()}
    assert {"index.html", "runs.html", "sync-person_to_hubspot.html", "connection-hubspot.html"} <= names
    sync_page = (site / "sync-person_to_hubspot.html").read_text()
    assert "no-email-here" in sync_page or "INVALID_EMAIL" in sync_page   # the rejected row, from _hub
    runs = Project(root).query("SELECT run_id FROM _hub.runs ORDER BY started_at").rows
    assert len(runs) == 2
    for (run_id,) in runs:
        assert any(run_id in p.name for p in site.glob("run-*.html")), run_id
    text = "\n".join(p.read_text() for p in site.glob("*.html"))
    assert pg_server.password not in text and sb.hubspot.token not in text
    assert pg_server.password not in done.stdout + done.stderr
    assert not list(root.rglob("*.duckdb"))


def test_docs_site_shows_models_built_on_postgres(make_project, quiet_sandbox, pg_server, pg_database):
    sb = quiet_sandbox
    root = pg_push_project(make_project, sb, pg_server, pg_database).root
    for command in ("ingest", "build", "push"):
        done = run_hub(command, cwd=root)
        assert done.returncode == 0, f"hub {command}: {done.stderr}"
    done = run_hub("docs", cwd=root)
    assert done.returncode == 0, done.stderr
    site = root / ".hub" / "docs"
    assert (site / "model-canonical.person.html").exists()
    # the models page's latest build per model comes from _hub.run_steps in the database
    models = (site / "models.html").read_text()
    row = models[models.index('href="model-canonical.person.html"'):]
    row = row[:row.index("</tr>")]
    assert '<span class="badge ok">success</span>' in row
    assert Project(root).query("SELECT count(*) FROM canonical.person").scalar() > 0
    commands = [r[0] for r in Project(root).query("SELECT command FROM _hub.runs ORDER BY started_at").rows]
    assert commands == ["ingest", "build", "push"]
    runs = (site / "runs.html").read_text()
    assert all(c in runs for c in commands)
    assert not list(root.rglob("*.duckdb"))
