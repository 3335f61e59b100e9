"""Pushing HubSpot deals linked to the companies and contacts other syncs wrote (``associations = {...}``), through
the real CLI over loopback HTTP, read back with hubspot-api-client; and the emulator as strict as HubSpot about
associations in batch creates and the v4 batch create."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hubspot import HubSpot

from hub.project import Project
from hub.sandbox import Sandbox
from tests.conftest import run_hub

SYNCS = """
[syncs.companies]
model = "main.companies"
to = "hubspot"
object = "companies"
key = "company_key"
match = { company_key = "hub_company_id" }
fields = { name = "name" }

[syncs.people]
model = "main.people"
to = "hubspot"
object = "contacts"
key = "person_key"
match = { email = "email" }
fields = { first = "firstname" }

[syncs.deals]
model = "main.deals"
to = "hubspot"
object = "deals"
key = "deal_key"
match = { deal_key = "hub_deal_id" }
fields = { name = "dealname" }
associations = { company_key = "companies", person_key = "people" }
"""

COMPANIES = [{"company_key": f"c-{i}", "name": f"Company {i}"} for i in range(3)]
PEOPLE = [{"person_key": f"p-{i}", "email": f"person{i}@example.com", "first": f"P{i}"} for i in range(3)]
DEALS = [{"deal_key": "d-0", "name": "Deal 0", "company_key": "c-0", "person_key": "p-0"},
         {"deal_key": "d-1", "name": "Deal 1", "company_key": "c-1", "person_key": None},
         {"deal_key": "d-2", "name": "Deal 2", "company_key": "c-2", "person_key": "p-2"}]


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=5, people=10, only={"hubspot"}, hubspot_rate_limit=None) as sandbox:
        yield sandbox


@pytest.fixture
def sdk(sb: Sandbox) -> HubSpot:
    client = HubSpot(access_token=sb.hubspot.token)
    client.config["host"] = sb.hubspot.url
    return client


def project_dir(make_project: Any, sb: Sandbox, syncs: str = SYNCS) -> Path:
    return make_project(f"""
[connections.hubspot]
type = "hubspot"
base_url = "{sb.hubspot.url}"
retry_base_delay = 0.01
{syncs}
""", f"""
[connections.hubspot]
token = "{sb.hubspot.token}"
""")


def write(root: Path, table: str, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa

    with Project(root).warehouse() as wh:
        con = wh.connect()
        con.register("incoming", pa.Table.from_pylist(rows))
        con.execute(f"CREATE OR REPLACE TABLE main.{table} AS SELECT * FROM incoming")
        con.unregister("incoming")


def hub_id(sb: Sandbox, obj: str, prop: str, value: str) -> str:
    found = sb.hubspot.store.find(obj, prop, value)
    assert found is not None, (obj, value)
    return str(found["id"])


def linked(sdk: HubSpot, deal_id: str, to: str) -> set[str]:
    page = sdk.crm.associations.v4.basic_api.get_page(object_type="deals", object_id=deal_id, to_object_type=to)
    return {str(r.to_object_id) for r in page.results}


V3_BATCH = "POST /crm/v3/objects/{objectType}/batch/{action}"     # create, update, upsert, archive (not read)
V4_CREATE = "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create"
V4_ARCHIVE = "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/archive"


def writes(sb: Sandbox) -> int:
    return sum(sb.hubspot.requests.count(p) for p in (V3_BATCH, V4_CREATE, V4_ARCHIVE, "POST /crm/v3/objects/{objectType}",
                                                        "PUT *", "PATCH *", "DELETE *"))


def test_deals_are_linked_to_the_companies_and_contacts_other_syncs_wrote(make_project, sb, sdk):
    root = project_dir(make_project, sb)
    write(root, "companies", COMPANIES)
    write(root, "people", PEOPLE)
    write(root, "deals", DEALS)
    deals_before = sb.hubspot.store.count("deals")

    # the companies and contacts are not in HubSpot yet: every deal that links to one waits, none is created
    early = run_hub("push", "deals", cwd=root)
    assert early.returncode != 0 or "rejected" in early.stdout.lower(), early.stdout + early.stderr
    assert sb.hubspot.store.count("deals") == deals_before
    with Project(root).warehouse() as wh:
        codes = {k: c for k, c in wh.query("SELECT key, code FROM _hub.rejected_rows WHERE sync = 'deals'").rows}
    assert codes == {"d-0": "UNRESOLVED_REFERENCE", "d-1": "UNRESOLVED_REFERENCE", "d-2": "UNRESOLVED_REFERENCE"}

    sb.hubspot.requests.reset()
    dry = run_hub("push", "--dry-run", cwd=root)
    assert dry.returncode == 0 and writes(sb) == 0, dry.stdout + dry.stderr
    shown = run_hub("push", "--show-rejected", "deals", cwd=root)
    assert "UNRESOLVED_REFERENCE" in shown.stdout and "companies" in shown.stdout, shown.stdout + shown.stderr

    full = run_hub("push", cwd=root)
    assert full.returncode == 0, full.stdout + full.stderr
    assert sb.hubspot.store.count("deals") == deals_before + 3
    deal = {d["deal_key"]: hub_id(sb, "deals", "hub_deal_id", d["deal_key"]) for d in DEALS}
    company = {c["company_key"]: hub_id(sb, "companies", "hub_company_id", c["company_key"]) for c in COMPANIES}
    person = {p["person_key"]: hub_id(sb, "contacts", "email", p["email"]) for p in PEOPLE}
    assert linked(sdk, deal["d-0"], "companies") == {company["c-0"]}
    assert linked(sdk, deal["d-0"], "contacts") == {person["p-0"]}
    assert linked(sdk, deal["d-1"], "companies") == {company["c-1"]}
    assert linked(sdk, deal["d-1"], "contacts") == set()          # no person: no link, and not held back
    assert linked(sdk, deal["d-2"], "contacts") == {person["p-2"]}
    # the default type HubSpot documents for deal -> company, seen from the company's side too
    back = sdk.crm.associations.v4.basic_api.get_page(object_type="companies", object_id=company["c-0"],
                                                      to_object_type="deals")
    assert {(str(r.to_object_id), t.type_id) for r in back.results for t in r.association_types} == \
        {(deal["d-0"], 342)}
    with Project(root).warehouse() as wh:
        assert wh.query("SELECT count(*) FROM _hub.rejected_rows WHERE sync = 'deals'").scalar() == 0

    # a second run sends nothing
    sb.hubspot.requests.reset()
    again = run_hub("push", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert writes(sb) == 0 and sb.hubspot.requests.count("POST *") == 0

    # a deal moved to another company and given a contact: linked anew by the v4 batch create, nothing else sent
    moved = [dict(d) for d in DEALS]
    moved[1].update(company_key="c-2", person_key="p-1")
    write(root, "deals", moved)
    sb.hubspot.requests.reset()
    third = run_hub("push", "deals", cwd=root)
    assert third.returncode == 0, third.stdout + third.stderr
    assert linked(sdk, deal["d-1"], "companies") == {company["c-2"]}   # the link hub made to c-1 is removed
    assert linked(sdk, deal["d-1"], "contacts") == {person["p-1"]}
    assert sb.hubspot.requests.count(V4_CREATE) == 2                  # one per linked object
    assert sb.hubspot.requests.count(V4_ARCHIVE) == 1                 # the old company only
    assert sb.hubspot.requests.count(V3_BATCH) == 1 and writes(sb) == 4   # and the deal's own write
    assert linked(sdk, deal["d-0"], "companies") == {company["c-0"]}   # untouched
    assert sb.hubspot.store.count("deals") == deals_before + 3


def test_a_link_hubspot_has_no_default_type_for_is_refused_before_any_write(make_project, sb):
    # contacts -> line_items: HubSpot defines no default association type between them
    syncs = """
