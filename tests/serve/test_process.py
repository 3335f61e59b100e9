"""`hub serve` as a real subprocess: it says where it listens, survives kill -9 without losing an acknowledged event,
and leaves the warehouse to other hub commands while it runs."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from hub.project import Project
from tests.conftest import run_hub
from tests.serve.helpers import SECRET, SIGNALS_TO_A_WORKER_THREAD, ServeProcess, post_stripe, stripe_event

ENV = {"HUB__CONNECTIONS__STRIPE__WEBHOOK_SECRET": SECRET}


@pytest.fixture
def root(make_project: Callable[..., Path]) -> Path:
    return make_project('[connections.stripe]\ntype = "stripe"\n')


def count(root: Path, event_id: str | None = None) -> int:
    where = f" WHERE id = '{event_id}'" if event_id else ""
    return Project(root).query(f"SELECT count(*) FROM raw_stripe.events{where}").scalar()


def test_binds_to_loopback_and_says_so_then_stops_cleanly_on_ctrl_c(root):
    server = ServeProcess(root, ENV)
    assert server.first_line.startswith("listening on http://127.0.0.1:")
    assert "(loopback only; use --host 0.0.0.0 to accept other machines)" in server.first_line
    assert post_stripe(server.url, stripe_event("evt_a")).status_code == 200
    out, err = server.interrupt()
    assert "receiving webhooks for: stripe" in out and "stopped (1 event(s) flushed" in err
    assert count(root) == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stops_cleanly_when_the_signal_lands_on_another_thread(root, sig):
    """The kernel may hand a process's signal to any thread that does not block it (a thread being created takes a
    pending one); Python then runs its handler in the main thread only when that thread next runs. This process's
    main thread blocks the signals, so they always land elsewhere: serve must still wake up, flush and say so."""
    server = ServeProcess(root, ENV, launcher=["-c", SIGNALS_TO_A_WORKER_THREAD])
    assert post_stripe(server.url, stripe_event("evt_a")).status_code == 200
    server.wait_flushed(1)   # a flush ran (the warehouse opened and closed its threads) before the signal
    assert post_stripe(server.url, stripe_event("evt_b")).status_code == 200
    out, err = server.interrupt(sig)
    assert "stopping: flushing received events into the warehouse..." in err
    assert "stopped (2 event(s) flushed this session)" in err
    assert count(root) == 2


def test_kill_9_right_after_the_2xx_loses_nothing_and_stores_once(root):
    server = ServeProcess(root, ENV)
    body = stripe_event("evt_durable")
    assert post_stripe(server.url, body).status_code == 200
    server.kill()   # no flush, no goodbye: the event is only in the inbox (or already flushed)
    again = ServeProcess(root, ENV)
    assert post_stripe(again.url, body).json() == {"stored": 0, "duplicates": 1}   # the inbox remembers it
    assert post_stripe(again.url, stripe_event("evt_after")).status_code == 200
    again.interrupt()
    assert count(root, "evt_durable") == 1 and count(root) == 2


def test_cli_commands_use_the_warehouse_while_serve_runs(root):
    server = ServeProcess(root, ENV)
    try:
        for n in range(20):
            assert post_stripe(server.url, stripe_event(f"evt_{n:02d}")).status_code == 200
        server.wait_flushed(20)
        query = run_hub("-C", str(root), "query", "SELECT count(*) AS n FROM raw_stripe.events")
        assert query.returncode == 0, query.stderr
        assert "20" in query.stdout
        build = run_hub("-C", str(root), "build")   # a writer: takes the warehouse between the server's flushes
        assert build.returncode == 0, build.stderr
        assert post_stripe(server.url, stripe_event("evt_late")).status_code == 200
    finally:
        server.interrupt()
    assert count(root) == 21


def test_serve_help_has_an_example():
    result = run_hub("serve", "--help")
    assert result.returncode == 0 and "Example" in result.stdout and "/webhooks/<connection>" in result.stdout
