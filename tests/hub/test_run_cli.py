"""`hub build`, `hub push`, `hub run`, `hub models`, `hub compile` through the real CLI against the sandbox."""

from __future__ import annotations

import json
import os

from hub.demo import PERSON_SYNCS
from tests.conftest import run_hub

# the demo's two person syncs (its deal, lead and score syncs read models of the example's own folder)
SYNCS = PERSON_SYNCS


def project_with_syncs(make_project, sb):
    root = make_project(f"""
        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"

        [connections.salesforce]
        type = "salesforce"
        base_url = "{sb.salesforce.url}"
        """ + "\n" + SYNCS)
    env = {"HUB__CONNECTIONS__HUBSPOT__TOKEN": sb.hubspot.token,
           "HUB__CONNECTIONS__SALESFORCE__TOKEN": sb.salesforce.token}
    return root, env


def test_run_twice_then_nothing_to_send(make_project, fresh_sandbox):
    sb = fresh_sandbox
    root, env = project_with_syncs(make_project, sb)

    dry = run_hub("push", "--dry-run", cwd=root, env=env)
    assert dry.returncode != 0 and "canonical.person" in dry.stderr  # nothing built yet: says which model is missing

    first = run_hub("run", cwd=root, env=env)
    assert first.returncode == 0, first.stderr
    assert "ingest:" in first.stdout and "build:" in first.stdout and "push:" in first.stdout
    assert "created" in first.stdout

    sb.hubspot.requests.reset()
    sb.salesforce.requests.reset()
    second = run_hub("run", cwd=root, env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("nothing changed") == 2, second.stdout
    writes = [k for k in {**sb.hubspot.requests.snapshot(), **sb.salesforce.requests.snapshot()}
              if not k.startswith("GET") and "/search" not in k]
    assert writes == [], writes

    status = json.loads(run_hub("status", "--json", cwd=root).stdout)
    assert {s["sync"] for s in status["syncs"]} == {"person_to_hubspot", "person_to_salesforce"}
    assert all(s["outcome"] == "success" for s in status["syncs"])

    models = json.loads(run_hub("models", "--json", cwd=root).stdout)
    person = next(m for m in models if m["name"] == "canonical.person")
    assert person["rows"] > 0 and person["last_built_at"]
    compiled = run_hub("compile", "canonical.person", "--dialect", "postgres", cwd=root)
    assert compiled.returncode == 0 and "SELECT" in compiled.stdout.upper()


def test_dry_run_writes_nothing_and_rejected_rows_are_listed(make_project, fresh_sandbox):
    sb = fresh_sandbox
    root, env = project_with_syncs(make_project, sb)
    assert run_hub("ingest", cwd=root, env=env).returncode == 0
    assert run_hub("build", cwd=root, env=env).returncode == 0
    sb.hubspot.requests.reset()
    dry = run_hub("push", "--dry-run", "person_to_hubspot", cwd=root, env=env)
    assert dry.returncode == 0, dry.stderr
    assert "would create" in dry.stdout and "->" in dry.stdout
    assert not [k for k in sb.hubspot.requests.snapshot() if k.startswith(("POST", "PATCH", "DELETE"))]
    shown = run_hub("push", "--show-rejected", "person_to_hubspot", cwd=root, env=env)
    assert shown.returncode == 0 and "0 rejected row(s)" in shown.stdout
    unknown = run_hub("push", "person_to_hubspt", cwd=root, env=env)
    assert unknown.returncode != 0 and "did you mean 'person_to_hubspot'" in unknown.stderr


def test_a_failed_step_stops_the_rest(make_project, sandbox):
    root, env = project_with_syncs(make_project, sandbox)
    env["HUB__CONNECTIONS__HUBSPOT__TOKEN"] = "pat-na1-00000000-0000-0000-0000-000000000000"
    proc = run_hub("run", cwd=root, env=env)
    assert proc.returncode == 1
    assert "ingest failed; skipped: build, push" in proc.stderr
    assert "connection 'hubspot'" in proc.stderr and "build:" not in proc.stdout


def test_hub_run_holds_the_warehouse_between_its_steps(make_project, fresh_sandbox):
    from hub.project import Project
    from hub.run import run

    root, env = project_with_syncs(make_project, fresh_sandbox)
    project = Project(root, environ=env)
    between = []

    def after(step, report):
        # another process, between two steps: it must find the warehouse still held by this run
        between.append((step, run_hub("--wait", "0", "query", "SELECT 1", cwd=root, env=env)))

    assert run(project, on_step=after).ok
    assert [step for step, _ in between] == ["ingest", "build", "push"]
    for step, other in between:
        # a reader answers from the writer's snapshot, naming the writer that still holds the warehouse
        held = "is written by" in other.stderr or "(a writer is running: " in other.stderr
        assert held and f"pid {os.getpid()}" in other.stderr, (step, other.stderr)
    assert run_hub("--wait", "0", "query", "SELECT 1", cwd=root, env=env).returncode == 0   # let go at the end
