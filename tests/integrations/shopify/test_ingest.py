"""The connector through the real CLI: ``hub ingest`` pages the emulator into DuckDB, paced by the cost bucket,
incrementally, with hidden customer fields; the staging SQL builds over what it loaded."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_hub
from tests.integrations.shopify.conftest import shop_project

STAGING = Path(__file__).resolve().parents[3] / "hub" / "integrations" / "shopify" / "staging"


def _rows(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_ingest_lands_every_order_customer_and_product_then_only_changes(make_project, live_shop):
    emulator = live_shop.emulators["shopify"]
    store = emulator.store
    root = shop_project(make_project, live_shop)
    result = run_hub("ingest", cwd=root)
    assert result.returncode == 0, result.stderr
    for kind in ("orders", "customers", "products"):
        ids = {r[0] for r in _rows(root, f"SELECT id FROM raw_shopify.{kind}")}
        assert ids == {r["id"] for r in store.records[kind].values()}, kind
    order = next(r for r in store.records["orders"].values() if r["_customer"] is not None)
    total, currency, customer, status = _rows(root, "SELECT total_price, currency_code, customer_id, "
                                                    f"display_financial_status FROM raw_shopify.orders "
                                                    f"WHERE id = '{order['id']}'")[0]
    assert (total, currency, status) == (order["totalPriceSet"]["shopMoney"]["amount"], "USD",
                                         order["displayFinancialStatus"])
    assert customer == f"gid://shopify/Customer/{order['_customer']}"
    assert emulator.refused["THROTTLED"] == 0 and emulator.refused["MAX_COST_EXCEEDED"] == 0

    live_shop.clock.advance(120)
    store.update("orders", order["_n"], email="changed@example.com")
    refunded = store.refund(order["_n"], "5.00", note="damaged")
    again = run_hub("ingest", "shopify.orders", cwd=root)
    assert again.returncode == 0, again.stderr
    email, refunded_total, refunds = _rows(root, "SELECT email, total_refunded, refunds FROM raw_shopify.orders "
                                                 f"WHERE id = '{order['id']}'")[0]
    assert email == "changed@example.com"
    assert refunded_total == refunded["totalRefundedSet"]["shopMoney"]["amount"]
    assert "damaged" in refunds
    assert _rows(root, "SELECT count(*) FROM raw_shopify.orders")[0][0] == len(store.records["orders"])


def test_staging_sql_builds_over_the_raw_tables(make_project, live_shop):
    store = live_shop.emulators["shopify"].store
    root = shop_project(make_project, live_shop)
    assert run_hub("ingest", cwd=root).returncode == 0
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        def select(name: str) -> list[dict]:
            cursor = con.execute(f"SELECT * FROM ({(STAGING / name).read_text()})")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

        kinds = {r[0]: r[1] for r in con.execute(
            f"DESCRIBE SELECT * FROM ({(STAGING / 'orders.sql').read_text()})").fetchall()}
        orders, people, products = select("orders.sql"), select("customers.sql"), select("products.sql")
    assert kinds["total"] == "DECIMAL(18,2)" and kinds["tax"] == "DECIMAL(18,2)"
    assert kinds["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert len(orders) == len(store.records["orders"]) and len(people) == len(store.records["customers"])
    assert len(products) == len(store.records["products"])
    sample = next(r for r in store.records["orders"].values() if r["_customer"] is not None)
    row = next(r for r in orders if r["source_id"] == sample["id"])
    assert row["total"] == Decimal(sample["totalPriceSet"]["shopMoney"]["amount"])
    assert row["currency"] == "USD" and row["financial_status"] == sample["displayFinancialStatus"].lower()
    assert (row["person_stream"], row["person_source_id"]) == ("customers",
                                                              f"gid://shopify/Customer/{sample['_customer']}")
    assert {r["person_source_id"] for r in orders if r["person_source_id"]} <= {r["source_id"] for r in people}
    assert all(r["email"] == r["email"].lower() for r in people if r["email"])


def test_hub_build_feeds_canonical_orders(make_project, live_shop):
    root = shop_project(make_project, live_shop)
    assert run_hub("ingest", cwd=root).returncode == 0
    result = run_hub("build", cwd=root)
    assert result.returncode == 0, result.stderr
    count, linked, decimal = _rows(root, "SELECT count(*), count(person_id), "
                                         "bool_and(typeof(total) = 'DECIMAL(18,2)') FROM canonical.order")[0]
    assert count == len(live_shop.emulators["shopify"].store.records["orders"])
    # each order with a customer is that customer's person (the customers stream of the same connection)
    with_customer = _rows(root, "SELECT count(*) FROM staging.shopify_orders WHERE person_source_id IS NOT NULL")[0][0]
    assert linked == with_customer > 0 and decimal


def test_a_token_without_read_customers_lands_orders_with_the_customer_hidden(make_project, live_shop):
    emulator = live_shop.emulators["shopify"]
    token = emulator.issue_token({"read_orders", "read_products"})
    root = shop_project(make_project, live_shop, token=token)
    result = run_hub("ingest", "shopify.orders", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "Shopify hid customer" in result.stdout + result.stderr
    assert "ACCESS_DENIED" in result.stdout + result.stderr
    assert _rows(root, "SELECT count(*), count(customer_id) FROM raw_shopify.orders")[0] == (
        len(emulator.store.records["orders"]), 0)
    denied = run_hub("ingest", "shopify.customers", cwd=root)
    assert denied.returncode != 0
    assert "read_customers" in denied.stderr and "Traceback" not in denied.stderr
    assert token not in denied.stderr + denied.stdout


def test_a_bad_api_version_is_refused_before_any_request(make_project, live_shop):
    emulator = live_shop.emulators["shopify"]
    root = shop_project(make_project, live_shop, extra='api_version = "2025-13"')
    result = run_hub("ingest", cwd=root)
    assert result.returncode != 0
    assert "not a Shopify stable version" in result.stderr and "hub.toml:5" in result.stderr
    assert emulator.requests.total == 0


def test_an_order_edited_while_the_ingest_pages_lands_once_and_its_edit_next_run(make_project, live_shop):
    emulator = live_shop.emulators["shopify"]
    store = emulator.store
    first = min(store.records["orders"].values(), key=lambda r: (r["updatedAt"], r["_n"]))
    old_email = first["email"]
    seen = {"pages": 0}

    def edit_after_the_second_page(request):
        if request.path.endswith("/graphql.json") and b"HubOrders" in request.body:
            seen["pages"] += 1
            if seen["pages"] == 3:   # the first order was on page one: the edit moves it behind the cursor
                live_shop.clock.advance(5)
                store.update("orders", first["_n"], email="edited@example.com")
        return None

    emulator.before_request = edit_after_the_second_page
    root = shop_project(make_project, live_shop)
    result = run_hub("ingest", "shopify.orders", cwd=root)
    assert result.returncode == 0, result.stderr
    assert seen["pages"] > 3
    assert _rows(root, f"SELECT count(*), max(email) FROM raw_shopify.orders WHERE id = '{first['id']}'")[0] == (
        1, old_email)
    assert _rows(root, "SELECT count(*), count(DISTINCT id) FROM raw_shopify.orders")[0] == (
        len(store.records["orders"]), len(store.records["orders"]))
    emulator.before_request = None
    again = run_hub("ingest", "shopify.orders", cwd=root)
    assert again.returncode == 0, again.stderr
    assert _rows(root, f"SELECT count(*), max(email) FROM raw_shopify.orders WHERE id = '{first['id']}'")[0] == (
        1, "edited@example.com")
