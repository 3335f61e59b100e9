"""crm-two-way deals decide field by field: `hub run` (the real CLI in a subprocess) against the sandbox over https,
every edit made and every result read through the vendors' official SDKs (simple-salesforce, hubspot-api-client).

Between two runs one deal gets its Name edited in Salesforce and its amount in HubSpot: after the run both CRMs hold
both edits (neither record's other, unedited field reverts the edit). Two more deals get the same field edited in
both CRMs: the later edit wins in both, whichever CRM made it, and the conflict is recorded. The run after that
sends nothing. And Salesforce leads copied to HubSpot never come back to Salesforce as Contacts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.deals import SimplePublicObjectInput
from simple_salesforce import Salesforce

from hub.examples.runner import sandbox_environment
from hub.sandbox import Sandbox
from tests.conftest import run_hub

DEAL_SYNCS = ("opportunities_to_hubspot", "deals_to_salesforce")
MINUTE = 61   # a clock step between edits: "later" is never a tie of the same second


@pytest.fixture
def crms(tmp_path: Path) -> Iterator[tuple[Path, Sandbox, dict[str, str], HubSpot, Salesforce]]:
    """The example project, a https sandbox of both CRMs, the environment pointing `hub` at it, and an SDK each."""
    directory = tmp_path / "crm"
    made = run_hub("init", "--example", "crm-two-way", str(directory))
    assert made.returncode == 0, made.stderr
    with Sandbox(seed=9, people=80, tls=True, only={"hubspot", "salesforce"}, hubspot_rate_limit=None) as sb:
        env = {**sandbox_environment(directory, sb, base={}), "SSL_CERT_FILE": str(sb.ca_path)}
        hs = HubSpot(access_token=sb.hubspot.token)
        hs.config["host"] = sb.hubspot.url
        hs.config["ssl_ca_cert"] = str(sb.ca_path)
        session = requests.Session()
        session.verify = str(sb.ca_path)
        session.trust_env = False
        sf = Salesforce(instance_url=sb.salesforce.url, session_id=sb.salesforce.token, session=session,
                        version="59.0")
        yield directory, sb, env, hs, sf


def hub_run(directory: Path, env: dict[str, str]) -> dict[str, str]:
    """One `hub run`; the push line of each sync (what it did)."""
    done = run_hub("run", cwd=directory, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return {m.group(1): m.group(2) for m in re.finditer(r"^\s*(\w+)\s+-> \S+\s+(.*)$", done.stdout, re.M)}


def pairs(hs: HubSpot, sf: Salesforce) -> dict[str, tuple[dict, dict]]:
    """hub deal id -> (HubSpot deal properties with its id, Salesforce opportunity)."""
    props = ["dealname", "amount", "dealstage", "closedate", "hub_deal_id"]
    deals = {d.properties["hub_deal_id"]: {"id": d.id, **{p: d.properties.get(p) for p in props}}
             for d in hs.crm.deals.get_all(properties=props)}
    opps = {o["Hub_Deal_Id__c"]: o for o in sf.query_all(
        "SELECT Id, Name, Amount, StageName, CloseDate, Hub_Deal_Id__c FROM Opportunity")["records"]}
    assert set(deals) == set(opps) and None not in deals
    return {key: (deals[key], opps[key]) for key in deals}


def test_fields_edited_in_different_crms_both_survive_and_same_field_later_wins(crms) -> None:
    directory, sb, env, hs, sf = crms
    contacts_before = contact_emails(sf)
    first = hub_run(directory, env)
    assert "created" in first["opportunities_to_hubspot"] and "created" in first["deals_to_salesforce"], first
    hub_run(directory, env)   # reads back what the first run wrote, so the edits below are the only ones
    before = pairs(hs, sf)
    keys = sorted(k for k, (d, o) in before.items() if d["amount"] is not None and o["Name"])
    split, hs_later, sf_later = keys[0], keys[1], keys[2]

    # deal 1: Name and stage in Salesforce, then (later) amount and close date in HubSpot: different fields, every
    # edit stands (and Salesforce's finer stage is not flattened to HubSpot's group)
    sf.Opportunity.update(before[split][1]["Id"], {"Name": "Renamed in Salesforce", "StageName": "Needs Analysis"})
    sb.clock.advance(MINUTE)
    hs.crm.deals.basic_api.update(before[split][0]["id"], SimplePublicObjectInput(
        properties={"amount": "4321.5", "closedate": "2027-01-15T00:00:00.000Z"}))
    # deal 2: the name in both, HubSpot's edit later; deal 3: the name in both, Salesforce's edit later
    sf.Opportunity.update(before[hs_later][1]["Id"], {"Name": "Salesforce's earlier name"})
    hs.crm.deals.basic_api.update(before[sf_later][0]["id"],
                                  SimplePublicObjectInput(properties={"dealname": "HubSpot's earlier name"}))
    sb.clock.advance(MINUTE)
    hs.crm.deals.basic_api.update(before[hs_later][0]["id"],
                                  SimplePublicObjectInput(properties={"dealname": "HubSpot's later name"}))
    sf.Opportunity.update(before[sf_later][1]["Id"], {"Name": "Salesforce's later name"})
    sb.clock.advance(MINUTE)

    second = hub_run(directory, env)
    # to Salesforce: deal 1 (amount, close date) and deal 2 (name); to HubSpot: deal 1 (name, stage) and deal 3 (name)
    for sync in DEAL_SYNCS:
        assert second[sync].startswith("created 0, updated 2, 2 conflicts resolved;"), second

    after = pairs(hs, sf)
    assert len(after) == len(before)                                       # nothing created, nothing lost
    deal, opp = after[split]
    assert (deal["dealname"], float(deal["amount"])) == ("Renamed in Salesforce", 4321.5)
    assert (opp["Name"], opp["Amount"]) == ("Renamed in Salesforce", 4321.5)
    assert (opp["StageName"], deal["dealstage"]) == ("Needs Analysis", "qualifiedtobuy")
    assert (opp["CloseDate"], deal["closedate"][:10]) == ("2027-01-15", "2027-01-15")
    assert after[hs_later][0]["dealname"] == after[hs_later][1]["Name"] == "HubSpot's later name"
    assert after[sf_later][0]["dealname"] == after[sf_later][1]["Name"] == "Salesforce's later name"
    for key in set(after) - {split, hs_later, sf_later}:                   # every other deal as it was
        assert after[key][1]["Name"] == before[key][1]["Name"] and after[key][0]["dealname"] == before[key][0][
            "dealname"]
        assert after[key][1]["Amount"] == before[key][1]["Amount"]

    # both same-field edits are reported as conflicts, each won by the later edit; the split deal is no conflict
    listed = run_hub("query", "SELECT key, model_column, winner, resolved_value FROM _hub.sync_conflicts "
                              "WHERE model = 'crm.deal' ORDER BY key", "--format", "json", cwd=directory, env=env)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert sorted(tuple(r.values()) for r in rows) == sorted([
        (hs_later, "name", "hubspot", "HubSpot's later name"),
        (sf_later, "name", "salesforce", "Salesforce's later name")])

    # the run after that sends nothing anywhere: no ping-pong
    third = hub_run(directory, env)
    for sync, line in third.items():
        assert line.startswith("nothing changed"), (sync, line)
    assert set(DEAL_SYNCS) <= set(third)

    # the open leads went to HubSpot as contacts, and none came back to Salesforce as a Contact beside its Lead
    leads = {r["Email"].lower() for r in sf.query_all("SELECT Email FROM Lead WHERE IsConverted = false "
                                                      "AND Email != null")["records"]}
    copied = {c.properties["email"].lower() for c in hs.crm.contacts.get_all(properties=["email"])
              if c.properties.get("email")} & leads
    assert copied, "the example copies open leads to HubSpot"
    assert contact_emails(sf) & leads <= contacts_before & leads


def contact_emails(sf: Salesforce) -> set[str]:
    return {r["Email"].lower() for r in sf.query_all("SELECT Email FROM Contact WHERE Email != null")["records"]}
