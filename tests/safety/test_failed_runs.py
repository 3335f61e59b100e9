"""A command that dies of an unexpected exception records its run as failed with the masked cause, in one line."""

from __future__ import annotations

import json

from hub.history import fail_unfinished, runs
from hub.project import Project
from tests.conftest import run_hub, sandbox_project
from hub.warehouse.bookkeeping import Bookkeeping


def test_an_unexpected_exception_in_ingest_marks_the_run_failed_with_its_cause(make_project, sandbox):
    root = sandbox_project(make_project, sandbox)
    proc = run_hub("ingest", "hubspot.contacts", cwd=root, env={"HUB_FAILPOINTS": "ingest.loaded:raise"})
    assert proc.returncode == 70 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: unexpected FailpointError: failpoint ingest.loaded raised")
    listed = json.loads(run_hub("runs", "--json", cwd=root).stdout)
    assert [(r["command"], r["status"], r["error"]) for r in listed] == [
        ("ingest", "failed", "FailpointError: failpoint ingest.loaded raised")]
    status = run_hub("status", cwd=root).stdout
    assert "failed: latest `ingest` run" in status and "interrupted" not in status


def test_hub_run_dying_in_a_step_records_that_steps_run_failed(make_project, sandbox):
    root = sandbox_project(make_project, sandbox)
    proc = run_hub("run", cwd=root, env={"HUB_FAILPOINTS": "ingest.between_connections:raise"})
    assert proc.returncode == 70 and proc.stderr.count("\n") == 1, proc.stderr
    listed = json.loads(run_hub("runs", "--json", cwd=root).stdout)
    assert [(r["command"], r["status"], r["error"]) for r in listed] == [
        ("ingest", "failed", "FailpointError: failpoint ingest.between_connections raised")]


def test_a_scheduled_job_dying_records_the_job_and_its_step_failed(make_project, sandbox):
    root = sandbox_project(make_project, sandbox, extra='[schedules.nightly]\ncron = "0 2 * * *"\n')
    proc = run_hub("schedule", "run", "--once", cwd=root, env={"HUB_FAILPOINTS": "ingest.loaded:raise"})
    assert proc.returncode != 0 and "FailpointError" in proc.stderr, proc.stderr
    listed = {r["command"]: r for r in json.loads(run_hub("runs", "--json", cwd=root).stdout)}
    assert set(listed) == {"ingest", "schedule:nightly"}
    for run in listed.values():
        assert run["status"] == "failed" and run["error"] == "FailpointError: failpoint ingest.loaded raised"


def test_the_recorded_cause_is_masked(make_project, sandbox):
    root = sandbox_project(make_project, sandbox)
    project = Project(root)
    with project.warehouse() as wh:
        books = Bookkeeping(wh)
        books.ensure()
        run_id = books.start_run("push")
    secret = sandbox.hubspot.token
    assert fail_unfinished(project, ValueError(f"sent Bearer {secret}\nand failed")) == [run_id]
    (recorded,) = runs(project)
    assert recorded["status"] == "failed" and recorded["error"] == "ValueError: sent Bearer *** and failed"
    assert fail_unfinished(project, ValueError("again")) == []    # nothing left unfinished