[syncs.items]
model = "main.companies"
to = "hubspot"
object = "line_items"
key = "company_key"
match = { company_key = "name" }

[syncs.people]
model = "main.people"
to = "hubspot"
object = "contacts"
key = "person_key"
match = { email = "email" }
associations = { item_key = "items" }
"""
    root = project_dir(make_project, sb, syncs)
    write(root, "companies", COMPANIES)
    write(root, "people", [dict(p, item_key="c-0") for p in PEOPLE])
    sb.hubspot.requests.reset()
    result = run_hub("push", "people", cwd=root)
    assert result.returncode != 0
    assert "no HubSpot default association type from contacts to line_items" in result.stderr + result.stdout
    assert writes(sb) == 0


def test_config_names_an_unknown_sync_with_the_closest(make_project, sb):
    root = project_dir(make_project, sb, SYNCS.replace('company_key = "companies"', 'company_key = "companys"'))
    result = run_hub("push", "deals", cwd=root)
    assert result.returncode != 0 and "companies" in result.stderr and "associations" in result.stderr


# --- the emulator, as strict as HubSpot -------------------------------------------------------------------------


def post(sb: Sandbox, path: str, body: Any) -> httpx.Response:
    return httpx.post(sb.hubspot.url + path, json=body, headers={"Authorization": f"Bearer {sb.hubspot.token}"})


def some_id(sb: Sandbox, obj: str) -> str:
    table = sb.hubspot.store.tables[obj]
    return str(next(o.id for o in table.objects.values() if not o.archived))


def test_emulator_batch_create_with_one_bad_association_refuses_the_whole_batch(sb):
    company = some_id(sb, "companies")
    before = sb.hubspot.store.count("deals")
    good = {"properties": {"dealname": "A"}, "associations": [
        {"to": {"id": company}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 341}]}]}
    unknown = {"properties": {"dealname": "B"}, "associations": [
        {"to": {"id": "999999999"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 341}]}]}
    refused = post(sb, "/crm/v3/objects/deals/batch/create", {"inputs": [good, unknown]})
    assert refused.status_code == 400 and refused.json()["category"] == "VALIDATION_ERROR"
    assert sb.hubspot.store.count("deals") == before
    made = post(sb, "/crm/v3/objects/deals/batch/create", {"inputs": [good]})
    assert made.status_code == 201
    deal = made.json()["results"][0]["id"]
    listed = httpx.get(f"{sb.hubspot.url}/crm/v4/objects/deals/{deal}/associations/companies",
                       headers={"Authorization": f"Bearer {sb.hubspot.token}"}).json()["results"]
    assert [(str(r["toObjectId"]), [t["typeId"] for t in r["associationTypes"]]) for r in listed] == [(company, [341])]


def test_emulator_v4_batch_create(sb):
    company, deal = some_id(sb, "companies"), None
    deal = post(sb, "/crm/v3/objects/deals", {"properties": {"dealname": "X"}}).json()["id"]
    spec = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 341}]
    path = "/crm/v4/associations/deals/companies/batch/create"
    # a type id that is not the pair's refuses the whole batch
    wrong = post(sb, path, {"inputs": [{"from": {"id": deal}, "to": {"id": company}, "types": [
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]})
    assert wrong.status_code == 400 and not sb.hubspot.store.associations.of("deals", int(deal), "companies")
    # an unknown record is an error of its own input; the good input is linked
    mixed = post(sb, path, {"inputs": [{"from": {"id": deal}, "to": {"id": company}, "types": spec},
                                       {"from": {"id": deal}, "to": {"id": "424242"}, "types": spec}]})
    assert mixed.status_code == 207
    body = mixed.json()
    assert [(r["fromObjectId"], r["toObjectId"], r["fromObjectTypeId"], r["toObjectTypeId"])
            for r in body["results"]] == [(deal, company, "0-3", "0-2")]
    assert body["numErrors"] == 1 and body["errors"][0]["context"] == {"toObjectId": ["424242"]}
    # linking again is no error
    assert post(sb, path, {"inputs": [{"from": {"id": deal}, "to": {"id": company}, "types": spec}]}).status_code == 201
    read = post(sb, "/crm/v4/associations/deals/companies/batch/read", {"inputs": [{"id": deal}]}).json()
    assert [t["toObjectId"] for t in read["results"][0]["to"]] == [int(company)]


def test_created_deals_carry_their_links_in_the_batch_create(make_project, sb, sdk):
    # insert mode creates: the links travel in the create's inputs, no v4 call is needed
    root = project_dir(make_project, sb, SYNCS.replace('key = "deal_key"', 'key = "deal_key"\nmode = "insert"'))
    write(root, "companies", COMPANIES)
    write(root, "people", PEOPLE)
    write(root, "deals", DEALS)
    first = run_hub("push", "companies", "people", cwd=root)
    assert first.returncode == 0, first.stdout + first.stderr
    sb.hubspot.requests.reset()
    result = run_hub("push", "deals", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sb.hubspot.requests.count(V3_BATCH) == 1 and writes(sb) == 1
    deal = hub_id(sb, "deals", "hub_deal_id", "d-2")
    assert linked(sdk, deal, "companies") == {hub_id(sb, "companies", "hub_company_id", "c-2")}
    assert linked(sdk, deal, "contacts") == {hub_id(sb, "contacts", "email", "person2@example.com")}


CONFIG = """
[connections.crm]
type = "hubspot"

