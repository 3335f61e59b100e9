"""The whole loop over the sandbox: ingest -> hub build (the real canonical models) -> push both ways, then the same
again, which finds nothing to send."""

from __future__ import annotations

from collections import Counter

from hub.modeling import build as build_models
from hub.reverse_etl import render_push_report, sync_status
from tests.reverse_etl.conftest import TO_HUBSPOT, TO_SALESFORCE
from tests.reverse_etl.helpers import cycle, hs_writes, reset, sf_writes

SYNCS = (TO_HUBSPOT.format(mode="upsert") + 'where = "email_is_valid"\n'
         + TO_SALESFORCE.format(mode="upsert") + 'where = "email_is_valid AND last_name IS NOT NULL"\n')


def build(project):
    report = build_models(project)
    assert report.ok, report.errors


def test_ingest_build_push_then_nothing_left_to_push(fresh_sandbox, sandbox_syncs):
    sb = fresh_sandbox
    project = sandbox_syncs(sb, SYNCS)
    contacts, sf = sb.hubspot.store.count("contacts"), sb.salesforce.store.count("Contact")
    report = cycle(project, build)
    assert report.ok, report.errors
    hs, sfr = report.results
    assert hs.creates > 0 and sfr.creates > 0, render_push_report(report)
    assert sb.hubspot.store.count("contacts") == contacts + hs.creates
    assert sb.salesforce.store.count("Contact") == sf + sfr.creates
    # every valid person is in HubSpot exactly once (emails are unique there), and none was created twice
    emails = Counter(c["properties"]["email"] for c in (sb.hubspot.store.get("contacts", i)
                                                        for i in sb.hubspot.store.ids("contacts")))
    valid = [e for e, in project.query("SELECT email FROM canonical.person WHERE email_is_valid").rows]
    assert all(emails[e] == 1 for e in valid)

    reset(sb)
    again = cycle(project, build)
    assert again.ok, again.errors
    assert [(r.changed, r.api_calls) for r in again.results] == [(0, 0), (0, 0)], render_push_report(again)
    assert hs_writes(sb) == 0 and sf_writes(sb) == 0
    assert all(s["outcome"] == "success" for s in sync_status(project))

    # an edit in Salesforce reaches HubSpot through canonical.person, and is not echoed back to Salesforce
    pid, sf_id = project.query("""
        SELECT s.person_id, s.source_id FROM canonical.person_source s JOIN canonical.person p USING (person_id)
        WHERE s.connection = 'salesforce' AND p.email_is_valid AND p.last_name IS NOT NULL
          AND p.person_id IN (SELECT person_id FROM canonical.person_source WHERE connection = 'hubspot')
        ORDER BY 1 LIMIT 1""").rows[0]
    # Salesforce stamps whole seconds and HubSpot milliseconds: an edit in the same second as our push to HubSpot could
    # sort before it, and "most recent wins" would rightly keep HubSpot's value. A person's edit comes later than that.
    sb.clock.advance(2)
    sb.salesforce.store.update("Contact", sf_id, {"FirstName": "Renamed"})
    reset(sb)
    third = cycle(project, build)
    assert [r.updates for r in third.results] == [1, 0], render_push_report(third)
    assert hs_writes(sb) == 1 and sf_writes(sb) == 0
    assert project.query(f"SELECT first_name FROM canonical.person WHERE person_id = {pid}").scalar() == "Renamed"
    reset(sb)
    assert [r.changed for r in cycle(project, build).results] == [0, 0]
    assert hs_writes(sb) == 0 and sf_writes(sb) == 0
