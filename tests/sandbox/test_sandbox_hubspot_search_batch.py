"""HubSpot emulator search (filters, sorts, the 10k cap, SECONDLY limit) and batch endpoints (incl. 207)."""

from __future__ import annotations

import pytest

from hub.sandbox import Sandbox
from hub.sandbox.clock import Clock, parse_iso
from tests.sandbox.conftest import NOW, hubspot_client

SEARCH = "/crm/v3/objects/contacts/search"


def _ms(iso: str) -> int:
    return int(parse_iso(iso).timestamp() * 1000)


def _everyone(sb: Sandbox) -> list[dict]:
    store = sb.hubspot.store
    return [store.get("contacts", i) for i in store.ids("contacts")]


def _search_all(hs, body: dict) -> tuple[int, list[dict]]:
    body = {"limit": 200, **body}
    results, total = [], None
    while True:
        response = hs.post(SEARCH, json=body)
        assert response.status_code == 200, response.text
        page = response.json()
        total = page["total"]
        results += page["results"]
        if "paging" not in page:
            return total, results
        body["after"] = page["paging"]["next"]["after"]


def test_search_modified_since_epoch_ms_sorted_ascending(shared, hs):
    everyone = _everyone(shared)
    cutoff = sorted(_ms(c["properties"]["lastmodifieddate"]) for c in everyone)[len(everyone) // 2]
    total, results = _search_all(hs, {
        "filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(cutoff)}]}],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["email", "phone"]})
    expected = {c["id"] for c in everyone if _ms(c["properties"]["lastmodifieddate"]) >= cutoff}
    assert total == len(results) == len(expected) and {r["id"] for r in results} == expected
    stamps = [_ms(r["properties"]["lastmodifieddate"]) for r in results]
    assert stamps == sorted(stamps)
    assert set(results[0]["properties"]) == {"email", "phone", "createdate", "hs_object_id", "lastmodifieddate"}


@pytest.mark.parametrize("spec, keep", [
    ({"operator": "EQ", "propertyName": "lifecyclestage", "value": "LEAD"},
     lambda p: p.get("lifecyclestage") == "lead"),
    ({"operator": "NEQ", "propertyName": "lifecyclestage", "value": "lead"},
     lambda p: p.get("lifecyclestage") != "lead"),
    ({"operator": "IN", "propertyName": "lifecyclestage", "values": ["customer", "opportunity"]},
     lambda p: p.get("lifecyclestage") in ("customer", "opportunity")),
    ({"operator": "HAS_PROPERTY", "propertyName": "phone"}, lambda p: bool(p.get("phone"))),
    ({"operator": "NOT_HAS_PROPERTY", "propertyName": "phone"}, lambda p: not p.get("phone")),
    ({"operator": "GT", "propertyName": "hs_object_id", "value": "1200"}, lambda p: int(p["hs_object_id"]) > 1200),
    ({"operator": "LTE", "propertyName": "hs_object_id", "value": 1200}, lambda p: int(p["hs_object_id"]) <= 1200),
    ({"operator": "LT", "propertyName": "createdate", "value": "2024-06-01T00:00:00Z"},
     lambda p: _ms(p["createdate"]) < _ms("2024-06-01T00:00:00Z")),
])
def test_search_operators_agree_with_the_data(shared, hs, spec, keep):
    total, results = _search_all(hs, {"filterGroups": [{"filters": [spec]}]})
    expected = {c["id"] for c in _everyone(shared) if keep(c["properties"])}
    assert expected and total == len(expected) and {r["id"] for r in results} == expected


def test_filter_groups_are_ored_and_filters_anded(shared, hs):
    body = {"filterGroups": [
        {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"},
                     {"propertyName": "phone", "operator": "HAS_PROPERTY"}]},
        {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"}]}],
        "sorts": ["-hs_object_id"]}
    total, results = _search_all(hs, body)
    expected = [c["id"] for c in _everyone(shared) if
                (c["properties"].get("lifecyclestage") == "customer" and c["properties"].get("phone"))
                or c["properties"].get("lifecyclestage") == "lead"]
    assert [r["id"] for r in results] == sorted(expected, key=int, reverse=True)


def test_search_validation(hs):
    assert hs.post(SEARCH, json={"limit": 201}).status_code == 400
    unknown = hs.post(SEARCH, json={"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ",
                                                                   "value": "x"}]}]})
    assert unknown.status_code == 400 and unknown.json()["category"] == "VALIDATION_ERROR"


