"""crm-two-way end to end: `hub demo --example crm-two-way` in a subprocess, then the results read back through the
vendors' official SDKs (hubspot-api-client, simple-salesforce) against the same sandbox data: deals and opportunities
both ways without ping-pong duplicates, a deal's amount edited in HubSpot reaching its Opportunity, a new Salesforce
lead becoming one HubSpot contact in lifecycle stage 'lead' (and no Salesforce Contact), a lead score change reaching Salesforce, and a rerun that
finds nothing left to send."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from hubspot import HubSpot
from hubspot.crm.contacts import PublicObjectSearchRequest
from hubspot.crm.deals import SimplePublicObjectInput
from simple_salesforce import Salesforce

from hub.sandbox import Sandbox
from tests.conftest import run_hub

SYNCS = ("person_to_hubspot", "person_to_salesforce", "opportunities_to_hubspot", "deals_to_salesforce",
         "leads_to_hubspot", "leads_to_salesforce", "lead_score_to_salesforce")


@contextmanager
def vendors(project: Path) -> Iterator[tuple[Sandbox, HubSpot, Salesforce]]:
    """The example's vendor data (kept in the project between runs) served again, with an SDK client for each."""
    with Sandbox(seed=7, people=400, tls=True, state_file=project / ".hub" / "sandbox-state.json",
                 only={"hubspot", "salesforce"}) as sb:
        hs = HubSpot(access_token=sb.hubspot.token)
        hs.config["host"] = sb.hubspot.url
        hs.config["ssl_ca_cert"] = str(sb.ca_path)
        session = requests.Session()
        session.verify = str(sb.ca_path)
        session.trust_env = False
        sf = Salesforce(instance_url=sb.salesforce.url, session_id=sb.salesforce.token, session=session,
                        version="59.0")
        yield sb, hs, sf


def deals(hs: HubSpot) -> list[dict[str, str | None]]:
    props = ["dealname", "amount", "dealstage", "closedate", "hub_deal_id"]
    return [{"id": d.id, **{p: d.properties.get(p) for p in props}}
            for d in hs.crm.deals.get_all(properties=props)]


def opportunities(sf: Salesforce) -> list[dict[str, object]]:
    return sf.query_all("SELECT Id, Name, Amount, StageName, CloseDate, Hub_Deal_Id__c FROM Opportunity")["records"]


def demo(project: Path) -> str:
    done = run_hub("demo", "--example", "crm-two-way", str(project))
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def push_lines(out: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"^  (\w+)\s+-> (.*)$", out, re.M)}


