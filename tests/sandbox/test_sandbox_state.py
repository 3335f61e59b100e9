"""Sandbox state files over real loopback HTTP: vendor data written in one run is there in the next."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from hub.sandbox import Sandbox
from hub.sandbox.clock import Clock
from hub.sandbox.state import VERSION
from tests.sandbox.conftest import NOW, hubspot_client, salesforce_client

SOQL = "SELECT Id, IsDeleted, Name, Title, Email, Hub_Person_Id__c, LastModifiedDate FROM Contact"


def _sandbox(state: Path, start=NOW) -> Sandbox:
    # a frozen clock per run, the second starting later, as a real restart would
    return Sandbox(seed=3, people=60, now=Clock(start, frozen=True), hubspot_rate_limit=None,
                   hubspot_search_rate_limit=None, state_file=state)


def _hubspot_everything(hs) -> dict[str, list[dict]]:
    """Every record of both object types, live and archived, with every property, as the API lists them."""
    out = {}
    for object_type in ("contacts", "companies"):
        properties = ",".join(p["name"] for p in hs.get(f"/crm/v3/properties/{object_type}").json()["results"])
        for archived in ("false", "true"):
            params = {"limit": 100, "archived": archived, "properties": properties}
            records = out.setdefault(f"{object_type}/{archived}", [])
            while True:
                body = hs.get(f"/crm/v3/objects/{object_type}", params=params).json()
                records.extend(body["results"])
                if "paging" not in body:
                    break
                params["after"] = body["paging"]["next"]["after"]
    return out


def _query_all(sf, soql: str) -> list[dict]:
    body = sf.get("/queryAll", params={"q": soql}).json()
    records = body["records"]
    while not body["done"]:
        body = sf.get(body["nextRecordsUrl"].split("/v59.0", 1)[1]).json()
        records.extend(body["records"])
    return records


def test_hubspot_records_updates_archives_and_id_counters_survive_a_restart(tmp_path):
    state = tmp_path / "sandbox-state.json"
    with _sandbox(state) as sb, hubspot_client(sb) as hs:
        token = sb.hubspot.token
        created = hs.post("/crm/v3/objects/contacts", json={"properties": {"email": "ada@example.com",
                                                                           "firstname": "Ada"}}).json()
        company = hs.post("/crm/v3/objects/companies", json={"properties": {"name": "Analytical Engines"}}).json()
        seeded = sb.hubspot.store.ids("contacts")[:2]
        assert hs.patch(f"/crm/v3/objects/contacts/{seeded[0]}",
                        json={"properties": {"jobtitle": "Countess"}}).status_code == 200
        assert hs.delete(f"/crm/v3/objects/contacts/{seeded[1]}").status_code == 204
        throwaway = hs.post("/crm/v3/objects/contacts", json={"properties": {"email": "gone@example.com"}}).json()
        assert hs.delete(f"/crm/v3/objects/contacts/{throwaway['id']}").status_code == 204
        before = _hubspot_everything(hs)
    assert state.exists() and not [p for p in tmp_path.iterdir() if p != state]  # no temp file left behind

    with _sandbox(state, NOW + timedelta(hours=1)) as sb, hubspot_client(sb) as hs:
        assert sb.hubspot.token == token
        assert _hubspot_everything(hs) == before
        fetched = hs.get(f"/crm/v3/objects/contacts/{created['id']}", params={"properties": "email,firstname"})
        assert fetched.json()["properties"]["firstname"] == "Ada"
        assert hs.get(f"/crm/v3/objects/companies/{company['id']}").status_code == 200
        countess = hs.get(f"/crm/v3/objects/contacts/{seeded[0]}", params={"properties": "jobtitle"}).json()
        assert countess["properties"]["jobtitle"] == "Countess"
        assert hs.get(f"/crm/v3/objects/contacts/{seeded[1]}").status_code == 404
        # the unique-email index was rebuilt: the saved contact still owns its email, the archived one does not
        clash = hs.post("/crm/v3/objects/contacts", json={"properties": {"email": "ADA@example.com"}})
        assert clash.status_code == 409 and clash.json()["message"].endswith(f"Existing ID: {created['id']}")
        by_email = hs.get("/crm/v3/objects/contacts/ada@example.com", params={"idProperty": "email"})
        assert by_email.json()["id"] == created["id"]
        again = hs.post("/crm/v3/objects/contacts", json={"properties": {"email": "gone@example.com"}}).json()
        # ids are never reused, not even the archived throwaway's
        assert int(again["id"]) > int(throwaway["id"]) > int(created["id"])
        assert again["createdAt"] == "2025-06-01T13:00:00.000Z"
        newer = hs.post("/crm/v3/objects/companies", json={"properties": {"name": "Difference Engines"}}).json()
        assert int(newer["id"]) > int(company["id"])


def test_salesforce_records_deletions_and_id_counters_survive_a_restart(tmp_path):
    state = tmp_path / "sandbox-state.json"
    with _sandbox(state) as sb, salesforce_client(sb) as sf:
        token = sb.salesforce.token
        created = sf.post("/sobjects/Contact", json={"LastName": "Lovelace", "FirstName": "Ada",
                                                     "Hub_Person_Id__c": "hp-1"}).json()["id"]
        sb.clock.advance(60)
        assert sf.patch(f"/sobjects/Contact/{created}", json={"Title": "Countess"}).status_code == 204
        doomed = sf.post("/sobjects/Contact", json={"LastName": "Babbage", "Hub_Person_Id__c": "hp-2"}).json()["id"]
        sb.clock.advance(60)
        assert sf.delete(f"/sobjects/Contact/{doomed}").status_code == 204
        account = sf.post("/sobjects/Account", json={"Name": "Analytical Engines"}).json()["id"]
        before = _query_all(sf, SOQL)
        accounts_before = _query_all(sf, "SELECT Id, IsDeleted, Name FROM Account")
        window = {"start": (NOW - timedelta(days=1)).isoformat(), "end": (NOW + timedelta(days=1)).isoformat()}
        deletions = sf.get("/sobjects/Contact/deleted/", params=window).json()["deletedRecords"]
        assert {"id": doomed, "deletedDate": "2025-06-01T12:02:00.000+0000"} in deletions

    with _sandbox(state, NOW + timedelta(hours=1)) as sb, salesforce_client(sb) as sf:
        assert sb.salesforce.token == token
        after = _query_all(sf, SOQL)
        assert after == before
        assert {"Id": doomed, "IsDeleted": True} == {k: v for r in after if r["Id"] == doomed
                                                     for k, v in r.items() if k in ("Id", "IsDeleted")}
        assert not any(r["Id"] == doomed for r in sf.get("/query", params={"q": SOQL}).json()["records"])
        assert _query_all(sf, "SELECT Id, IsDeleted, Name FROM Account") == accounts_before
        assert sf.get("/sobjects/Contact/deleted/", params=window).json()["deletedRecords"] == deletions
        assert sf.get(f"/sobjects/Contact/{doomed}").json()[0]["errorCode"] == "ENTITY_IS_DELETED"
        record = sf.get(f"/sobjects/Contact/{created}").json()
        assert (record["Title"], record["LastModifiedDate"]) == ("Countess", "2025-06-01T12:01:00.000+0000")
        # the external-id index was rebuilt: hp-1 upserts the saved record, the deleted hp-2 is free again
        upserted = sf.patch("/sobjects/Contact/Hub_Person_Id__c/HP-1", json={"Department": "Math"})
        assert upserted.status_code == 200 and upserted.json()["id"] == created
        revived = sf.patch("/sobjects/Contact/Hub_Person_Id__c/hp-2", json={"LastName": "Babbage"})
        assert revived.status_code == 201
        fresh = sf.post("/sobjects/Contact", json={"LastName": "Somerville"}).json()["id"]
        known = {r["Id"] for r in before}
        assert revived.json()["id"] not in known and fresh not in known
        assert sf.post("/sobjects/Account", json={"Name": "Difference Engines"}).json()["id"] != account


def test_state_file_is_written_even_when_no_data_changed_and_then_restores_the_seed(tmp_path):
    state = tmp_path / "nested" / "state.json"
    with _sandbox(state) as sb, salesforce_client(sb) as sf:
        seeded = _query_all(sf, SOQL)
    saved = orjson.loads(state.read_bytes())
    assert saved["format"] == "hub-sandbox-state" and saved["version"] == VERSION
    with _sandbox(state) as sb, salesforce_client(sb) as sf:
        assert _query_all(sf, SOQL) == seeded


@pytest.mark.parametrize("mangle", [
    lambda good: b"{not json",
    lambda good: good[:len(good) // 2],
    lambda good: b"[]",
    lambda good: orjson.dumps({**orjson.loads(good), "version": VERSION + 1}),
    lambda good: good.replace(b'"email"', b'"e_mail"'),
    lambda good: orjson.dumps({**(s := orjson.loads(good)),
                               "emulators": {**s["emulators"], "salesforce": {"Contact": {}}}}),
], ids=["not-json", "truncated", "not-a-state-file", "newer-version", "schema-changed", "missing-keys"])
def test_a_corrupt_or_incompatible_state_file_raises_value_error_naming_it(tmp_path, mangle):
    state = tmp_path / "state.json"
    _sandbox(state).stop()
    state.write_bytes(mangle(state.read_bytes()))
    with pytest.raises(ValueError, match=re.escape(str(state))):
        _sandbox(state)
