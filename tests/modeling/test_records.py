"""Business records (order, invoice, payment, lead, deal, ticket): stable ids, links to persons, decimal amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.errors import ModelError
from hub.modeling.builder import build
from tests.modeling.raw import hubspot_contact


def ok(project):
    report = build(project)
    assert report.ok, report.errors
    return report


ORDERS = """
    -- materialized: view
    -- entity: order
    SELECT source_id, order_number, email, total, currency, financial_status, updated_at FROM (VALUES
        ('o1', '#1001', ' ANN@acme.com ', '19.99', 'usd', 'paid', TIMESTAMPTZ '2025-01-01'),
        ('o2', '#1002', 'nobody@else.io', '5.10', 'EUR', 'pending', TIMESTAMPTZ '2025-01-02'))
        AS t(source_id, order_number, email, total, currency, financial_status, updated_at)
    """
INVOICES = """
    -- materialized: view
    -- entity: invoice
    SELECT source_id, number, email, total, balance, currency, order_ref, updated_at FROM (VALUES
        ('i1', 'INV-1', 'ann@acme.com', '19.99', '0.00', 'USD', '#1001', TIMESTAMPTZ '2025-01-03'),
        ('i2', 'INV-2', NULL, '7.00', '7.00', 'USD', 'no-such-order', TIMESTAMPTZ '2025-01-03'))
        AS t(source_id, number, email, total, balance, currency, order_ref, updated_at)
    """
PAYMENTS = """
    -- materialized: view
    -- entity: payment
    SELECT source_id, amount, currency, invoice_stream, invoice_source_id, updated_at FROM (VALUES
        ('p1', '19.99', 'USD', 'books_invoices', 'i1', TIMESTAMPTZ '2025-01-04'))
        AS t(source_id, amount, currency, invoice_stream, invoice_source_id, updated_at)
    """


def _write_shop(write_raw, write_model):
    write_raw("hubspot", "contacts", [hubspot_contact("h1", email="ann@acme.com", firstname="Ann")])
    write_model("models/staging/shop_orders.sql", ORDERS)
    write_model("models/staging/books_invoices.sql", INVOICES)
    # a project's own payments: their invoices are the invoice model's rows, whose connection is its table name
    write_model("models/staging/books_payments.sql", PAYMENTS)


def test_orders_link_to_their_customer_by_email_and_keep_amounts_as_decimals(project, write_raw, write_model):
    _write_shop(write_raw, write_model)
    ok(project)
    person = project.query("SELECT person_id FROM canonical.person").rows
    assert len(person) == 1
    rows = project.query("SELECT source_id, person_id, email, total, currency FROM canonical.order "
                         "ORDER BY source_id").rows
    assert rows == [("o1", person[0][0], "ann@acme.com", Decimal("19.99"), "USD"),
                    ("o2", None, "nobody@else.io", Decimal("5.10"), "EUR")]
    types = dict(project.query("SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_schema = 'canonical' AND table_name = 'order'").rows)
    assert types["total"] == "DECIMAL(18,2)" and types["order_id"] == "VARCHAR"


def test_an_invoice_names_its_order_and_a_payment_its_invoice(project, write_raw, write_model):
    _write_shop(write_raw, write_model)
    ok(project)
    orders = dict(project.query("SELECT order_number, order_id FROM canonical.order").rows)
    invoices = project.query("SELECT source_id, order_id, invoice_id, balance FROM canonical.invoice "
                             "ORDER BY source_id").rows
    assert [(r[0], r[1], r[3]) for r in invoices] == [("i1", orders["#1001"], Decimal("0.00")),
                                                       ("i2", None, Decimal("7.00"))]
    payments = project.query("SELECT source_id, invoice_id, amount FROM canonical.payment").rows
    # Links stay within one connection: a project's own models are each their own connection (their table name), so
    # these payments cannot name those invoices; an integration's staging models share their connection.
    assert payments == [("p1", None, Decimal("19.99"))]


def test_record_ids_are_stable_across_rebuilds_and_full_refresh(project, write_raw, write_model):
    _write_shop(write_raw, write_model)
    ok(project)
    before = project.query("SELECT source_id, order_id FROM canonical.order ORDER BY 1").rows
    write_model("models/staging/shop_orders.sql", ORDERS.replace("'19.99'", "'21.00'"))
    ok(project)
    build(project, full_refresh=True)
    after = project.query("SELECT source_id, order_id, total FROM canonical.order ORDER BY 1").rows
    assert [r[:2] for r in after] == before and after[0][2] == Decimal("21.00")
    assert len({r[1] for r in after}) == 2


def test_an_unknown_entity_names_the_known_ones(project, write_model):
    write_model("models/staging/x.sql", "-- materialized: view\n-- entity: shipment\nSELECT 1 AS source_id\n")
    with pytest.raises(ModelError, match=r"unknown entity 'shipment' \(use one of .*order, invoice, payment, ticket"):
        build(project)
