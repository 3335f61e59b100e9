"""Deletions and syncs, over the sandbox: a record deleted in the target is not re-created unless the sync says
``on_target_delete = "recreate"``, what was skipped is listed by `hub status`, and a mirror sync removes downstream
what was deleted at a source."""

from __future__ import annotations

import json

import httpx
from hubspot import HubSpot

from hub.modeling import build
from hub.project import Project
from hub.reverse_etl import push
from tests.conftest import run_hub
from tests.reverse_etl.conftest import TO_HUBSPOT, TO_SALESFORCE, person, write_people
from tests.reverse_etl.helpers import hs_contact, hs_writes, reset, sf_contacts, sf_writes

D = "@hubtest.example"
RECREATE = 'on_target_delete = "recreate"\n'


def archive_in_hubspot(sb, contact_id: str) -> None:
    """A user deletes the contact in HubSpot (through the official SDK)."""
    client = HubSpot(access_token=sb.hubspot.token)
    client.config["host"] = sb.hubspot.url
    client.crm.contacts.basic_api.archive(contact_id)


def recreate(project: Project) -> Project:
    """The same project with its one sync switched to on_target_delete = "recreate"."""
    path = project.root / "hub.toml"
    path.write_text(path.read_text() + RECREATE)
    return Project(project.root)


def test_a_contact_deleted_in_hubspot_is_not_recreated_and_is_listed_until_the_sync_says_recreate(
        quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = sandbox_syncs(sb, TO_HUBSPOT.format(mode="upsert"))
    people = [person(1, f"ann{D}", "Ann"), person(2, f"bob{D}", "Bob")]
    write_people(project, people)
    assert push(project).results[0].creates == 2
    gone = hs_contact(sb, f"ann{D}")["id"]
    archive_in_hubspot(sb, gone)
    contacts = sb.hubspot.store.count("contacts")

    people[0]["first_name"] = "Annie"
    write_people(project, people)
    result = push(project).results[0]
    assert (result.creates, result.updates, result.skipped, result.rejected) == (0, 0, 1, 0)
    assert hs_contact(sb, f"ann{D}") is None and sb.hubspot.store.count("contacts") == contacts
    [held] = project.status().skipped_deletions
    assert (held["sync"], held["key"], held["target_id"]) == ("person_to_hubspot", "1", gone)

    cli = run_hub("status", cwd=project.root)
    assert cli.returncode == 0, cli.stderr
    assert f"deleted in target, not re-created: sync person_to_hubspot key 1 (record {gone}" in cli.stdout
    listed = json.loads(run_hub("status", "--json", cwd=project.root).stdout)["skipped_deletions"]
    assert [(d["sync"], d["key"], d["target_id"]) for d in listed] == [("person_to_hubspot", "1", gone)]

    people[0]["last_name"] = "Lee-Smith"                     # later changes are held back too, without a call
    write_people(project, people)
    reset(sb)
    assert push(project).results[0].creates == 0 and hs_writes(sb) == 0
    assert hs_contact(sb, f"ann{D}") is None

    project = recreate(project)
    result = push(project).results[0]
    assert (result.creates, result.rejected) == (1, 0)
    back = hs_contact(sb, f"ann{D}")
    assert back["id"] != gone and back["properties"]["lastname"] == "Lee-Smith"
    assert project.status().skipped_deletions == []


def test_a_salesforce_contact_deleted_in_the_target_is_found_in_its_ingested_data(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = sandbox_syncs(sb, TO_SALESFORCE.format(mode="upsert"))
    people = [person(1, f"cy{D}", "Cy"), person(2, f"di{D}", "Di")]
    write_people(project, people)
    assert push(project).results[0].creates == 2
    [record] = sf_contacts(sb, f"cy{D}")
    with httpx.Client(base_url=sb.salesforce.url, headers={"Authorization": f"Bearer {sb.salesforce.token}"}) as sf:
        assert sf.delete(f"/services/data/v59.0/sobjects/Contact/{record['Id']}").status_code == 204
    assert project.ingest(["salesforce.Contact"]).ok      # raw now shows it IsDeleted

    reset(sb)
    result = push(project).results[0]                      # nothing changed in the model: no call at all
    assert sf_writes(sb) == 0 and result.creates == 0
    assert [(d["key"], d["target_id"]) for d in project.status().skipped_deletions] == [("1", record["Id"])]

    people[0]["phone"] = "+14155550123"
    write_people(project, people)
    result = push(project).results[0]
    assert (result.creates, result.skipped) == (0, 1) and sf_writes(sb) == 0 and not sf_contacts(sb, f"cy{D}")

    result = push(recreate(project)).results[0]
    assert result.creates == 1 and sf_contacts(sb, f"cy{D}")[0]["Phone"] == "+14155550123"


def test_mirror_removes_downstream_a_person_deleted_at_the_source(fresh_sandbox, make_project):
    from tests.conftest import sandbox_project

    sb = fresh_sandbox
    # persons known to Salesforce are mirrored into HubSpot: a filter over other tables is a model (a sync's `where`
    # is one condition on the model's own columns)
    sync = TO_HUBSPOT.format(mode="mirror").replace('"canonical.person"', '"marts.salesforce_people"') \
        + 'key = "person_id"\n'
    root = sandbox_project(make_project, sb, name="mirror", extra=sync)
    (root / "models" / "marts").mkdir(parents=True, exist_ok=True)
    (root / "models" / "marts" / "salesforce_people.sql").write_text(
        "-- materialized: view\nSELECT p.* FROM canonical.person AS p\n"
        "WHERE p.person_id IN (SELECT person_id FROM canonical.person_source WHERE connection = 'salesforce')\n")
    project = Project(root)
    assert project.ingest().ok and build(project).ok
    first = push(project).results[0]
    assert first.creates > 0    # (the seed's dirty rows are refused: not this test's concern)
    (source_id, email), = project.query("""
        SELECT s.source_id, p.email FROM canonical.person_source s JOIN canonical.person p USING (person_id)
        WHERE p.source_count = 1 AND s.connection = 'salesforce' AND p.email LIKE '%@%.%'
        ORDER BY s.source_id LIMIT 1""").rows
    pushed = hs_contact(sb, email)
    assert pushed is not None

    # deleted at the source past the Recycle Bin: only Salesforce's delete log still tells
    sb.salesforce.store.hard_delete("Contact", source_id)
    sb.clock.advance(120)                                    # the delete log counts whole minutes
    assert project.ingest().ok and build(project).ok
    assert project.query(f"SELECT count(*) FROM canonical.person_source WHERE source_id = '{source_id}'").scalar() == 0
    reset(sb)
    result = push(project).results[0]
    assert (result.removals, result.creates, result.rejected) == (1, 0, first.rejected)
    assert sb.hubspot.store.get("contacts", pushed["id"]) is None and hs_contact(sb, email) is None


def test_an_unknown_on_target_delete_is_refused_before_any_call(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = sandbox_syncs(sb, TO_HUBSPOT.format(mode="upsert") + 'on_target_delete = "recreat"\n')
    write_people(project, [person(1, f"ann{D}")])
    reset(sb)
    cli = run_hub("push", cwd=project.root)
    assert cli.returncode != 0 and "Traceback" not in cli.stderr
    [line] = [x for x in cli.stderr.splitlines() if "on_target_delete" in x]
    assert "hub.toml" in line and "did you mean 'recreate'" in line
    assert sb.hubspot.requests.total == 0 and hs_contact(sb, f"ann{D}") is None
