"""The hint a locked warehouse gives ("pass --wait SECONDS") works as users read it: after the command.

A real process holds the warehouse's write lock (through ``Project.writing``, as `hub run` does) until the test tells
it to let go; the CLI runs in subprocesses.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_hub

HOLDER = textwrap.dedent("""
    import sys
    from hub.project import Project

    project = Project(sys.argv[1])
    with project.writing():
        with project.warehouse() as wh:
            wh.execute("CREATE TABLE IF NOT EXISTS kept AS SELECT 42 AS answer")
        print("holding", flush=True)
        sys.stdin.readline()     # the test's go-ahead to let go
    print("released", flush=True)
    """)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}


@pytest.fixture
def held(make_project) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A project whose warehouse another process writes (holds the lock) until its stdin gets a line."""
    root = make_project("[warehouse]\npath = \"warehouse.duckdb\"\n")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], env=_env(), text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "holding", holder.communicate(timeout=60)
        yield root, holder
    finally:
        if holder.poll() is None:
            holder.communicate("\n", timeout=60)


def _hinted(stderr: str, command: list[str], seconds: str) -> list[str]:
    """The command line the hint in ``stderr`` tells the user to run: ``--wait SECONDS`` after the command name."""
    found = re.search(r"pass (--wait) SECONDS", stderr)
    assert found, stderr
    return [command[0], found.group(1), seconds, *command[1:]]


def test_the_hint_names_a_spelling_that_runs_and_waits(held):
    root, holder = held
    command = ["query", "SELECT answer FROM kept"]
    refused = run_hub(*command, cwd=root)
    assert refused.returncode == 1 and refused.stdout == ""
    assert "is written by" in refused.stderr and f"(pid {holder.pid})" in refused.stderr
    hinted = _hinted(refused.stderr, command, "60")
    assert hinted == ["query", "--wait", "60", "SELECT answer FROM kept"]

    waiting = subprocess.Popen([sys.executable, "-m", "hub", *hinted], cwd=root, env=_env(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = waiting.stderr.readline()     # it queues: says so, then blocks until the holder lets go
        assert "waiting for" in line and f"(pid {holder.pid})" in line, line
        assert holder.communicate("\n", timeout=60)[0].strip() == "released"
        out, err = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 0, err
    assert "42" in out and "No such option" not in err


@pytest.mark.parametrize("command", [["status"], ["runs"], ["query", "SELECT 1"]])
def test_wait_after_the_command_is_accepted_and_zero_fails_at_once(held, command):
    root, holder = held
    result = run_hub(command[0], "--wait", "0", *command[1:], cwd=root)
    assert "No such option" not in result.stderr
    assert result.returncode == 1 and f"(pid {holder.pid})" in result.stderr, result.stderr


@pytest.mark.parametrize("value", ["nan", "-1"])
def test_wait_after_the_command_is_checked_like_before_it(make_project, value):
    root = make_project("[warehouse]\npath = \"warehouse.duckdb\"\n")
    result = run_hub("status", "--wait", value, cwd=root)
    assert result.returncode == 2 and "--wait" in result.stderr, result.stderr
