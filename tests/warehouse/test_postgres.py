"""A real PostgreSQL as the warehouse: `hub ingest` through dlt's postgres destination, twice (incremental, merging an
edit), `hub query` reading it, `_hub` bookkeeping in the same database, one writer at a time across processes, and
no secret in any output. Each test gets a fresh database of the session's throwaway cluster (tests/pg.py); without
PostgreSQL they skip, saying why.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hub.errors import QueryRefusedError
from hub.project import Project
from tests.conftest import run_hub
from tests.hub.test_ingest import api_count_hubspot
from tests.pg import PgServer


def pg_project(make_project, sb, server: PgServer, database: str, *, password_in: str = "secrets") -> Path:
    """A project on the sandbox's HubSpot contacts whose warehouse is ``database``; the password in secrets.toml
    (``password_in="env"``: left for HUB__WAREHOUSE__PASSWORD)."""
    secret = f'[warehouse]\npassword = "{server.password}"\n\n' if password_in == "secrets" else ""
    return make_project(f"""
        [warehouse]
        type = "postgres"
        dsn = "{server.dsn(database)}"

        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"
        streams = ["contacts"]
        """, f'{secret}[connections.hubspot]\ntoken = "{sb.hubspot.token}"\n')


def secrets_of(server: PgServer, sb) -> list[str]:
    return [server.password, sb.hubspot.token]


def assert_no_secret(text: str, secrets: list[str]) -> None:
    for value in secrets:
        assert value not in text


def test_ingest_twice_merges_an_edit_and_query_reads_it(make_project, fresh_sandbox, pg_server, pg_database):
    sb = fresh_sandbox
    root = pg_project(make_project, sb, pg_server, pg_database)
    project = Project(root)
    api_total = api_count_hubspot(sb, "contacts")

    first = project.ingest()
    assert first.ok, first.errors
    [result] = first.results
    assert (result.mode, result.rows) == ("full", api_total)
    assert project.query("SELECT count(*), count(DISTINCT id) FROM raw_hubspot.contacts").rows == [
        (api_total, api_total)]
    cursor = project.query("SELECT cursor_value FROM _hub.cursors WHERE connection = 'hubspot'").scalar()
    assert cursor is not None

    second = project.ingest()
    assert second.ok, second.errors
    [again] = second.results
    assert again.mode == "incremental" and again.rows == 0
    assert "hubspot: nothing new since the last ingest" in " ".join(second.notices())
    assert project.query("SELECT count(*) FROM raw_hubspot.contacts").scalar() == api_total

    edited, gone = [r[0] for r in project.query("SELECT id FROM raw_hubspot.contacts ORDER BY id LIMIT 2").rows]
    sb.hubspot.store.update("contacts", edited, {"phone": "+1 212 555 0199"})
    sb.hubspot.store.archive("contacts", gone)   # read from the archived list: its raw row is flagged, not dropped
    sb.clock.advance(5)
    third = project.ingest()
    assert third.ok, third.errors
    [merged] = third.results
    assert merged.mode == "incremental" and 1 <= merged.rows <= 3
    assert project.query(f"SELECT phone FROM raw_hubspot.contacts WHERE id = '{edited}'").scalar() == \
        "+1 212 555 0199"
    assert project.query("SELECT count(*), count(DISTINCT id) FROM raw_hubspot.contacts").rows == [
        (api_total, api_total)]
    assert project.query("SELECT id FROM raw_hubspot.contacts WHERE archived").rows == [(gone,)]

    # the hub's own records live in the same database: three runs, one step each, all successful
    runs = project.query("SELECT command, status FROM _hub.runs ORDER BY started_at").rows
    assert runs == [("ingest", "success")] * 3
    assert project.query("SELECT count(*) FROM _hub.run_steps WHERE target = 'hubspot.contacts' "
                         "AND status = 'success'").scalar() == 3
    # no DuckDB file and no run log appeared: the warehouse is the database
    assert not list(root.glob("*.duckdb")) and not list((root / ".hub").glob("*.sqlite*"))

    # the CLI reads it, with the password from the environment this time
    env = {"HUB__WAREHOUSE__PASSWORD": pg_server.password}
    (root / "secrets.toml").write_text(f'[connections.hubspot]\ntoken = "{sb.hubspot.token}"\n')
    done = run_hub("query", "--format", "json",
                   f"SELECT id, phone FROM raw_hubspot.contacts WHERE id = '{edited}'", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"id": edited, "phone": "+1 212 555 0199"}]
    assert_no_secret(done.stdout + done.stderr, secrets_of(pg_server, sb))


def test_cli_ingest_and_errors_never_show_a_secret(make_project, fresh_sandbox, pg_server, pg_database):
    sb = fresh_sandbox
    root = pg_project(make_project, sb, pg_server, pg_database)
    secrets = secrets_of(pg_server, sb)
    done = run_hub("ingest", cwd=root)
    assert done.returncode == 0, done.stderr
    assert_no_secret(done.stdout + done.stderr, secrets)
    for path in (root / ".hub").rglob("*"):
        if path.is_file():
            assert_no_secret(path.read_bytes().decode("utf-8", "replace"), secrets)
    stored = Project(root).query("SELECT * FROM _hub.runs").rows + Project(root).query(
        "SELECT * FROM _hub.run_steps").rows
    assert_no_secret(repr(stored), secrets)

    # a wrong password: one line, the DSN without it, no traceback
    wrong = "not-the-Password-77"
    done = run_hub("ingest", cwd=root, env={"HUB__WAREHOUSE__PASSWORD": wrong})
    assert done.returncode != 0
    assert_no_secret(done.stdout + done.stderr, [*secrets, wrong])
    assert "Traceback" not in done.stderr
    line = done.stderr.strip()
    assert f"cannot connect to warehouse {pg_server.dsn(pg_database)}" in line, line
    assert "password authentication failed" in line


def test_query_is_read_only_and_one_statement(make_project, sandbox, pg_server, pg_database):
    project = Project(pg_project(make_project, sandbox, pg_server, pg_database))
    with project.warehouse() as wh:
        wh.execute("CREATE TABLE public.keep (a int)")
        wh.execute("INSERT INTO public.keep VALUES (?)", [1])
    assert project.query("SELECT 1 AS one, '50%' AS pct").records() == [{"one": 1, "pct": "50%"}]
    for sql in ("CREATE TABLE x (a int)", "SELECT 1; DROP SCHEMA public CASCADE",
                "WITH gone AS (DELETE FROM public.keep RETURNING 1) SELECT count(*) FROM gone"):
        with pytest.raises(QueryRefusedError):
            project.query(sql)
    # PostgreSQL lets EXPLAIN ANALYZE run a CREATE TABLE AS in a read-only transaction: it is rolled back all the same
    project.query("EXPLAIN ANALYZE CREATE TABLE y AS SELECT 1")
    assert project.query("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('x', 'y')").scalar() \
        == 0
    assert project.query("SELECT count(*) FROM public.keep").scalar() == 1


# Every command runs on postgres (NOT_YET is empty): build in tests/modeling/test_build_postgres.py, push in
# tests/reverse_etl/test_push_postgres.py, serve in tests/serve/test_serve_postgres.py, docs in
# tests/docs/test_docs_postgres.py.


def test_one_writer_of_a_stream_at_a_time_across_processes_and_readers_never_wait(make_project, sandbox, pg_server,
                                                                                  pg_database):
    root = pg_project(make_project, sandbox, pg_server, pg_database)
    project = Project(root)
    with project.warehouse() as wh, project.locked(["stream:hubspot.contacts"]):   # what an ingest of it holds
        wh.execute("CREATE TABLE IF NOT EXISTS public.probe (a int)")
        done = run_hub("--wait", "0", "ingest", cwd=root)
        assert done.returncode != 0
        assert "stream hubspot.contacts is being written by" in done.stderr and "Traceback" not in done.stderr
        # a reader in another process answers at once while the writer holds on
        read = run_hub("query", "SELECT count(*) AS n FROM public.probe", cwd=root)
        assert read.returncode == 0, read.stderr
    # released with the handle: the next writer gets in
    done = run_hub("--wait", "0", "ingest", cwd=root)
    assert done.returncode == 0, done.stderr


def test_cluster_runs_as_the_postgres_user_when_root(pg_server):
    """PostgreSQL refuses to run as root: as root the fixture hands the cluster to the postgres user."""
    import os

    owner = subprocess.run(["stat", "-c", "%U", str(pg_server.root / "data")], capture_output=True, text=True,
                           check=True).stdout.strip()
    if os.geteuid() == 0:
        assert owner == "postgres"
    else:
        import pwd

        assert owner == pwd.getpwuid(os.geteuid()).pw_name


def test_new_column_and_keyless_record_are_reported_and_status_reads_postgres(make_project, fresh_sandbox,
                                                                              pg_server, pg_database):
    from hub.integrations.hubspot.emulator.schema import Prop
    from tests.reliability.test_vendor_changes import hubspot_property

    sb = fresh_sandbox
    root = pg_project(make_project, sb, pg_server, pg_database)
    first = run_hub("ingest", cwd=root)
    assert first.returncode == 0, first.stderr
    store = sb.hubspot.store
    ids = store.ids("contacts")[:2]
    with hubspot_property(sb, "contacts", Prop("favorite_color", "Favorite color", "string", "text", "custom",
                                               hubspot_defined=False)):
        store.update("contacts", ids[0], {"favorite_color": "teal"})
        store.update("contacts", ids[1], {"firstname": "Nobody"})
        store.table("contacts").objects[int(ids[1])].sid = ""   # the vendor sends the record without its id
        store.table("contacts").version += 1
        second = run_hub("ingest", cwd=root)
    assert second.returncode == 0, second.stderr
    # PostgreSQL's "character varying" is reported in the same words as DuckDB's VARCHAR
    assert "schema: raw_hubspot.contacts + new column favorite_color (VARCHAR)" in second.stdout
    assert "quarantined 1 record(s) of hubspot.contacts: missing id (see _hub.quarantine)" in second.stdout
    project = Project(root)
    assert project.query(f"SELECT favorite_color FROM raw_hubspot.contacts WHERE id = '{ids[0]}'").scalar() == "teal"
    assert project.query("SELECT count(*) FROM _hub.quarantine").scalar() == 1

    status = run_hub("status", cwd=root)
    assert status.returncode == 0, status.stderr
    assert f"warehouse: {pg_server.dsn(pg_database)}" in status.stdout
    assert "favorite_color" in status.stdout
    runs = run_hub("runs", cwd=root)
    assert runs.returncode == 0, runs.stderr
    assert runs.stdout.count(" ingest ") == 2 and runs.stdout.count("success") == 2
    assert_no_secret(status.stdout + status.stderr + runs.stdout + runs.stderr, secrets_of(pg_server, sb))


def test_a_waiting_writer_is_woken_when_the_holder_lets_go(make_project, sandbox, pg_server, pg_database):
    import os
    import sys

    root = pg_project(make_project, sandbox, pg_server, pg_database)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
    holder = Project(root).locked(["stream:hubspot.contacts"])   # what an ingest of it holds
    holder.acquire()
    try:
        gave_up = run_hub("--wait", "1", "ingest", cwd=root)
        assert gave_up.returncode != 0
        assert "gave up after waiting 1 s" in gave_up.stderr and "Traceback" not in gave_up.stderr
        waiter = subprocess.Popen([sys.executable, "-m", "hub", "--wait", "120", "ingest"], cwd=root, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = waiter.stderr.readline()   # it says it waits, and for whom, before it blocks
        assert line.startswith("waiting for ") and "to release stream hubspot.contacts" in line, line
    finally:
        holder.release()
    out, err = waiter.communicate(timeout=300)
    assert waiter.returncode == 0, err
    assert "ingested" in out


@pytest.mark.parametrize("kill_at", ["ingest.extracted@1", "ingest.loaded@1"])
def test_a_killed_ingest_loses_and_doubles_nothing(make_project, fresh_sandbox, pg_server, pg_database, kill_at):
    """kill -9 halfway through dlt's load, or after it committed but before the cursor was saved: the killed
    writer's session ends with it (so does its lock), and the rerun lands every record exactly once."""
    sb = fresh_sandbox
    root = pg_project(make_project, sb, pg_server, pg_database)
    killed = run_hub("ingest", cwd=root, env={"HUB_FAILPOINTS": kill_at})
    assert killed.returncode == -9, killed.stderr
    rerun = run_hub("--wait", "0", "ingest", cwd=root)   # the dead writer's lock went with its session
    assert rerun.returncode == 0, rerun.stderr
    total = api_count_hubspot(sb, "contacts")
    project = Project(root)
    assert project.query("SELECT count(*), count(DISTINCT id) FROM raw_hubspot.contacts").rows == [(total, total)]
    statuses = [r[0] for r in project.query("SELECT status FROM _hub.runs ORDER BY started_at").rows]
    assert statuses == ["interrupted", "success"]
