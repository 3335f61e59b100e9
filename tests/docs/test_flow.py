"""The flow map's arrows: how often each runs, its last run, and its state (ok, failing, stale, never)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.docs import flow
from hub.docs.collect import Site

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _site(targets: dict[str, dict] | None = None) -> Site:
    site = Site(project="p", generated_at=NOW)
    site.connections = [{"name": "crm", "type": "hubspot", "title": "HubSpot", "webhooks": False,
                         "streams": [{"name": "contacts", "table": "raw_crm.contacts"},
                                     {"name": "companies", "table": "raw_crm.companies"}]},
                        {"name": "erp", "type": "salesforce", "title": "Salesforce", "webhooks": False,
                         "streams": [{"name": "Contact", "table": "raw_erp.contact"}]}]
    site.models = [{"name": "staging.crm_contacts", "kind": "sql", "depends_on": ["raw_crm.contacts"], "produces": [],
                    "columns": ["email"]}]
    site.syncs = [{"name": "to_erp", "model": "staging.crm_contacts", "to": "erp", "object": "Contact",
                   "mapping": [["email", "Email"]]}]
    site.schedules = [{"name": "nightly", "cron": "0 2 * * *", "timezone": "UTC", "steps": ["ingest:crm"],
                       "interval_seconds": 86400}]
    site.targets = targets or {}
    return site


def _edges(site: Site) -> dict[tuple[str, str], flow.Edge]:
    return {(e.source, e.target): e for e in flow.build(site).edges}


def test_each_arrow_says_how_often_when_and_whether_it_worked() -> None:
    ok = {"status": "success", "last_run": NOW - timedelta(hours=3), "last_ok": NOW - timedelta(hours=3),
          "run_id": "r1", "recent": 30}
    old = {"status": "success", "last_run": NOW - timedelta(days=3), "last_ok": NOW - timedelta(days=3),
           "run_id": "r2", "recent": 2}
    failed = {"status": "failed", "last_run": NOW - timedelta(hours=1), "last_ok": None, "run_id": "r3", "recent": 5}
    edges = _edges(_site({"ingest:crm.contacts": ok, "ingest:crm.companies": old, "push:to_erp": failed}))
    contacts = edges[("connection:crm", "stream:raw_crm.contacts")]
    assert contacts.state == "ok" and contacts.how == "0 2 * * * UTC (nightly)" and contacts.runs == 30
    assert contacts.last_run == ok["last_run"] and contacts.href == "run-r1.html"
    # scheduled daily, last loaded three days ago: more than twice the interval
    assert edges[("connection:crm", "stream:raw_crm.companies")].state == "stale"
    assert edges[("model:staging.crm_contacts", "sync:to_erp")].state == "failing"
    assert edges[("sync:to_erp", "target:erp.Contact")].how == "manual"
    # never run, and not scheduled: never
    assert edges[("connection:erp", "stream:raw_erp.contact")].state == "never"
    assert edges[("schedule:nightly", "connection:crm")].how == "0 2 * * * UTC (nightly)"


def test_layout_reads_left_to_right() -> None:
    fm = flow.build(_site())
    layer = {n.id: n.layer for n in fm.nodes.values()}
    assert layer["schedule:nightly"] < layer["connection:crm"] < layer["stream:raw_crm.contacts"] \
        < layer["model:staging.crm_contacts"] < layer["sync:to_erp"] < layer["target:erp.Contact"]
    svg = flow.svg(fm)
    assert svg.count('<a href="') == len(fm.nodes) and "<title>" in svg
