"""Stripe invoices and charges as business records: ``canonical.invoice`` and ``canonical.payment`` from a real ingest
of the sandbox's Stripe, amounts turned from minor units into decimals, each linked to its customer's person and a
payment to the invoice it paid; checked against what the official SDK (``stripe``) reads from the same account."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from hub.modeling import build
from hub.project import Project
from hub.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=5, people=200, only=["stripe"], stripe_rate_limit=None) as box:
        yield box


def sdk_list(sb: Sandbox, kind: str) -> list[dict]:
    import stripe

    client = stripe.StripeClient(sb.stripe.token, base_addresses={"api": sb.stripe.url})
    service = {"invoices": client.invoices, "charges": client.charges}[kind]
    return [o.to_dict() for o in service.list({"limit": 100}).auto_paging_iter()]


def test_invoices_and_charges_become_records_with_decimal_amounts(make_project: Callable[..., Path],
                                                                  sb: Sandbox) -> None:
    root = make_project(f"""
        [connections.billing]
        type = "stripe"
        base_url = "{sb.stripe.url}"
        streams = ["customers", "invoices", "charges"]
        """, f"""
        [connections.billing]
        token = "{sb.stripe.token}"
        """)
    project = Project(root)
    assert project.ingest().ok
    report = build(project)
    assert report.ok, report.errors

    invoices = [i for i in sdk_list(sb, "invoices") if i["status"] != "draft"]
    assert invoices, "the sandbox's Stripe has invoices"
    rows = {r[0]: r[1:] for r in project.query(
        "SELECT source_id, total, balance, currency, status, person_id FROM canonical.invoice").rows}
    assert set(rows) == {i["id"] for i in invoices}
    for invoice in invoices:
        total, balance, currency, status, person = rows[invoice["id"]]
        assert total == Decimal(invoice["total"]) / 100 and balance == Decimal(invoice["amount_remaining"]) / 100
        assert (currency, status) == (invoice["currency"].upper(), invoice["status"])
        assert person is not None
    kinds = project.query("SELECT DISTINCT typeof(total) FROM canonical.invoice").rows
    assert kinds == [("DECIMAL(18,2)",)]

    charges = [c for c in sdk_list(sb, "charges") if c["status"] == "succeeded"]
    assert charges, "the sandbox's Stripe has charges"
    paid = {r[0]: r[1:] for r in project.query(
        "SELECT p.source_id, p.amount, i.source_id, p.person_id FROM canonical.payment p "
        "LEFT JOIN canonical.invoice i USING (invoice_id)").rows}
    assert set(paid) == {c["id"] for c in charges}
    for charge in charges:
        amount, invoice, person = paid[charge["id"]]
        assert amount == Decimal(charge["amount_captured"] - charge["amount_refunded"]) / 100
        assert invoice == charge.get("invoice") and person is not None
