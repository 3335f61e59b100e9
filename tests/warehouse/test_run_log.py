"""The run log mirrors `_hub.runs`/`_hub.run_steps` (and live progress) into SQLite beside the warehouse: it holds the
whole history (copied in once), follows every write, and is what `hub runs` reads."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from hub.warehouse import runlog
from hub.warehouse.bookkeeping import Bookkeeping, Step, now
from hub.warehouse.duck import Warehouse


def _history(path: Path) -> list[tuple]:
    with Warehouse(path, read_only=True) as wh:
        runs = wh.query(f"SELECT {', '.join(runlog.RUN_COLUMNS)} FROM _hub.runs ORDER BY run_id").rows
    return [(r[0], r[1], r[4], r[5]) for r in runs]


def _logged(path: Path) -> list[tuple]:
    con = runlog.reader(path)
    assert con is not None
    try:
        return sorted((r["run_id"], r["command"], r["status"], r["error"]) for r in runlog.runs(con, 1000))
    finally:
        con.close()


def test_the_log_copies_the_history_in_once_then_follows_every_write(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with Warehouse(path) as wh:
        books = Bookkeeping(wh)
        books.ensure()
        old = books.start_run("ingest")
        books.finish_run(old, "failed", "HubSpot answered 502")
    runlog.log_path(path).unlink()                 # a project from before the log: the history is only in DuckDB
    for suffix in ("-wal", "-shm"):
        Path(str(runlog.log_path(path)) + suffix).unlink(missing_ok=True)
    runlog._logs.clear()
    assert runlog.reader(path) is None             # readers fall back to the warehouse
    with Warehouse(path) as wh:
        books = Bookkeeping(wh)
        run_id = books.start_run("push")           # the first writer copies the history in
        runlog.progress("push", "person_to_hubspot", 100, 250)
        con = runlog.reader(path)
        live = runlog.running(con)
        con.close()
        assert [(r["command"], r["progress"]["done"], r["progress"]["total"]) for r in live] == [("push", 100, 250)]
        books.write_step(Step(run_id, "push", "person_to_hubspot", now(), "success", 250, 240, '{"rejected": 2}'))
        books.finish_run(run_id, "success")
    assert _logged(path) == _history(path)
    assert stat.S_IMODE(runlog.log_path(path).stat().st_mode) == 0o600
    con = runlog.reader(path)
    newest = runlog.runs(con, 1)[0]
    con.close()
    assert newest["progress"] is None and [s["target"] for s in newest["steps"]] == ["person_to_hubspot"]
    assert newest["steps"][0]["rows_out"] == 240


def test_a_run_whose_process_died_reads_as_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    code = ("import sys, os, signal; from hub.warehouse.duck import Warehouse; "
            "from hub.warehouse.bookkeeping import Bookkeeping; wh = Warehouse(sys.argv[1]); b = Bookkeeping(wh); "
            "b.ensure(); b.start_run('ingest'); os.kill(os.getpid(), signal.SIGKILL)")
    done = subprocess.run([sys.executable, "-c", code, str(path)], cwd=Path(__file__).resolve().parents[2],
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert done.returncode == -9
    con = runlog.reader(path)
    run = runlog.runs(con, 1)[0]
    con.close()
    assert run["status"] == "running" and runlog.interrupted(run)   # as `hub runs` shows it: interrupted
    with Warehouse(path) as wh:
        Bookkeeping(wh).close_interrupted()                         # the next writer records it
    assert [r[2] for r in _logged(path)] == ["interrupted"]


def test_a_missed_write_makes_the_next_writer_copy_the_history_again(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with Warehouse(path) as wh:
        books = Bookkeeping(wh)
        books.ensure()
        books.finish_run(books.start_run("build"), "success")
        log = runlog.writer_log(path)
        books._mirror(lambda: (_ for _ in ()).throw(sqlite3.OperationalError("disk I/O error")))
        assert not log.complete()
        books.finish_run(books.start_run("build"), "success")
    assert _logged(path) == _history(path) and len(_history(path)) == 2
