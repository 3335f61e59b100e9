"""Failpoints: inert unless named in HUB_FAILPOINTS; ``name@N`` SIGKILLs the process on the Nth hit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

SCRIPT = """
from hub.failpoints import failpoint
for i in range(1, 4):
    print(i, flush=True)
    failpoint("demo.point")
"""


def run(spec: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HUB_FAILPOINTS"}
    if spec is not None:
        env["HUB_FAILPOINTS"] = spec
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60,
                          check=False)


def test_unset_or_other_names_do_nothing():
    for spec in (None, "", "other.point", "demo.pointless@1"):
        done = run(spec)
        assert (done.returncode, done.stdout.split()) == (0, ["1", "2", "3"]), spec


def test_named_point_kills_on_its_first_or_nth_hit():
    first = run("demo.point")
    assert (first.returncode, first.stdout.split()) == (-signal.SIGKILL, ["1"])
    third = run(" other.point , demo.point@3")
    assert (third.returncode, third.stdout.split()) == (-signal.SIGKILL, ["1", "2", "3"])