def test_search_refuses_results_past_ten_thousand():
    with Sandbox(seed=3, people=50, hubspot_contacts=10_300, hubspot_rate_limit=None,
                 hubspot_search_rate_limit=None) as sb, hubspot_client(sb) as hs:
        body = {"limit": 200, "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]}
        seen, status = 0, 200
        while status == 200:
            response = hs.post(SEARCH, json=body)
            status = response.status_code
            if status == 200:
                page = response.json()
                assert page["total"] > 10_000
                seen += len(page["results"])
                body["after"] = page["paging"]["next"]["after"]
        assert seen == 10_000 and status == 400
        assert response.json()["category"] == "VALIDATION_ERROR" and "10000" in response.json()["message"]


def test_search_has_its_own_secondly_limit():
    clock = Clock(NOW, frozen=True)
    with Sandbox(seed=3, people=30, now=clock, hubspot_rate_limit=None, hubspot_search_rate_limit=(2, 1.0)) as sb, \
            hubspot_client(sb) as hs:
        ok = hs.post(SEARCH, json={})
        assert ok.headers["X-HubSpot-RateLimit-Secondly"] == "2"
        assert ok.headers["X-HubSpot-RateLimit-Secondly-Remaining"] == "1"
        hs.post(SEARCH, json={})
        limited = hs.post(SEARCH, json={})
        assert limited.status_code == 429 and limited.json()["policyName"] == "SECONDLY"
        assert hs.get("/crm/v3/objects/contacts").status_code == 200  # only search is throttled
        clock.advance(1)
        assert hs.post(SEARCH, json={}).status_code == 200


def test_batch_create_read_update_archive(sb):
    with hubspot_client(sb) as hs:
        created = hs.post("/crm/v3/objects/contacts/batch/create", json={"inputs": [
            {"properties": {"email": f"batch{i}@example.com", "firstname": f"B{i}"}} for i in range(3)]})
        assert created.status_code == 201
        body = created.json()
        assert body["status"] == "COMPLETE" and body["startedAt"] and body["completedAt"]
        ids = [r["id"] for r in body["results"]]
        read = hs.post("/crm/v3/objects/contacts/batch/read",
                       json={"properties": ["email"], "inputs": [{"id": i} for i in ids] + [{"id": "999999"}]})
        assert read.status_code == 207
        assert sorted(r["properties"]["email"] for r in read.json()["results"]) == \
            [f"batch{i}@example.com" for i in range(3)]
        [error] = read.json()["errors"]
        assert error["category"] == "OBJECT_NOT_FOUND" and error["context"]["ids"] == ["999999"]
        updated = hs.post("/crm/v3/objects/contacts/batch/update",
                          json={"inputs": [{"id": ids[0], "properties": {"jobtitle": "CFO"}}]})
        assert updated.status_code == 200 and updated.json()["results"][0]["properties"]["jobtitle"] == "CFO"
        by_email = hs.post("/crm/v3/objects/contacts/batch/read", json={
            "idProperty": "email", "properties": ["jobtitle"], "inputs": [{"id": "BATCH0@example.com"}]})
        assert by_email.json()["results"][0]["properties"]["jobtitle"] == "CFO"
        archived = hs.post("/crm/v3/objects/contacts/batch/archive", json={"inputs": [{"id": ids[1]}]})
        assert archived.status_code == 204
        assert hs.get(f"/crm/v3/objects/contacts/{ids[1]}").status_code == 404
        too_many = hs.post("/crm/v3/objects/contacts/batch/create",
                           json={"inputs": [{"properties": {}}] * 101})
        assert too_many.status_code == 400


def test_batch_upsert_by_email_validates_the_whole_batch_first(sb):
    store = sb.hubspot.store
    existing = store.create("contacts", {"email": "grace@example.com", "firstname": "Grace"})
    good = [{"id": "GRACE@Example.com", "idProperty": "email", "properties": {"lastname": "Hopper"},
             "objectWriteTraceId": "0"},
            {"id": "alan@example.com", "idProperty": "email", "properties": {"firstname": "Alan"},
             "objectWriteTraceId": "1"}]
    with hubspot_client(sb) as hs:
        before = store.count("contacts")
        for bad in ({"id": "bad-email", "idProperty": "email", "properties": {"firstname": "X"}},
                    {"id": "kay@example.com", "idProperty": "email", "properties": {"favourite_colour": "blue"}}):
            response = hs.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": [*good, bad]})
            assert response.status_code == 400, response.text     # one bad input fails them all
            assert response.json()["category"] == "VALIDATION_ERROR" and "context" not in response.json()
            assert store.count("contacts") == before and store.get("contacts", existing["id"])["properties"][
                "lastname"] is None
        response = hs.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": good})
        assert response.status_code == 200, response.text
        body = response.json()
        results = {r["objectWriteTraceId"]: r for r in body["results"]}
        assert results["0"]["id"] == existing["id"] and results["0"]["new"] is False
        assert results["0"]["properties"]["lastname"] == "Hopper"
        assert results["1"]["new"] is True
        assert store.get("contacts", results["1"]["id"])["properties"]["email"] == "alan@example.com"
        duplicate = hs.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": [
            {"id": "a@example.com", "idProperty": "email", "properties": {}},
            {"id": "A@example.com", "idProperty": "email", "properties": {}}]})
        assert duplicate.status_code == 400
