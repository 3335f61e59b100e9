"""shop-to-books end to end: `hub demo --example shop-to-books` in a subprocess against the sandbox, then the books
read back through the official QuickBooks SDK (python-quickbooks over TLS): one invoice per order, a payment per paid
order applied to it, a credit memo per refund; a second run creates nothing for the orders already invoiced."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hub.reverse_etl.validate import EMAIL_RE
from hub.sandbox import Sandbox
from tests.conftest import run_hub
from tests.integrations.quickbooks.conftest import sdk


def _all(kind: Any, qb: Any) -> list[Any]:
    out, start = [], 1
    while True:
        page = kind.all(start_position=start, max_results=1000, qb=qb)
        out += page
        if len(page) < 1000:
            return out
        start += 1000


def _books(state: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The shop's orders (the emulator's own store) and the QuickBooks records as the SDK reads them."""
    from quickbooks.objects.creditmemo import CreditMemo
    from quickbooks.objects.customer import Customer
    from quickbooks.objects.invoice import Invoice
    from quickbooks.objects.payment import Payment

    with Sandbox(seed=7, people=400, state_file=state, only={"shopify", "quickbooks"}, tls=True) as sb:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sb.ca_path))
        store = sb.emulators["shopify"].store
        with store.lock:
            orders = [dict(o) for o in store.records["orders"].values()]
        qb = sdk(sb)
        return {"orders": orders, "customers": _all(Customer, qb), "invoices": _all(Invoice, qb),
                "payments": _all(Payment, qb), "memos": _all(CreditMemo, qb)}


def _check(books: dict[str, Any]) -> dict[str, str]:
    """Exact outcomes for every order; returns order number -> invoice Id."""
    email_of = {c.Id: (c.PrimaryEmailAddr.Address.lower() if c.PrimaryEmailAddr else None)
                for c in books["customers"]}
    invoices: dict[str, list[Any]] = {}
    for invoice in books["invoices"]:
        invoices.setdefault(invoice.DocNumber, []).append(invoice)
    payments: dict[str, list[Any]] = {}
    for payment in books["payments"]:
        payments.setdefault(payment.PaymentRefNum, []).append(payment)
    memos: dict[str, list[Any]] = {}
    for memo in books["memos"]:
        memos.setdefault(memo.DocNumber, []).append(memo)

    made: dict[str, str] = {}
    invoiced = refused = 0
    for order in books["orders"]:
        name, email = order["name"], (order.get("email") or "").strip().lower()
        total = Decimal(order["totalPriceSet"]["shopMoney"]["amount"])
        refunded = Decimal(order["totalRefundedSet"]["shopMoney"]["amount"])
        if not EMAIL_RE.match(email):
            # QuickBooks refuses the buyer's email, so there is no customer to invoice: no invoice, nothing sent
            assert name not in invoices and name not in payments, name
            refused += 1
            continue
        assert len(invoices.get(name, [])) == 1, f"order {name}: {len(invoices.get(name, []))} invoices"
        invoice = invoices[name][0]
        made[name] = invoice.Id
        invoiced += 1
        assert Decimal(str(invoice.TotalAmt)) == total
        assert email_of[invoice.CustomerRef.value] == email     # the customer found or created by email
        if order["displayFinancialStatus"] in ("PAID", "PARTIALLY_REFUNDED", "REFUNDED"):
            assert len(payments.get(name, [])) == 1, f"order {name}: {len(payments.get(name, []))} payments"
            payment = payments[name][0]
            assert Decimal(str(payment.TotalAmt)) == total
            assert payment.CustomerRef.value == invoice.CustomerRef.value
            assert [(t.TxnId, t.TxnType) for line in payment.Line for t in line.LinkedTxn] == [(invoice.Id, "Invoice")]
        else:
            assert name not in payments
        if refunded > 0:
            assert len(memos.get(f"{name}-R", [])) == 1, f"order {name}: no single credit memo"
            memo = memos[f"{name}-R"][0]
            assert Decimal(str(memo.TotalAmt)) == refunded
            assert memo.CustomerRef.value == invoice.CustomerRef.value
        else:
            assert f"{name}-R" not in memos
    shop_emails = [email_of[c] for c in email_of if email_of[c]]
    assert len(shop_emails) == len(set(shop_emails)), "a buyer's email made two QuickBooks customers"
    assert invoiced >= 140 and 0 < refused < 10    # the example's shop: 150 orders, an email QuickBooks refuses
    return made


def test_each_order_makes_exactly_one_invoice_and_a_rerun_creates_none(tmp_path, monkeypatch):
    directory = tmp_path / "shop"
    first = run_hub("demo", "--example", "shop-to-books", str(directory))
    assert first.returncode == 0, first.stderr[-2000:] + first.stdout[-2000:]
    assert "what happened:" in first.stdout and "0 orders with more than one" in first.stdout
    state = directory / ".hub" / "sandbox-state.json"
    before = _check(_books(state, monkeypatch))

    again = run_hub("demo", "--example", "shop-to-books", str(directory))
    assert again.returncode == 0, again.stderr[-2000:] + again.stdout[-2000:]
    after = _check(_books(state, monkeypatch))
    # every order invoiced before keeps its one invoice: the rerun made invoices only for the order placed since
    assert {name: after[name] for name in before} == before
    assert len(after) == len(before) + 1
