"""Pushing to QuickBooks through the batch endpoint, over real loopback HTTP: creates found first by their match
field, sparse updates with the current SyncToken, a lost answer replayed with the same requestid (never a second
record), a stale SyncToken rejected alone and sent again by the next run, payments applied to invoices."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from hub.project import Project
from hub.reverse_etl import push, rejected_rows
from hub.sandbox.chaos import Chaos

INVOICES = """
[syncs.orders_to_books]
model = "canonical.order_invoice"
key = "order_number"
to = "books"
object = "Invoice"
mode = "upsert"
match = { order_number = "DocNumber" }
fields = { customer_id = "CustomerRef.value", amount = "Amount", note = "PrivateNote" }
"""
PAYMENTS = """
[syncs.payments_to_books]
model = "canonical.order_payment"
key = "ref"
to = "books"
object = "Payment"
mode = "insert"
match = { ref = "PaymentRefNum" }
fields = { customer_id = "CustomerRef.value", amount = "TotalAmt", invoice_id = "LinkedInvoice" }
"""


def books_project(make_project: Callable[..., Path], sb: Any, syncs: str, timeout: float = 5.0) -> Project:
    q = sb.quickbooks
    return Project(make_project(f"""
        [connections.books]
        type = "quickbooks"
        base_url = "{q.url}"
        auth_url = "{q.url}"
        realm_id = "{q.realm}"
        timeout = {timeout}
        retry_base_delay = 0.01
        {syncs}
        """, f"""
        [connections.books]
        client_id = "{q.auth.client_id}"
        client_secret = "{q.auth.client_secret}"
        refresh_token = "{q.auth.authorize()}"
        """))


def write_table(project: Project, name: str, rows: list[dict[str, Any]], types: dict[str, str]) -> None:
    with project.warehouse() as wh:
        con = wh.connect()
        con.execute("CREATE SCHEMA IF NOT EXISTS canonical")
        columns = ", ".join(f"{c} {t}" for c, t in types.items())
        con.execute(f"CREATE OR REPLACE TABLE canonical.{name} ({columns})")
        if rows:
            con.register("incoming", pa.Table.from_pylist(rows))
            con.execute(f"INSERT INTO canonical.{name} SELECT {', '.join(types)} FROM incoming")
            con.unregister("incoming")


def orders(sb: Any, n: int, prefix: str = "#") -> list[dict[str, Any]]:
    customers = sorted(sb.quickbooks.company.records["Customer"], key=int)
    return [{"order_number": f"{prefix}{5000 + i}", "customer_id": customers[i % len(customers)],
             "amount": f"{10 + i}.25", "note": f"order: {prefix}{5000 + i}"} for i in range(n)]


ORDER_TYPES = {"order_number": "VARCHAR", "customer_id": "VARCHAR", "amount": "DECIMAL(18,2)", "note": "VARCHAR"}


def by_doc(sb: Any, prefix: str = "#") -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for record in sb.quickbooks.company.records["Invoice"].values():
        if str(record.get("DocNumber", "")).startswith(prefix):
            out.setdefault(record["DocNumber"], []).append(record)
    return out


def test_invoices_are_created_in_batches_of_thirty_then_updated_sparsely(make_project, sb):
    project = books_project(make_project, sb, INVOICES)
    rows = orders(sb, 45)
    write_table(project, "order_invoice", rows, ORDER_TYPES)
    sb.quickbooks.requests.reset()
    report = push(project)
    assert report.ok, report.errors
    assert (report.results[0].creates, report.results[0].rejected) == (45, 0)
    # one lookup by DocNumber (queries as batch items), then 30 + 15 creates
    assert sb.quickbooks.requests.count("POST /v3/company/{realm}/batch") == 3
    docs = by_doc(sb)
    assert len(docs) == 45 and all(len(v) == 1 for v in docs.values())
    first = docs["#5000"][0]
    assert first["TotalAmt"] == 10.25 and first["PrivateNote"] == "order: #5000"
    assert first["CustomerRef"]["value"] == rows[0]["customer_id"]

    # a user edits the note in QuickBooks; the shop changes the amount: the update sends the amount only (sparse)
    sb.quickbooks.company.touch("Invoice", first["Id"], CustomerMemo={"value": "thanks"})
    rows[0]["amount"] = "99.99"
    write_table(project, "order_invoice", rows, ORDER_TYPES)
    report = push(project)
    assert report.ok and report.results[0].updates == 1, report.errors
    now = sb.quickbooks.company.records["Invoice"][first["Id"]]
    assert now["TotalAmt"] == 99.99 and now["SyncToken"] == "2" and now["CustomerMemo"] == {"value": "thanks"}
    assert len(by_doc(sb)) == 45

    sb.quickbooks.requests.reset()
    assert push(project).results[0].api_calls == 0 and sb.quickbooks.requests.total == 0


def test_a_batch_whose_answer_is_lost_is_replayed_with_the_same_requestid(make_project, sb):
    project = books_project(make_project, sb, INVOICES, timeout=0.5)
    write_table(project, "order_invoice", orders(sb, 30, "L-"), ORDER_TYPES)
    seen: list[str] = []
    # QuickBooks saves the first batch of creates, then answers after the client gave up (0.5 s)
    chaos = Chaos(late=1.0, hang=1.5, limit=1)

    def record(request: Any) -> None:
        if request.path.endswith("/batch") and request.arg("requestid"):   # writes (lookups carry none)
            seen.append(request.arg("requestid"))
            sb.quickbooks.chaos = chaos

    sb.quickbooks.before_request = record
    report = push(project)
    assert chaos.injected["late"] == 1
    assert report.ok, report.errors
    assert report.results[0].creates == 30 and report.results[0].rejected == 0
    assert len(seen) == 2 and seen[0] == seen[1] and len(seen[0]) <= 36     # the same requestid, sent again
    docs = by_doc(sb, "L-")
    assert len(docs) == 30 and all(len(v) == 1 for v in docs.values())        # no invoice twice
    assert rejected_rows(project, "orders_to_books") == []


def test_a_rerun_after_a_lost_batch_finds_the_invoices_instead_of_creating_them_again(make_project, sb):
    """The process died after QuickBooks saved the batch and before hub acknowledged it (here: the answer never
    came within the retries). The next run looks the rows up by DocNumber first."""
    project = books_project(make_project, sb, INVOICES, timeout=0.5)
    write_table(project, "order_invoice", orders(sb, 12, "K-"), ORDER_TYPES)
    # every answer to the batch of creates comes too late, replays included: the HTTP layer's tries run out
    chaos = Chaos(late=1.0, hang=1.5, only="POST */batch", limit=8)

    def arm(request: Any) -> None:
        if request.arg("requestid"):   # the writes, not the lookup before them
            sb.quickbooks.chaos = chaos

    sb.quickbooks.before_request = arm
    first = push(project)
    sb.quickbooks.before_request = sb.quickbooks.chaos = None
    assert not first.ok and chaos.injected["late"] >= 2
    assert rejected_rows(project, "orders_to_books") == []   # unacknowledged, not rejected
    assert len(by_doc(sb, "K-")) == 12                  # saved once, by the first batch (its replays only answered)
    report = push(project)
    assert report.ok, report.errors
    docs = by_doc(sb, "K-")
    assert len(docs) == 12 and all(len(v) == 1 for v in docs.values())


def test_a_stale_sync_token_rejects_that_record_alone_and_the_next_run_sends_it(make_project, sb):
    project = books_project(make_project, sb, INVOICES)
    rows = orders(sb, 3, "S-")
    write_table(project, "order_invoice", rows, ORDER_TYPES)
    assert push(project).ok
    target = by_doc(sb, "S-")["S-5001"][0]["Id"]
    for row in rows:
        row["amount"] = "77.00"
    write_table(project, "order_invoice", rows, ORDER_TYPES)

    def race(request: Any) -> None:   # a user saves the invoice between the pusher's read and its write
        if request.path.endswith("/batch") and sb.quickbooks.before_request is race:
            sb.quickbooks.before_request = None
            sb.quickbooks.company.touch("Invoice", target, PrivateNote="user edit")

    sb.quickbooks.before_request = race
    report = push(project)
    assert report.results[0].updates == 2 and report.results[0].rejected == 1
    assert [r["code"] for r in rejected_rows(project, "orders_to_books")] == ["5010"]
    again = push(project)
    assert again.ok and again.results[0].updates == 1, again.errors
    assert sb.quickbooks.company.records["Invoice"][target]["TotalAmt"] == 77.0


def test_payments_apply_to_their_invoice(make_project, sb):
    project = books_project(make_project, sb, INVOICES + PAYMENTS)
    rows = orders(sb, 2, "P-")
    write_table(project, "order_invoice", rows, ORDER_TYPES)
    write_table(project, "order_payment", [], {"ref": "VARCHAR", "customer_id": "VARCHAR", "amount": "DECIMAL(18,2)",
                                               "invoice_id": "VARCHAR"})
    assert push(project).ok
    invoice = by_doc(sb, "P-")["P-5000"][0]
    write_table(project, "order_payment", [{"ref": "pay-P-5000", "customer_id": rows[0]["customer_id"],
                                            "amount": rows[0]["amount"], "invoice_id": invoice["Id"]}],
                {"ref": "VARCHAR", "customer_id": "VARCHAR", "amount": "DECIMAL(18,2)", "invoice_id": "VARCHAR"})
    report = push(project)
    assert report.ok, report.errors
    assert sb.quickbooks.company.records["Invoice"][invoice["Id"]]["Balance"] == 0.0
    payments = [p for p in sb.quickbooks.company.records["Payment"].values() if p.get("PaymentRefNum") == "pay-P-5000"]
    assert len(payments) == 1 and payments[0]["Line"][0]["LinkedTxn"][0]["TxnId"] == invoice["Id"]


def test_batch_size_follows_a_company_that_takes_fewer_operations(make_project):
    """Intuit's batch page now says 10 payloads per batch; a connection can send that many (batch_size)."""
    from hub.sandbox import Sandbox

    with Sandbox(seed=4, people=60, only=["quickbooks"], quickbooks_batch_max=10) as small:
        project = books_project(make_project, small, "batch_size = 10\n" + INVOICES)
        write_table(project, "order_invoice", orders(small, 25, "B-"), ORDER_TYPES)
        small.quickbooks.requests.reset()
        report = push(project)
        assert report.ok and report.results[0].creates == 25, report.errors
        assert small.quickbooks.requests.count("POST /v3/company/{realm}/batch") == 4  # lookup, 10 + 10 + 5
