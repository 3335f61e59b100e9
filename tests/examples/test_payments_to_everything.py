"""payments-to-everything end to end: `hub demo --example payments-to-everything DIR` in a subprocess (the sandbox,
`hub serve` receiving Stripe's signed webhook, a build firing the Closed Won trigger), then the outcome read through
the vendors' official SDKs (stripe, hubspot-api-client, simple-salesforce) on the sandbox reopened from the demo's
saved vendor data, and through the stand-in product's own records. A second run provisions nothing again."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import requests
import stripe
from hubspot import HubSpot
from hubspot.crm.contacts import PublicObjectSearchRequest
from simple_salesforce import Salesforce
from standardwebhooks import Webhook

from hub.examples.payments_to_everything.app import ProductApp, messages, provisions
from hub.examples.payments_to_everything.scenario import AMOUNT_CENTS, MARKER, PLAN
from hub.sandbox import Sandbox
from tests.conftest import run_hub

EMULATORS = {"stripe", "hubspot", "salesforce"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("payments") / "project"


def demo(project: Path) -> str:
    result = run_hub("demo", "--example", "payments-to-everything", str(project))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def first(project: Path) -> str:
    return demo(project)


def vendors(project: Path) -> Sandbox:
    """The demo's sandbox again, from the vendor data it saved (same seed: same tokens), over https for the SDKs."""
    return Sandbox(seed=7, people=400, tls=True, only=EMULATORS, state_file=project / ".hub" / "sandbox-state.json")


@pytest.fixture
def sdk(monkeypatch: pytest.MonkeyPatch, first: str, project: Path) -> Iterator[dict[str, Any]]:
    with vendors(project) as sb:
        monkeypatch.setattr(stripe, "api_key", sb.stripe.token)
        monkeypatch.setattr(stripe, "api_base", sb.stripe.url)
        monkeypatch.setattr(stripe, "ca_bundle_path", str(sb.ca_path))
        hubspot = HubSpot(access_token=sb.hubspot.token)
        hubspot.config["host"] = sb.hubspot.url
        hubspot.config["ssl_ca_cert"] = str(sb.ca_path)
        session = requests.Session()
        session.verify = str(sb.ca_path)
        session.trust_env = False   # REQUESTS_CA_BUNDLE would override session.verify
        sf = Salesforce(instance_url=sb.salesforce.url, session_id=sb.salesforce.token, session=session,
                        version="59.0")
        yield {"hubspot": hubspot, "salesforce": sf}


def example_invoices(customer: str) -> list[Any]:
    return [i for i in stripe.Invoice.list(customer=customer, limit=100).auto_paging_iter()
            if i.metadata.to_dict().get("hub_example") == MARKER]


def paid_events(invoice: str) -> list[Any]:
    return [e for e in stripe.Event.list(type="invoice.paid", limit=100).auto_paging_iter()
            if e.data.object.id == invoice]


def marked_opportunities(sf: Salesforce) -> list[dict[str, Any]]:
    rows = sf.query_all("SELECT Id, StageName, IsWon, Description, SystemModstamp FROM Opportunity")["records"]
    return [r for r in rows if MARKER in (r.get("Description") or "")]


def test_a_payment_and_a_won_deal_each_provision_once(first, project, sdk):
    assert "trigger deal_won: baseline taken" in first   # the first build: won deals of the past fire nothing
    assert "trigger deal_won: 1 row(s) entered" in first
    applied = provisions(project / "app")
    assert [p.duplicate for p in applied] == [False, False] and len({p.webhook_id for p in applied}) == 2
    [paid] = [p.body for p in applied if p.body["source"] == "stripe"]
    [won] = [p.body for p in applied if p.body["source"] == "salesforce"]

    # Stripe: the invoice the scenario made is paid, once, and Stripe has one invoice.paid for it
    invoice = stripe.Invoice.retrieve(paid["reference"])
    assert (invoice.status, invoice.amount_paid, invoice.currency) == ("paid", AMOUNT_CENTS, "usd")
    assert invoice.customer == paid["customer"] and invoice.metadata["plan"] == PLAN
    assert [i.id for i in example_invoices(invoice.customer)] == [invoice.id]
    assert len(paid_events(invoice.id)) == 1
    assert paid == {"source": "stripe", "reference": invoice.id, "customer": invoice.customer,
                    "email": invoice.customer_email, "name": invoice.customer_name, "plan": PLAN,
                    "amount_minor": AMOUNT_CENTS, "currency": "usd"}
    [note] = messages(project / "app")
    assert invoice.number in note and invoice.customer_email in note

    # HubSpot: the payer's contact is a customer with every paid USD invoice of their Stripe customers as revenue
    found = sdk["hubspot"].crm.contacts.search_api.do_search(PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "email", "operator": "EQ", "value": invoice.customer_email}]}],
        properties=["email", "lifecyclestage", "total_revenue"]))
    [contact] = found.results
    emails = {invoice.customer_email.lower()}
    customers = [c.id for c in stripe.Customer.list(limit=100).auto_paging_iter()
                 if (c.email or "").lower() in emails]
    cents = sum(i.amount_paid for c in customers for i in stripe.Invoice.list(customer=c, limit=100).auto_paging_iter()
                if i.status == "paid" and i.currency == "usd")
    assert contact.properties["lifecyclestage"] == "customer"
    assert float(contact.properties["total_revenue"]) == pytest.approx(cents / 100)

    # Salesforce: exactly one Opportunity was closed by the scenario, and it is the one provisioned
    [opportunity] = marked_opportunities(sdk["salesforce"])
    assert (opportunity["Id"], opportunity["StageName"], opportunity["IsWon"]) == (won["reference"], "Closed Won", True)
    row = sdk["salesforce"].Opportunity.get(won["reference"])
    assert won["deal"] == row["Name"] and won["amount"] == pytest.approx(row["Amount"]) and won["currency"] == "USD"


