"""The webhook path's failures (issue 10, item 7), each through the real server: a badly typed event is set aside and
the flusher goes on; /healthz and `hub status` tell backlog, dead letters and a failing flush; no ingest removes
webhook events; a webhook-only connection is valid; the inbox is owner-only."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hub.project import Project
from hub.serve import Service
from hub.serve.inbox import Inbox, InboxEvent
from tests.conftest import run_hub
from tests.serve.helpers import SECRET, ServeProcess, post_stripe, stripe_event
from tests.serve.test_triggers import Receiver

WEBHOOK_ONLY = '[connections.stripe]\ntype = "stripe"\n'
CLIENT_SECRET = "pi_3Pz_secret_Jq8vTnWd0c"   # what Stripe puts in a payment intent's client_secret


def poison(event_id: str = "evt_poison") -> bytes:
    """Signed and valid JSON, but ``created`` is not a Unix time; it also carries a payment intent's client secret."""
    body = orjson.loads(stripe_event(event_id))
    body["created"] = "yesterday"
    body["data"]["object"]["client_secret"] = CLIENT_SECRET
    return orjson.dumps(body)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def wait_health(url: str, done: Callable[[dict[str, Any]], bool], timeout: float = 60.0) -> dict[str, Any]:
    """Poll /healthz (the server's own account of itself) until ``done`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        health = httpx.get(f"{url}/healthz").json()
        if done(health):
            return health
        if time.monotonic() > deadline:
            raise AssertionError(f"/healthz never got there: {health}")
        time.sleep(0.05)


def test_a_badly_typed_event_is_set_aside_and_the_good_ones_load_and_fire(make_project, receiver):
    root = make_project(f"""
        [connections.stripe]
        type = "stripe"

        [triggers.paid]
        on = "stripe:invoice.paid"
        do = ["notify:{receiver.url}"]
        retries = 0
        """, f'[connections.stripe]\nwebhook_secret = "{SECRET}"\n')
    server = ServeProcess(root)
    try:
        assert post_stripe(server.url, poison()).status_code == 200   # authentic: acknowledged, then set aside
        for n in range(3):
            assert post_stripe(server.url, stripe_event(f"evt_good_{n}")).status_code == 200
        notified = sorted(receiver.received.get(timeout=60)["event"]["id"] for _ in range(3))
        health = wait_health(server.url, lambda h: h["flushed"] >= 4)
        assert health["status"] == "ok" and health["backlog"] == 0 and health["dead_letters"] == 1
        # a restart does not choke on it either, and later events still load
        server.interrupt()
        server = ServeProcess(root)
        assert post_stripe(server.url, stripe_event("evt_after_restart")).status_code == 200
        assert receiver.received.get(timeout=60)["event"]["id"] == "evt_after_restart"
    finally:
        out, err = server.interrupt()
    assert notified == ["evt_good_0", "evt_good_1", "evt_good_2"] and receiver.received.empty()
    project = Project(root)
    assert [r[0] for r in project.query("SELECT id FROM raw_stripe.events ORDER BY id").rows] == [
        "evt_after_restart", "evt_good_0", "evt_good_1", "evt_good_2"]
    letter = project.query("SELECT connection, event_id, type, reason, body FROM _hub.webhook_dead_letters").records()
    assert [(d["connection"], d["event_id"], d["type"]) for d in letter] == [("stripe", "evt_poison", "invoice.paid")]
    assert "'created'" in letter[0]["reason"] and "yesterday" in letter[0]["reason"]
    assert orjson.loads(letter[0]["body"])["data"]["object"]["client_secret"] == "***"
    status = run_hub("-C", str(root), "status", "--json")
    assert status.returncode == 0, status.stderr
    assert CLIENT_SECRET not in status.stdout
    [hooks] = json.loads(status.stdout)["webhooks"]
    assert (hooks["connection"], hooks["received"], hooks["backlog"], hooks["dead_letters"]) == ("stripe", 5, 0, 1)
    text = run_hub("-C", str(root), "status").stdout
    assert "webhooks stripe: 5 received, 0 waiting to load, 1 dead letter(s)" in text and "'created'" in text


def test_secret_named_values_never_reach_the_warehouse(make_project):
    root = make_project(WEBHOOK_ONLY, f'[connections.stripe]\nwebhook_secret = "{SECRET}"\n')
    with Service(Project(root), port=0) as service:
        body = stripe_event("evt_pi", "payment_intent.created", object="payment_intent", client_secret=CLIENT_SECRET)
        assert post_stripe(service.url, body).status_code == 200
    data = Project(root).query("SELECT data FROM raw_stripe.events WHERE id = 'evt_pi'").scalar()
    assert orjson.loads(data)["object"]["client_secret"] == "***" and CLIENT_SECRET not in data


def test_healthz_is_not_ok_while_the_flush_fails_and_recovers_after(make_project):
    root = make_project(WEBHOOK_ONLY, f'[connections.stripe]\nwebhook_secret = "{SECRET}"\n')
    project = Project(root)
    project.warehouse_path.mkdir(parents=True)   # a directory where the warehouse file should be: every open fails
    with Service(project, port=0) as service:
        assert post_stripe(service.url, stripe_event("evt_waiting")).status_code == 200
        wait_health(service.url, lambda h: h["status"] != "ok")   # the owner tried the event and failed
        failing = httpx.get(f"{service.url}/healthz")
        assert failing.status_code == 503
        health = failing.json()
        assert health["status"] == "failing" and health["backlog"] == 1 and health["flushed"] == 0
        assert "flush failed" in health["error"]
        project.warehouse_path.rmdir()   # fixed: the next retry flushes
        recovered = wait_health(service.url, lambda h: h["status"] == "ok")
        assert recovered["backlog"] == 0 and recovered["flushed"] == 1
    assert project.query("SELECT id FROM raw_stripe.events").rows == [("evt_waiting",)]


def stripe_project(make_project: Callable[..., Path], sb: Any, *, token: bool = True, extra: str = "") -> Path:
    token_line = f'token = "{sb.stripe.token}"\n' if token else ""
    return make_project(f"""
        [connections.stripe]
        type = "stripe"
        base_url = "{sb.stripe.url}"
        {extra}
        """, f'[connections.stripe]\n{token_line}webhook_secret = "{SECRET}"\n')


@pytest.fixture
def sb() -> Iterator[Any]:
    from hub.sandbox import Sandbox

    with Sandbox(seed=5, people=60, hubspot_rate_limit=None, stripe_rate_limit=None) as box:
        yield box


def test_no_ingest_removes_events_that_came_by_webhook(make_project, sb):
    root = stripe_project(make_project, sb, extra='streams = ["events"]')
    project = Project(root)
    with Service(project, port=0) as service:   # events the API does not list (older than its 30 days, say)
        for n in range(3):
            assert post_stripe(service.url, stripe_event(f"evt_hook_{n}")).status_code == 200
    hooked = "SELECT count(*) FROM raw_stripe.events WHERE id LIKE 'evt_hook_%'"
    assert project.query(hooked).scalar() == 3
    for args in (["ingest"], ["ingest", "--full-refresh", "stripe"], ["ingest", "--full-refresh", "stripe.events"]):
        result = run_hub("-C", str(root), *args)
        assert result.returncode == 0, result.stderr
        assert project.query(hooked).scalar() == 3, args
    total, distinct = project.query("SELECT count(*), count(DISTINCT id) FROM raw_stripe.events").rows[0]
    assert total == distinct > 3   # the listed events merged in beside them, each once


def test_a_webhook_only_connection_is_valid(make_project, sb, receiver):
    root = make_project(f"""
        [connections.stripe]
        type = "stripe"

        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"

        [syncs.names_to_hubspot]
        model = "canonical.person"
        to = "hubspot"
        object = "contacts"
        mode = "update"
        key = "person_id"
        match = {{ email = "email" }}
        fields = {{ first_name = "firstname" }}

        [triggers.paid]
        on = "stripe:invoice.paid"
        do = ["push:names_to_hubspot", "notify:{receiver.url}"]
        retries = 0
        """, f"""
        [connections.stripe]
        webhook_secret = "{SECRET}"

        [connections.hubspot]
        token = "{sb.hubspot.token}"
        """)
    ingest = run_hub("-C", str(root), "ingest")
    assert ingest.returncode == 0, ingest.stderr
    assert "stripe: skipped, webhook-only connection" in ingest.stdout and "hubspot.contacts" in ingest.stdout
    run = run_hub("-C", str(root), "run")
    assert run.returncode == 0, run.stderr
    named = run_hub("-C", str(root), "ingest", "stripe")   # asking for it by name is a mistake worth one line
    assert named.returncode != 0 and "Traceback" not in named.stderr
    assert "'stripe' has nothing to ingest: it only receives webhooks" in named.stderr
    assert "HUB__CONNECTIONS__STRIPE__TOKEN" in named.stderr and len(named.stderr.strip().splitlines()) == 1
    server = ServeProcess(root)
    try:
        assert post_stripe(server.url, stripe_event("evt_paid")).status_code == 200
        notice = receiver.received.get(timeout=120)   # notify runs after the push
    finally:
        server.interrupt()
    assert notice["event"]["id"] == "evt_paid"
    steps = Project(root).query("SELECT r.status, s.target, s.status, s.error FROM _hub.runs r JOIN _hub.run_steps s "
                                "USING (run_id) WHERE r.command = 'trigger:paid' ORDER BY s.target").rows
    assert [(r[0], r[1], r[2]) for r in steps] == [("success", f"notify:{receiver.url}", "success"),
                                                   ("success", "push:names_to_hubspot", "skipped")], steps


def test_the_inbox_is_readable_by_its_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        inbox = Inbox(tmp_path / ".hub" / "inbox.sqlite")
        try:
            assert inbox.put([InboxEvent("stripe", "evt_1", "invoice.paid", stripe_event("evt_1"))]) == [True]
            files = [tmp_path / ".hub" / f"inbox.sqlite{suffix}" for suffix in ("", "-wal", "-shm")]
            assert all(f.exists() for f in files)
            assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}
        finally:
            inbox.close()
        # an inbox an older hub left group- and world-readable is taken back on the next open
        for suffix in ("", "-wal", "-shm"):
            target = tmp_path / ".hub" / f"inbox.sqlite{suffix}"
            if target.exists():
                target.chmod(0o644)
        Inbox(tmp_path / ".hub" / "inbox.sqlite").close()
        leftover = [p for p in (tmp_path / ".hub").iterdir() if stat.S_IMODE(p.stat().st_mode) != 0o600]
        assert leftover == []
    finally:
        os.umask(old)


def test_a_customer_deleted_event_by_webhook_takes_the_customer_out_of_the_models_at_once(make_project, sb):
    import stripe

    root = stripe_project(make_project, sb, extra='streams = ["customers"]')
    project = Project(root)
    assert project.ingest().ok and project.build(["staging.stripe_customers"]).ok
    gone = project.query("SELECT source_id FROM staging.stripe_customers ORDER BY source_id LIMIT 1").scalar()
    with Service(project, port=0) as service:
        sb.stripe.webhooks.add(f"{service.url}/webhooks/stripe", SECRET)
        official = stripe.StripeClient(sb.stripe.token, base_addresses={"api": sb.stripe.url})
        assert official.customers.delete(gone).deleted is True
        assert sb.stripe.webhooks.wait_idle(timeout=30) and all(d.ok for d in sb.stripe.webhooks.deliveries)
    # no ingest ran: the webhook alone flagged the raw row, and the staging view no longer has the customer
    assert project.query(f"SELECT deleted FROM raw_stripe.customers WHERE id = '{gone}'").scalar() is True
    assert project.query(f"SELECT count(*) FROM staging.stripe_customers WHERE source_id = '{gone}'").scalar() == 0
    assert project.query("SELECT type FROM raw_stripe.events").rows == [("customer.deleted",)]


def test_a_row_the_warehouse_refuses_is_set_aside_and_the_rest_of_its_batch_loads(make_project, tmp_path):
    from hub.serve import flusher

    project = Project(make_project(WEBHOOK_ONLY, f'[connections.stripe]\nwebhook_secret = "{SECRET}"\n'))
    with project.warehouse() as wh:   # a table someone constrained: only times before 2033 allowed
        wh.execute("CREATE SCHEMA raw_stripe")
        wh.execute("CREATE TABLE raw_stripe.events (id VARCHAR, created BIGINT CHECK (created < 2000000000), "
                   "type VARCHAR, data VARCHAR)")
    late = orjson.loads(stripe_event("evt_late"))
    late["created"] = 3_000_000_000
    inbox = Inbox(tmp_path / "inbox.sqlite")
    try:
        inbox.put([InboxEvent("stripe", "evt_a", "invoice.paid", stripe_event("evt_a")),
                   InboxEvent("stripe", "evt_late", "invoice.paid", orjson.dumps(late)),
                   InboxEvent("stripe", "evt_b", "invoice.paid", stripe_event("evt_b"))])
        assert flusher.flush(project, inbox) == 3
        assert list(inbox.dead().values())[0].startswith("the warehouse refused the row")
        assert flusher.flush(project, inbox) == 0
    finally:
        inbox.close()
    assert project.query("SELECT id FROM raw_stripe.events ORDER BY id").rows == [("evt_a",), ("evt_b",)]
    assert project.query("SELECT event_id FROM _hub.webhook_dead_letters").rows == [("evt_late",)]


def test_healthz_says_stuck_while_events_wait_behind_a_long_warehouse_holder(make_project):
    import subprocess
    import sys

    from tests.serve.helpers import REPO

    root = make_project(WEBHOOK_ONLY, f'[connections.stripe]\nwebhook_secret = "{SECRET}"\n')
    project = Project(root)
    hold = ("import sys; from pathlib import Path; from hub.warehouse.lock import WarehouseLock; "
            "lock = WarehouseLock(Path(sys.argv[1]), write=True); lock.acquire(); print('held', flush=True); "
            "sys.stdin.read(); lock.release()")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(project.warehouse_path)], cwd=REPO, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)   # another process, as `hub run` would
    try:
        assert holder.stdout.readline() == "held\n"
        with Service(project, port=0) as service:
            service.owner.stuck_after = 0.0   # any wait at all counts, so the test needs no clock
            assert post_stripe(service.url, stripe_event("evt_queued")).status_code == 200
            stuck = wait_health(service.url, lambda h: h["status"] != "ok")
            response = httpx.get(f"{service.url}/healthz")
            assert stuck["status"] == "stuck" and stuck["backlog"] == 1 and response.status_code == 503
            assert "waited" in stuck["error"]
            holder.stdin.close()   # the long job ends: the owner gets the warehouse and flushes
            assert wait_health(service.url, lambda h: h["status"] == "ok")["flushed"] == 1
    finally:
        if holder.stdin and not holder.stdin.closed:
            holder.stdin.close()
        holder.wait(timeout=30)
    assert project.query("SELECT id FROM raw_stripe.events").rows == [("evt_queued",)]
