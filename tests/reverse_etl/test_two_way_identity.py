"""Two-way syncs with the real `hub run` over the sandbox: a record the hub wrote belongs to the person it was written
for, so it never comes back as a new person (no ping-pong duplicates), and an email edited in one system moves the
person's email everywhere instead of splitting the record off."""

from __future__ import annotations

from typing import Any

import httpx

from hub.modeling import build
from hub.run import run
from tests.reverse_etl.conftest import TO_HUBSPOT, TO_SALESFORCE
from tests.reverse_etl.helpers import hs_contact, sf_contacts

D = "@hubtest.example"


def both_ways(sb: Any, sandbox_syncs: Any) -> Any:
    """canonical.person pushed to HubSpot and to Salesforce, every person (no `where`)."""
    return sandbox_syncs(sb, TO_HUBSPOT.format(mode="upsert") + TO_SALESFORCE.format(mode="upsert"))


def hub_run(project: Any) -> list[Any]:
    """One `hub run` (ingest, build, push); the push's per-sync results."""
    report = run(project)
    assert report.ok, report.error
    return report.reports["push"].results


def counts(sb: Any) -> tuple[int, int]:
    """Live contacts in HubSpot and in Salesforce."""
    return sb.hubspot.store.count("contacts"), sb.salesforce.store.count("Contact")


def edit_in_salesforce(sb: Any, contact: str, fields: dict[str, Any]) -> None:
    """A user's edit through Salesforce's REST API (PATCH sobjects/Contact/<id>)."""
    edited = httpx.patch(f"{sb.salesforce.url}/services/data/v59.0/sobjects/Contact/{contact}", json=fields,
                         headers={"Authorization": f"Bearer {sb.salesforce.token}"})
    assert edited.status_code == 204, edited.text


def test_a_person_without_an_email_is_not_copied_back_and_forth_between_the_systems(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    # nothing to match them by: no email, no phone
    nora = sb.hubspot.store.create("contacts", {"firstname": "Nora", "lastname": "Noemail"})["id"]
    sam = sb.salesforce.store.create("Contact", {"FirstName": "Sam", "LastName": "Nomail"})
    project = both_ways(sb, sandbox_syncs)
    hub_run(project)
    after_first = counts(sb)
    seen = [after_first]
    for _ in range(3):
        results = hub_run(project)
        seen.append(counts(sb))
    assert seen == [after_first] * 4
    assert [r.creates for r in results] == [0, 0] and [r.updates for r in results] == [0, 0]
    # each of them is one person with one record in each system: its own, and the one the hub created for it
    rows = project.query(f"""SELECT first_name, count(DISTINCT person_id),
                                   count(*) FILTER (WHERE connection = 'hubspot'),
                                   count(*) FILTER (WHERE connection = 'salesforce'),
                                   list(source_id) FILTER (WHERE source_id IN ('{nora}', '{sam}'))
                            FROM _hub.person_identity WHERE last_name IN ('Noemail', 'Nomail')
                            GROUP BY first_name ORDER BY first_name""").rows
    assert rows == [("Nora", 1, 1, 1, [nora]), ("Sam", 1, 1, 1, [sam])]

    # a full resolution derives the same origin keys from the sync state: every record keeps its person
    ids = "SELECT connection, source_id, person_id FROM _hub.person_identity ORDER BY ALL"
    kept = project.query(ids).rows
    rebuilt = build(project, full_refresh=True)
    assert rebuilt.ok, rebuilt.errors
    assert project.query(ids).rows == kept


def test_an_email_changed_in_salesforce_reaches_the_same_hubspot_contact(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    dana = sb.hubspot.store.create("contacts", {"email": f"dana{D}", "firstname": "Dana", "lastname": "Fox"})["id"]
    project = both_ways(sb, sandbox_syncs)
    assert [r.creates for r in hub_run(project)][1] >= 1   # Dana is created in Salesforce
    [sf] = sf_contacts(sb, f"dana{D}")
    person = project.query(f"SELECT person_id FROM canonical.person WHERE email = 'dana{D}'").scalar()
    before = counts(sb)

    sb.clock.advance(2)   # later than the hub's writes, at Salesforce's whole-second precision
    edit_in_salesforce(sb, sf["Id"], {"Email": f"dana.fox{D}"})
    results = hub_run(project)
    assert [(r.creates, r.updates) for r in results] == [(0, 1), (0, 0)]
    assert counts(sb) == before
    assert hs_contact(sb, f"dana{D}") is None
    moved = hs_contact(sb, f"dana.fox{D}")
    assert moved is not None and moved["id"] == dana and moved["properties"]["firstname"] == "Dana"
    assert project.query("SELECT person_id, email FROM canonical.person WHERE first_name = 'Dana'").rows == [
        (person, f"dana.fox{D}")]

    results = hub_run(project)   # the hub's write read back changes nothing
    assert [r.changed for r in results] == [0, 0] and counts(sb) == before
