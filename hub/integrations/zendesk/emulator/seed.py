"""Seed records of the sandbox's Zendesk: the seed's sales contacts as end users, their companies as organizations,
a ticket or two each; every record is dated in the past (older than the exports' last-minute blackout)."""

from __future__ import annotations

import random

from hub.integrations.zendesk.emulator.store import PRIORITIES, RecordInvalid, ZendeskStore
from hub.sandbox.seed import SALES, SeedData

SUBJECTS = ("Cannot log in", "Invoice is wrong", "Feature request: export", "Sync stopped", "Password reset",
            "Billing address change", "API returns 500", "Upgrade our plan")


def seed_zendesk(store: ZendeskStore, data: SeedData, rng: random.Random, people: int | None) -> None:
    """Fill ``store`` from the seed data (deterministic for a seed)."""
    contacts = [c for c in data.contacts[SALES] if c.email and not c.deleted][:people]
    companies = {c.key: c for c in data.companies[SALES]}
    orgs: dict[int, int] = {}
    for contact in contacts:
        company = companies.get(contact.company) if contact.company is not None else None
        if company is not None and company.key not in orgs:
            try:
                org = store.create("organization", {"name": company.name, "external_id": None,
                                                    "domain_names": [company.domain] if company.domain else [],
                                                    "organization_fields": {"tier": None}},
                                   at=company.created_ms / 1000)
            except RecordInvalid:   # two seed companies with one name: Zendesk keeps names unique
                continue
            orgs[company.key] = org["id"]
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p) or contact.email.split("@")[0]
        try:
            user = store.create("user", {"name": name, "email": contact.email, "phone": contact.phone,
                                         "organization_id": orgs.get(contact.company) if contact.company else None},
                                at=contact.created_ms / 1000)
        except RecordInvalid:
            continue
        for _ in range(rng.randint(1, 2)):
            at = rng.uniform(contact.created_ms / 1000, data.now_ms / 1000 - 3600)
            store.create("ticket", {"subject": rng.choice(SUBJECTS), "comment": {"body": "Hello, please help."},
                                    "requester_id": user["id"], "priority": rng.choice(PRIORITIES),
                                    "status": rng.choice(("new", "open", "pending", "solved"))}, at=at)
