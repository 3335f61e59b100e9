"""support-to-crm: Zendesk tickets as Salesforce Cases on the requester's Contact; the account tier on Zendesk.

The project (``project/``) ingests Zendesk tickets, users and organizations and Salesforce contacts, accounts and
cases, and pushes two syncs: ``support.ticket_cases`` (each ticket on the Salesforce Contact of the same person in the
identity map, upserted by the Case's external id ``Hub_Ticket_Id__c``) and ``support.org_tiers`` (the account's
``Tier__c`` on the Zendesk organization of the same company, ``organization_fields.tier``).

The scenario: before the first run a walk-in customer, who is in Zendesk but not in Salesforce, opens a ticket (it is
not sent: the example skips requesters without a Contact and lists them in ``support.tickets_without_contact``). After
the run an agent solves one open ticket in Zendesk and sales moves one account to another tier in Salesforce; a minute
passes (Zendesk's exports leave out the last minute: the sandbox's clock moves, nothing sleeps) and the project runs
again: the Case closes, the organization gets the new tier, and nothing is created twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.examples import Example
from hub.integrations.salesforce.emulator.schema import TIERS   # the sandbox org's Tier__c picklist

if TYPE_CHECKING:
    from hub.examples.runner import ExampleRun

WALK_IN_EMAIL = "robin.walkin@example.org"
#: Zendesk statuses an agent may still solve, and what the Case then says
OPEN = ("new", "open", "pending", "hold")


def before(run: ExampleRun) -> None:
    """A customer Salesforce does not know opens a ticket (once per project: the sandbox keeps its data)."""
    store = run.sandbox.emulators["zendesk"].store
    with store.lock:
        if store.by_email(WALK_IN_EMAIL) is not None:
            return
        # dated two minutes back, like the seed's records: Zendesk's exports leave out the last minute
        at = store.now() - 120
        user = store.create("user", {"name": "Robin Walkin", "email": WALK_IN_EMAIL}, at=at)
        ticket = store.create("ticket", {"subject": "Where is my order?", "comment": {"body": "Ordered last week."},
                                         "requester_id": user["id"], "priority": "high", "status": "new"}, at=at)
    run.echo(f"scenario: {WALK_IN_EMAIL}, not a Salesforce contact, opened Zendesk ticket #{ticket['id']}")


def after(run: ExampleRun) -> None:
    """Say what the first run did, then solve a ticket and re-tier an account, and run again."""
    project, echo = run.project, run.echo
    zendesk = run.sandbox.emulators["zendesk"].store
    salesforce = run.sandbox.emulators["salesforce"].store
    cases, skipped, tiers = _summary(run)
    echo("")
    echo(f"what happened: {cases} Zendesk tickets are Salesforce Cases on their requester's Contact; "
         f"{tiers} Zendesk organizations carry their Salesforce account's tier")
    for row in skipped:
        echo(f"  not sent: ticket #{row[0]} ({row[1]!r}) of {row[2]}: no Salesforce Contact for this person "
             f"(support.tickets_without_contact)")

    # an agent solves the oldest open ticket that has a Case; sales moves one tiered account up a tier
    candidate = project.query(
        "SELECT zendesk_ticket_id FROM support.ticket_cases WHERE case_status <> 'Closed' "
        "ORDER BY CAST(zendesk_ticket_id AS BIGINT) LIMIT 1").scalar()
    account = project.query(
        "SELECT a.id, a.name, a.tier__c, t.organization_name FROM support.org_tiers AS t "
        "JOIN canonical.company_source AS cs ON cs.company_id = t.company_id AND cs.connection = 'salesforce' "
        "JOIN raw_salesforce.account AS a ON a.id = cs.source_id ORDER BY t.organization_id, a.id LIMIT 1").rows
    if candidate is not None:
        with zendesk.lock:
            zendesk.update("ticket", int(candidate), {"status": "solved"})
        echo(f"scenario: an agent solves Zendesk ticket #{candidate}")
    tier = None
    if account:
        account_id, name, old, organization = account[0]
        tier = TIERS[(TIERS.index(old) + 1) % len(TIERS)] if old in TIERS else TIERS[0]
        salesforce.update("Account", account_id, {"Tier__c": tier})
        echo(f"scenario: sales moves Salesforce account {name!r} from {old} to {tier}")
    run.sandbox.clock.advance(61)   # a minute passes: the exports leave out changes of the last minute
    echo("")
    echo("running again:")
    run.run()
    echo("")
    if candidate is not None:
        status = _case_status(salesforce, project, str(candidate))
        echo(f"what happened: Zendesk ticket #{candidate} solved -> its Salesforce Case is {status}")
    if account:
        found = next((o for o in zendesk.live("organization") if o.get("name") == organization), None)
        shown = (found or {}).get("organization_fields", {}).get("tier") if found else None
        echo(f"what happened: Zendesk organization {organization!r} now has tier {shown}")


def _summary(run: ExampleRun) -> tuple[int, list[tuple[Any, ...]], int]:
    project = run.project
    cases = project.query("SELECT count(*) FROM support.ticket_cases").scalar()
    skipped = project.query("SELECT zendesk_ticket_id, subject, email FROM support.tickets_without_contact "
                            "ORDER BY CAST(zendesk_ticket_id AS BIGINT)").rows
    tiers = project.query("SELECT count(*) FROM support.org_tiers").scalar()
    return cases, skipped, tiers


def _case_status(salesforce: Any, project: Any, ticket: str) -> str | None:
    """The Status of the Case made for Zendesk ticket ``ticket``, read from the Salesforce emulator."""
    hub_id = project.query(f"SELECT ticket_id FROM support.ticket_cases WHERE zendesk_ticket_id = '{int(ticket)}'").scalar()
    with salesforce.lock:
        ids = salesforce.tables["Case"].by_external("Hub_Ticket_Id__c", hub_id)
        case = salesforce.tables["Case"].live(ids[0]) if ids else None
    return case["Status"] if case else None


EXAMPLE = Example(
    name="support-to-crm", title="Support desk -> CRM",
    shows="Zendesk tickets become Salesforce Cases on the requester's Contact; the account tier lands on Zendesk",
    emulators=("zendesk", "salesforce"), package=__name__, before=before, after=after)
