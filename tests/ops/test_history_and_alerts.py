"""Run history, `hub status` additions and alerts, after real runs against the sandbox over loopback HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from hub.alerts import after_run
from hub.errors import ConfigError
from hub.project import Project
from hub.status import status
from hub.reverse_etl import push
from tests.conftest import run_hub, sandbox_project
from tests.ops.conftest import SMTP_PASSWORD, alerts_toml
from tests.reverse_etl.conftest import TO_HUBSPOT, person, write_people

SCHEDULE = """
        [schedules.nightly]
        cron = "0 2 * * *"
        steps = ["ingest", "build"]
        """
BAD_TOKEN = "pat-na1-deadbeef-0000-4000-8000-00000000bad0"


def test_runs_status_and_a_failed_job_alert_after_real_runs(make_project, sandbox, webhook, smtp, engine):
    root = sandbox_project(make_project, sandbox, extra=SCHEDULE + alerts_toml(webhook, smtp))
    env = {"HUB__ALERTS__PASSWORD": SMTP_PASSWORD}

    job = run_hub("schedule", "run", "--once", "nightly", cwd=root, env=env)
    assert job.returncode == 0, job.stderr
    assert webhook.items == [] and smtp.items == []         # a good run alerts nobody

    runs = json.loads(run_hub("runs", "--json", cwd=root).stdout)
    assert [r["command"] for r in runs] == ["build", "ingest", "schedule:nightly"]
    assert all(r["status"] == "success" and r["finished_at"] for r in runs)
    scheduled = runs[2]
    assert [(s["step"], s["target"], s["status"]) for s in scheduled["steps"]] == [
        ("job", "ingest", "success"), ("job", "build", "success")]
    assert [s["detail"] for s in scheduled["steps"]] == [runs[1]["run_id"], runs[0]["run_id"]]
    ingest = runs[1]
    assert ingest["rows_in"] > 0 and ingest["rows_in"] == scheduled["steps"][0]["rows_in"]
    assert {s["target"] for s in ingest["steps"]} >= {"hubspot.contacts", "salesforce.Contact"}
    table = run_hub("runs", "--limit", "1", cwd=root)
    assert table.returncode == 0 and len(table.stdout.splitlines()) == 3 and " build " in table.stdout

    report = json.loads(run_hub("status", "--json", cwd=root).stdout)
    models = {m["model"]: m for m in report["models"]}
    assert models["canonical.person"]["outcome"] == "success" and models["canonical.person"]["rows"] > 0
    assert {c["connection"]: c["stale"] for c in report["connections"]} == {"hubspot": False, "salesforce": False}
    assert report["failures"] == []

    failed = run_hub("schedule", "run", "--once", "nightly", cwd=root,
                     env={**env, "HUB__CONNECTIONS__HUBSPOT__TOKEN": BAD_TOKEN})
    assert failed.returncode == 1 and "nightly: failed" in failed.stdout
    [posted] = webhook.texts()
    assert "hub schedule:nightly failed in project proj" in posted and "hubspot" in posted
    [mail] = smtp.items
    assert "Subject: hub schedule:nightly failed in proj" in mail and "hubspot" in mail
    for secret in (BAD_TOKEN, sandbox.hubspot.token, sandbox.salesforce.token, SMTP_PASSWORD, webhook.url):
        assert secret not in posted and secret not in mail

    report = json.loads(run_hub("status", "--json", cwd=root).stdout)
    assert {f["command"] for f in report["failures"]} == {"schedule:nightly", "ingest"}
    text = run_hub("status", cwd=root).stdout
    assert "failed: latest `schedule:nightly` run" in text and BAD_TOKEN not in text


def test_stale_data_shows_in_status_and_alerts_once(make_project, sandbox, webhook, smtp):
    root = sandbox_project(make_project, sandbox, extra=SCHEDULE + alerts_toml(webhook, smtp),
                           name="stale")
    secrets = root / "secrets.toml"
    secrets.write_text(secrets.read_text() + f'\n[alerts]\npassword = "{SMTP_PASSWORD}"\n')
    project = Project(root)
    ingest = project.ingest(["hubspot"])
    assert ingest.ok
    later = datetime.now(UTC) + timedelta(days=3)
    stale = {c["connection"]: c for c in status(project, now=later).connections}
    assert stale["hubspot"]["stale"] and stale["hubspot"]["interval_seconds"] == 86400
    assert stale["salesforce"]["last_success_at"] is None and not stale["salesforce"]["stale"]
    assert not status(project).connections[0]["stale"]

    first = after_run(project, ingest.run_id, now=later)
    assert [a.kind for a in first] == ["stale"] and all(d.ok for d in first[0].deliveries)
    assert "connection 'hubspot'" in webhook.texts()[0] and len(smtp.items) == 1
    assert after_run(project, ingest.run_id, now=later + timedelta(hours=1)) == []    # the same spell: said once


def test_rejected_rows_over_the_threshold_alert_both_channels(make_project, webhook, smtp):
    from hub.sandbox import Sandbox

    with Sandbox(seed=3, people=20, hubspot_rate_limit=None) as sb:
        root = sandbox_project(make_project, sb, extra=TO_HUBSPOT.format(mode="upsert") + alerts_toml(webhook, smtp))
        project = Project(root, environ={"HUB__ALERTS__PASSWORD": SMTP_PASSWORD})
        write_people(project, [person(1, "good@hubtest.example"), person(2, "not-an-email")])
        report = push(project)
        assert report.ok and report.results[0].rejected == 1
        alerts = after_run(project, report.run_id)
    assert [a.kind for a in alerts] == ["rejected"]
    assert [d.channel for d in alerts[0].deliveries] == ["webhook", "email"] and all(d.ok for d in alerts[0].deliveries)
    [posted], [mail] = webhook.texts(), smtp.items
    assert "targets rejected 1 row(s) (threshold 0" in posted and "person_to_hubspot: 1 rejected" in posted
    assert "person_to_hubspot: 1 rejected" in mail
    for secret in (sb.hubspot.token, sb.salesforce.token, SMTP_PASSWORD, webhook.url):
        assert secret not in posted and secret not in mail


def test_alert_config_errors(make_project):
    root = make_project('[alerts]\nwebhok_url = "http://x"\n')
    with pytest.raises(ConfigError, match=r"hub.toml:2: unknown key 'webhok_url' in \[alerts\] \(did you mean "
                                          r"'webhook_url'\?\)"):
        after_run(Project(root), "r1")
    root = make_project('[alerts]\nsmtp_host = "localhost"\nemail_from = "a@b.c"\nemail_to = "d@e.f"\n'
                        'smtp_username = "u"\n', name="p2")
    with pytest.raises(ConfigError, match="HUB__ALERTS__PASSWORD"):
        after_run(Project(root), "r1")
    root = make_project('[alerts]\npassword = "hunter22"\n', name="p3")
    with pytest.raises(ConfigError, match="password is a secret"):
        Project(root)


def test_hub_run_alerts_on_a_failed_step(make_project, sandbox, webhook):
    root = sandbox_project(make_project, sandbox, extra=f'\n[alerts]\nwebhook_url = "{webhook.url}"\n', name="runs")
    proc = run_hub("run", cwd=root, env={"HUB__CONNECTIONS__HUBSPOT__TOKEN": BAD_TOKEN})
    assert proc.returncode == 1 and "ingest failed; skipped: build, push" in proc.stderr
    [posted] = webhook.texts()
    assert posted.startswith("hub ingest failed in project runs") and BAD_TOKEN not in posted


def test_a_run_whose_process_died_is_shown_and_recorded_as_interrupted(tmp_path):
    import os
    import subprocess
    import sys

    from hub.warehouse.bookkeeping import HOST, Bookkeeping
    from hub.warehouse.duck import Warehouse

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    (tmp_path / "hub.toml").write_text("")
    with Warehouse(tmp_path / "warehouse.duckdb") as wh:
        books = Bookkeeping(wh)
        books.ensure()
        for run_id, pid, host in [("a-dead", dead_pid, HOST), ("b-other-host", dead_pid, "elsewhere"),
                                  ("c-alive", os.getpid(), HOST), ("d-old", None, None)]:
            wh.execute("INSERT INTO _hub.runs (run_id, command, started_at, status, pid, host) "
                       "VALUES (?, 'ingest', now(), 'running', ?, ?)", [run_id, pid, host])

    shown = {r["run_id"]: r["status"] for r in json.loads(run_hub("runs", "--json", cwd=tmp_path).stdout)}
    assert shown == {"a-dead": "interrupted", "b-other-host": "running", "c-alive": "running", "d-old": "running"}

    with Warehouse(tmp_path / "warehouse.duckdb") as wh:
        Bookkeeping(wh).start_run("build")
        stored = dict(wh.query("SELECT run_id, status FROM _hub.runs WHERE command = 'ingest'").rows)
    assert stored == {"a-dead": "interrupted", "b-other-host": "running", "c-alive": "running", "d-old": "running"}
    assert "interrupted: latest `ingest` run a-dead" in run_hub("status", cwd=tmp_path).stdout
