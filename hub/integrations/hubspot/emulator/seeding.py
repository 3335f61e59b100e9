"""Seeding the portal's objects beyond contacts and companies: lead scores, contact-company associations, and deals,
tickets, line items and subscriptions drawn from the seed's rows (deterministic: every 5th row, at most 100 each)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.integrations.hubspot.emulator.objects import DEAL_STAGES, TICKET_PRIORITIES, TICKET_STAGES
from hub.sandbox.clock import iso_millis_z
from hub.sandbox.seed import SeedData

if TYPE_CHECKING:
    from hub.integrations.hubspot.emulator.store import HubSpotStore

SEEDED_EVERY, SEEDED_MAX = 5, 100


def load_more(store: HubSpotStore, seed: SeedData) -> None:
    """After contacts and companies are in: scores, associations and the other objects' records."""
    contacts, companies = store.tables["contacts"], store.tables["companies"]
    people_of: dict[int, list[int]] = {}
    for obj in contacts.live():
        if "hubspotscore" in contacts.blank:
            obj.props = {**obj.props, "hubspotscore": str((obj.id * 37) % 101)}
        company = obj.props.get("associatedcompanyid")
        if company and company.isdigit() and int(company) in companies.objects:
            store.associations.link("contacts", obj.id, "companies", int(company), primary=True)
            people_of.setdefault(int(company), []).append(obj.id)
    deals, tickets, items = store.tables["deals"], store.tables["tickets"], store.tables["line_items"]
    subscriptions = store.tables["subscriptions"]
    for n, company in enumerate(list(companies.live())[::SEEDED_EVERY][:SEEDED_MAX]):
        stage = DEAL_STAGES[n % len(DEAL_STAGES)][0]
        price, quantity = 500 + (n * 317) % 4_500, 1 + n % 5
        close = iso_millis_z(company.updated_ms)
        deal = store.insert(deals, _present(deals, {
            "dealname": f"{company.props.get('name') or 'Deal'} - {('New', 'Renewal', 'Upsell')[n % 3]}",
            "dealstage": stage, "pipeline": "default", "amount": str(price * quantity), "closedate": close,
            "deal_currency_code": ("USD", "EUR", "GBP")[n % 3], "dealtype": ("newbusiness", "existingbusiness")[n % 2]}),
            now=company.updated_ms, created=company.created_ms)
        store.associations.link("deals", deal.id, "companies", company.id, primary=True)
        for person in people_of.get(company.id, [])[:1]:
            store.associations.link("deals", deal.id, "contacts", person)
        item = store.insert(items, _present(items, {"name": f"Seats ({stage})", "price": str(price),
                                                    "quantity": str(quantity), "hs_sku": f"SKU-{n % 7}"}),
                            now=company.updated_ms, created=company.created_ms)
        store.associations.link("line_items", item.id, "deals", deal.id)
        sub = store.insert(subscriptions, _present(subscriptions, {
            "subscription_name": f"{company.props.get('name') or 'Company'} plan",
            "plan": ("starter", "growth", "enterprise")[n % 3], "seats": str(quantity * 5),
            "renewal_date": close[:10]}), now=company.updated_ms, created=company.created_ms)
        store.associations.link("subscriptions", sub.id, "companies", company.id)
    for n, person in enumerate(list(contacts.live())[::SEEDED_EVERY][:SEEDED_MAX]):
        ticket = store.insert(tickets, _present(tickets, {
            "subject": ("Cannot log in", "Invoice question", "Feature request", "Data export")[n % 4],
            "content": "Reported through the help widget", "hs_pipeline": "0",
            "hs_pipeline_stage": TICKET_STAGES[n % len(TICKET_STAGES)],
            "hs_ticket_priority": TICKET_PRIORITIES[n % len(TICKET_PRIORITIES)], "source_type": "EMAIL"}),
            now=person.updated_ms, created=person.created_ms)
        store.associations.link("tickets", ticket.id, "contacts", person.id)
        company = person.props.get("associatedcompanyid")
        if company and company.isdigit() and int(company) in companies.objects:
            store.associations.link("tickets", ticket.id, "companies", int(company), primary=True)


def _present(table, values: dict[str, str | None]) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    return {k: v for k, v in values.items() if k in table.blank}
