"""`hub schedule run` as a real subprocess whose main thread blocks SIGINT and SIGTERM, so the kernel always hands them
to another thread (as it may at any time anyway): the first one stops new jobs and lets the running one finish, then
the process exits 0; a second one aborts at once."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.project import Project
from hub.schedule import WarehouseSlots

REPO = Path(__file__).resolve().parents[2]

#: ``python -c`` this, then the CLI's arguments: signals land on a thread other than the main one, and the job runner is
#: one the test holds (it says it started, then waits for a line on stdin), so a signal surely arrives mid-job.
LAUNCHER = """
import signal, sys, threading
threading.Thread(target=threading.Event().wait, name="takes-the-signals", daemon=True).start()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})

import hub.schedule

def held(project, schedule):
    print(f"job started: {schedule.name}", flush=True)
    sys.stdin.readline()
    print(f"job released: {schedule.name}", flush=True)

hub.schedule.run_and_alert = held
sys.argv[0] = "hub"
from hub.cli import main
main()
"""


class ScheduleProcess:
    """`hub schedule run` in a subprocess, its stdout read line by line by a thread."""

    def __init__(self, root: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
        self.proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, "-C", str(root), "schedule", "run"], cwd=REPO,
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._drain, args=(self.proc.stdout, self.lines.put), daemon=True),
                         threading.Thread(target=self._drain, args=(self.proc.stderr, self.err.append), daemon=True)]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _drain(pipe, sink: Callable[[str], None]) -> None:
        for line in pipe:
            sink(line)
        sink("")

    def until(self, text: str) -> str:
        """The next stdout line containing ``text`` (the timeout only keeps a broken build from hanging the suite)."""
        while True:
            try:
                line = self.lines.get(timeout=120)
            except queue.Empty:
                self.proc.kill()
                raise AssertionError(f"never printed {text!r}; saw {self.seen} {''.join(self.err)}") from None
            self.seen.append(line)
            if text in line:
                return line
            if line == "":
                raise AssertionError(f"ended before printing {text!r}; saw {self.seen} {''.join(self.err)}")

    def finish(self) -> tuple[int, str]:
        """Exit status and the rest of stdout."""
        try:
            code = self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"did not exit; saw {self.seen} {''.join(self.err)}") from None
        for reader in self._readers:
            reader.join(timeout=30)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, "".join(self.seen)


@pytest.fixture
def root(make_project: Callable[..., Path]) -> Path:
    root = make_project('[schedules.tick]\ncron = "* * * * *"\nsteps = ["build"]\n')
    # it last ran an hour ago: a missed slot, so the job is due the moment the scheduler starts
    WarehouseSlots(Project(root)).set("tick", datetime.now(UTC) - timedelta(hours=1))
    return root


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_lets_the_running_job_finish_then_exits_0(root, sig):
    run = ScheduleProcess(root)
    run.until("job started: tick")
    run.proc.send_signal(sig)
    stopping = run.until("stopping")   # it noticed while the job is still held
    assert f"stopping ({signal.Signals(sig).name}): no new jobs; waiting for tick to finish (again to abort)" in stopping
    run.proc.stdin.write("go\n")
    run.proc.stdin.flush()
    code, out = run.finish()
    assert code == 0, "".join(run.err)
    assert "job released: tick" in out and "tick: finished" in out
    assert out.rstrip().endswith("stopped: every started job finished")


def test_a_second_signal_aborts_the_running_job(root):
    run = ScheduleProcess(root)
    run.until("job started: tick")
    run.proc.send_signal(signal.SIGTERM)
    run.until("stopping (SIGTERM)")
    run.proc.send_signal(signal.SIGINT)
    code, out = run.finish()   # the job is still held: only the abort can end the process
    assert code == 128 + signal.SIGINT
    assert "aborted (SIGINT): tick interrupted mid-run; `hub runs` shows what it had done" in out
    assert "job released" not in out and "tick: finished" not in out and "stopped:" not in out


def test_a_signal_while_no_job_runs_exits_0_at_once(root):
    WarehouseSlots(Project(root)).set("tick", datetime.now(UTC) + timedelta(hours=1))   # nothing due for an hour
    run = ScheduleProcess(root)
    run.until("tick: next run")
    run.proc.send_signal(signal.SIGINT)
    code, out = run.finish()
    assert code == 0, "".join(run.err)
    assert "stopping (SIGINT): no new jobs; no job is running" in out
    assert "job started" not in out and out.rstrip().endswith("stopped: every started job finished")
