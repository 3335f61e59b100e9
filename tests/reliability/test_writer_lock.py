"""One writer at a time: real `python -m hub` processes queue on the warehouse's lock file instead of failing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_hub, sandbox_project
from hub.warehouse.lock import lock_path, read_holder

#: Upper bound on how long the sandbox keeps the first ingest parked: a safety net that fails the test, never a sync.
PARK_LIMIT_S = 120


class Parked:
    """The first HubSpot properties request is held in the sandbox until :meth:`release`; later ones pass."""

    def __init__(self, sb: Any) -> None:
        self.entered = threading.Event()
        self._release = threading.Event()
        self._route = next(r for r in sb.hubspot.router.routes
                           if r.method == "GET" and r.template == "/crm/v3/properties/{objectType}")
        self._original = self._route.handler
        self._route.handler = self._handle

    def _handle(self, request: Any) -> Any:
        if not self.entered.is_set():
            self.entered.set()
            self._release.wait(PARK_LIMIT_S)
        return self._original(request)

    def release(self) -> None:
        self._release.set()

    def restore(self) -> None:
        self.release()
        self._route.handler = self._original


def start_hub(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
    return subprocess.Popen([sys.executable, "-m", "hub", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture
def writing(make_project, fresh_sandbox) -> Iterator[tuple[Path, subprocess.Popen[str], Parked]]:
    """A project and a `hub ingest` that holds the warehouse's write lock, parked mid-run in the sandbox."""
    root = sandbox_project(make_project, fresh_sandbox)
    parked = Parked(fresh_sandbox)
    first = start_hub("ingest", "hubspot.contacts", cwd=root)
    try:
        # The ingest opens the warehouse before its first API call, so once that call arrives it holds the lock.
        assert parked.entered.wait(PARK_LIMIT_S), first.communicate()
        assert read_holder(lock_path(root / "warehouse.duckdb")).pid == first.pid
        yield root, first, parked
    finally:
        parked.restore()
        first.communicate(timeout=PARK_LIMIT_S)


def test_a_second_ingest_waits_for_the_first_then_succeeds(writing):
    root, first, parked = writing
    second = start_hub("ingest", "hubspot.contacts", cwd=root)
    waiting = ""
    for line in second.stderr:  # blocks until the second process reports that it is queued
        if "waiting for" in line:
            waiting = line
            break
    assert waiting.strip() == (f"waiting for hub ingest hubspot.contacts (pid {first.pid}) "
                               f"to release the warehouse...")
    parked.release()
    out, err = first.communicate(timeout=PARK_LIMIT_S)
    assert first.returncode == 0, err
    out2, err2 = second.communicate(timeout=PARK_LIMIT_S)
    assert second.returncode == 0, err2
    assert "ingested" in out and "ingested" in out2
    assert "waiting for" not in err2  # said once
    assert read_holder(lock_path(root / "warehouse.duckdb")).pid is None  # released and cleared


def test_wait_zero_fails_at_once_naming_the_holder(writing):
    root, first, _ = writing
    result = run_hub("--wait", "0", "ingest", "hubspot.contacts", cwd=root)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: warehouse warehouse.duckdb is written by hub ingest hubspot.contacts "
                     f"(pid {first.pid}) (wait for it to finish, or pass --wait SECONDS to queue behind it)"]


def test_query_during_a_write_says_who_holds_the_warehouse(writing):
    root, first, _ = writing
    result = run_hub("query", "SELECT count(*) FROM raw_hubspot.contacts", cwd=root)
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: warehouse warehouse.duckdb is written by hub ingest hubspot.contacts (pid {first.pid}) "
        f"(wait for it to finish, or pass --wait SECONDS to queue behind it)"]


def test_query_with_wait_answers_after_the_write(writing, fresh_sandbox):
    root, first, parked = writing
    reader = start_hub("--wait", str(PARK_LIMIT_S), "query", "SELECT count(*) AS n FROM raw_hubspot.contacts",
                       cwd=root)
    for line in reader.stderr:
        if "waiting for" in line:
            break
    parked.release()
    assert first.wait(PARK_LIMIT_S) == 0
    out, err = reader.communicate(timeout=PARK_LIMIT_S)
    assert reader.returncode == 0, err
    assert str(fresh_sandbox.hubspot.store.count("contacts")) in out


def test_a_crashed_holder_releases_the_lock(make_project, fresh_sandbox):
    root = sandbox_project(make_project, fresh_sandbox)
    parked = Parked(fresh_sandbox)
    first = start_hub("ingest", "hubspot.contacts", cwd=root)
    try:
        assert parked.entered.wait(PARK_LIMIT_S)
        first.kill()
        first.communicate(timeout=PARK_LIMIT_S)
    finally:
        parked.restore()
    result = run_hub("--wait", "0", "ingest", "hubspot.contacts", cwd=root)
    assert result.returncode == 0, result.stderr
