"""Data triggers (`on = "model:..."`): a row fires once when it ENTERS the condition after a build, never twice, also
across crashes; the real CLI (`hub build`, `hub run`) and `hub serve` after a flush, a local receiver verifying the
Standard Webhooks signature."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
import orjson
import pytest
from standardwebhooks import Webhook

from hub.project import Project
from tests.conftest import run_hub
from tests.serve.helpers import ServeProcess
from tests.serve.receiver import Receiver, receiver

SIGNING = "whsec_" + base64.b64encode(b"fedcba9876543210fedcba9876543210").decode()


def deal_project(make_project: Callable[..., Path], url: str) -> Path:
    root = make_project(f"""
        [actions.provision]
        type = "http"
        url = "{url}"
        body = {{ deal = "{{{{ deal_id }}}}", amount = "{{{{ amount }}}}", event = "{{{{ event_id }}}}" }}

        [triggers.deal_won]
        on = "model:marts.deal"
        key = "deal_id"
        when = "stage = 'closed_won' and amount > 0"
        do = ["http:provision"]
        retries = 1
        backoff = 0.05
        """, f'[actions.provision]\nsigning_secret = "{SIGNING}"\n')
    (root / "models" / "marts").mkdir(parents=True)
    (root / "models" / "marts" / "deal.sql").write_text(
        "SELECT deal_id, stage, amount FROM main.deals\n")
    return root


def sql(root: Path, *statements: str) -> None:
    """Change the source data while no hub process runs (as an ingest would)."""
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def build(root: Path, env: dict[str, str] | None = None) -> int:
    result = run_hub("-C", str(root), "build", "marts.deal", env=env)
    assert result.returncode in (0, -9), result.stderr
    return result.returncode


def fired(hook: Receiver) -> list[tuple[str, str]]:
    """(deal, webhook-id) of every request, each verified with the official package."""
    out = []
    for r in hook.received:
        body = Webhook(SIGNING).verify(r.body, r.headers)
        out.append((body["deal"], r.headers["webhook-id"]))
    return out


def test_a_row_fires_once_when_it_enters_and_again_only_after_leaving(make_project):
    with receiver([200]) as hook:
        root = deal_project(make_project, hook.url)
        sql(root, "CREATE TABLE main.deals (deal_id VARCHAR, stage VARCHAR, amount DECIMAL(12, 2))",
            "INSERT INTO main.deals VALUES ('d1', 'closed_won', 100), ('d2', 'open', 50), ('d3', 'closed_won', 0)")
        build(root)    # the first evaluation is a baseline: d1 was already won before the trigger existed
        assert hook.received == []
        sql(root, "UPDATE main.deals SET stage = 'closed_won' WHERE deal_id = 'd2'")
        said = run_hub("-C", str(root), "build", "marts.deal")
        assert said.returncode == 0, said.stderr
        assert "trigger deal_won: 1 row(s) entered" in said.stdout
        assert "trigger deal_won for deal_won:d2:1: ok (http:provision success" in said.stdout
        assert [d for d, _ in fired(hook)] == ["d2"]
        assert orjson.loads(hook.received[0].body)["amount"] == 50.0
        build(root)    # nothing changed: still inside, no second firing
        sql(root, "UPDATE main.deals SET amount = 75 WHERE deal_id = 'd2'")
        build(root)    # changed but still inside: no firing either
        assert len(hook.received) == 1
        sql(root, "UPDATE main.deals SET stage = 'open' WHERE deal_id = 'd2'")
        build(root)    # left the condition
        sql(root, "UPDATE main.deals SET stage = 'closed_won' WHERE deal_id = 'd2'",
            "UPDATE main.deals SET amount = 5 WHERE deal_id = 'd3'")
        build(root)    # d2 re-enters (a new entry, a new webhook-id), d3 enters through its amount
        events = fired(hook)
    assert sorted(d for d, _ in events) == ["d2", "d2", "d3"]
    assert len({i for _, i in events}) == 3
    outbox = Project(root).query("SELECT id, status FROM _hub.trigger_outbox ORDER BY id").rows
    assert outbox == [("deal_won:d2:1", "done"), ("deal_won:d2:2", "done"), ("deal_won:d3:1", "done")]


def test_a_crash_between_detection_and_delivery_delivers_once_later(make_project):
    with receiver([200]) as hook:
        root = deal_project(make_project, hook.url)
        sql(root, "CREATE TABLE main.deals (deal_id VARCHAR, stage VARCHAR, amount DECIMAL(12, 2))",
            "INSERT INTO main.deals VALUES ('d1', 'open', 10)")
        build(root)
        sql(root, "UPDATE main.deals SET stage = 'closed_won' WHERE deal_id = 'd1'")
        assert build(root, {"HUB_FAILPOINTS": "triggers.detected"}) == -9   # killed right after the commit
        assert hook.received == []
        build(root)    # nothing changed in the model; the recorded firing is delivered now
        build(root)
        assert [d for d, _ in fired(hook)] == ["d1"]


def test_a_crash_after_delivery_redelivers_with_the_same_webhook_id(make_project):
    with receiver([200]) as hook:
        root = deal_project(make_project, hook.url)
        sql(root, "CREATE TABLE main.deals (deal_id VARCHAR, stage VARCHAR, amount DECIMAL(12, 2))",
            "INSERT INTO main.deals VALUES ('d1', 'open', 10)")
        build(root)
        sql(root, "UPDATE main.deals SET stage = 'closed_won' WHERE deal_id = 'd1'")
        assert build(root, {"HUB_FAILPOINTS": "triggers.delivered"}) == -9   # sent, not yet marked done
        build(root)    # the dead claim is taken over: sent again with the same idempotency key
        build(root)
        events = fired(hook)
    assert [d for d, _ in events] == ["d1", "d1"] and events[0][1] == events[1][1]
    assert Project(root).query("SELECT status FROM _hub.trigger_outbox").rows == [("done",)]


def test_hub_run_fires_after_its_build_step(make_project):
    with receiver([200]) as hook:
        root = deal_project(make_project, hook.url)
        # hub run needs a connection: a webhook-only one, which its ingest step skips
        (root / "hub.toml").write_text('[connections.billing]\ntype = "stripe"\n' + (root / "hub.toml").read_text())
        (root / "secrets.toml").write_text((root / "secrets.toml").read_text() + '[connections.billing]\n'
                                           'webhook_secret = "whsec_dGVzdHRlc3R0ZXN0dGVzdA=="\n')
        sql(root, "CREATE TABLE main.deals (deal_id VARCHAR, stage VARCHAR, amount DECIMAL(12, 2))")
        first = run_hub("-C", str(root), "run")
        assert first.returncode == 0, first.stderr
        sql(root, "INSERT INTO main.deals VALUES ('d9', 'closed_won', 1)")
        result = run_hub("-C", str(root), "run")
        assert result.returncode == 0, result.stderr
        assert [d for d, _ in fired(hook)] == ["d9"]


def test_a_condition_on_a_missing_column_is_a_failed_trigger_run_not_a_failed_build(make_project):
    with receiver([200]) as hook:
        root = deal_project(make_project, hook.url)
        text = (root / "hub.toml").read_text().replace("amount > 0", "amonut > 0")
        (root / "hub.toml").write_text(text)
        sql(root, "CREATE TABLE main.deals (deal_id VARCHAR, stage VARCHAR, amount DECIMAL(12, 2))")
        assert build(root) == 0
    run = Project(root).query("SELECT status, error FROM _hub.runs WHERE command = 'trigger:deal_won'").rows
    assert run[0][0] == "failed" and "amonut" in run[0][1]


def test_hub_serve_fires_a_model_trigger_after_a_flush(make_project):
    """A view over a form's raw table: a submission that lands makes a row enter the condition."""
    with receiver([200]) as hook:
        root = make_project(f"""
            [forms.contact]
            connection = "website"
            fields = {{ email = {{ type = "email", required = true }}, plan = {{}} }}

            [actions.provision]
            type = "http"
            url = "{hook.url}"

            [triggers.enterprise_lead]
            on = "model:marts.lead"
            key = "id"
            when = "plan = 'enterprise'"
            do = ["http:provision"]
            """, f'[actions.provision]\nsigning_secret = "{SIGNING}"\n')
        (root / "models" / "marts").mkdir(parents=True)
        (root / "models" / "marts" / "lead.sql").write_text(
            "-- materialized: view\nSELECT id, email, plan FROM raw_website.contact\n")
        server = ServeProcess(root)
        try:
            assert httpx.post(f"{server.url}/forms/contact", json={"email": "a@x.example", "plan": "free"}) \
                .status_code == 200
            server.wait_flushed(1)
            server.interrupt()
            assert run_hub("-C", str(root), "build", "marts.lead").returncode == 0   # the view exists; baseline
            server = ServeProcess(root)
            assert httpx.post(f"{server.url}/forms/contact", json={"email": "b@x.example", "plan": "enterprise"}) \
                .status_code == 200
            received = hook.wait_for(1)
        finally:
            if server.proc.poll() is None:
                server.interrupt()
    body = Webhook(SIGNING).verify(received[0].body, received[0].headers)
    assert body["type"] == "row.entered" and body["data"]["email"] == "b@x.example"


