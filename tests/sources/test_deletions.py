"""Deletions at the sources, over the sandbox: the emulators archive and delete as the vendors do (checked with the
official SDKs), ingest marks what left, and the build drops it from canonical.person without reusing its id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.contacts import Filter, FilterGroup, PublicObjectSearchRequest
from hubspot.crm.contacts.exceptions import NotFoundException
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from hub.modeling import build
from hub.project import Project
from hub.sandbox import Sandbox
from tests.conftest import sandbox_project

DAY = 86_400


def hubspot_sdk(sb: Sandbox) -> HubSpot:
    """The official HubSpot client, pointed at the emulator."""
    client = HubSpot(access_token=sb.hubspot.token)
    client.config["host"] = sb.hubspot.url
    if sb.ca_path:
        client.config["ssl_ca_cert"] = str(sb.ca_path)
    return client


@pytest.fixture
def tls_box() -> Iterator[Sandbox]:
    """simple-salesforce insists on https: a sandbox of the test's own serving TLS from a local CA."""
    with Sandbox(seed=4, people=60, tls=True, hubspot_rate_limit=None, hubspot_search_rate_limit=None) as sb:
        yield sb


def salesforce_sdk(sb: Sandbox) -> Salesforce:
    session = requests.Session()
    session.verify = str(sb.ca_path)
    session.trust_env = False
    return Salesforce(instance_url=sb.salesforce.url, session_id=sb.salesforce.token, session=session,
                      version="59.0")


def test_hubspot_archived_records_leave_lists_and_search_and_appear_under_archived(tls_box):
    sdk = hubspot_sdk(tls_box)
    basic = sdk.crm.contacts.basic_api
    first = basic.get_page(limit=2, properties=["email"]).results
    gone, keep = first[0].id, first[1].id
    email = first[0].properties["email"]
    basic.archive(gone)
    live = {c.id for c in sdk.crm.contacts.get_all()}
    assert gone not in live and keep in live
    search = PublicObjectSearchRequest(filter_groups=[FilterGroup(filters=[
        Filter(property_name="email", operator="EQ", value=email)])], properties=["email"])
    assert sdk.crm.contacts.search_api.do_search(public_object_search_request=search).total == 0
    archived = {c.id: c for c in basic.get_page(limit=100, archived=True).results}
    assert archived[gone].archived is True and archived[gone].archived_at is not None
    assert keep not in archived
    with pytest.raises(NotFoundException):
        basic.get_by_id(gone)
    assert basic.get_by_id(gone, archived=True).archived is True


def test_hubspot_merge_keeps_the_primary_and_archives_the_other(tls_box):
    store = tls_box.hubspot.store
    winner = store.create("contacts", {"email": "win@merge.example", "firstname": "Win"})
    loser = store.create("contacts", {"email": "lose@merge.example", "firstname": "Lose", "phone": "+14155550100"})
    with httpx.Client(base_url=tls_box.hubspot.url, verify=str(tls_box.ca_path),
                      headers={"Authorization": f"Bearer {tls_box.hubspot.token}"}) as client:
        same = client.post("/crm/v3/objects/contacts/merge",
                           json={"primaryObjectId": winner["id"], "objectIdToMerge": winner["id"]})
        assert same.status_code == 400 and same.json()["category"] == "VALIDATION_ERROR"
        merged = client.post("/crm/v3/objects/contacts/merge",
                             json={"primaryObjectId": winner["id"], "objectIdToMerge": loser["id"]})
    assert merged.status_code == 200
    body = merged.json()
    assert body["id"] == winner["id"] and body["properties"]["email"] == "win@merge.example"
    assert body["properties"]["phone"] == "+14155550100"   # a blank of the primary, filled from the other
    assert store.get("contacts", loser["id"]) is None
    archived = hubspot_sdk(tls_box).crm.contacts.basic_api.get_by_id(loser["id"], archived=True)
    assert archived.archived is True


