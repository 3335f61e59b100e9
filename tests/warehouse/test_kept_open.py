"""``kept_open``: one process keeps the warehouse open across several handles (hub serve's chunk of trigger runs).
Handles opened meanwhile write and read the same database (a reading handle too, through a writing connection),
every commit is there after the last close, another process is kept out until then (it waits, as for any writer,
and is told who holds the file) and gets in afterwards. The real DuckDB file and the real CLI in a subprocess."""

from __future__ import annotations

import os

from hub.warehouse import Warehouse
from hub.warehouse.duck import kept_open
from tests.conftest import run_hub


def test_handles_share_one_open_file_and_other_processes_wait_until_it_closes(make_project):
    root = make_project('[warehouse]\npath = "warehouse.duckdb"\n')
    path = root / "warehouse.duckdb"
    with kept_open(path):
        for n in range(3):   # each step opens and closes its own handle, as build, push and the flusher do
            with Warehouse(path) as wh:
                wh.execute("CREATE TABLE IF NOT EXISTS t (n INTEGER)")
                wh.execute("INSERT INTO t VALUES (?)", [n])
        with Warehouse(path, read_only=True) as reader:   # DuckDB would refuse a read-only open of an open file
            assert reader.query("SELECT sum(n) FROM t").scalar() == 3
        other = run_hub("--wait", "0", "-C", str(root), "query", "SELECT count(*) FROM t", "--format", "csv")
        assert other.returncode != 0   # held for writing by this process: no snapshot yet, so no answer
        assert "is written by" in other.stderr and f"(pid {os.getpid()})" in other.stderr
    after = run_hub("-C", str(root), "query", "SELECT count(*) AS n FROM t", "--format", "csv")
    assert after.returncode == 0, after.stderr
    assert after.stdout.split() == ["n", "3"]
