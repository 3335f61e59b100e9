"""The support-to-crm example end to end, its results read through the vendors' own SDKs (simple-salesforce, zenpy).

- `hub demo --example support-to-crm DIR`, twice, in a subprocess: afterwards a sandbox started from the demo's saved
  vendor data (over TLS, so simple-salesforce can talk to it) is read with the SDKs: every Zendesk ticket whose
  requester is a Salesforce contact is exactly one Case on that contact, with the ticket's subject and status; the
  walk-in requester's ticket made no Case; every organization carries its account's tier.
- The pieces, driven by hand: `hub init --example`, `hub run` in a subprocess against an in-process sandbox (the
  first Case upsert's answer lost after Salesforce applied it), a ticket solved and a requester without a contact added through zenpy, the sandbox clock moved a minute (Zendesk's exports
  leave out the last minute), `hub run` again: the Case's Status follows, nothing is created twice.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce
from zenpy import Zenpy
from zenpy.lib.api_objects import Ticket, User

from hub.examples.runner import sandbox_environment
from hub.sandbox import Sandbox
from hub.sandbox.chaos import Chaos
from tests.conftest import run_hub

NAME = "support-to-crm"
#: the example's mapping of Zendesk ticket statuses to Salesforce Case statuses
CASE_STATUS = {"new": "New", "open": "Working", "pending": "Working", "hold": "Escalated", "solved": "Closed",
               "closed": "Closed"}
WALK_IN = "robin.walkin@example.org"


def hub_ticket_id(zendesk_ticket_id: int, connection: str = "zendesk") -> str:
    """canonical.ticket's documented id: md5 of (entity, connection, stream, source id)."""
    return hashlib.md5(f"ticket/{connection}/tickets/{zendesk_ticket_id}".encode()).hexdigest()


def sdk_clients(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> tuple[Salesforce, Zenpy]:
    session = requests.Session()
    session.verify = str(sb.ca_path)
    session.trust_env = False
    sf = Salesforce(instance_url=sb.salesforce.url, session_id=sb.salesforce.token, session=session, version="59.0")
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "https")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", sb.zendesk.url.removeprefix("https://"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sb.ca_path))
    zd = Zenpy(subdomain="sandbox", email=sb.zendesk.email, token=sb.zendesk.api_token, disable_cache=True)
    return sf, zd


def hub_cases(sf: Salesforce) -> list[dict]:
    """Every live Case the hub made (it carries the hub's ticket id)."""
    return sf.query_all("SELECT Id, ContactId, Subject, Status, Hub_Ticket_Id__c FROM Case "
                        "WHERE Hub_Ticket_Id__c != null")["records"]


def contacts_by_email(sf: Salesforce) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for c in sf.query_all("SELECT Id, Email FROM Contact WHERE Email != null")["records"]:
        out.setdefault(c["Email"].strip().lower(), set()).add(c["Id"])
    return out


def assert_cases_match_tickets(sf: Salesforce, zd: Zenpy) -> tuple[int, list[int]]:
    """Each ticket of a requester Salesforce knows is exactly one Case, on that requester's contact, with the ticket's
    subject and status; the others have none. Returns (cases, ticket ids without a contact)."""
    cases = hub_cases(sf)
    counts = Counter(c["Hub_Ticket_Id__c"] for c in cases)
    assert [k for k, n in counts.items() if n > 1] == []                      # no duplicates
    by_hub_id = {c["Hub_Ticket_Id__c"]: c for c in cases}
    contacts = contacts_by_email(sf)
    users = {u.id: u for u in zd.users()}
    without = []
    expected = 0
    for ticket in zd.tickets():
        if ticket.status == "deleted":
            continue
        email = (users[ticket.requester_id].email or "").strip().lower()
        case = by_hub_id.get(hub_ticket_id(ticket.id))
        if email not in contacts:
            assert case is None, f"ticket {ticket.id} of {email} (no Salesforce contact) became a Case"
            without.append(ticket.id)
            continue
        expected += 1
        assert case is not None, f"ticket {ticket.id} of {email} has no Case"
        assert case["ContactId"] in contacts[email]
        assert case["Subject"] == ticket.subject
        assert case["Status"] == CASE_STATUS[ticket.status], ticket.id
    assert len(cases) == expected
    return expected, without


def assert_tiers_match_accounts(sf: Salesforce, zd: Zenpy) -> int:
    """Every organization named like a tiered account (the sandbox's companies) carries that account's tier."""
    tiers: dict[str, set[str]] = {}
    for a in sf.query_all("SELECT Name, Tier__c FROM Account WHERE Tier__c != null")["records"]:
        tiers.setdefault(a["Name"], set()).add(a["Tier__c"])
    checked = 0
    for org in zd.organizations():
        if len(tiers.get(org.name, ())) == 1:
            assert (org.organization_fields or {}).get("tier") == next(iter(tiers[org.name])), org.name
            checked += 1
    return checked


