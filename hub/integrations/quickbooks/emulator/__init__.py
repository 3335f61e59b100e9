"""The sandbox's QuickBooks Online: one company (realm) with customers, items, invoices and payments, on loopback.

Its customers are the first people of the seed's ``"marketing"`` role (a shop's buyers are the marketing CRM's
contacts, so identity resolution has people to join), each with an invoice or two and some of those paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from hub.integrations.quickbooks.emulator.auth import IntuitAuth
from hub.integrations.quickbooks.emulator.server import QuickBooksEmulator
from hub.integrations.quickbooks.emulator.store import Company
from hub.sandbox.context import EmulatorContext
from hub.sandbox.seed import MARKETING

__all__ = ["EMULATOR", "Company", "QuickBooksEmulator", "QuickBooksEmulatorPlugin"]

ITEMS = (("Services", 100.0), ("Shipping", 12.5), ("Goods", 40.0))


class QuickBooksEmulatorPlugin:
    """Builds the QuickBooks emulator of one sandbox."""

    def build(self, context: EmulatorContext, *, port: int = 0, realm: str = "9341453050298431",
              rate_limit: tuple[int, float] | None = (500, 60.0), concurrency: int | None = 10,
              customers: int = 25, hidden: Sequence[str] = (), batch_max: int = 30,
              batch_rate_limit: tuple[int, float] | None = None) -> QuickBooksEmulator:
        """The emulator, not started. ``rate_limit`` is the per-realm window (500 a minute), ``concurrency`` the
        requests served at once (10); None lifts either. ``customers`` sizes the seed; ``hidden`` leaves fields out
        of every answer (``"Customer.PrimaryPhone"``), as a user without the permission sees records.
        ``batch_max`` is the BatchItemRequest a batch takes (30, as python-quickbooks sends; Intuit's batch page now
        says 10), ``batch_rate_limit`` an extra window for batch requests (that page says 40 a minute; off)."""
        company = Company(realm, context.clock, hidden=frozenset(hidden))
        if context.state is not None:
            company.load(context.state)
        else:
            seed(company, context, customers)
        auth = IntuitAuth(context.random("oauth"), context.clock, realm)
        return QuickBooksEmulator(company, auth, context.clock, host=context.host, port=port, tls=context.tls,
                                  rate_limit=rate_limit, concurrency=concurrency, batch_max=batch_max,
                                  batch_rate_limit=batch_rate_limit)


def seed(company: Company, context: EmulatorContext, customers: int) -> None:
    """Items, then customers from the marketing people, their invoices and payments, dated over the last 20 days."""
    rng = context.random("seed")
    now = company.now()
    items = [company.create("Item", {"Name": name, "UnitPrice": price, "Type": "Service"})["Id"]
             for name, price in ITEMS]
    people = [p for p in context.data.contacts[MARKETING] if p.first_name or p.last_name][:customers]
    for n, person in enumerate(people):
        body: dict[str, Any] = {"DisplayName": f"{person.first_name or ''} {person.last_name or ''}".strip()
                                + f" ({n + 1})"}
        if person.first_name:
            body["GivenName"] = person.first_name
        if person.last_name:
            body["FamilyName"] = person.last_name
        if person.email:
            body["PrimaryEmailAddr"] = {"Address": person.email}
        if person.phone:
            body["PrimaryPhone"] = {"FreeFormNumber": person.phone}
        customer = company.create("Customer", body)
        _backdate(company, "Customer", customer["Id"], now - timedelta(days=20 - n * 15 / max(len(people), 1)))
        for k in range(1 + n % 2):
            quantity = rng.randint(1, 5)
            item = rng.choice(items)
            amount = round(quantity * dict(zip(items, (p for _, p in ITEMS)))[item], 2)
            invoice = company.create("Invoice", {
                "CustomerRef": {"value": customer["Id"]}, "DocNumber": f"S-{1000 + n * 2 + k}",
                "Line": [{"Amount": amount, "DetailType": "SalesItemLineDetail",
                          "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": quantity}}]})
            _backdate(company, "Invoice", invoice["Id"], now - timedelta(days=15 - n * 10 / max(len(people), 1)))
            if rng.random() < 0.5:
                payment = company.create("Payment", {
                    "CustomerRef": {"value": customer["Id"]}, "TotalAmt": amount,
                    "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]})
                _backdate(company, "Payment", payment["Id"], now - timedelta(days=10 - n * 5 / max(len(people), 1)))


def _backdate(company: Company, entity: str, ident: str, moment: Any) -> None:
    record = company.records[entity][ident]
    stamp = company.stamp(moment.replace(microsecond=0))
    record["MetaData"] = {"CreateTime": stamp, "LastUpdatedTime": stamp}


EMULATOR = QuickBooksEmulatorPlugin()