def test_salesforce_delete_recycle_bin_and_delete_log_as_salesforce_keeps_them(tls_box):
    sf = salesforce_sdk(tls_box)
    store, clock = tls_box.salesforce.store, tls_box.clock
    binned = sf.Contact.create({"LastName": "Binned"})["id"]
    purged = sf.Contact.create({"LastName": "Purged"})["id"]
    assert sf.Contact.delete(binned) == 204
    assert store.hard_delete("Contact", purged)        # Bulk API hardDelete: past the Recycle Bin
    clock.advance(120)                                  # the log counts whole minutes
    soql = "SELECT Id, IsDeleted FROM Contact WHERE LastName IN ('Binned', 'Purged')"
    assert sf.query(soql)["totalSize"] == 0
    assert [(r["Id"], r["IsDeleted"]) for r in sf.query_all(soql, include_deleted=True)["records"]] == [(binned, True)]
    now = clock.now()
    log = sf.Contact.deleted(now - timedelta(days=14), now)
    assert {binned, purged} <= {d["id"] for d in log["deletedRecords"]}
    assert {"earliestDateAvailable", "latestDateCovered"} <= set(log)
    with pytest.raises(SalesforceMalformedRequest, match="INVALID_REPLICATION_DATE"):
        sf.Contact.deleted(now - timedelta(days=16), now)     # the log keeps 15 days
    with pytest.raises(SalesforceMalformedRequest, match="INVALID_REPLICATION_DATE"):
        sf.Contact.deleted(now - timedelta(seconds=30), now)  # start must precede end by more than a minute

    clock.advance(16 * DAY)                             # out of the Recycle Bin after 15 days
    assert sf.query_all(soql, include_deleted=True)["totalSize"] == 0
    assert binned not in {d["id"] for d in sf.Contact.deleted(clock.now() - timedelta(days=14),
                                                              clock.now())["deletedRecords"]}

    again = sf.Contact.create({"LastName": "Binned"})["id"]
    assert sf.Contact.delete(again) == 204
    before = clock.now()
    clock.advance(3600)
    assert store.empty_recycle_bin("Contact") == 1      # an admin empties the bin: the log starts over
    assert sf.query_all(soql, include_deleted=True)["totalSize"] == 0
    with pytest.raises(SalesforceMalformedRequest, match="INVALID_REPLICATION_DATE"):
        sf.Contact.deleted(before - timedelta(minutes=5), clock.now())


def contact_people(project: Project, connection: str) -> dict[str, str]:
    """source id -> person id of a connection's contacts in canonical.person_source."""
    rows = project.query(f"SELECT source_id, person_id FROM canonical.person_source "
                         f"WHERE connection = '{connection}'").rows
    return {s: p for s, p in rows}


def lone(project: Project, connection: str) -> list[tuple[str, str]]:
    """(source id, person id) of persons known from that one record only."""
    return project.query(f"""SELECT s.source_id, s.person_id FROM canonical.person_source s
                             JOIN canonical.person p USING (person_id)
                             WHERE s.connection = '{connection}' AND p.source_count = 1
                             ORDER BY s.source_id""").rows