def test_running_it_again_provisions_nothing_again(first, project, monkeypatch):
    before = provisions(project / "app")
    with vendors(project) as sb:
        sf_before = {r["Id"]: r["SystemModstamp"] for r in _opportunities(sb)}
    again = demo(project)
    assert '{"stored":0,"duplicates":1}' in again          # Stripe's repeated delivery: a duplicate in the inbox
    assert "nothing provisioned this time" in again and "row(s) entered" not in again
    assert provisions(project / "app") == before            # not even re-sent: the endpoint saw no new post
    assert len(messages(project / "app")) == 1
    with vendors(project) as sb:
        monkeypatch.setattr(stripe, "api_key", sb.stripe.token)
        monkeypatch.setattr(stripe, "api_base", sb.stripe.url)
        monkeypatch.setattr(stripe, "ca_bundle_path", str(sb.ca_path))
        [paid] = [p.body for p in before if p.body["source"] == "stripe"]
        assert [i.id for i in example_invoices(paid["customer"])] == [paid["reference"]]
        assert len(paid_events(paid["reference"])) == 1
        assert {r["Id"]: r["SystemModstamp"] for r in _opportunities(sb)} == sf_before   # nothing closed again


def _opportunities(sb: Sandbox) -> list[dict[str, Any]]:
    session = requests.Session()
    session.verify = str(sb.ca_path)
    session.trust_env = False
    sf = Salesforce(instance_url=sb.salesforce.url, session_id=sb.salesforce.token, session=session, version="59.0")
    return sf.query_all("SELECT Id, SystemModstamp FROM Opportunity")["records"]


# --- the stand-in product's endpoint, on its own ------------------------------------------------------

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def signed(body: bytes, msg_id: str, secret: str = SECRET) -> dict[str, str]:
    at = datetime.now(UTC).replace(microsecond=0)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())), "content-type": "application/json",
            "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode())}


def test_the_endpoint_verifies_signatures_and_applies_each_webhook_id_once(tmp_path):
    app = ProductApp(tmp_path / "app", SECRET).start()
    try:
        body = orjson.dumps({"source": "stripe", "reference": "in_1"})
        forged = signed(body, "msg_1", "whsec_" + base64.b64encode(os.urandom(32)).decode())
        assert httpx.post(f"{app.url}/provision", content=body, headers=forged).status_code == 401
        assert httpx.post(f"{app.url}/provision", content=body[:-1] + b',"x":1}',
                          headers=signed(body, "msg_1")).status_code == 401          # body changed after signing
        first = httpx.post(f"{app.url}/provision", content=body, headers=signed(body, "msg_1"))
        retry = httpx.post(f"{app.url}/provision", content=body, headers=signed(body, "msg_1"))   # a lost answer
        assert (first.json(), retry.json()) == ({"status": "provisioned"}, {"status": "already provisioned"})
        assert httpx.post(f"{app.url}/slack", json={"text": ""}).text == "invalid_payload"
        assert httpx.post(f"{app.url}/slack", json={"text": "hello"}).text == "ok"
    finally:
        app.stop()
    assert [(p.webhook_id, p.duplicate) for p in provisions(tmp_path / "app")] == [("msg_1", False), ("msg_1", True)]
    reopened = ProductApp(tmp_path / "app", SECRET)   # what it applied survives a restart
    reopened.stop()
    assert reopened.applied() == provisions(tmp_path / "app")[:1]
    assert messages(tmp_path / "app") == ["hello"]