def test_demo_twice_then_read_through_the_sdks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "support"
    first = run_hub("demo", "--example", NAME, str(directory))
    assert first.returncode == 0, first.stderr + first.stdout
    out = first.stdout
    assert "tickets_to_cases       -> salesforce.Case  created 60, updated 0" in out
    assert f"not sent: ticket #61 ('Where is my order?') of {WALK_IN}" in out
    assert "solved -> its Salesforce Case is Closed" in out
    assert "now has tier" in out

    second = run_hub("demo", "--example", NAME, str(directory))
    assert second.returncode == 0, second.stderr + second.stdout
    before_scenario = second.stdout.split("scenario: an agent solves")[0]
    # the second demo's first run: everything is there already; nothing is created
    assert "tickets_to_cases       -> salesforce.Case  nothing changed (60 in sync, 0 API calls)" in before_scenario
    assert "tier_to_organizations  -> zendesk.organizations  nothing changed (18 in sync, 0 API calls)" \
        in before_scenario
    assert "created 0, updated 1" in second.stdout.split("running again:")[1]

    state = directory / ".hub" / "sandbox-state.json"
    with Sandbox(seed=7, people=400, tls=True, state_file=state, only={"zendesk", "salesforce"}) as sb:
        sf, zd = sdk_clients(sb, monkeypatch)
        cases, without = assert_cases_match_tickets(sf, zd)
        assert cases == 60
        assert len(without) == 1
        assert zd.users(id=zd.tickets(id=without[0]).requester_id).email == WALK_IN
        solved = [t for t in zd.tickets() if t.status == "solved"]
        assert solved, "the scenario solved tickets"
        assert assert_tiers_match_accounts(sf, zd) == 18


@pytest.fixture
def tls_sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=5, people=60, tls=True, only={"zendesk", "salesforce"}, zendesk_export_rate_limit=None) as sb:
        yield sb


def test_ticket_status_follows_and_reruns_create_nothing(tmp_path: Path, tls_sandbox: Sandbox,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    sb = tls_sandbox
    directory = tmp_path / "proj"
    made = run_hub("init", "--example", NAME, str(directory))
    assert made.returncode == 0, made.stderr
    env = {**sandbox_environment(directory, sb, base={}), "SSL_CERT_FILE": str(sb.ca_path)}
    sf, zd = sdk_clients(sb, monkeypatch)

    # a requester Salesforce does not know, and their ticket, made through Zendesk's API (dated now: the export
    # shows them once a minute has passed)
    user = zd.users.create(User(name="Sam Nocontact", email="sam.nocontact@example.net"))
    lone = zd.tickets.create(Ticket(subject="No contact here", description="Help", requester_id=user.id)).ticket
    sb.clock.advance(61)

    # the first Case upsert is applied but its answer comes after hub gave up: sent again (an upsert by external id
    # is idempotent), it updates the same Cases and makes no second one
    chaos = Chaos(late=1.0, hang=2.0, only="PATCH */composite/sobjects/Case/*", limit=1)
    sb.salesforce.chaos = chaos
    ran = run_hub("run", cwd=directory, env={**env, "HUB__CONNECTIONS__SALESFORCE__TIMEOUT": "0.5"})
    assert ran.returncode == 0, ran.stderr + ran.stdout
    assert chaos.injected["late"] == 1
    sb.salesforce.chaos = None
    cases, without = assert_cases_match_tickets(sf, zd)
    assert cases > 0 and without == [lone.id]
    assert assert_tiers_match_accounts(sf, zd) > 0
    listed = run_hub("query", "SELECT zendesk_ticket_id FROM support.tickets_without_contact", cwd=directory, env=env)
    assert listed.returncode == 0 and str(lone.id) in listed.stdout

    # an agent puts one ticket on hold and solves another, through zenpy
    open_tickets = sorted((t for t in zd.tickets() if t.status in ("new", "open", "pending") and t.id != lone.id),
                          key=lambda t: t.id)
    held, solved = open_tickets[0], open_tickets[1]
    held.status, solved.status = "hold", "solved"
    zd.tickets.update(held)
    zd.tickets.update(solved)
    sb.clock.advance(61)   # the export leaves out the last minute

    again = run_hub("run", cwd=directory, env=env)
    assert again.returncode == 0, again.stderr + again.stdout
    assert "tickets_to_cases" in again.stdout
    by_hub_id = {c["Hub_Ticket_Id__c"]: c for c in hub_cases(sf)}
    assert by_hub_id[hub_ticket_id(held.id)]["Status"] == "Escalated"
    assert by_hub_id[hub_ticket_id(solved.id)]["Status"] == "Closed"
    assert assert_cases_match_tickets(sf, zd)[0] == cases          # no new Case, no duplicate

    sb.clock.advance(61)
    third = run_hub("run", cwd=directory, env=env)
    assert third.returncode == 0, third.stderr + third.stdout
    assert f"nothing changed ({cases} in sync, 0 API calls)" in third.stdout
    assert len(hub_cases(sf)) == cases
