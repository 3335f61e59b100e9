"""HubSpot CRM v3 emulator over real loopback HTTP: listing, properties, objects, auth, rate limits."""

from __future__ import annotations

import re

import httpx

from hub.sandbox import Sandbox
from hub.sandbox.clock import Clock
from tests.sandbox.conftest import NOW, hubspot_client

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
CONTACT_DEFAULTS = {"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"}
COMPANY_DEFAULTS = {"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"}


def _all(client, path, **params):
    params.setdefault("limit", 100)
    pages = []
    while True:
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        if "paging" not in body:
            return pages
        params["after"] = body["paging"]["next"]["after"]


def test_list_pages_through_every_contact_in_id_order(shared, hs):
    pages = _all(hs, "/crm/v3/objects/contacts")
    results = [r for page in pages for r in page["results"]]
    assert len(results) == shared.hubspot.store.count("contacts") > 200
    ids = [int(r["id"]) for r in results]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(p["results"]) == 100 for p in pages[:-1])
    first = results[0]
    assert set(first) == {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert set(first["properties"]) == CONTACT_DEFAULTS and first["properties"]["hs_object_id"] == first["id"]
    assert ISO_MS.match(first["createdAt"]) and first["updatedAt"] == first["properties"]["lastmodifieddate"]
    assert all(isinstance(v, str) or v is None for r in results for v in r["properties"].values())


def test_paging_link_and_default_limit(hs):
    body = hs.get("/crm/v3/objects/contacts").json()
    assert len(body["results"]) == 10
    link = body["paging"]["next"]["link"]
    assert link.startswith(str(hs.base_url).rstrip("/") + "/crm/v3/objects/contacts?") and "after=" in link
    follow = hs.get(link).json()
    assert int(follow["results"][0]["id"]) == int(body["paging"]["next"]["after"])


def test_companies_list_and_limit_validation(shared, hs):
    results = [r for page in _all(hs, "/crm/v3/objects/companies") for r in page["results"]]
    assert len(results) == shared.hubspot.store.count("companies")
    assert set(results[0]["properties"]) == COMPANY_DEFAULTS
    refused = hs.get("/crm/v3/objects/contacts", params={"limit": 101})
    assert refused.status_code == 400
    body = refused.json()
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR" and body["correlationId"]


def test_properties_parameter_selects_properties(hs):
    body = hs.get("/crm/v3/objects/contacts",
                  params={"limit": 50, "properties": "email,phone,associatedcompanyid,no_such_prop"}).json()
    props = body["results"][0]["properties"]
    assert set(props) == {"email", "phone", "associatedcompanyid", "createdate", "hs_object_id", "lastmodifieddate"}
    assert any(r["properties"]["phone"] is None for r in body["results"])
    repeated = hs.get("/crm/v3/objects/contacts?limit=5&properties=email&properties=jobtitle").json()
    assert {"email", "jobtitle"} <= set(repeated["results"][0]["properties"])


def test_properties_api_describes_realistic_properties(hs):
    contacts = hs.get("/crm/v3/properties/contacts").json()["results"]
    names = {p["name"] for p in contacts}
    assert 20 <= len(contacts) <= 30
    assert {"phone", "mobilephone", "company", "jobtitle", "city", "country", "lifecyclestage",
            "associatedcompanyid", "email", "lastmodifieddate"} <= names
    sample = next(p for p in contacts if p["name"] == "lifecyclestage")
    assert {"name", "label", "type", "fieldType", "groupName", "options"} <= set(sample)
    assert sample["type"] == "enumeration" and sample["options"]
    companies = {p["name"]: p for p in hs.get("/crm/v3/properties/companies").json()["results"]}
    assert {"domain", "name", "phone", "industry", "city", "country", "numberofemployees", "annualrevenue",
            "hs_lastmodifieddate"} <= set(companies)
    assert companies["numberofemployees"]["type"] == "number"
    assert hs.get("/crm/v3/properties/contacts/email").json()["name"] == "email"


def test_get_by_id_and_by_email(shared, hs):
    contact = next(c for c in (shared.hubspot.store.get("contacts", i) for i in shared.hubspot.store.ids("contacts"))
                   if c["properties"].get("email") and "@" in c["properties"]["email"])
    cid, email = contact["id"], contact["properties"]["email"]
    by_id = hs.get(f"/crm/v3/objects/contacts/{cid}", params={"properties": "email,phone"}).json()
    assert by_id["id"] == cid and by_id["properties"]["email"] == email
    by_email = hs.get(f"/crm/v3/objects/contacts/{email.upper()}", params={"idProperty": "email"})
    assert by_email.status_code == 200 and by_email.json()["id"] == cid
    missing = hs.get("/crm/v3/objects/contacts/999999999")
    assert missing.status_code == 404 and missing.json()["category"] == "OBJECT_NOT_FOUND"


def test_create_update_archive_bump_timestamps_like_hubspot():
    clock = Clock(NOW, frozen=True)
    with Sandbox(seed=3, people=60, now=clock, hubspot_rate_limit=None) as sb, hubspot_client(sb) as hs:
        created = hs.post("/crm/v3/objects/contacts",
                          json={"properties": {"email": " Ada.Lovelace@Example.COM ", "firstname": "Ada"}})
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["properties"]["email"] == "ada.lovelace@example.com"
        assert body["createdAt"] == body["updatedAt"] == "2025-06-01T12:00:00.000Z"
        clash = hs.post("/crm/v3/objects/contacts", json={"properties": {"email": "ADA.LOVELACE@example.com"}})
        assert clash.status_code == 409
        assert clash.json()["category"] == "CONFLICT"
        assert clash.json()["message"] == f"Contact already exists. Existing ID: {body['id']}"

        clock.advance(60)
        patched = hs.patch(f"/crm/v3/objects/contacts/{body['id']}", json={"properties": {"phone": "415.555.0142"}})
        assert patched.status_code == 200
        assert patched.json()["updatedAt"] == patched.json()["properties"]["lastmodifieddate"] == \
            "2025-06-01T12:01:00.000Z"
        invalid = hs.patch(f"/crm/v3/objects/contacts/{body['id']}", json={"properties": {"foo": "x", "email": "n/a"}})
        assert invalid.status_code == 400
        errors = invalid.json()
        assert errors["category"] == "VALIDATION_ERROR" and "PROPERTY_DOESNT_EXIST" in errors["message"]
        assert {e["code"] for e in errors["errors"]} == {"PROPERTY_DOESNT_EXIST", "INVALID_EMAIL"}

        clock.advance(60)
        sb.hubspot.store.update("contacts", body["id"], {"jobtitle": "Countess"})
        fetched = hs.get(f"/crm/v3/objects/contacts/{body['id']}", params={"properties": "jobtitle"}).json()
        assert fetched["properties"]["jobtitle"] == "Countess"
        assert fetched["updatedAt"] == "2025-06-01T12:02:00.000Z"

        assert hs.delete(f"/crm/v3/objects/contacts/{body['id']}").status_code == 204
        assert hs.get(f"/crm/v3/objects/contacts/{body['id']}").status_code == 404
        archived = [r for p in _all(hs, "/crm/v3/objects/contacts", archived="true") for r in p["results"]]
        assert body["id"] in {r["id"] for r in archived} and all(r["archived"] for r in archived)


def test_auth_failures_use_hubspot_bodies(shared):
    with hubspot_client(shared, token="pat-na1-00000000-0000-0000-0000-000000000000") as bad:
        response = bad.get("/crm/v3/objects/contacts")
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"].startswith("Authentication credentials not found.") and body["correlationId"]
    assert httpx.get(f"{shared.hubspot.url}/crm/v3/objects/contacts").status_code == 401


def test_oauth_refresh_and_expired_access_token():
    clock = Clock(NOW, frozen=True)
    with Sandbox(seed=3, people=30, now=clock, hubspot_rate_limit=None) as sb:
        auth = sb.hubspot.auth
        form = {"grant_type": "refresh_token", "client_id": auth.client_id, "client_secret": auth.client_secret,
                "refresh_token": auth.refresh_token}
        granted = httpx.post(f"{sb.hubspot.url}/oauth/v3/token", data=form).json()
        assert granted["expires_in"] == 1800 and granted["token_type"] == "bearer"
        with hubspot_client(sb, token=granted["access_token"]) as client:
            assert client.get("/crm/v3/objects/contacts").status_code == 200
            clock.advance(1801)
            expired = client.get("/crm/v3/objects/contacts")
        assert expired.status_code == 401 and expired.json()["category"] == "EXPIRED_AUTHENTICATION"
        bad = httpx.post(f"{sb.hubspot.url}/oauth/v3/token", data={**form, "refresh_token": "nope"})
        assert bad.status_code == 400 and bad.json()["status"] == "BAD_REFRESH_TOKEN"


def test_rolling_window_rate_limit_429_and_headers():
    clock = Clock(NOW, frozen=True)
    with Sandbox(seed=3, people=30, now=clock, hubspot_rate_limit=(3, 10.0)) as sb, hubspot_client(sb) as hs:
        first = hs.get("/crm/v3/objects/contacts")
        assert first.headers["X-HubSpot-RateLimit-Max"] == "3"
        assert first.headers["X-HubSpot-RateLimit-Remaining"] == "2"
        assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        daily = int(first.headers["X-HubSpot-RateLimit-Daily"])
        assert int(first.headers["X-HubSpot-RateLimit-Daily-Remaining"]) == daily - 1
        hs.get("/crm/v3/objects/contacts")
        assert hs.get("/crm/v3/objects/contacts").headers["X-HubSpot-RateLimit-Remaining"] == "0"
        limited = hs.get("/crm/v3/objects/contacts")
        assert limited.status_code == 429 and "Retry-After" not in limited.headers
        body = limited.json()
        assert body["status"] == "error" and body["errorType"] == "RATE_LIMIT"
        assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["correlationId"] and body["message"]
        clock.advance(10)  # the window rolls: all three slots are free again
        assert hs.get("/crm/v3/objects/contacts").status_code == 200


def test_unknown_routes_and_object_types_and_request_counter(shared, hs):
    shared.hubspot.requests.reset()
    missing = hs.get("/crm/v3/nothing/here")
    assert missing.status_code == 404 and missing.json()["status"] == "error"
    widgets = hs.get("/crm/v3/objects/widgets")
    assert widgets.status_code == 400 and "widgets" in widgets.json()["message"]
    hs.get("/crm/v3/objects/contacts")
    hs.get("/crm/v3/objects/companies")
    requests = shared.hubspot.requests
    assert requests["GET /crm/v3/objects/{objectType}"] == 3
    assert requests.count("GET *") == requests.total == 4
    requests.reset()
    assert requests.total == 0
