"""Pushes to the sandbox over real loopback HTTP: each mode, diffing, reruns without calls, rejected rows and their
retry, update by id vs create, no duplicates across email case, dry runs."""

from __future__ import annotations

import pytest

from hub.errors import PushError
from hub.reverse_etl import push, rejected_rows, render_push_report, sync_status
from tests.reverse_etl.conftest import TO_HUBSPOT, TO_SALESFORCE, person, write_people
from tests.reverse_etl.helpers import hs_contact, hs_writes, reset, sf_contacts, sf_writes

BOTH = TO_HUBSPOT.format(mode="upsert") + TO_SALESFORCE.format(mode="upsert")
D = "@hubtest.example"


def test_upsert_creates_then_updates_and_a_rerun_makes_no_call(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = sandbox_syncs(sb, BOTH)
    contacts, sf = sb.hubspot.store.count("contacts"), sb.salesforce.store.count("Contact")
    write_people(project, [person(1, f"ann{D}", "Ann", "Lee", "+14155550101"), person(2, f"bob{D}", "Bob", "Ray")])
    report = push(project)
    assert report.ok, report.errors
    assert [(r.sync, r.creates, r.updates) for r in report.results] == [("person_to_hubspot", 2, 0),
                                                                         ("person_to_salesforce", 2, 0)]
    assert sb.hubspot.store.count("contacts") == contacts + 2 and sb.salesforce.store.count("Contact") == sf + 2
    assert hs_contact(sb, f"ann{D}")["properties"]["phone"] == "+14155550101"
    assert sf_contacts(sb, f"bob{D}")[0]["FirstName"] == "Bob"

    reset(sb)
    again = push(project)
    assert [(r.creates, r.updates, r.unchanged, r.api_calls) for r in again.results] == [(0, 0, 2, 0)] * 2
    assert sb.hubspot.requests.total == 0 and sb.salesforce.requests.total == 0
    assert "nothing changed" in render_push_report(again)


def test_only_changed_rows_are_sent_with_only_their_changed_fields(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = sandbox_syncs(sb, BOTH)
    people = [person(i, f"p{i}{D}", f"First{i}", "Lee", "+14155550100") for i in range(30)]
    write_people(project, people)
    assert push(project).ok
    untouched = hs_contact(sb, f"p1{D}")["properties"]["lastmodifieddate"]
    people[7]["phone"] = "+14155550177"
    write_people(project, people)
    reset(sb)
    report = push(project)
    assert [(r.updates, r.unchanged) for r in report.results] == [(1, 29), (1, 29)]
    assert hs_writes(sb) == 1 and sf_writes(sb) == 1
    assert hs_contact(sb, f"p7{D}")["properties"]["phone"] == "+14155550177"
    assert sf_contacts(sb, f"p7{D}")[0]["Phone"] == "+14155550177"
    assert hs_contact(sb, f"p1{D}")["properties"]["lastmodifieddate"] == untouched


def test_update_mode_never_creates(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    existing = sb.hubspot.store.create("contacts", {"email": f"known{D}", "firstname": "Old"})
    sf_id = sb.salesforce.store.create("Contact", {"Email": f"known{D}", "LastName": "Lee", "FirstName": "Old"})
    project = sandbox_syncs(sb, TO_HUBSPOT.format(mode="update") + TO_SALESFORCE.format(mode="update"))
    write_people(project, [person(1, f"KNOWN{D}", "New"), person(2, f"stranger{D}", "Nobody")])
    contacts, sf = sb.hubspot.store.count("contacts"), sb.salesforce.store.count("Contact")
    report = push(project)
    assert [(r.creates, r.updates, r.skipped) for r in report.results] == [(0, 1, 1), (0, 1, 1)]
    assert sb.hubspot.store.count("contacts") == contacts and sb.salesforce.store.count("Contact") == sf
    assert sb.hubspot.store.get("contacts", existing["id"])["properties"]["firstname"] == "New"
    assert sb.salesforce.store.get("Contact", sf_id)["FirstName"] == "New"
    reset(sb)
    assert all(r.api_calls == 0 for r in push(project).results)   # the stranger is not looked for again


def test_insert_mode_never_updates(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    existing = sb.hubspot.store.create("contacts", {"email": f"known{D}", "firstname": "Old"})
    sf_id = sb.salesforce.store.create("Contact", {"Email": f"Known{D}", "LastName": "Lee", "FirstName": "Old"})
    project = sandbox_syncs(sb, TO_HUBSPOT.format(mode="insert") + TO_SALESFORCE.format(mode="insert"))
    people = [person(1, f"known{D}", "New"), person(2, f"fresh{D}", "Fresh")]
    write_people(project, people)
    report = push(project)
    assert [(r.creates, r.updates) for r in report.results] == [(1, 0), (1, 0)]
    assert sb.hubspot.store.get("contacts", existing["id"])["properties"]["firstname"] == "Old"
    assert sb.salesforce.store.get("Contact", sf_id)["FirstName"] == "Old"
    people[1]["first_name"] = "Changed"
    write_people(project, people)
    reset(sb)
    assert [(r.creates, r.updates) for r in push(project).results] == [(0, 0), (0, 0)]
    assert hs_writes(sb) == 0 and sf_writes(sb) == 0
    assert hs_contact(sb, f"fresh{D}")["properties"]["firstname"] == "Fresh"


def test_mirror_removes_what_left_the_model_and_refuses_to_empty_the_target(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = sandbox_syncs(sb, TO_HUBSPOT.format(mode="mirror") + TO_SALESFORCE.format(mode="mirror"))
    people = [person(i, f"m{i}{D}") for i in range(3)]
    write_people(project, people)
    assert push(project).ok
    gone_id = hs_contact(sb, f"m1{D}")["id"]
    write_people(project, [people[0], people[2]])
    report = push(project)
    assert [(r.removals, r.unchanged) for r in report.results] == [(1, 2), (1, 2)]
    assert sb.hubspot.store.get("contacts", gone_id) is None and not sf_contacts(sb, f"m1{D}")
    assert hs_contact(sb, f"m0{D}") and sf_contacts(sb, f"m2{D}")
    write_people(project, [])
    reset(sb)
    with pytest.raises(PushError, match="refusing to remove all 2"):
        push(project, ["person_to_hubspot"])
    assert hs_writes(sb) == 0 and hs_contact(sb, f"m0{D}")


def test_rejected_rows_are_kept_with_the_reason_retried_and_cleared_once_accepted(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = sandbox_syncs(sb, BOTH)
    people = [person(1, f"good{D}"), person(2, "not-an-email")]
    write_people(project, people)
    report = push(project)
    assert report.ok and [(r.creates, r.rejected) for r in report.results] == [(1, 1), (1, 1)]
    [hs] = rejected_rows(project, "person_to_hubspot")
    [sf] = rejected_rows(project, "person_to_salesforce")
    assert hs["key"] == "2" and hs["code"] == "INVALID_EMAIL" and "not-an-email" in hs["reason"]
    # caught before sending (reverse_etl.validate), so it never sank a batch
    assert sf["code"] == "INVALID_EMAIL" and sf["payload"]["Email"] == "not-an-email"
    status = {s["sync"]: s for s in sync_status(project)}
    assert status["person_to_hubspot"]["rejected"] == 1 and status["person_to_hubspot"]["synced"] == 1

    reset(sb)
    push(project)                                         # retried although nothing changed, checked again locally
    assert hs_writes(sb) == 0 and rejected_rows(project, "person_to_hubspot")[0]["attempts"] == 2

    people[1]["email"] = f"fixed{D}"
    write_people(project, people)
    assert [(r.creates, r.rejected) for r in push(project).results] == [(1, 0), (1, 0)]
    assert rejected_rows(project, "person_to_hubspot") == [] == rejected_rows(project, "person_to_salesforce")
    assert hs_contact(sb, f"fixed{D}")


def test_a_person_from_the_target_is_updated_by_its_own_id_others_are_created(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    mine = sb.hubspot.store.create("contacts", {"email": f"old.address{D}", "firstname": "Ann"})
    # recreate: a record deleted in the target comes back (the default, skip, is in tests/reverse_etl/test_deletions)
    project = sandbox_syncs(sb, TO_HUBSPOT.format(mode="upsert") + 'on_target_delete = "recreate"\n')
    # person 1 came from that contact (linked in canonical.person_source) and has since changed email
    write_people(project, [person(1, f"new.address{D}", "Ann"), person(2, f"someone{D}")],
                 sources=[("1", "hubspot", "contacts", mine["id"])])
    contacts = sb.hubspot.store.count("contacts")
    report = push(project)
    assert (report.results[0].creates, report.results[0].updates) == (1, 1)
    assert sb.hubspot.store.count("contacts") == contacts + 1
    assert sb.hubspot.store.get("contacts", mine["id"])["properties"]["email"] == f"new.address{D}"

    # the linked record is deleted in HubSpot: the next change finds it again by email (creating it)
    sb.hubspot.store.archive("contacts", mine["id"])
    write_people(project, [person(1, f"new.address{D}", "Annie"), person(2, f"someone{D}")],
                 sources=[("1", "hubspot", "contacts", mine["id"])])
    result = push(project).results[0]
    assert (result.creates, result.rejected) == (1, 0)
    assert hs_contact(sb, f"new.address{D}")["properties"]["firstname"] == "Annie"


def test_email_case_differences_never_make_a_duplicate(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    hs_id = sb.hubspot.store.create("contacts", {"email": f"Case.Test{D}", "firstname": "Old"})["id"]
    sf_id = sb.salesforce.store.create("Contact", {"Email": f"Case.Test{D}", "LastName": "Lee", "FirstName": "Old"})
    project = sandbox_syncs(sb, BOTH)
    write_people(project, [person(1, f"case.test{D}", "New"), person(2, f"Twin{D}", "A"), person(3, f"twin{D}", "B")])
    contacts, sf = sb.hubspot.store.count("contacts"), sb.salesforce.store.count("Contact")
    report = push(project)
    assert [(r.creates, r.updates, r.rejected) for r in report.results] == [(1, 1, 1), (1, 1, 1)]
    assert sb.hubspot.store.count("contacts") == contacts + 1 and sb.salesforce.store.count("Contact") == sf + 1
    assert sb.hubspot.store.get("contacts", hs_id)["properties"]["firstname"] == "New"
    assert [c["Id"] for c in sf_contacts(sb, f"case.test{D}")] == [sf_id]
    [twin] = rejected_rows(project, "person_to_hubspot")
    assert (twin["key"], twin["code"]) == ("3", "DUPLICATE_MATCH")


def test_dry_run_plans_with_examples_and_writes_nothing(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = sandbox_syncs(sb, BOTH)
    people = [person(i, f"d{i}{D}", "Dry") for i in range(4)]
    write_people(project, people)
    reset(sb)
    plan = push(project, dry_run=True)
    assert hs_writes(sb) == 0 and sf_writes(sb) == 0
    assert [(r.creates, r.updates, r.removals) for r in plan.results] == [(4, 0, 0), (4, 0, 0)]
    assert push(project).ok
    people[2]["first_name"] = "Wet"
    write_people(project, people)
    reset(sb)
    plan = push(project, dry_run=True)
    assert sb.hubspot.requests.total == 0 and sb.salesforce.requests.total == 0   # fields validated from cache
    assert [(r.creates, r.updates, r.unchanged) for r in plan.results] == [(0, 1, 3), (0, 1, 3)]
    text = render_push_report(plan)
    assert "would create 0, update 1, remove 0" in text
    assert "update 2: firstname 'Dry' -> 'Wet'" in text and "update 2: FirstName 'Dry' -> 'Wet'" in text
    assert project.query("SELECT count(*) FROM _hub.runs WHERE command = 'push'").scalar() == 1


def test_a_deleted_record_with_the_same_email_is_not_updated_a_new_one_is_made(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    gone = sb.salesforce.store.create("Contact", {"Email": f"gone{D}", "LastName": "Old"})
    sb.salesforce.store.delete("Contact", gone)
    project = sandbox_syncs(sb, TO_SALESFORCE.format(mode="upsert"))
    assert project.ingest(["salesforce.Contact"]).ok          # the deleted record lands in raw, flagged
    write_people(project, [person(1, f"gone{D}", "New", "Lee")])
    reset(sb)
    result = push(project).results[0]
    assert (result.creates, result.updates, result.rejected) == (1, 0, 0)
    assert sf_writes(sb) == 1                                  # no update tried on the deleted record
    [alive] = sf_contacts(sb, f"gone{D}")
    assert alive["Id"] != gone and alive["LastName"] == "Lee"


@pytest.mark.parametrize(("old", "new", "suggestion"), [
    ('object = "Contact"', 'object = "Contacts"', "Contact"),
    ('first_name = "FirstName"', 'first_name = "Fristname"', "FirstName"),
])
def test_salesforce_names_are_checked_against_describe_before_any_write(quiet_sandbox, sandbox_syncs, old, new,
                                                                        suggestion):
    from hub.errors import UnknownNameError

    sb = quiet_sandbox
    project = sandbox_syncs(sb, BOTH.replace(old, new))
    write_people(project, [person(1, f"x{D}")])
    reset(sb)
    with pytest.raises(UnknownNameError, match=f"did you mean '{suggestion}'"):
        push(project)
    assert hs_writes(sb) == 0 and sf_writes(sb) == 0        # the HubSpot sync was fine, and still waited
    with pytest.raises(UnknownNameError, match="did you mean 'person_to_hubspot'"):
        rejected_rows(project, "person_to_hubspt")


def test_progress_reports_records_sent(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = sandbox_syncs(sb, TO_HUBSPOT.format(mode="upsert"))
    write_people(project, [person(i, f"g{i}{D}") for i in range(250)])
    seen: list[tuple[str, int, int]] = []
    assert push(project, progress=lambda *args: seen.append(args)).ok
    assert seen[-1] == ("person_to_hubspot", 250, 250) and len(seen) == 3


def test_salesforce_upsert_by_external_id_field(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    sync = (TO_SALESFORCE.format(mode="upsert").replace('match = { email = "Email" }',
                                                        'match = { person_id = "Hub_Person_Id__c" }')
            .replace('fields = { first_name', 'fields = { email = "Email", first_name'))
    project = sandbox_syncs(sb, sync)
    people = [person("p-1", f"ext1{D}", "Ext"), person("p-2", f"ext2{D}", "Ern")]
    write_people(project, people)
    reset(sb)
    assert [(r.creates, r.updates) for r in push(project).results] == [(2, 0)]
    assert sb.salesforce.requests.count("PATCH */composite/sobjects/{sobject}/{field}") == 1   # no lookup needed
    assert sf_contacts(sb, f"ext1{D}")[0]["Hub_Person_Id__c"] == "p-1"
    people[1]["first_name"] = "Ernie"
    write_people(project, people)
    assert [(r.creates, r.updates) for r in push(project).results] == [(0, 1)]
    assert sf_contacts(sb, f"ext2{D}")[0]["FirstName"] == "Ernie"
