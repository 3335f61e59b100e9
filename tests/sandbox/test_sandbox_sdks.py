"""Conformance: the vendors' official Python SDKs, as independent clients, work against the emulators.

hubspot-api-client talks to the HubSpot emulator over http; simple-salesforce insists on https, so its
sandbox serves TLS from a local CA and the requests session trusts that CA.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.contacts import (BatchInputSimplePublicObjectBatchInput,
                                  BatchInputSimplePublicObjectBatchInputForCreate,
                                  BatchInputSimplePublicObjectBatchInputUpsert, PublicObjectSearchRequest,
                                  SimplePublicObjectBatchInput, SimplePublicObjectBatchInputForCreate,
                                  SimplePublicObjectBatchInputUpsert, SimplePublicObjectInput,
                                  SimplePublicObjectInputForCreate)
from hubspot.crm.contacts.exceptions import ApiException, NotFoundException
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from hub.sandbox import Sandbox
from tests.sandbox.conftest import NOW


@pytest.fixture(scope="module")
def tls_sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=9, people=300, salesforce_contacts=2_600, tls=True, now=NOW, hubspot_rate_limit=None,
                 hubspot_search_rate_limit=None) as sb:
        yield sb


@pytest.fixture
def hubspot(tls_sandbox: Sandbox) -> HubSpot:
    client = HubSpot(access_token=tls_sandbox.hubspot.token)
    client.config["ssl_ca_cert"] = str(tls_sandbox.ca_path)
    client.config["host"] = tls_sandbox.hubspot.url
    return client


@pytest.fixture
def salesforce(tls_sandbox: Sandbox) -> Salesforce:
    session = requests.Session()
    session.verify = str(tls_sandbox.ca_path)
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override session.verify
    return Salesforce(instance_url=tls_sandbox.salesforce.url, session_id=tls_sandbox.salesforce.token,
                      session=session, version="59.0")


def test_sandbox_serves_https_with_its_ca(tls_sandbox):
    assert tls_sandbox.hubspot.url.startswith("https://") and tls_sandbox.salesforce.url.startswith("https://")
    assert tls_sandbox.ca_path.read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_hubspot_sdk_lists_pages_and_gets_all(hubspot, tls_sandbox):
    page = hubspot.crm.contacts.basic_api.get_page(limit=7, properties=["email", "phone"])
    assert len(page.results) == 7 and page.paging.next.after
    assert {"email", "phone", "hs_object_id"} <= set(page.results[0].properties)
    everyone = hubspot.crm.contacts.get_all()
    assert len(everyone) == tls_sandbox.hubspot.store.count("contacts")
    companies = hubspot.crm.companies.get_all()
    assert len(companies) == tls_sandbox.hubspot.store.count("companies") and companies[0].properties["domain"]
    definitions = hubspot.crm.properties.core_api.get_all("contacts").results
    assert "lifecyclestage" in {p.name for p in definitions}


def test_hubspot_sdk_create_get_update_search(hubspot):
    created = hubspot.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"email": "SDK.User@Example.com", "firstname": "Sdk"}))
    assert created.properties["email"] == "sdk.user@example.com"
    fetched = hubspot.crm.contacts.basic_api.get_by_id(created.id, properties=["firstname"])
    assert fetched.properties["firstname"] == "Sdk" and fetched.created_at.year == NOW.year
    updated = hubspot.crm.contacts.basic_api.update(created.id, SimplePublicObjectInput(properties={"phone": "+1 1"}))
    assert updated.updated_at >= fetched.updated_at
    found = hubspot.crm.contacts.search_api.do_search(PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "email", "operator": "EQ", "value": "sdk.user@example.com"}]}],
        properties=["phone"], sorts=["-lastmodifieddate"], limit=5))
    assert found.total == 1 and found.results[0].properties["phone"] == "+1 1"
    with pytest.raises(NotFoundException):
        hubspot.crm.contacts.basic_api.get_by_id("987654321")
    with pytest.raises(ApiException) as conflict:
        hubspot.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"email": "sdk.user@example.com"}))
    assert conflict.value.status == 409


def test_hubspot_sdk_batch_writes_validated_whole_and_multi_status(hubspot, tls_sandbox):
    ok = hubspot.crm.contacts.batch_api.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
        SimplePublicObjectBatchInputUpsert(id="batch.sdk@example.com", id_property="email",
                                           properties={"jobtitle": "Engineer"}, object_write_trace_id="a")]))
    assert ok.status == "COMPLETE" and ok.results[0].new is True and ok.results[0].object_write_trace_id == "a"
    # one invalid input fails the whole batch: nothing is written, not even the valid input
    with pytest.raises(ApiException) as refused:
        hubspot.crm.contacts.batch_api.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
            SimplePublicObjectBatchInputUpsert(id="BATCH.SDK@example.com", id_property="email",
                                               properties={"jobtitle": "Lead Engineer"}),
            SimplePublicObjectBatchInputUpsert(id="other@example.com", id_property="email",
                                               properties={"not_a_property": "x"})]))
    assert refused.value.status == 400 and '"VALIDATION_ERROR"' in refused.value.body
    store = tls_sandbox.hubspot.store
    assert store.find("contacts", "email", "batch.sdk@example.com")["properties"]["jobtitle"] == "Engineer"
    # a create whose email exists fails whole with 409, naming the record and no input
    with pytest.raises(ApiException) as conflict:
        hubspot.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
            SimplePublicObjectBatchInputForCreate(properties={"email": "fresh.sdk@example.com"}),
            SimplePublicObjectBatchInputForCreate(properties={"email": "Batch.Sdk@example.com"})]))
    existing = store.find("contacts", "email", "batch.sdk@example.com")["id"]
    assert conflict.value.status == 409 and f"Contact already exists. Existing ID: {existing}" in conflict.value.body
    assert '"context"' not in conflict.value.body and store.find("contacts", "email", "fresh.sdk@example.com") is None
    # what stays per input: ids that do not exist (207 multi-status)
    mixed = hubspot.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=[
        SimplePublicObjectBatchInput(id=existing, properties={"jobtitle": "Lead Engineer"}),
        SimplePublicObjectBatchInput(id="999999999", properties={"jobtitle": "Nobody"})]))
    assert mixed.num_errors == 1 and mixed.errors[0].category == "OBJECT_NOT_FOUND"
    assert mixed.results[0].properties["jobtitle"] == "Lead Engineer"
    # contacts are updated by id only, not by email
    with pytest.raises(ApiException) as by_email:
        hubspot.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=[
            SimplePublicObjectBatchInput(id="batch.sdk@example.com", id_property="email", properties={})]))
    assert by_email.value.status == 400 and "non-unique 0-1 property" in by_email.value.body


def test_simple_salesforce_query_and_query_all(salesforce, tls_sandbox):
    store = tls_sandbox.salesforce.store
    first = salesforce.query("SELECT Id, Email FROM Contact")
    assert first["done"] is False and len(first["records"]) == 2000 and first["nextRecordsUrl"]
    everything = salesforce.query_all("SELECT Id, Email, SystemModstamp FROM Contact ORDER BY SystemModstamp")
    assert everything["totalSize"] == store.count("Contact") > 2000
    with_deleted = salesforce.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)
    assert with_deleted["totalSize"] == store.count("Contact", include_deleted=True) > everything["totalSize"]
    with pytest.raises(SalesforceMalformedRequest):
        salesforce.query("SELECT Nope FROM Contact")


def test_simple_salesforce_records_describe_and_deleted(salesforce, tls_sandbox):
    created = salesforce.Contact.create({"LastName": "Sdk", "Email": "sdk@example.com"})
    assert created["success"] is True
    assert salesforce.Contact.update(created["id"], {"Title": "Tester"}) == 204
    record = salesforce.Contact.get(created["id"])
    assert record["Title"] == "Tester" and record["Name"] == "Sdk"
    assert salesforce.Contact.upsert("Hub_Person_Id__c/sdk-1", {"LastName": "Upserted"}) == 201
    assert salesforce.Contact.upsert("Hub_Person_Id__c/sdk-1", {"FirstName": "Now"}) == 200
    assert salesforce.Contact.get_by_custom_id("Hub_Person_Id__c", "sdk-1")["Name"] == "Now Upserted"
    describe = salesforce.Contact.describe()
    assert {f["name"] for f in describe["fields"] if f["externalId"]} >= {"Hub_Person_Id__c"}
    assert {o["name"] for o in salesforce.describe()["sobjects"]} >= {"Contact", "Account", "Lead", "Opportunity", "Case"}
    assert salesforce.Contact.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        salesforce.Contact.get(created["id"])
    # Like Salesforce, /deleted covers whole minutes only: let the minute of the deletion pass first.
    tls_sandbox.clock.advance(61)
    # The delete log goes back 15 days (the Recycle Bin's life); an earlier start is refused.
    deleted = salesforce.Contact.deleted(NOW - timedelta(days=14), NOW + timedelta(days=1))
    assert created["id"] in {d["id"] for d in deleted["deletedRecords"]}
    assert salesforce.api_usage["api-usage"].used > 0


def test_simple_salesforce_collections_through_restful(salesforce):
    results = salesforce.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Contact"}, "LastName": "Collected"},
        {"attributes": {"type": "Contact"}, "Email": "missing@example.com"}]})
    assert [r["success"] for r in results] == [True, False]
    upserted = salesforce.restful("composite/sobjects/Contact/Hub_Person_Id__c", method="PATCH", json={
        "allOrNone": False, "records": [{"attributes": {"type": "Contact"}, "Hub_Person_Id__c": "c-1",
                                         "LastName": "Coll"}]})
    assert upserted[0]["created"] is True
