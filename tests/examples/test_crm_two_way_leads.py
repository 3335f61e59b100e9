"""crm-two-way leads, both ways: `hub run` (the real CLI in a subprocess) against the sandbox over https, every edit
made and every result read through the vendors' official SDKs (simple-salesforce, hubspot-api-client).

A HubSpot contact in lifecycle stage 'lead' that Salesforce does not have becomes a Salesforce Lead, not a Contact
(one further on, a customer, becomes a Contact as before). Edits to a lead reach the other CRM field by field: a phone
edited on the Salesforce Lead and a first name edited on its HubSpot contact both stand on both sides. The run after
that sends nothing. Once a rep converts the Lead (a Contact made, the Lead marked converted, as convertLead() does),
the lead syncs leave it alone and the person sync keeps the new Contact in line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.contacts import SimplePublicObjectInput, SimplePublicObjectInputForCreate
from simple_salesforce import Salesforce

from hub.examples.runner import sandbox_environment
from hub.sandbox import Sandbox
from tests.conftest import run_hub
from tests.examples.test_crm_two_way_fields import MINUTE, hub_run

LEAD_SYNCS = ("leads_to_hubspot", "leads_to_salesforce")
PROPS = ["email", "firstname", "lastname", "phone", "company", "lifecyclestage"]


@pytest.fixture
def crms(tmp_path: Path) -> Iterator[tuple[Path, Sandbox, dict[str, str], HubSpot, Salesforce]]:
    """The example project, a https sandbox of both CRMs, the environment pointing `hub` at it, and an SDK each."""
    directory = tmp_path / "crm"
    made = run_hub("init", "--example", "crm-two-way", str(directory))
    assert made.returncode == 0, made.stderr
    with Sandbox(seed=11, people=80, tls=True, only={"hubspot", "salesforce"}, hubspot_rate_limit=None) as sb:
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


def hubspot_contacts(hs: HubSpot) -> dict[str, list[dict]]:
    """email -> the HubSpot contacts with it (properties and id)."""
    out: dict[str, list[dict]] = {}
    for c in hs.crm.contacts.get_all(properties=PROPS):
        if c.properties.get("email"):
            out.setdefault(c.properties["email"].lower(), []).append({"id": c.id, **c.properties})
    return out


def salesforce(sf: Salesforce, sobject: str, fields: str = "Id, Email") -> dict[str, list[dict]]:
    """email -> the Salesforce records of one object with it (Leads: open ones only)."""
    where = "Email != null" + (" AND IsConverted = false" if sobject == "Lead" else "")
    out: dict[str, list[dict]] = {}
    for r in sf.query_all(f"SELECT {fields} FROM {sobject} WHERE {where}")["records"]:
        out.setdefault(r["Email"].lower(), []).append(r)
    return out


def test_leads_both_ways_hubspot_lead_becomes_salesforce_lead_and_edits_cross(crms) -> None:
    directory, sb, env, hs, sf = crms
    hub_run(directory, env)
    hub_run(directory, env)   # reads back what the first run wrote (and its phone normalization), so it settles
    settled = hub_run(directory, env)
    for sync, line in settled.items():
        assert line.startswith("nothing changed"), (sync, line)

    # a new HubSpot contact in lifecycle stage 'lead', one in stage 'customer'
    hs.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties={
        "email": "ada.lovelace@engines.example", "firstname": "Ada", "lastname": "Lovelace",
        "company": "Analytical Engines", "phone": "+442079460000", "lifecyclestage": "lead"}))
    hs.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties={
        "email": "alan.turing@bombe.example", "firstname": "Alan", "lastname": "Turing",
        "lifecyclestage": "customer"}))
    sb.clock.advance(MINUTE)
    made = hub_run(directory, env)
    assert made["leads_to_salesforce"].startswith("created 1, updated 0;"), made
    assert made["person_to_salesforce"].startswith("created 1, updated 0;"), made
    leads = salesforce(sf, "Lead", "Id, Email, FirstName, LastName, Company, Phone")
    contacts = salesforce(sf, "Contact")
    [ada] = leads["ada.lovelace@engines.example"]
    assert (ada["FirstName"], ada["LastName"], ada["Company"], ada["Phone"]) == (
        "Ada", "Lovelace", "Analytical Engines", "+442079460000")
    assert "ada.lovelace@engines.example" not in contacts              # a Lead, not a Contact
    assert len(contacts["alan.turing@bombe.example"]) == 1 and "alan.turing@bombe.example" not in leads
    again = hub_run(directory, env)
    for sync, line in again.items():
        assert line.startswith("nothing changed"), (sync, line)

    # a lead both CRMs had from the start: its phone edited in Salesforce, its first name in HubSpot; and the
    # company of the lead the hub made, edited in Salesforce
    contacts_hs = hubspot_contacts(hs)
    leads = salesforce(sf, "Lead", "Id, Email, FirstName, LastName, Company, Phone")
    paired = sorted(e for e in leads if len(leads[e]) == 1 and len(contacts_hs.get(e, [])) == 1
                    and contacts_hs[e][0]["lifecyclestage"] in ("lead", "marketingqualifiedlead", "salesqualifiedlead")
                    and e != "ada.lovelace@engines.example")
    assert paired, "the sandbox has leads both CRMs hold"
    email = paired[0]
    [lead], [contact] = leads[email], contacts_hs[email]
    sf.Lead.update(lead["Id"], {"Phone": "+14155550199"})
    hs.crm.contacts.basic_api.update(contact["id"], SimplePublicObjectInput(properties={"firstname": "Renamed"}))
    sf.Lead.update(ada["Id"], {"Company": "Difference Engines Ltd"})
    sb.clock.advance(MINUTE)
    crossed = hub_run(directory, env)
    assert crossed["leads_to_hubspot"].startswith("created 0, updated 2;"), crossed
    assert crossed["leads_to_salesforce"].startswith("created 0, updated 1;"), crossed

    contacts_hs = hubspot_contacts(hs)
    leads = salesforce(sf, "Lead", "Id, Email, FirstName, LastName, Company, Phone")
    [lead_after], [contact_after] = leads[email], contacts_hs[email]
    assert (lead_after["FirstName"], lead_after["Phone"]) == ("Renamed", "+14155550199")
    assert (contact_after["firstname"], contact_after["phone"]) == ("Renamed", "+14155550199")
    assert (lead_after["LastName"], lead_after["Company"]) == (lead["LastName"], lead["Company"])
    assert contact_after["lifecyclestage"] == contact["lifecyclestage"]          # the hub never moves a stage
    [ada_hs] = contacts_hs["ada.lovelace@engines.example"]
    assert (ada_hs["company"], ada_hs["firstname"]) == ("Difference Engines Ltd", "Ada")
    assert len(leads["ada.lovelace@engines.example"]) == 1
    assert "ada.lovelace@engines.example" not in salesforce(sf, "Contact")

    # the run after that sends nothing anywhere: no ping-pong
    last = hub_run(directory, env)
    assert set(LEAD_SYNCS) <= set(last)
    for sync, line in last.items():
        assert line.startswith("nothing changed"), (sync, line)

    # a rep converts Ada's Lead (the emulator has no convertLead(): its effect, made in the store as the org would);
    # then her phone changes in HubSpot: the person sync updates the Contact, the converted Lead is left as it was
    ada_contact = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace",
                                     "Email": "ada.lovelace@engines.example"})["id"]
    sb.salesforce.store.update("Lead", ada["Id"], {"IsConverted": True, "ConvertedContactId": ada_contact,
                                                  "Status": "Closed - Converted"})
    hub_run(directory, env)   # reads the conversion back
    hs.crm.contacts.basic_api.update(ada_hs["id"], SimplePublicObjectInput(properties={"phone": "+442079460999"}))
    sb.clock.advance(MINUTE)
    converted = hub_run(directory, env)
    for sync in LEAD_SYNCS:
        assert converted[sync].startswith("nothing changed"), converted
    assert converted["person_to_salesforce"].startswith("created 0, updated 1;"), converted
    assert sf.Contact.get(ada_contact)["Phone"] == "+442079460999"
    lead_now = sf.Lead.get(ada["Id"])
    assert lead_now["IsConverted"] is True and lead_now["Phone"] == "+442079460000"
    assert len(salesforce(sf, "Contact")["ada.lovelace@engines.example"]) == 1