def test_records_deleted_at_the_sources_leave_canonical_person_and_their_ids_are_not_reused(fresh_sandbox,
                                                                                           make_project):
    sb = fresh_sandbox
    project = Project(sandbox_project(make_project, sb, name="deletions"))
    assert project.ingest().ok and build(project).ok
    (hs_id, hs_person), *_ = lone(project, "hubspot")
    (sf_bin, sf_bin_person), (sf_gone, sf_gone_person), *_ = lone(project, "salesforce")
    persons = {r[0] for r in project.query("SELECT person_id FROM canonical.person").rows}
    assert {hs_person, sf_bin_person, sf_gone_person} <= persons

    hubspot_sdk(sb).crm.contacts.basic_api.archive(hs_id)                  # HubSpot: archive (SDK)
    with httpx.Client(base_url=sb.salesforce.url, headers={"Authorization": f"Bearer {sb.salesforce.token}"}) as sf:
        assert sf.delete(f"/services/data/v59.0/sobjects/Contact/{sf_bin}").status_code == 204  # to the bin
    sb.salesforce.store.hard_delete("Contact", sf_gone)                    # never seen by queryAll again
    sb.clock.advance(120)                                                  # the delete log counts whole minutes
    report = project.ingest()
    assert report.ok, report.errors
    assert {r.mode for r in report.results} == {"incremental"}
    assert project.query(f"SELECT archived, email IS NOT NULL FROM raw_hubspot.contacts "
                         f"WHERE id = '{hs_id}'").rows == [(True, True)]                  # marked, not blanked
    deleted = dict(project.query(f"SELECT id, is_deleted FROM raw_salesforce.contact "
                                 f"WHERE id IN ('{sf_bin}', '{sf_gone}')").rows)
    assert deleted == {sf_bin: True, sf_gone: True}
    assert project.query(f"SELECT last_name IS NOT NULL FROM raw_salesforce.contact "
                         f"WHERE id = '{sf_gone}'").rows == [(True,)]                 # marked, not blanked

    assert build(project).ok
    persons_after = {r[0] for r in project.query("SELECT person_id FROM canonical.person").rows}
    assert not {hs_person, sf_bin_person, sf_gone_person} & persons_after
    assert hs_id not in contact_people(project, "hubspot")
    assert not {sf_bin, sf_gone} & set(contact_people(project, "salesforce"))

    # a later run neither resurrects them nor hands their ids to someone new
    store = sb.hubspot.store
    newcomer = store.create("contacts", {"email": "newcomer@deletions.example", "firstname": "New"})
    assert project.ingest().ok and build(project).ok
    assert project.query(f"SELECT archived FROM raw_hubspot.contacts WHERE id = '{hs_id}'").rows == [(True,)]
    assert project.query(f"SELECT count(*) FROM raw_salesforce.contact WHERE id IN ('{sf_bin}', '{sf_gone}') "
                         f"AND is_deleted").scalar() == 2
    new_person = contact_people(project, "hubspot")[newcomer["id"]]
    assert new_person not in {hs_person, sf_bin_person, sf_gone_person}
    assert not {hs_person, sf_bin_person, sf_gone_person} & {
        r[0] for r in project.query("SELECT person_id FROM canonical.person").rows}


def test_a_salesforce_stream_last_pulled_before_the_delete_log_reaches_is_pulled_whole(fresh_sandbox, make_project):
    sb = fresh_sandbox
    project = Project(sandbox_project(make_project, sb, name="stale"))
    assert project.ingest(["salesforce.Contact"]).ok
    gone = next(r["Id"] for r in sb.salesforce.store.records("Contact") if not r["IsDeleted"])
    sb.salesforce.store.hard_delete("Contact", gone)
    with project.warehouse() as wh:   # the last pull was 20 days ago: the delete log no longer reaches back
        wh.execute("UPDATE _hub.run_steps SET started_at = started_at - INTERVAL 20 DAY WHERE step = 'ingest'")
    report = project.ingest(["salesforce.Contact"])
    assert report.ok, report.errors
    assert [r.mode for r in report.results] == ["full"]
    assert project.query(f"SELECT count(*) FROM raw_salesforce.contact WHERE id = '{gone}'").scalar() == 0


def test_an_emptied_recycle_bin_stops_the_incremental_pull_with_a_way_out(fresh_sandbox, make_project):
    sb = fresh_sandbox
    project = Project(sandbox_project(make_project, sb, name="emptied"))
    assert project.ingest(["salesforce.Contact"]).ok
    sb.clock.advance(600)
    sb.salesforce.store.empty_recycle_bin("Contact")    # deletions since the last pull are beyond reach
    report = project.ingest(["salesforce.Contact"])
    assert not report.ok
    message = str(report.errors[0])
    assert "INVALID_REPLICATION_DATE" in message and "hub ingest --full-refresh salesforce.Contact" in message
    assert project.ingest(["salesforce.Contact"], full_refresh=True).ok
