"""Reads never wait for writes: while a real `hub ingest` process holds the warehouse, `hub status`, `hub runs` and
`hub query` (with ``--wait 0``) answer from the writer's snapshot and show the run in progress."""

from __future__ import annotations

import stat
import time

from tests.conftest import run_hub, sandbox_project
from tests.reliability.test_writer_lock import PARK_LIMIT_S, Parked, start_hub
from hub.warehouse.duck import snapshot_path
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
