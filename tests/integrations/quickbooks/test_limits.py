"""A QuickBooks connection's own limits: ``rate_limit`` and ``batch_rate_limit`` pace the client the way the company
throttles it (Intuit's limits page: batch requests also throttled at 40 a minute per company and app), checked at
config load; over real loopback HTTP against an emulator enforcing the same limits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hub.config import load
from hub.integrations.checks import check_connections
from hub.integrations.quickbooks.source import QuickBooks, run_query
from hub.errors import ConfigError
from hub.reverse_etl import push
from hub.sandbox import Sandbox
from tests.integrations.quickbooks.test_push import INVOICES, ORDER_TYPES, books_project, by_doc, orders, write_table


@pytest.mark.parametrize("value", ["500", "[0, 60]", "[500]", "[500, 0]", "[true, 60]", "[500.5, 60]"])
def test_a_bad_rate_limit_fails_at_load_naming_the_key(make_project: Callable[..., Path], value: str) -> None:
    root = make_project(f"""
        [connections.books]
        type = "quickbooks"
        realm_id = "9341453050298431"
        batch_rate_limit = {value}
        """)
    with pytest.raises(ConfigError) as caught:
        check_connections(load(root))
    text = str(caught.value)
    assert "[connections.books] batch_rate_limit must be [requests, seconds]" in text
    assert "hub.toml:5" in text and "batch_rate_limit = [40, 60]" in text


def test_batch_rate_limit_paces_batches_below_the_company_throttle(make_project: Callable[..., Path]) -> None:
    """The emulator allows 2 batch requests per 0.5 s and 10 operations per batch; 25 orders need a lookup and three
    creates. Paced by the connection's batch_rate_limit, none of them is refused with 429.

    The connection reads once first (a query, not a batch), so its token is fetched before the push: the client counts
    a request when it starts, and a token fetched on the way would delay the first batch's arrival past the 2% margin
    the pacing leaves in so short a window."""
    with Sandbox(seed=4, people=60, only=["quickbooks"], quickbooks_batch_max=10,
                 quickbooks_batch_rate_limit=(2, 0.5)) as sb:
        project = books_project(make_project, sb, "batch_size = 10\nbatch_rate_limit = [2, 0.5]\n" + INVOICES)
        write_table(project, "order_invoice", orders(sb, 25, "L-"), ORDER_TYPES)
        with QuickBooks.api_client(project.config.connections["books"]) as client:
            assert run_query(client, f"/v3/company/{sb.quickbooks.realm}", "75", "SELECT count(*) FROM Customer")
        sb.quickbooks.requests.reset()
        report = push(project)
        assert report.ok and report.results[0].creates == 25, report.errors
        assert sb.quickbooks.requests.count("POST /v3/company/{realm}/batch") == 4
        assert sb.quickbooks.throttled == 0
        assert sorted(len(v) for v in by_doc(sb, "L-").values()) == [1] * 25


MULTI_PAYMENTS = """
[syncs.payments_to_books]
model = "canonical.order_payment"
key = "ref"
to = "books"
object = "Payment"
mode = "insert"
match = { ref = "PaymentRefNum" }
fields = { customer_id = "CustomerRef.value", amount = "TotalAmt", lines = "Line" }
"""


def test_one_payment_pays_several_invoices_through_its_lines(make_project: Callable[..., Path]) -> None:
    """``LinkedInvoice`` names one invoice; a payment of two invoices sends its lines (``Line``, JSON), one per
    invoice, and QuickBooks lowers each invoice's balance by its line."""
    import orjson

    with Sandbox(seed=4, people=60, only=["quickbooks"]) as sb:
        project = books_project(make_project, sb, INVOICES + MULTI_PAYMENTS)
        rows = orders(sb, 2, "M-")
        rows[1]["customer_id"] = rows[0]["customer_id"]
        write_table(project, "order_invoice", rows, ORDER_TYPES)
        payment_types = {"ref": "VARCHAR", "customer_id": "VARCHAR", "amount": "DECIMAL(18,2)", "lines": "VARCHAR"}
        write_table(project, "order_payment", [], payment_types)
        assert push(project).ok
        invoices = [by_doc(sb, "M-")[r["order_number"]][0] for r in rows]
        lines = [{"Amount": float(i["TotalAmt"]), "LinkedTxn": [{"TxnId": i["Id"], "TxnType": "Invoice"}]}
                 for i in invoices]
        total = sum(line["Amount"] for line in lines)
        write_table(project, "order_payment", [{"ref": "pay-M", "customer_id": rows[0]["customer_id"],
                                                "amount": f"{total:.2f}", "lines": orjson.dumps(lines).decode()}],
                    payment_types)
        report = push(project)
        assert report.ok and report.results[-1].creates == 1, report.errors
        company = sb.quickbooks.company.records
        assert [company["Invoice"][i["Id"]]["Balance"] for i in invoices] == [0.0, 0.0]
        payment = next(p for p in company["Payment"].values() if p.get("PaymentRefNum") == "pay-M")
        assert sorted(t["TxnId"] for line in payment["Line"] for t in line["LinkedTxn"]) == sorted(
            i["Id"] for i in invoices)
