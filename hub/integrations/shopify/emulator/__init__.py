"""The sandbox's Shopify: one shop's Admin GraphQL API (orders, customers, products) with the query-cost bucket.

Its customers are drawn from the seed's people (so orders join the CRM data by email); each buys a few orders of the
shop's products, some orders are guest checkouts, a few are refunded. Options: ``orders`` (exactly that many orders,
for benchmarks), ``restore_rate`` and ``bucket_size`` (the bucket; default the Standard plan's 100 points a second
and 2,000 points), ``max_query_cost`` (1,000), ``webhooks`` (``(url, secret)`` pairs that receive signed
``<kind>/delete`` deliveries).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta

from hub.integrations.shopify.emulator.server import (MAX_QUERY_COST, STANDARD_BUCKET, STANDARD_RESTORE,
                                                      ShopifyEmulator)
from hub.integrations.shopify.emulator.store import ShopStore, iso
from hub.sandbox.context import EmulatorContext
from hub.sandbox.seed import SeedData

__all__ = ["EMULATOR", "ShopifyEmulator", "ShopStore"]

MAX_CUSTOMERS = 300
PRODUCTS = [("Trail Runner Shoe", "Northwind", "Shoes", "89.00"), ("Merino Beanie", "Bluebird", "Hats", "24.50"),
            ("Canvas Tote", "Harbor", "Bags", "18.00"), ("Rain Shell Jacket", "Summit", "Jackets", "149.99"),
            ("Wool Socks (3 pack)", "Bluebird", "Socks", "21.00"), ("Daypack 20L", "Harbor", "Bags", "64.00"),
            ("Water Bottle 1L", "Keystone", "Gear", "15.75"), ("Fleece Pullover", "Summit", "Jackets", "79.00"),
            ("Camp Mug", "Keystone", "Gear", "12.00"), ("Headlamp", "Ironwood", "Gear", "34.95")]


class ShopifyEmulatorPlugin:
    """Builds the Shopify emulator of one sandbox."""

    def build(self, context: EmulatorContext, *, port: int = 0, orders: int | None = None,
              restore_rate: float = STANDARD_RESTORE, bucket_size: float = STANDARD_BUCKET,
              max_query_cost: int = MAX_QUERY_COST, webhooks: Sequence[tuple[str, str]] = ()) -> ShopifyEmulator:
        """The emulator, not started."""
        store = ShopStore(context.clock)
        if context.state is not None:
            store.load(context.state)
        else:
            seed_shop(store, context.data, context.random("seed"), orders)
        token = "shpat_" + "".join(context.random("token").choice("0123456789abcdef") for _ in range(32))
        emulator = ShopifyEmulator(store, context.clock, token=token, host=context.host, port=port, tls=context.tls,
                                   restore_rate=restore_rate, bucket_size=bucket_size, max_query_cost=max_query_cost)
        for url, secret in webhooks:
            emulator.webhooks.add(url, secret)
        return emulator


def seed_shop(store: ShopStore, data: SeedData, rng: random.Random, orders: int | None = None) -> None:
    """Customers from the seed's people with an email, their orders of the shop's products, a few guest orders."""
    start = store.clock.now() - timedelta(days=90)
    span = 90 * 86400 - 120   # seeded history ends two minutes before the clock's start

    def when() -> str:
        return iso(start + timedelta(seconds=rng.randrange(span)))

    catalog = [store.add_product(title, vendor, kind, [("Default Title", price, rng.randrange(0, 200))], at=when())
               for title, vendor, kind, price in PRODUCTS]
    customers = []
    seen: set[int] = set()
    for row in data.all_contacts():
        if row.person in seen or not row.email or "@" not in row.email or " " in row.email.strip():
            continue
        seen.add(row.person)
        customers.append(store.add_customer(row.email.strip().lower(), row.first_name, row.last_name,
                                            phone=None, at=when()))
        if len(customers) >= MAX_CUSTOMERS:
            break
    count = orders if orders is not None else max(20, len(customers) * 2)
    times = sorted(when() for _ in range(count))
    for i, at in enumerate(times):
        buyer = customers[rng.randrange(len(customers))] if customers and rng.random() > 0.1 else None
        picks = rng.sample(catalog, rng.choice((1, 1, 2, 3)))
        lines = [(p["variants"][0]["sku"], p["title"], rng.choice((1, 1, 2)), p["variants"][0]["price"]) for p in picks]
        order = store.add_order(buyer, lines, paid=rng.random() > 0.15, at=at,
                                email=None if buyer else f"guest{i}@example.com")
        if orders is None and order["displayFinancialStatus"] == "PAID" and rng.random() < 0.08:
            store.refund(order["_n"], lines[0][3], note="returned")
            order["updatedAt"] = order["refunds"][-1]["createdAt"] = at
    store.version += 1


EMULATOR = ShopifyEmulatorPlugin()
