"""Deletions: the emulator's signed ``customers/delete`` and ``orders/delete`` deliveries through ``hub serve``'s
intake flag the ingested raw rows, so the records leave staging; a forged delivery is refused."""

from __future__ import annotations

import httpx
import orjson
import pytest

from hub.integrations.shopify.webhooks import SCHEME
from hub.project import Project
from hub.serve import Service
from tests.conftest import run_hub
from tests.integrations.shopify.conftest import shop_project

SECRET = "shpss_webhook_secret"


def test_delete_webhooks_flag_the_raw_rows_and_staging_drops_them(make_project, live_shop):
    emulator = live_shop.emulators["shopify"]
    store = emulator.store
    root = shop_project(make_project, live_shop)
    with open(root / "secrets.toml", "a") as secrets:
        secrets.write(f'webhook_secret = "{SECRET}"\n')
    assert run_hub("ingest", cwd=root).returncode == 0
    project = Project(root)
    customer = next(c for c in store.records["customers"].values() if c["numberOfOrders"] == "0")
    buyer = next(c for c in store.records["customers"].values() if c["numberOfOrders"] != "0")
    with pytest.raises(ValueError, match="have orders"):   # Shopify refuses to delete a customer with orders
        store.delete("customers", buyer["_n"])
    order = next(iter(store.records["orders"].values()))
    with Service(project, port=0) as service:
        emulator.webhooks.add(f"{service.url}/webhooks/shopify", SECRET)
        store.delete("customers", customer["_n"])
        store.delete("orders", order["_n"])
        emulator.webhooks.drain()
        forged = httpx.post(f"{service.url}/webhooks/shopify", content=b'{"id": 1}',
                            headers={"X-Shopify-Hmac-Sha256": "bm9wZQ==", "X-Shopify-Topic": "orders/delete",
                                     "X-Shopify-Webhook-Id": "w-forged"})
        assert forged.status_code == 401
    assert [status for _, _, status in emulator.webhooks.delivered] == [200, 200]
    events = project.query("SELECT type, data FROM raw_shopify.events ORDER BY type").rows
    assert [(t, orjson.loads(d)) for t, d in events] == [("customers/delete", {"id": customer["_n"]}),
                                                        ("orders/delete", {"id": order["_n"]})]
    flagged = project.query("SELECT id FROM raw_shopify.customers WHERE deleted").rows
    assert flagged == [(customer["id"],)]
    assert project.query("SELECT id FROM raw_shopify.orders WHERE deleted").rows == [(order["id"],)]
    staged = project.query("SELECT count(*) FROM raw_shopify.customers WHERE NOT coalesce(deleted, false)").scalar()
    assert staged == len(store.records["customers"])
    again = run_hub("ingest", cwd=root)   # a later pull does not bring the deleted records back
    assert again.returncode == 0, again.stderr
    assert project.query(f"SELECT deleted FROM raw_shopify.customers WHERE id = '{customer['id']}'").rows == [(True,)]


def test_deleted_maps_topics_to_the_connectors_ids():
    import pyarrow as pa

    rows = pa.table({"id": ["a", "b", "c", "d"], "created": [1, 2, 3, 4],
                     "type": ["customers/delete", "orders/delete", "customers/update", "products/delete"],
                     "data": ['{"id": 7}', '{"id": 8}', '{"id": 9}', '{"id": "x"}']})
    assert SCHEME.deleted(rows) == {"customers": ["gid://shopify/Customer/7"], "orders": ["gid://shopify/Order/8"]}
