"""Salesforce REST emulator over real loopback HTTP: metadata, SOQL paging, records, limits, auth."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from hub.sandbox import Sandbox
from hub.sandbox.clock import Clock
from hub.integrations.salesforce.emulator.schema import id_suffix
from tests.sandbox.conftest import API, NOW, salesforce_client

SF_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$")


def _valid_id(value: str, prefix: str) -> bool:
    return len(value) == 18 and value.startswith(prefix) and value[15:] == id_suffix(value[:15])


def test_versions_resources_and_describe_global(shared, sf):
    versions = httpx.get(f"{shared.salesforce.url}/services/data/").json()
    assert {"label", "url", "version"} <= set(versions[0]) and any(v["version"] == "59.0" for v in versions)
    assert sf.get("/").json()["query"] == f"{API}/query"
    names = {o["name"]: o for o in sf.get("/sobjects/").json()["sobjects"]}
    assert names["Contact"]["keyPrefix"] == "003" and names["Account"]["keyPrefix"] == "001"
    other_version = httpx.get(f"{shared.salesforce.url}/services/data/v62.0/sobjects",
                              headers=sf.headers).json()["sobjects"][0]["urls"]["describe"]
    assert other_version.startswith("/services/data/v62.0/")


def test_describe_contact_and_account(sf):
    contact = sf.get("/sobjects/Contact/describe").json()
    fields = {f["name"]: f for f in contact["fields"]}
    assert contact["name"] == "Contact" and contact["label"] == "Contact"
    assert {"Id", "FirstName", "LastName", "Name", "Email", "Phone", "MobilePhone", "Title", "AccountId",
            "MailingCity", "MailingCountry", "LeadSource", "CreatedDate", "LastModifiedDate", "SystemModstamp",
            "IsDeleted", "Hub_Person_Id__c"} <= set(fields)
    sample = fields["Email"]
    assert {"name", "label", "type", "externalId", "updateable", "createable", "nillable", "length"} <= set(sample)
    assert sample["type"] == "email" and fields["SystemModstamp"]["type"] == "datetime"
    assert fields["Hub_Person_Id__c"]["externalId"] is True and fields["Hub_Person_Id__c"]["type"] == "string"
    assert fields["LastName"]["nillable"] is False and fields["Name"]["updateable"] is False
    assert fields["AccountId"]["referenceTo"] == ["Account"] and fields["AccountId"]["relationshipName"] == "Account"
    account = {f["name"]: f for f in sf.get("/sobjects/Account/describe/").json()["fields"]}
    assert account["NumberOfEmployees"]["type"] == "int" and account["AnnualRevenue"]["type"] == "currency"
    assert {"Name", "Website", "Phone", "Industry", "BillingCity", "BillingCountry"} <= set(account)
    assert sf.get("/sobjects/Widget/describe").status_code == 404


def test_query_pages_with_next_records_url_and_batch_size():
    with Sandbox(seed=3, people=40, salesforce_contacts=4_500, now=NOW) as sb, salesforce_client(sb) as sf:
        q = "SELECT Id, Email, SystemModstamp FROM Contact ORDER BY SystemModstamp"
        first = sf.get("/query", params={"q": q}).json()
        live = sb.salesforce.store.count("Contact")
        assert first["totalSize"] == live and first["done"] is False and len(first["records"]) == 2000
        assert re.fullmatch(rf"{API}/query/01g\w{{15}}-2000", first["nextRecordsUrl"])
        records, page = list(first["records"]), first
        while not page["done"]:
            page = httpx.get(sb.salesforce.url + page["nextRecordsUrl"], headers=sf.headers).json()
            records += page["records"]
        assert len(records) == live and "nextRecordsUrl" not in page
        stamps = [r["SystemModstamp"] for r in records]
        assert stamps == sorted(stamps) and all(SF_DATETIME.match(s) for s in stamps)
        record = records[0]
        assert list(record) == ["attributes", "Id", "Email", "SystemModstamp"]
        assert record["attributes"] == {"type": "Contact", "url": f"{API}/sobjects/Contact/{record['Id']}"}
        assert all(_valid_id(r["Id"], "003") for r in records)

        small = sf.get("/query", params={"q": q}, headers={"Sforce-Query-Options": "batchSize=500"}).json()
        assert len(small["records"]) == 500 and small["nextRecordsUrl"].endswith("-500")
        following = httpx.get(sb.salesforce.url + small["nextRecordsUrl"], headers=sf.headers).json()
        assert len(following["records"]) == 500 and following["nextRecordsUrl"].endswith("-1000")
        clamped = sf.get("/query", params={"q": q}, headers={"Sforce-Query-Options": "batchSize=5"}).json()
        assert len(clamped["records"]) == 200
        assert sf.get("/query/01gBOGUS-2000").json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_soql_filters_literals_order_limit_offset_and_count(shared, sf):
    store = shared.salesforce.store
    everyone = [r for r in store.records("Contact") if not r["IsDeleted"]]
    cutoff = sorted(r["SystemModstamp"] for r in everyone)[len(everyone) // 2]
    expected = {r["Id"] for r in everyone if r["SystemModstamp"] > cutoff}
    literal = cutoff.replace(".000+0000", "Z")
    for form in (literal, literal.replace("Z", "+0000"), literal.replace("Z", ".000Z"), literal.replace("Z", "+00:00")):
        body = sf.get("/query", params={"q": f"SELECT Id FROM Contact WHERE SystemModstamp > {form}"}).json()
        assert {r["Id"] for r in body["records"]} == expected, form
    count = sf.get("/query", params={"q": "SELECT COUNT() FROM Contact"}).json()
    assert count == {"totalSize": len(everyone), "done": True, "records": []}
    ordered = sf.get("/query", params={"q": "SELECT LastName FROM Contact ORDER BY LastName DESC LIMIT 5 OFFSET 2"})
    names = [r["LastName"] for r in ordered.json()["records"]]
    assert names == sorted((r["LastName"] for r in everyone), key=str.lower, reverse=True)[2:7]
    gmail = sf.get("/query", params={"q": "SELECT Id, Email FROM Contact WHERE Email LIKE '%@GMAIL.com%' "
                                          "AND (Phone != null OR MobilePhone = null)"}).json()
    assert gmail["records"] and all("@gmail.com" in r["Email"].lower() for r in gmail["records"])


def test_soql_errors(sf):
    unknown = sf.get("/query", params={"q": "SELECT Id, Foo FROM Contact"})
    assert unknown.status_code == 400
    [error] = unknown.json()
    assert error["errorCode"] == "INVALID_FIELD" and "No such column 'Foo' on entity 'Contact'" in error["message"]
    malformed = sf.get("/query", params={"q": "SELECT Id FORM Contact"}).json()[0]
    assert malformed["errorCode"] == "MALFORMED_QUERY" and "FORM" in malformed["message"]
    assert sf.get("/query", params={"q": "SELECT Id FROM Widget"}).json()[0]["errorCode"] == "INVALID_TYPE"
    quoted = sf.get("/query", params={"q": "SELECT Id FROM Contact WHERE SystemModstamp > '2024-01-01T00:00:00Z'"})
    assert quoted.status_code == 400 and quoted.json()[0]["errorCode"] == "INVALID_FIELD"


def test_query_all_includes_deleted_records(shared, sf):
    q = "SELECT Id, IsDeleted FROM Contact"
    live = sf.get("/query", params={"q": q}).json()
    everything = sf.get("/queryAll", params={"q": q}).json()
    deleted = [r for r in everything["records"] if r["IsDeleted"]]
    assert deleted and not any(r["IsDeleted"] for r in live["records"])
    assert everything["totalSize"] == live["totalSize"] + len(deleted)


def test_record_crud_bumps_modstamps_and_lists_deletions():
    clock = Clock(NOW, frozen=True)
    with Sandbox(seed=3, people=40, now=clock) as sb, salesforce_client(sb) as sf:
        created = sf.post("/sobjects/Contact/", json={"FirstName": "Ada", "LastName": "Lovelace",
                                                      "Email": "ada@example.com"})
        assert created.status_code == 201 and created.json()["success"] is True and created.json()["errors"] == []
        cid = created.json()["id"]
        assert _valid_id(cid, "003")
        record = sf.get(f"/sobjects/Contact/{cid}").json()
        assert record["Name"] == "Ada Lovelace" and record["CreatedDate"] == "2025-06-01T12:00:00.000+0000"
        assert record["attributes"]["type"] == "Contact"
        clock.advance(90)
        assert sf.patch(f"/sobjects/Contact/{cid}", json={"Title": "Countess"}).status_code == 204
        record = sf.get(f"/sobjects/Contact/{cid[:15]}", params={"fields": "Title,SystemModstamp"}).json()
        assert record == {"attributes": record["attributes"], "Title": "Countess",
                          "SystemModstamp": "2025-06-01T12:01:30.000+0000"}
        clock.advance(30)
        sb.salesforce.store.update("Contact", cid, {"Phone": "+44 20 7946 0958"})
        assert sb.salesforce.store.get("Contact", cid)["LastModifiedDate"] == "2025-06-01T12:02:00.000+0000"
        bad = sf.patch(f"/sobjects/Contact/{cid}", json={"Email": "nope", "Name": "X"})
        assert bad.status_code == 400
        assert {e["errorCode"] for e in bad.json()} == {"INVALID_EMAIL_ADDRESS", "INVALID_FIELD_FOR_INSERT_UPDATE"}
        missing = sf.post("/sobjects/Contact", json={"FirstName": "NoLast"})
        assert missing.json() == [{"message": "Required fields are missing: [LastName]",
                                   "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["LastName"]}]

        assert sf.delete(f"/sobjects/Contact/{cid}").status_code == 204
        gone = sf.get(f"/sobjects/Contact/{cid}")
        assert gone.status_code == 404 and gone.json()[0]["errorCode"] == "ENTITY_IS_DELETED"
        assert sf.get("/sobjects/Contact/003000000000000AAA").json()[0]["errorCode"] == "NOT_FOUND"
        start, end = (NOW - timedelta(days=1)).isoformat(), (NOW + timedelta(hours=1)).isoformat()
        deleted = sf.get("/sobjects/Contact/deleted/", params={"start": start, "end": end}).json()
        assert {"id": cid, "deletedDate": "2025-06-01T12:02:00.000+0000"} in deleted["deletedRecords"]
        assert deleted["earliestDateAvailable"] and deleted["latestDateCovered"]
        too_old = sf.get("/sobjects/Contact/deleted/", params={"start": (NOW - timedelta(days=40)).isoformat(),
                                                                "end": end})
        assert too_old.status_code == 400


def test_upsert_by_external_id(sb):
    with salesforce_client(sb) as sf:
        created = sf.patch("/sobjects/Contact/Hub_Person_Id__c/hp-42", json={"LastName": "Knuth"})
        assert created.status_code == 201 and created.json()["created"] is True
        updated = sf.patch("/sobjects/Contact/Hub_Person_Id__c/HP-42", json={"FirstName": "Donald"})
        assert updated.status_code == 200 and updated.json() == {"id": created.json()["id"], "success": True,
                                                                 "errors": [], "created": False}
        assert sf.get("/sobjects/Contact/Hub_Person_Id__c/hp-42").json()["Name"] == "Donald Knuth"
        for name in ("A", "B"):
            sb.salesforce.store.create("Contact", {"LastName": name, "Legacy_Id__c": "L-1"})
        ambiguous = sf.patch("/sobjects/Contact/Legacy_Id__c/L-1", json={"Title": "x"})
        assert ambiguous.status_code == 300 and len(ambiguous.json()) == 2
        not_external = sf.patch("/sobjects/Contact/Email/a@b.com", json={"LastName": "x"})
        assert not_external.status_code == 404 and not_external.json()[0]["errorCode"] == "NOT_FOUND"


def test_limit_info_header_and_daily_limit():
    with Sandbox(seed=3, people=20, now=NOW, salesforce_api_limit=3) as sb, salesforce_client(sb) as sf:
        assert [sf.get("/sobjects").headers["Sforce-Limit-Info"] for _ in range(3)] == \
            ["api-usage=1/3", "api-usage=2/3", "api-usage=3/3"]
        refused = sf.get("/sobjects")
        assert refused.status_code == 403 and refused.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
        assert refused.headers["Sforce-Limit-Info"] == "api-usage=3/3"


def test_invalid_session_and_oauth_refresh(shared):
    with salesforce_client(shared, token="00Dbogus!token") as bad:
        response = bad.get("/sobjects")
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    auth = shared.salesforce.auth
    form = {"grant_type": "refresh_token", "refresh_token": auth.refresh_token, "client_id": auth.client_id,
            "client_secret": auth.client_secret}
    granted = httpx.post(f"{shared.salesforce.url}/services/oauth2/token", data=form).json()
    assert {"access_token", "instance_url", "id", "issued_at", "signature", "token_type", "scope"} <= set(granted)
    assert granted["instance_url"] == shared.salesforce.url and "expires_in" not in granted
    with salesforce_client(shared, token=granted["access_token"]) as fresh:
        assert fresh.get("/sobjects").status_code == 200
    denied = httpx.post(f"{shared.salesforce.url}/services/oauth2/token", data={**form, "refresh_token": "x"})
    assert denied.status_code == 400
    assert denied.json()["error"] == "invalid_grant" and denied.json()["error_description"]


@pytest.mark.parametrize("path", ["/nope", "/sobjects/Contact/deleted/extra/more"])
def test_unknown_paths_are_salesforce_404s(sf, path):
    response = sf.get(path)
    assert response.status_code == 404 and response.json()[0]["errorCode"] == "NOT_FOUND"
