"""Full pulls of objects with hundreds of custom fields: the field names no longer fit in a URL.

The sandbox refuses request lines over 16,384 bytes with 414, as HubSpot's and Salesforce's front ends do, and its
objects carry custom fields with names as long as real ones. Every record must still arrive with every field.
"""

from __future__ import annotations

import httpx
import pytest

from hub.config import ConnectionConfig
from hub.sandbox import Sandbox
from hub.secrets import Secret
from hub.sources.base import ReadState
from hub.integrations.hubspot.source import HubSpot
from hub.integrations.salesforce.source import Salesforce


@pytest.fixture(scope="module")
def sb():
    with Sandbox(seed=31, people=260, custom_fields=450, hubspot_rate_limit=None) as sandbox:
        yield sandbox


def config(kind: str, url: str, token: str) -> ConnectionConfig:
    return ConnectionConfig(name=kind, type=kind, base_url=url, secrets={"token": Secret(token)})


def test_the_sandbox_refuses_long_request_lines_like_the_vendors(sb):
    long = "x" * 17_000
    hubspot = httpx.get(f"{sb.hubspot.url}/crm/v3/objects/contacts", params={"properties": long},
                        headers={"Authorization": f"Bearer {sb.hubspot.token}"})
    assert hubspot.status_code == 414 and b"414 Request-URI Too Large" in hubspot.content
    salesforce = httpx.get(f"{sb.salesforce.url}/services/data/v59.0/query", params={"q": long},
                           headers={"Authorization": f"Bearer {sb.salesforce.token}"})
    assert salesforce.status_code == 414 and b"URI Too Long" in salesforce.content


def test_hubspot_full_pull_reads_every_custom_property(sb):
    hub = HubSpot.connect(config("hubspot", sb.hubspot.url, sb.hubspot.token))
    stream = hub.streams["contacts"]
    assert len(",".join(hub.properties(stream))) > 16_384          # one list URL could not carry them
    got = {}
    for table in hub.read(stream, None, ReadState()):
        got.update({row["id"]: row for row in table.to_pylist()})
    store = sb.hubspot.store
    assert set(got) == set(store.ids("contacts"))
    custom = store.custom
    for oid in list(got)[:50]:
        expected = store.get("contacts", oid)["properties"]
        assert {n: got[oid][n] for n in custom} == {n: expected.get(n) for n in custom}
    assert sum(1 for row in got.values() for n in custom if row[n] is not None) > len(got) * 10


def test_salesforce_full_pull_reads_every_custom_field(sb):
    sf = Salesforce.connect(config("salesforce", sb.salesforce.url, sb.salesforce.token))
    stream = sf.streams["Contact"]
    names = [f["name"] for f in sf.describe(stream)]
    assert len(", ".join(names)) > 16_384                           # one SOQL URL could not carry them
    got = {}
    for table in sf.read(stream, None, ReadState()):
        got.update({row["Id"]: row for row in table.to_pylist()})
    store = sb.salesforce.store
    expected = {rid: store.get("Contact", rid) for rid in got}
    assert len(got) == store.count("Contact", include_deleted=True)
    for rid, row in list(got.items())[:50]:
        assert {n: row[n] for n in names if n.endswith("__c")} == \
            {n: expected[rid][n] for n in names if n.endswith("__c")}
        assert row["Email"] == expected[rid]["Email"] and row["IsDeleted"] == expected[rid]["IsDeleted"]


def test_hubspot_incremental_pull_carries_every_property_in_the_search_body(sb):
    from datetime import datetime, timezone

    hub = HubSpot.connect(config("hubspot", sb.hubspot.url, sb.hubspot.token))
    since = datetime(2000, 1, 1, tzinfo=timezone.utc)
    got = {}
    for table in hub.read(hub.streams["companies"], since, ReadState()):
        got.update({row["id"]: row for row in table.to_pylist()})
    store = sb.hubspot.store
    assert set(got) == set(store.ids("companies"))
    for oid, row in got.items():
        expected = store.get("companies", oid)["properties"]
        assert {n: row[n] for n in store.custom} == {n: expected.get(n) for n in store.custom}


def test_hubspot_record_archived_between_list_and_read_is_left_out():
    with Sandbox(seed=32, people=200, custom_fields=300, hubspot_rate_limit=None) as sandbox:
        store = sandbox.hubspot.store
        victim = store.ids("contacts")[5]

        def archive_before_first_read(request):
            if request.path.endswith("/batch/read") and store.get("contacts", victim) is not None:
                store.archive("contacts", victim)
            return None

        sandbox.hubspot.before_request = archive_before_first_read
        hub = HubSpot.connect(config("hubspot", sandbox.hubspot.url, sandbox.hubspot.token))
        ids = [i for t in hub.read(hub.streams["contacts"], None, ReadState()) for i in t.column("id").to_pylist()]
        assert victim not in ids and sorted(ids) == sorted(store.ids("contacts"))
        assert sandbox.hubspot.requests.count("POST */batch/*") >= 2   # the full pull went through batch/read
