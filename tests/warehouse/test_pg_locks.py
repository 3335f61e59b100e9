"""Many writers on a PostgreSQL warehouse: per-resource advisory locks (hub.warehouse.pglocks).

Real `hub` CLI processes on a throwaway cluster (tests/pg.py). Overlap is proven by synchronisation, never timing: a
process parks inside its locked section (failpoint ``ingest.locked:park``: it prints a line and waits for one on its
stdin) while the other does its work, or parks too, so both are inside their locked sections at the same moment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hub.project import Project
from hub.warehouse import pglocks
from tests.conftest import run_hub
from tests.pg import PgServer

PARKED = "failpoint ingest.locked parked"


def two_connection_project(make_project, sb, server: PgServer, database: str) -> Path:
    """Two connections (the same sandbox HubSpot under two names): disjoint streams, disjoint raw schemas."""
    return make_project(f"""
        [warehouse]
        type = "postgres"
        dsn = "{server.dsn(database)}"

        [connections.crm_a]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"
        streams = ["contacts"]

        [connections.crm_b]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"
        streams = ["contacts"]
        """, f'[warehouse]\npassword = "{server.password}"\n\n[connections.crm_a]\ntoken = "{sb.hubspot.token}"\n\n'
             f'[connections.crm_b]\ntoken = "{sb.hubspot.token}"\n')


def start_hub(root: Path, *args: str, park: bool | str = False) -> subprocess.Popen[str]:
    """The CLI in a subprocess; ``park``: it parks inside its locked section (``ingest.locked``, or the failpoint
    named) until :func:`resume`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
    if park:
        env["HUB_FAILPOINTS"] = f"{park if isinstance(park, str) else 'ingest.locked'}:park"
    return subprocess.Popen([sys.executable, "-m", "hub", *args], cwd=root, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_until(proc: subprocess.Popen[str], marker: str) -> list[str]:
    """stderr lines up to the one containing ``marker`` (fails if the process ends first)."""
    lines = []
    while True:
        line = proc.stderr.readline()
        assert line, f"process ended before '{marker}': {''.join(lines)}{proc.stderr.read()}"
        lines.append(line)
        if marker in line:
            return lines


def resume(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """Let a parked process go on; its remaining output once it ends."""
    out, err = proc.communicate("\n", timeout=300)
    return out, err


def hub_locks(server: PgServer, database: str) -> list[tuple[int, int, bool]]:
    """hub's advisory locks in the cluster: (key, backend pid, granted)."""
    text = server.admin(f"SELECT objid::bigint, pid, granted FROM pg_locks WHERE locktype = 'advisory' "
                        f"AND classid = {pglocks.HUB_CLASSID} AND objsubid = 2 AND database = "
                        f"(SELECT oid FROM pg_database WHERE datname = '{database}') ORDER BY 1, 2")
    out = []
    for line in text.split():
        objid, pid, granted = line.split("|")
        signed = int(objid) - (1 << 32) if int(objid) >= 1 << 31 else int(objid)
        out.append((signed, int(pid), granted == "t"))
    return out


def test_two_ingests_of_different_connections_run_at_once(make_project, sandbox, pg_server, pg_database):
    root = two_connection_project(make_project, sandbox, pg_server, pg_database)
    a = start_hub(root, "ingest", "crm_a", park=True)
    b = start_hub(root, "ingest", "crm_b", park=True)
    try:
        read_until(a, PARKED)
        read_until(b, PARKED)
        # both processes are inside their locked sections now, each holding its own stream's lock
        held = {k: pid for k, pid, granted in hub_locks(pg_server, pg_database) if granted}
        key_a, key_b = pglocks.key("stream:crm_a.contacts"), pglocks.key("stream:crm_b.contacts")
        assert key_a in held and key_b in held and held[key_a] != held[key_b]
    finally:
        out_a, err_a = resume(a)
        out_b, err_b = resume(b)
    assert a.returncode == 0, err_a
    assert b.returncode == 0, err_b
    project = Project(root)
    total = project.query("SELECT count(*) FROM raw_crm_a.contacts").scalar()
    assert total > 0 and project.query("SELECT count(*) FROM raw_crm_b.contacts").scalar() == total
    assert project.query("SELECT command, status FROM _hub.runs").rows == [("ingest", "success")] * 2
    # the locks went with the sessions
    assert hub_locks(pg_server, pg_database) == []


def test_the_same_stream_twice_refuses_or_waits_never_runs_beside_itself(make_project, sandbox, pg_server,
                                                                         pg_database):
    root = two_connection_project(make_project, sandbox, pg_server, pg_database)
    first = start_hub(root, "ingest", "crm_a", park=True)
    waiter = None
    try:
        read_until(first, PARKED)
        # --wait 0: refused at once, naming the holder (its command, pid and host) and the stream; nothing written
        refused = run_hub("--wait", "0", "ingest", "crm_a", cwd=root)
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        line = refused.stderr.strip().splitlines()[-1]
        assert "stream crm_a.contacts is being written by hub ingest crm_a" in line, line
        assert f"pid {first.pid} on " in line and "--wait SECONDS" in line
        # a run of the other connection is not held up by it
        other = run_hub("--wait", "0", "ingest", "crm_b", cwd=root)
        assert other.returncode == 0, other.stderr
        # with a wait: it says whom it waits for, then waits on the server
        waiter = start_hub(root, "--wait", "120", "ingest", "crm_a")
        line = read_until(waiter, "waiting for")[-1]
        assert f"hub ingest crm_a (pid {first.pid} on " in line and "to release stream crm_a.contacts" in line
    finally:
        out, err = resume(first)
    assert first.returncode == 0, err
    out, err = waiter.communicate(timeout=300)
    assert waiter.returncode == 0, err
    runs = Project(root).query("SELECT run_id, started_at, finished_at, status FROM _hub.runs r WHERE EXISTS ("
                               "SELECT 1 FROM _hub.run_steps s WHERE s.run_id = r.run_id AND s.target = "
                               "'crm_a.contacts') ORDER BY started_at").rows
    # the refused one left no run; the waiter's run began only after the first one's had ended
    assert [r[3] for r in runs] == ["success", "success"]
    assert runs[1][1] >= runs[0][2]


def test_hub_run_holds_its_steps_resources_from_first_step_to_last(make_project, sandbox, pg_server, pg_database):
    root = two_connection_project(make_project, sandbox, pg_server, pg_database)
    first = start_hub(root, "run", "ingest:crm_a", park=True)
    try:
        read_until(first, PARKED)
        refused = run_hub("--wait", "0", "run", "ingest:crm_a.contacts", cwd=root)
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        assert "stream crm_a.contacts is being written by hub run ingest:crm_a (pid" in refused.stderr
        beside = run_hub("--wait", "0", "run", "ingest:crm_b", cwd=root)
        assert beside.returncode == 0, beside.stderr
        assert "crm_b.contacts" in beside.stdout and "success" in beside.stdout
    finally:
        out, err = resume(first)
    assert first.returncode == 0, err
    bad = run_hub("run", "ingets", cwd=root)
    assert bad.returncode != 0 and "unknown step 'ingets'" in bad.stderr and "Traceback" not in bad.stderr


def test_a_scheduled_job_and_hub_run_cooperate(make_project, sandbox, pg_server, pg_database):
    """The scheduler (what `hub serve` and `hub schedule run` run) holds its job's resources like `hub run`."""
    root = two_connection_project(make_project, sandbox, pg_server, pg_database)
    with (root / "hub.toml").open("a") as toml:
        toml.write('\n[schedules.nightly_a]\ncron = "0 3 * * *"\nsteps = ["ingest:crm_a"]\n')
    job = start_hub(root, "schedule", "run", "--once", "nightly_a", park=True)
    try:
        read_until(job, PARKED)
        refused = run_hub("--wait", "0", "run", "ingest:crm_a", cwd=root)
        assert refused.returncode != 0
        assert "stream crm_a.contacts is being written by hub schedule run --once nightly_a (pid" in refused.stderr
        beside = run_hub("--wait", "0", "run", "ingest:crm_b", cwd=root)
        assert beside.returncode == 0, beside.stderr
    finally:
        out, err = resume(job)
    assert job.returncode == 0, err
    assert "nightly_a: success" in out
    commands = sorted(r[0] for r in Project(root).query("SELECT command FROM _hub.runs WHERE status = 'success'").rows)
    assert commands == ["ingest", "ingest", "schedule:nightly_a"]


SYNC = """
[syncs.{name}]
model = "extra.{name}"
to = "crm_a"
object = "contacts"
mode = "upsert"
key = "person_id"
match = {{ email = "email" }}
fields = {{ first_name = "firstname" }}
"""


def test_two_pushes_of_different_syncs_run_at_once_and_the_same_sync_never_twice(make_project, fresh_sandbox,
                                                                                 pg_server, pg_database):
    sb = fresh_sandbox
    root = two_connection_project(make_project, sb, pg_server, pg_database)
    with (root / "hub.toml").open("a") as toml:
        toml.write(SYNC.format(name="people_a") + SYNC.format(name="people_b"))
    project = Project(root)
    with project.warehouse() as wh, wh.transaction():
        wh.execute("CREATE SCHEMA IF NOT EXISTS extra")
        for name in ("people_a", "people_b"):
            wh.execute(f"CREATE TABLE extra.{name} (person_id VARCHAR PRIMARY KEY, email VARCHAR, first_name VARCHAR, "
                       "updated_at TIMESTAMPTZ)")
            for i in range(3):
                wh.execute(f"INSERT INTO extra.{name} VALUES (?, ?, ?, now())",
                           [f"{name}-{i}", f"{name}.{i}@locks.example", f"First{i}"])
    before = sb.hubspot.store.count("contacts")
    first = start_hub(root, "push", "people_a", park="push.locked")
    try:
        read_until(first, "failpoint push.locked parked")
        refused = run_hub("--wait", "0", "push", "people_a", cwd=root)
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        assert "sync people_a is being written by hub push people_a (pid" in refused.stderr
        # the other sync goes on beside it, to the end
        beside = run_hub("--wait", "0", "push", "people_b", cwd=root)
        assert beside.returncode == 0, beside.stderr
        assert sb.hubspot.store.count("contacts") == before + 3
    finally:
        out, err = resume(first)
    assert first.returncode == 0, err
    assert sb.hubspot.store.count("contacts") == before + 6
    assert project.query("SELECT sync, count(*) FROM _hub.sync_state GROUP BY sync ORDER BY sync").rows == [
        ("people_a", 3), ("people_b", 3)]
    assert project.query("SELECT command, status FROM _hub.runs").rows == [("push", "success")] * 2


def test_a_killed_holder_leaves_nothing_locked(make_project, sandbox, pg_server, pg_database):
    root = two_connection_project(make_project, sandbox, pg_server, pg_database)
    killed = run_hub("ingest", "crm_a", cwd=root, env={"HUB_FAILPOINTS": "ingest.extracted@1"})
    assert killed.returncode == -9
    again = run_hub("--wait", "0", "ingest", "crm_a", cwd=root)
    assert again.returncode == 0, again.stderr


def test_hubs_own_tables_are_created_safely_beside_each_other_and_readers_never_wait(pg_server, pg_database,
                                                                                    tmp_path):
    from hub.config import WarehouseConfig
    from hub.warehouse.bookkeeping import DDL, Bookkeeping
    from hub.warehouse.postgres import PostgresWarehouse
    from hub.secrets import Secret

    assert pglocks.ensure_plan(DDL) is not None   # hub's bookkeeping DDL is recognised as such a batch
    config = WarehouseConfig(type="postgres", dsn=pg_server.dsn(pg_database), password=Secret(pg_server.password))
    # eight sessions create _hub at the same moment on an empty database: every one succeeds
    barrier, errors = threading.Barrier(8), []

    def ensure() -> None:
        with PostgresWarehouse(config, tmp_path) as wh:
            wh.connect()
            barrier.wait()
            try:
                Bookkeeping(wh).ensure()
            except Exception as exc:   # noqa: BLE001 - collected for the assertion
                errors.append(exc)

    threads = [threading.Thread(target=ensure) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # a reader in the middle of a transaction on _hub.runs: a writer's ensure (all in place) does not wait for it,
    # and takes no lock a later reader would queue behind
    import psycopg

    with psycopg.connect(pg_server.dsn(pg_database), password=pg_server.password) as reader:
        reader.execute("SELECT count(*) FROM _hub.runs").fetchone()   # holds ACCESS SHARE until it ends
        with PostgresWarehouse(config, tmp_path) as wh:
            wh.execute("SET lock_timeout = 2000")   # an ALTER TABLE would fail here instead of hanging the test
            books = Bookkeeping(wh)
            books.ensure()
            run_id = books.start_run("ingest")
            books.finish_run(run_id, "success")
        assert reader.execute("SELECT count(*) FROM _hub.runs").fetchone()[0] == 1


@pytest.mark.parametrize("sql", ["INSERT INTO _hub.x VALUES (1)", "CREATE SCHEMA IF NOT EXISTS s; DROP TABLE t",
                                 "CREATE SCHEMA IF NOT EXISTS s; CREATE TABLE IF NOT EXISTS s.t (a VARCHAR DEFAULT "
                                 "'; DROP TABLE u'); DELETE FROM s.t",
                                 "CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql"])
def test_other_statements_are_not_taken_for_ddl_batches(sql):
    assert pglocks.ensure_plan(sql) is None


def test_every_ddl_batch_of_hub_is_recognised():
    from hub.modeling.materialize import STATE_DDL
    from hub.reverse_etl.state import DDL as SYNC_DDL
    from hub.schedule import WarehouseSlots
    from hub.warehouse.bookkeeping import DDL

    for ddl in (DDL, SYNC_DDL, STATE_DDL, WarehouseSlots.DDL):
        assert pglocks.ensure_plan(ddl) is not None, ddl
    assert pglocks.ensure_plan("CREATE TABLE IF NOT EXISTS s.t (a VARCHAR DEFAULT 'a;b'); "
                               "ALTER TABLE s.t ADD COLUMN IF NOT EXISTS b VARCHAR DEFAULT 'x'") == [
        ("table", ("s.t",)), ("column", ("s.t", "b"))]


def test_lock_keys_are_stable_and_named():
    assert pglocks.key("stream:crm.contacts") == pglocks.key("stream:crm.contacts")
    assert pglocks.key("stream:crm.contacts") != pglocks.key("stream:crm.deals")
    assert -(1 << 31) <= pglocks.key("sync:person_to_crm") < 1 << 31
    assert pglocks.describe("load:crm") == "the load into raw_crm"
    assert len(pglocks.application_name().encode()) <= 63
