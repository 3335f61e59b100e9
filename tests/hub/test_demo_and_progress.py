"""`hub demo` end to end as a user runs it, and ingest progress on a real terminal (a pty)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

from hub.examples import get
from tests.conftest import run_hub, sandbox_project


def test_demo_runs_twice(tmp_path):
    # one example, twice (bare `hub demo`, every example, runs in tests/docs/test_demo_docs.py)
    first = run_hub("demo", "--example", "crm-two-way", str(tmp_path / "d"), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "(created)" in first.stdout and "hubspot.contacts" in first.stdout and "full" in first.stdout
    assert "raw_salesforce.contact" in first.stdout and "persons" in first.stdout
    assert "person_to_hubspot" in first.stdout and "created" in first.stdout
    second = run_hub("demo", "--example", "crm-two-way", str(tmp_path / "d"), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "incremental" in second.stdout and "(existing" in second.stdout
    # every sync of the example finds nothing left to send
    syncs = len(tomllib.loads((get("crm-two-way").project / "hub.toml").read_text())["syncs"])
    assert syncs >= 2 and second.stdout.count("nothing changed") == syncs, second.stdout
    status = run_hub("-C", str(tmp_path / "d"), "status")
    assert status.returncode == 0 and "success" in status.stdout


def test_progress_shows_on_a_terminal(make_project, sandbox):
    root = sandbox_project(make_project, sandbox)
    leader, follower = os.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
    env.update(TERM="xterm", COLUMNS="100")
    proc = subprocess.Popen([sys.executable, "-m", "hub", "ingest"], cwd=root, env=env, stdin=follower,
                            stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the pty closes when the process exits
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    os.close(leader)
    screen = b"".join(chunks).decode(errors="replace")
    assert "ingesting" in screen or "starting ingest" in screen
    assert "ingested" in screen and "Traceback" not in screen
