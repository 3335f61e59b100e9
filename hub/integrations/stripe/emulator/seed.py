"""Seed a Stripe account from the sandbox's ground-truth people, so billing joins the CRM data by email.

About a third of the seed's people pay: each gets a Stripe customer with the email the CRMs hold (sometimes in another
case, as people type it at checkout), a few get two customers, and a handful of customers exist in Stripe only. Each
customer has a few invoices, mostly paid (with a payment intent and a charge), some open, draft or void. Events are
recorded for objects created within the last 30 days, the window Stripe keeps events for. It draws from its own random
generator, so the CRM seed data stays exactly what it was.
"""

from __future__ import annotations

import random
from typing import Any

from hub.integrations.stripe.emulator import objects as so
from hub.sandbox.seed import PLACES, PersonRow, SeedData
from hub.integrations.stripe.emulator.store import EVENT_RETENTION_S, StripeStore

SHARE = 0.35
COUNTRY_CODES = {"United States": "US", "United Kingdom": "GB", "Germany": "DE", "France": "FR", "Canada": "CA",
                 "Australia": "AU", "Netherlands": "NL"}
PRICES = [1900, 4900, 9900, 19900, 49900, 120000]
PLANS = ["Starter plan", "Team plan", "Business plan", "Onboarding", "Extra seats", "Annual support"]


#: Stripe customers are drawn from at most this many people, so a benchmark's 100,000 CRM contacts seed in seconds.
MAX_PEOPLE = 5_000


def seed_stripe(store: StripeStore, data: SeedData) -> None:
    """Fill ``store`` with customers for a share of ``data``'s people, plus their invoices and payments."""
    _Seeder(store, data).run()


class _Seeder:
    def __init__(self, store: StripeStore, data: SeedData) -> None:
        self.store = store
        self.rng = random.Random(f"stripe-seed-{data.seed}")
        self.data = data
        # seeded history ends a minute before the clock's start, so "since now" reads see only what tests change
        self.now = data.now_ms // 1000 - 60

    def run(self) -> None:
        rows: dict[int, PersonRow] = {}
        for row in self.data.all_contacts():
            if row.person not in rows and _usable(row.email):
                rows[row.person] = row
                if len(rows) >= MAX_PEOPLE:
                    break
        rng = self.rng
        for person, row in rows.items():
            if rng.random() >= SHARE:
                continue
            self._customer(person, row, _checkout_case(rng, row.email.strip()))
            if rng.random() < 0.04:  # signed up again after a lapsed card: a second customer, same email
                self._customer(person, row, row.email.strip().lower())
        for n in range(max(1, len(rows) // 60)):
            first = rng.choice(["Avery", "Jordan", "Riley", "Casey", "Morgan"])
            row = PersonRow(-1, first, "Billing", f"billing+{n}@{first.lower()}-stripe-only.example", None, None,
                            None, *rng.choice(PLACES)[:2], None, None, 0, 0)
            self._customer(None, row, row.email)

    def _times(self, after: int) -> int:
        return after + int(self.rng.random() * max(1, self.now - after))

    def _customer(self, person: int | None, row: PersonRow, email: str) -> None:
        rng, store = self.rng, self.store
        created = self.now - int(rng.uniform(0.2, 700) * 86400)
        name = " ".join(p for p in ((row.first_name or "").strip(), (row.last_name or "").strip()) if p) or None
        address = None
        if row.country in COUNTRY_CODES:
            address = {"city": row.city, "country": COUNTRY_CODES[row.country], "line1": None, "line2": None,
                       "postal_code": None, "state": None}
        cust = so.customer(store.new_id("customer"), created, email=email, name=name,
                           phone=row.phone if rng.random() < 0.3 else None, address=address,
                           metadata={"signup": rng.choice(["web", "sales", "trial"])})
        store.insert("customer", cust)
        store.truth[cust["id"]] = person
        self._event("customer.created", cust, created)
        for _ in range(rng.choice([0, 1, 1, 2, 3, 4])):
            self._invoice(cust)

    def _invoice(self, cust: dict[str, Any]) -> None:
        rng, store = self.rng, self.store
        created = self._times(cust["created"])
        inv = so.invoice(store.new_id("invoice"), created, cust, description=rng.choice(PLANS))
        amount = rng.choice(PRICES)
        item = store.new_id("invoiceitem")
        so.set_lines(inv, [so.line_item("il_" + item[3:], amount, inv["description"], created, created)])
        status = rng.choices(["paid", "open", "draft", "void"], weights=[70, 15, 10, 5])[0]
        if status != "draft":
            inv["number"] = f"{cust['invoice_prefix']}-{cust['next_invoice_sequence']:04d}"
            cust["next_invoice_sequence"] += 1
            inv["status_transitions"]["finalized_at"] = created
        store.insert("invoice", inv)
        self._event("invoice.created", inv, created)
        inv["status"] = status
        if status == "void":
            inv["status_transitions"]["voided_at"] = created
        if status == "paid":
            paid_at = created + int(rng.random() * min(3 * 86400, self.now - created))
            pi = so.payment_intent(store.new_id("payment_intent"), paid_at, amount, customer_id=cust["id"],
                                   description=inv["description"], invoice_id=inv["id"],
                                   payment_method="pm_" + store.new_id("charge")[3:27])
            ch = so.charge(store.new_id("charge"), paid_at, pi, cust, rng)
            pi["latest_charge"] = ch["id"]
            store.insert("payment_intent", pi)
            store.insert("charge", ch)
            inv.update(status="paid", paid=True, amount_paid=amount, amount_remaining=0, charge=ch["id"],
                       payment_intent=pi["id"], attempted=True, attempt_count=1)
            inv["status_transitions"]["paid_at"] = paid_at
            self._event("charge.succeeded", ch, paid_at)
            self._event("payment_intent.succeeded", pi, paid_at)
            self._event("invoice.paid", inv, paid_at)

    def _event(self, kind: str, obj: dict[str, Any], at: int) -> None:
        if at >= self.now - EVENT_RETENTION_S:
            self.store.emit(kind, obj, at=at)


def _usable(email: str | None) -> bool:
    # Stripe rejects malformed addresses at checkout, so only plausible ones become customers
    if not email or "@" not in email:
        return False
    local, _, domain = email.strip().partition("@")
    return bool(local) and "." in domain and " " not in email.strip()


def _checkout_case(rng: random.Random, email: str) -> str:
    roll = rng.random()
    if roll < 0.15:
        local, _, domain = email.partition("@")
        return f"{local.capitalize()}@{domain}"
    if roll < 0.22:
        return email.upper()
    return email.lower()