[connections.sales]
type = "salesforce"

[syncs.companies]
model = "main.companies"
to = "{to}"
object = "companies"
match = {{ company_key = "hub_company_id" }}

[syncs.deals]
model = "main.deals"
to = "crm"
object = "deals"
match = {{ deal_key = "hub_deal_id" }}
fields = {{ name = "dealname" }}
{extra}
"""


@pytest.mark.parametrize(("to", "extra", "message"), [
    ("crm", 'associations = { name = "companies" }', "associations names column 'name', which the sync also sends"),
    ("crm", 'associations = { company_key = "compnies" }', "did you mean 'companies'"),
    ("sales", 'associations = { company_key = "companies" }', "records link only within one connection"),
    ("crm", 'associations = { company_key = "companies", other_key = "companies" }', "both link to companies"),
    ("crm", 'associations = { company_key = 3 }', "associations must be a table"),
])
def test_associations_config_is_checked_with_a_line_and_a_fix(make_project, to, extra, message):
    from hub.errors import HubError
    from hub.reverse_etl import config as syncs

    root = make_project(CONFIG.format(to=to, extra=extra))
    with pytest.raises(HubError) as caught:
        syncs.load(Project(root))
    assert message in str(caught.value) and "hub.toml:" in str(caught.value)


def test_associations_become_link_fields(make_project):
    from hub.reverse_etl import config as syncs

    loaded = syncs.load(Project(make_project(CONFIG.format(to="crm", extra='associations = { company_key = '
                                                                         '"companies" }'))))
    deals = loaded["deals"]
    assert deals.links == (("company_key", "companies", "associations.companies"),)
    assert ("company_key", "associations.companies") in deals.mapping
