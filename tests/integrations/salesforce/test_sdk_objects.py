"""simple-salesforce, as an independent client, works the org's other objects on the emulator over real HTTPS:
Lead, Opportunity, Case, Task and a custom object, through describeGlobal, describe, SOQL, single records and
composite collections, with field-level security and the Recycle Bin as Salesforce has them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from hub.sandbox import Sandbox
from tests.sandbox.conftest import NOW


@pytest.fixture(scope="module")
def tls_sandbox() -> Iterator[Sandbox]:
    # the integration user cannot read Opportunity.Probability (field-level security)
    with Sandbox(seed=9, people=150, tls=True, now=NOW, only={"salesforce"},
                 salesforce_hidden=("Probability",)) as sb:
        yield sb


@pytest.fixture
def sf(tls_sandbox: Sandbox) -> Salesforce:
    session = requests.Session()
    session.verify = str(tls_sandbox.ca_path)
    session.trust_env = False
    return Salesforce(instance_url=tls_sandbox.salesforce.url, session_id=tls_sandbox.salesforce.token,
                      session=session, version="59.0")


def test_describe_global_lists_standard_and_custom_objects(sf):
    objects = {o["name"]: o for o in sf.describe()["sobjects"]}
    assert {"Account", "Contact", "Lead", "Opportunity", "Case", "Task", "Subscription__c"} <= set(objects)
    assert objects["Subscription__c"]["custom"] is True and objects["Lead"]["custom"] is False
    assert objects["Opportunity"]["keyPrefix"] == "006" and objects["Lead"]["keyPrefix"] == "00Q"
    account = {f["name"]: f for f in sf.Account.describe()["fields"]}
    assert account["Tier__c"]["custom"] is True and account["Tier__c"]["type"] == "picklist"
    assert {v["value"] for v in account["Tier__c"]["picklistValues"]} == {"Enterprise", "Mid-Market", "SMB"}


def test_lead_create_defaults_required_fields_and_query_all(sf, tls_sandbox):
    created = sf.Lead.create({"LastName": "Lovelace", "FirstName": "Ada", "Company": "Engines Ltd",
                              "Email": "ada@engines.example"})
    assert created["success"] is True and created["id"].startswith("00Q")
    lead = sf.Lead.get(created["id"])
    assert lead["Name"] == "Ada Lovelace" and lead["Status"] == "Open - Not Contacted"
    assert lead["IsConverted"] is False
    with pytest.raises(SalesforceMalformedRequest) as missing:
        sf.Lead.create({"LastName": "NoCompany"})
    assert missing.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert "Company" in missing.value.content[0]["fields"]
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.Lead.create({"LastName": "X", "Company": "Y", "Email": "not-an-email"})
    assert bad.value.content[0]["errorCode"] == "INVALID_EMAIL_ADDRESS"
    found = sf.query_all("SELECT Id, Name, Status FROM Lead WHERE Email = 'ada@engines.example'")
    assert [r["Id"] for r in found["records"]] == [created["id"]]
    assert sf.query_all("SELECT Id FROM Lead")["totalSize"] == tls_sandbox.salesforce.store.count("Lead") > 1


def test_opportunity_stage_drives_closed_and_won_and_contact_is_set_on_create_only(sf):
    account = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    contact = sf.query(f"SELECT Id FROM Contact WHERE AccountId = '{account}' LIMIT 1")["records"]
    contact_id = contact[0]["Id"] if contact else sf.Contact.create({"LastName": "Buyer", "AccountId": account})["id"]
    opp = sf.Opportunity.create({"Name": "Big deal", "StageName": "Prospecting", "CloseDate": "2025-03-31",
                                 "Amount": 12000.5, "AccountId": account, "ContactId": contact_id})
    row = sf.Opportunity.get(opp["id"])
    assert (row["IsClosed"], row["IsWon"], row["ContactId"]) == (False, False, contact_id)
    assert "Probability" not in row      # hidden from this user by field-level security
    sf.Opportunity.update(opp["id"], {"StageName": "Closed Won"})
    won = sf.query(f"SELECT Id, IsClosed, IsWon, Amount, Account.Name FROM Opportunity WHERE Id = '{opp['id']}'")
    record = won["records"][0]
    assert (record["IsClosed"], record["IsWon"], record["Amount"]) == (True, True, 12000.5)
    assert record["Account"]["Name"]
    with pytest.raises(SalesforceMalformedRequest) as read_only:
        sf.Opportunity.update(opp["id"], {"ContactId": contact_id})
    assert read_only.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceMalformedRequest) as hidden:
        sf.query("SELECT Probability FROM Opportunity")
    assert hidden.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as wrong_type:
        sf.Opportunity.create({"Name": "x", "StageName": "Prospecting", "CloseDate": "2025-03-31",
                               "AccountId": contact_id})
    assert wrong_type.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_case_numbers_close_dates_and_polymorphic_task_links(sf):
    contact = sf.query("SELECT Id, AccountId FROM Contact WHERE AccountId != null LIMIT 1")["records"][0]
    case = sf.Case.create({"Subject": "Printer on fire", "ContactId": contact["Id"], "AccountId": contact["AccountId"],
                           "Origin": "Web"})
    fresh = sf.Case.get(case["id"])
    assert fresh["Status"] == "New" and fresh["Priority"] == "Medium" and fresh["CaseNumber"].isdigit()
    assert fresh["IsClosed"] is False and fresh["ClosedDate"] is None
    sf.Case.update(case["id"], {"Status": "Closed"})
    closed = sf.Case.get(case["id"])
    assert closed["IsClosed"] is True and closed["ClosedDate"]
    lead = sf.Lead.create({"LastName": "Caller", "Company": "Phones Inc"})["id"]
    task = sf.Task.create({"Subject": "Call", "WhoId": lead, "WhatId": case["id"]})
    assert sf.Task.get(task["id"])["Status"] == "Not Started"
    with pytest.raises(SalesforceMalformedRequest) as bad_who:
        sf.Task.create({"Subject": "Call", "WhoId": contact["AccountId"]})
    assert bad_who.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_custom_object_records_relationship_and_collections(sf):
    account = sf.query("SELECT Id, Name FROM Account LIMIT 1")["records"][0]
    result = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Subscription__c"}, "Name": "Acme Growth", "Account__c": account["Id"],
         "Plan__c": "Growth", "Seats__c": 12},
        {"attributes": {"type": "Subscription__c"}, "Plan__c": "Growth"},          # Name is required
        {"attributes": {"type": "Lead"}, "LastName": "Batch", "Company": "Co"}]})
    assert [r["success"] for r in result] == [True, False, True]
    assert result[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    rows = sf.query_all(f"SELECT Id, Name, Account__r.Name, Seats__c FROM Subscription__c "
                        f"WHERE Id = '{result[0]['id']}'")["records"]
    assert rows[0]["Account__r"]["Name"] == account["Name"] and rows[0]["Seats__c"] == 12
    upsert = sf.Subscription__c.upsert("Hub_Subscription_Id__c/sub-1", {"Name": "Upserted"})
    assert upsert == 201
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("sobjects/Subscriptions__c/describe")


def test_deleted_opportunities_are_in_query_all_and_get_deleted(sf, tls_sandbox):
    opp = sf.Opportunity.create({"Name": "Doomed", "StageName": "Prospecting", "CloseDate": "2025-06-30"})
    start = tls_sandbox.clock.now() - timedelta(minutes=5)
    assert sf.Opportunity.delete(opp["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Opportunity.get(opp["id"])
    live = sf.query_all(f"SELECT Id FROM Opportunity WHERE Id = '{opp['id']}'")
    everything = sf.query_all(f"SELECT Id, IsDeleted FROM Opportunity WHERE Id = '{opp['id']}'",
                              include_deleted=True)
    assert live["totalSize"] == 0 and everything["records"][0]["IsDeleted"] is True
    tls_sandbox.clock.advance(61)
    deleted = sf.Opportunity.deleted(start, tls_sandbox.clock.now())
    assert opp["id"] in [d["id"] for d in deleted["deletedRecords"]]


def test_a_logged_chat_is_a_completed_task_upserted_by_its_chat_id_on_a_live_contact_or_lead(sf):
    """The form-to-lead example's chats: a Task with Status Completed (IsClosed follows), ActivityDate, Description,
    upserted by the org's external id Hub_Chat_Id__c (the same chat twice is one Task); WhoId must be a live Contact
    or Lead: a deleted one is ENTITY_IS_DELETED, an unknown one INVALID_CROSS_REFERENCE_KEY, an Account
    FIELD_INTEGRITY_EXCEPTION."""
    contact = sf.query("SELECT Id, AccountId FROM Contact WHERE AccountId != null LIMIT 1")["records"][0]
    body = {"WhoId": contact["Id"], "Subject": "Website chat with Ada", "Status": "Completed",
            "ActivityDate": "2026-11-30", "Description": "Visitor: hello\nAgent: hi"}
    assert sf.Task.upsert("Hub_Chat_Id__c/chat-1", body) == 201
    assert sf.Task.upsert("Hub_Chat_Id__c/chat-1", body) == 200   # found by its chat id (v46+: 200): not a second one
    [task] = sf.query("SELECT Id, WhoId, Status, IsClosed, ActivityDate, Description FROM Task "
                      "WHERE Hub_Chat_Id__c = 'chat-1'")["records"]
    assert (task["WhoId"], task["Status"], task["IsClosed"]) == (contact["Id"], "Completed", True)
    assert (task["ActivityDate"], task["Description"]) == ("2026-11-30", "Visitor: hello\nAgent: hi")

    gone = sf.Lead.create({"LastName": "Gone", "Company": "Deleted Inc"})["id"]
    sf.Lead.delete(gone)
    unknown = gone[:9] + "9" * 6 + gone[15:]   # a well-formed Lead Id no record has
    for who, code in ((gone, "ENTITY_IS_DELETED"), (unknown, "INVALID_CROSS_REFERENCE_KEY"),
                      (contact["AccountId"], "FIELD_INTEGRITY_EXCEPTION")):
        with pytest.raises(SalesforceMalformedRequest) as refused:
            sf.Task.upsert("Hub_Chat_Id__c/chat-2", {**body, "WhoId": who})
        assert refused.value.content[0]["errorCode"] == code
    assert sf.query("SELECT COUNT() FROM Task WHERE Hub_Chat_Id__c = 'chat-2'")["totalSize"] == 0