def test_deals_leads_and_scores_both_ways_without_ping_pong(tmp_path):
    project = tmp_path / "crm"
    first = push_lines(demo(project))
    assert set(first) == set(SYNCS), first
    assert "created" in first["opportunities_to_hubspot"] and "created" in first["deals_to_salesforce"]

    with vendors(project) as (sb, hs, sf):
        score = {f["name"]: f for f in sf.Contact.describe()["fields"]}["Lead_Score__c"]
        assert score["type"] == "double" and score["custom"] is True and score["updateable"] is True
        hs_deals, sf_opps = deals(hs), opportunities(sf)
        # every deal is in both CRMs exactly once, carrying the same hub deal id, with the same name and amount
        assert len(hs_deals) == len(sf_opps) > 0
        by_key_hs = Counter(d["hub_deal_id"] for d in hs_deals)
        by_key_sf = Counter(o["Hub_Deal_Id__c"] for o in sf_opps)
        assert None not in by_key_hs and None not in by_key_sf
        assert set(by_key_hs.values()) == {1} and by_key_hs == by_key_sf
        # each deal made in one CRM is keyed by its own id there; its copy in the other CRM is the only other one
        hs_ids, sf_ids = {d["id"] for d in hs_deals}, {o["Id"] for o in sf_opps}
        origin = Counter(k.partition(":")[0] for k in by_key_hs)
        assert origin["hubspot"] > 0 and origin["salesforce"] > 0
        for key in by_key_hs:
            system, _, own = key.partition(":")
            assert own in (hs_ids if system == "hubspot" else sf_ids), key
        opp_of = {o["Hub_Deal_Id__c"]: o for o in sf_opps}
        for d in hs_deals:
            o = opp_of[d["hub_deal_id"]]
            assert d["dealname"] == o["Name"]
            assert (d["amount"] is None and o["Amount"] is None) or float(d["amount"]) == o["Amount"]
            assert d["closedate"][:10] == o["CloseDate"]

        # edit a deal's amount in HubSpot (one made in Salesforce), add a Salesforce lead, and raise a lead score
        edited = next(d for d in hs_deals if d["hub_deal_id"].startswith("salesforce:"))
        hs.crm.deals.basic_api.update(edited["id"], SimplePublicObjectInput(properties={"amount": "123456.78"}))
        sf.Lead.create({"FirstName": "Grace", "LastName": "Hopper", "Company": "Cobol Works",
                        "Email": "grace.hopper@cobolworks.example", "Status": "Open - Not Contacted"})
        person = sf.query("SELECT Id, Email FROM Contact WHERE Email != null AND Lead_Score__c != null "
                          "ORDER BY Email LIMIT 1")["records"][0]
        found = hs.crm.contacts.search_api.do_search(PublicObjectSearchRequest(
            filter_groups=[{"filters": [{"propertyName": "email", "operator": "EQ", "value": person["Email"]}]}],
            properties=["email", "hubspotscore"]))
        assert found.total >= 1
        scored = found.results[0].id
        # hubspotscore is calculated by HubSpot (read-only through the API): the portal recomputes it
        sb.hubspot.store.update("contacts", scored, {"hubspotscore": "97"})
        deal_count = len(hs_deals)

    second = push_lines(demo(project))
    assert "created 0, updated 1;" in second["deals_to_salesforce"], second
    assert "nothing changed" in second["opportunities_to_hubspot"], second
    assert "created 1," in second["leads_to_hubspot"], second
    assert "created 0, updated 1;" in second["lead_score_to_salesforce"], second

    with vendors(project) as (sb, hs, sf):
        [opp] = [o for o in opportunities(sf) if o["Id"] == edited["hub_deal_id"].partition(":")[2]]
        assert opp["Amount"] == 123456.78
        assert len(deals(hs)) == deal_count and len(opportunities(sf)) == deal_count
        leads = hs.crm.contacts.search_api.do_search(PublicObjectSearchRequest(
            filter_groups=[{"filters": [{"propertyName": "email", "operator": "EQ",
                                         "value": "grace.hopper@cobolworks.example"}]}],
            properties=["email", "lifecyclestage", "firstname", "lastname", "company"]))
        assert leads.total == 1
        assert leads.results[0].properties["lifecyclestage"] == "lead"
        assert leads.results[0].properties["company"] == "Cobol Works"
        assert sf.Contact.get(person["Id"])["Lead_Score__c"] == 97

    # the lead is a HubSpot contact now, but Salesforce has the person as an open lead: no Contact is made beside it
    # (crm.salesforce_leads_only), so nothing is left to send
    third = push_lines(demo(project))
    assert set(third) == set(SYNCS)
    for name, line in third.items():
        assert line.split("  ", 1)[1].lstrip().startswith("nothing changed"), (name, line)
    with vendors(project) as (sb, hs, sf):
        assert sf.query("SELECT Id FROM Contact WHERE Email = 'grace.hopper@cobolworks.example'")["totalSize"] == 0
        assert sf.query("SELECT Id FROM Lead WHERE Email = 'grace.hopper@cobolworks.example'")["totalSize"] == 1
    # the docs site says which rows the person sync leaves out
    page = next(project.rglob("sync-person_to_salesforce.html")).read_text()
    assert "crm.salesforce_leads_only" in page and "<dt>except</dt>" in page
