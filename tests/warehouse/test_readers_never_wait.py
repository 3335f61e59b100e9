"""Reads never wait for writes: while a real `hub ingest` or `hub push` process holds the warehouse, `hub status`,
`hub runs` and `hub query` (with ``--wait 0``: no queueing) answer, and show the run in progress with its live progress.

`hub runs` and the run lines of `hub status` come from the run log (SQLite beside the warehouse); tables come from the
snapshot the writer publishes, or above the snapshot size limit from the last one published (its age said)."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from typing import Any

from tests.conftest import run_hub, sandbox_project
from tests.reliability.test_writer_lock import PARK_LIMIT_S, Parked, start_hub
from hub.warehouse.duck import SNAPSHOT_MAX_ENV, snapshot_path
from hub.warehouse.lock import lock_path, read_holder


def test_status_runs_and_query_answer_while_a_writer_holds_the_warehouse(make_project, fresh_sandbox):
    root = sandbox_project(make_project, fresh_sandbox)
    assert run_hub("ingest", "hubspot.contacts", cwd=root).returncode == 0   # a warehouse with data in it
    parked = Parked(fresh_sandbox)
    writer = start_hub("ingest", "hubspot.contacts", cwd=root)
    try:
        # The ingest has started its run (and published the snapshot) before its first API call, parked here.
        assert parked.entered.wait(PARK_LIMIT_S), writer.communicate()
        assert read_holder(lock_path(root / "warehouse.duckdb")).pid == writer.pid
        snap = snapshot_path(root / "warehouse.duckdb")
        assert stat.S_IMODE(snap.stat().st_mode) == 0o600
        note = f"(a writer is running: hub ingest hubspot.contacts (pid {writer.pid}))"

        timings = {}
        for name, args in [("status", ["status"]), ("runs", ["runs"]),
                           ("query", ["query", "SELECT count(*) AS n FROM raw_hubspot.contacts"])]:
            began = time.monotonic()
            timings[name] = result = run_hub("--wait", "0", *args, cwd=root)
            print(f"hub {name}: {time.monotonic() - began:.2f} s while the writer holds the warehouse")
            assert result.returncode == 0, result.stderr
            if name != "runs":   # runs come from the run log, which is live: no "as of"
                assert note in result.stderr and "as of" in result.stderr
        assert "running: `ingest`" in timings["status"].stdout
        assert f"(pid {writer.pid})" in timings["status"].stdout
        runs = timings["runs"].stdout.splitlines()
        assert "running" in runs[2] and "ingest" in runs[2]   # newest first: the run in progress
        assert str(fresh_sandbox.hubspot.store.count("contacts")) in timings["query"].stdout
    finally:
        parked.restore()
        out, err = writer.communicate(timeout=PARK_LIMIT_S)
    assert writer.returncode == 0, err
    after = run_hub("--wait", "0", "runs", cwd=root)
    assert after.returncode == 0 and "as of" not in after.stderr   # the live warehouse again
    assert "running" not in after.stdout


SYNC = """
[syncs.person_to_hubspot]
model = "canonical.person"
to = "hubspot"
object = "contacts"
match = { email = "email" }
fields = { first_name = "firstname", last_name = "lastname", phone = "phone", company_name = "company" }
"""


class ParkedWrite:
    """The first batch write to HubSpot (create, update, upsert) is held in the sandbox until released."""

    def __init__(self, sb: Any) -> None:
        self.entered = threading.Event()
        self._release = threading.Event()
        self._route = next(r for r in sb.hubspot.router.routes
                           if r.method == "POST" and r.template.endswith("/batch/{action}"))
        self._original = self._route.handler
        self._route.handler = self._handle

    def _handle(self, request: Any) -> Any:
        if not self.entered.is_set():
            self.entered.set()
            self._release.wait(PARK_LIMIT_S)
        return self._original(request)

    def restore(self) -> None:
        self._release.set()
        self._route.handler = self._original


def test_readers_answer_during_a_push_on_a_warehouse_above_the_snapshot_limit(make_project, fresh_sandbox):
    root = sandbox_project(make_project, fresh_sandbox, extra=SYNC)
    for step in ("ingest", "build"):
        done = run_hub(step, cwd=root)
        assert done.returncode == 0, done.stderr
    warehouse = root / "warehouse.duckdb"
    snap = snapshot_path(warehouse)
    published = snap.stat().st_mtime_ns   # the last snapshot, from the build: the warehouse as the push starts
    big = {SNAPSHOT_MAX_ENV: str(warehouse.stat().st_size // 2)}   # the warehouse is above this limit
    assert warehouse.stat().st_size > int(big[SNAPSHOT_MAX_ENV])
    parked = ParkedWrite(fresh_sandbox)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")} | big
    writer = subprocess.Popen([sys.executable, "-m", "hub", "push"], cwd=root, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # The push has planned, started its run and reported its progress before its first write, parked here.
        assert parked.entered.wait(PARK_LIMIT_S), writer.communicate()
        assert read_holder(lock_path(warehouse)).pid == writer.pid
        assert snap.stat().st_mtime_ns == published   # above the limit the writer copies nothing

        status = run_hub("--wait", "0", "status", cwd=root)
        assert status.returncode == 0, status.stderr
        # (other batches than the parked one may have gone through: the rows so far are not known in advance)
        live = re.search(r"running: `push` run \S+ \(pid (\d+)\), started .*, 0 step\(s\) done, now at push "
                         r"person_to_hubspot: ([\d,]+) of ([\d,]+) rows", status.stdout)
        assert live and int(live.group(1)) == writer.pid, status.stdout
        assert int(live.group(2).replace(",", "")) < int(live.group(3).replace(",", ""))
        assert "as of" in status.stderr and " old (a writer is running: hub push" in status.stderr

        runs = run_hub("--wait", "0", "runs", "--json", cwd=root)
        assert runs.returncode == 0, runs.stderr
        newest = json.loads(runs.stdout)[0]
        assert (newest["command"], newest["status"]) == ("push", "running")
        assert newest["progress"]["step"] == "push" and newest["progress"]["target"] == "person_to_hubspot"
        table = run_hub("--wait", "0", "runs", cwd=root).stdout.splitlines()
        assert "running" in table[2] and "now at push person_to_hubspot: " in table[2]

        # hub query answers from the last snapshot published, and says how old it is
        query = run_hub("--wait", "0", "query", "SELECT count(*) AS n FROM canonical.person", cwd=root)
        assert query.returncode == 0, query.stderr
        assert int(query.stdout.split()[-1]) > 0
        assert re.search(r"as of \S+ \S+ UTC, \d+ (s|min) old \(a writer is running: hub push \(pid \d+\)\)",
                         query.stderr), query.stderr

        # With no snapshot at all, a query fails at once, saying who writes and what it is doing; status still
        # answers from the run log.
        snap.unlink()
        query = run_hub("--wait", "0", "query", "SELECT 1", cwd=root)
        assert query.returncode == 1
        line = query.stderr.strip()
        assert len(line.splitlines()) == 1 and f"hub push (pid {writer.pid})" in line
        assert re.search(r"at push person_to_hubspot: [\d,]+ of [\d,]+ rows", line) and "--wait SECONDS" in line
        status = run_hub("--wait", "0", "status", cwd=root)
        assert status.returncode == 0, status.stderr
        assert "now at push person_to_hubspot" in status.stdout and "from the run log" in status.stderr
        assert re.search(r"hubspot\.contacts\s+success", status.stdout), status.stdout
    finally:
        parked.restore()
        out, err = writer.communicate(timeout=PARK_LIMIT_S)
    assert writer.returncode == 0, err
    after = json.loads(run_hub("--wait", "0", "runs", "--json", cwd=root).stdout)[0]
    assert (after["command"], after["status"], after["progress"]) == ("push", "success", None)
    assert after["rows_out"] > 0


def test_above_the_limit_a_run_start_replaces_only_a_missing_or_stale_snapshot(tmp_path, monkeypatch):
    import duckdb

    from hub.warehouse.duck import SNAPSHOT_AGE_ENV, publish_snapshot

    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t AS SELECT range AS i FROM range(10000)")
    monkeypatch.setenv(SNAPSHOT_MAX_ENV, "1")            # every warehouse is above the limit
    snap = snapshot_path(path)
    assert not publish_snapshot(con, path) and not snap.exists()          # a step never copies above the limit
    assert publish_snapshot(con, path, run_start=True) and snap.exists()  # none yet: a run's start makes one
    first = snap.stat().st_mtime_ns
    assert not publish_snapshot(con, path, run_start=True)                # a fresh one stays
    assert snap.stat().st_mtime_ns == first
    monkeypatch.setenv(SNAPSHOT_AGE_ENV, "0")            # every snapshot is stale
    con.execute("INSERT INTO t VALUES (-1)")
    assert publish_snapshot(con, path, run_start=True)
    con.close()
    copy = duckdb.connect(str(snap), read_only=True)
    assert copy.execute("SELECT count(*) FROM t").fetchone() == (10001,)
    copy.close()