@pytest.mark.parametrize(("trigger", "message"), [
    ('on = "model:marts.nope"\ndo = ["notify:https://x.example/h"]', "unknown model 'marts.nope'"),
    ('on = "model:marts.deal"\nkey = "deal_id"\nwhen = "stage = (SELECT 1)"\ndo = ["notify:https://x.example/h"]',
     "when: must be a condition"),
    ('on = "model:marts.deal"\ndo = ["notify:https://x.example/h"]', "no single unique_key"),
    ('on = "model:marts.deal"\nkey = "id"\ndo = ["notify:https://x.example/h"]', "key 'id' is not a column"),
    ('on = "model:deal"\ndo = ["notify:https://x.example/h"]', "must name SCHEMA.MODEL"),
    ('on = "form:contact"\nkey = "id"\ndo = ["notify:https://x.example/h"]', "key is for model triggers"),
])
def test_model_trigger_config_errors(make_project, trigger, message):
    root = make_project('[forms.contact]\nfields = { email = {} }\n[triggers.t]\n' + trigger + "\n")
    (root / "models" / "marts").mkdir(parents=True)
    (root / "models" / "marts" / "deal.sql").write_text("SELECT 1 AS deal_id, 'x' AS stage\n")
    result = run_hub("-C", str(root), "build")
    assert result.returncode == 2 and message in result.stderr, result.stderr
