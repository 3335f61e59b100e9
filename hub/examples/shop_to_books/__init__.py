"""shop-to-books: every Shopify order becomes exactly one QuickBooks invoice; a paid order a payment against it, a
refund a credit memo. The buyer is found in QuickBooks by email, else created, and the invoice names that customer
through the sync's ``refs`` (the id the customers sync wrote)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.examples import Example

if TYPE_CHECKING:
    from hub.examples.runner import ExampleRun

BOOKS = "HUB__CONNECTIONS__BOOKS__"


REFUNDS = 4   # paid orders of the seeded shop refunded (returned) before the first run


def before(run: ExampleRun) -> None:
    """Point QuickBooks' OAuth token endpoint at the emulator too (the runner sets only base_url and the secrets);
    on a new shop, have a few paid orders returned, so the first run has refunds to book."""
    from hub.project import Project

    run.environ[BOOKS + "AUTH_URL"] = run.sandbox.emulators["quickbooks"].url
    run.project = Project(run.directory, environ=run.environ)
    store = run.sandbox.emulators["shopify"].store
    with store.lock:
        if any(o["refunds"] for o in store.records["orders"].values()):
            return
        paid = sorted((o for o in store.records["orders"].values() if o["displayFinancialStatus"] == "PAID"),
                      key=lambda o: o["_n"])
    for order in paid[-REFUNDS:]:
        store.refund(order["_n"], order["lineItems"][0]["originalUnitPriceSet"]["shopMoney"]["amount"],
                     note="returned")


def _books(run: ExampleRun) -> dict[str, dict[str, Any]]:
    company = run.sandbox.emulators["quickbooks"].company
    with company._lock:
        return {kind: {str(k): dict(v) for k, v in company.records.get(kind, {}).items()}
                for kind in ("Customer", "Invoice", "Payment", "CreditMemo")}


def _by_doc(records: dict[str, Any], field: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records.values():
        doc = str(record.get(field) or "")
        if doc.startswith("#"):
            counts[doc] = counts.get(doc, 0) + 1
    return counts


def _summary(run: ExampleRun, label: str) -> None:
    books = _books(run)
    invoices, payments = _by_doc(books["Invoice"], "DocNumber"), _by_doc(books["Payment"], "PaymentRefNum")
    memos = _by_doc(books["CreditMemo"], "DocNumber")
    orders = run.project.query("SELECT count(*) FROM books.invoices").scalar()
    twice = sum(1 for n in invoices.values() if n > 1)
    run.echo(f"  {label}: {orders} orders -> {len(invoices)} invoices ({twice} orders with more than one), "
             f"{len(payments)} payments, {len(memos)} credit memos in QuickBooks")


def after(run: ExampleRun) -> None:
    """Say what the push made; then a new paid order and a refund in the shop, and one more run."""
    echo = run.echo
    echo("")
    echo("what happened:")
    _summary(run, "first run")
    store = run.sandbox.emulators["shopify"].store
    with store.lock:
        buyer = min(store.records["customers"].values(), key=lambda c: c["_n"])
        refundable = [o for o in store.records["orders"].values()
                      if o["displayFinancialStatus"] == "PAID" and o.get("email") and not o.get("cancelledAt")]
        target = min(refundable, key=lambda o: o["_n"])
    order = store.add_order(buyer, [("SKU-EX-1", "Example mug", 2, "12.50")], paid=True)
    store.refund(target["_n"], "5.00", note="damaged")
    echo(f"  in the shop: new paid order {order['name']} by {buyer['email']}; order {target['name']} refunded 5.00")
    run.run()
    echo("")
    _summary(run, "after the second run")
    books = _books(run)
    made = [i for i in books["Invoice"].values() if i.get("DocNumber") == order["name"]]
    memo = [m for m in books["CreditMemo"].values() if m.get("DocNumber") == f"{target['name']}-R"]
    if made:
        echo(f"  order {order['name']} -> invoice {made[0]['Id']} for {made[0].get('TotalAmt')} "
             f"(customer {made[0]['CustomerRef']['value']})")
    if memo:
        echo(f"  refund of {target['name']} -> credit memo {memo[0]['Id']} for {memo[0].get('TotalAmt')}")


EXAMPLE = Example(
    name="shop-to-books", title="Shop -> books",
    shows="each Shopify order becomes one QuickBooks invoice (customer found or created by email); "
          "paid orders a payment, refunds a credit memo",
    emulators=("shopify", "quickbooks"), package=__name__, before=before, after=after,
    # a shop of 150 orders: Shopify's query-cost pacing (its real rate) keeps the first ingest within seconds
    sandbox={"shopify_orders": 150})
