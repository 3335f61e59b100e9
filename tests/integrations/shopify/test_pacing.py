"""Pacing by the query-cost bucket: the vendor-free CostBucket, the connector against a slow bucket (it waits instead
of being THROTTLED), a THROTTLED answer waited out, page sizes chosen from the cost, late answers retried."""

from __future__ import annotations

import pytest

from hub.integrations.shopify.source import MAX_QUERY_COST, Shopify
from hub.project import Project
from hub.sandbox import Sandbox
from hub.sandbox.chaos import Chaos
from hub.sources.base import ReadState
from hub.sources.ratelimit import CostBucket
from tests.integrations.shopify.conftest import NOW, shop_project


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_cost_bucket_waits_for_the_points_a_request_needs():
    t = FakeTime()
    bucket = CostBucket(clock=t.clock, sleep=t.sleep)
    assert bucket.acquire(500) == 0   # nothing reported yet: nothing held back
    bucket.observe(2000, 300, 100)
    assert bucket.acquire(500) == pytest.approx(2.0)   # 200 points short at 100 a second
    assert bucket.estimate() == pytest.approx(0)       # the 500 count as spent until the next report
    t.now += 1
    assert bucket.estimate() == pytest.approx(100)
    bucket.observe(2000, 1900, 100)
    t.now += 60
    assert bucket.estimate() == 2000                   # never more than the bucket holds
    assert bucket.acquire(5000) == 0                   # asking more than the bucket holds waits for a full one


def _connector(make_project, sb, **options) -> Shopify:
    root = shop_project(make_project, sb, extra="\n".join(f"{k} = {v}" for k, v in options.items()))
    return Shopify.connect(Project(root).config.connection("shopify"))


def _read_all(connector: Shopify, stream: str) -> tuple[list[str], ReadState]:
    state = ReadState()
    tables = connector.read(connector.streams[stream], None, state)
    ids = [i for table in tables for i in table.column("id").to_pylist()]
    connector.client.close()
    return ids, state


def test_the_connector_waits_for_the_bucket_instead_of_being_throttled(make_project):
    with Sandbox(seed=9, people=80, now=NOW, only={"shopify"}, shopify_orders=400, shopify_restore_rate=2000.0,
                 shopify_bucket_size=2000.0) as sb:
        emulator = sb.emulators["shopify"]
        connector = _connector(make_project, sb)
        ids, state = _read_all(connector, "orders")
        assert sorted(ids) == sorted(r["id"] for r in emulator.store.records["orders"].values())
        assert emulator.refused == {"THROTTLED": 0, "MAX_COST_EXCEEDED": 0}
        assert connector.bucket.waited > 0          # the pages cost more than the bucket restores between them
        per_node = connector.node_cost["orders"]
        assert 2 + connector._page_size("orders") * per_node <= MAX_QUERY_COST
        assert state.max_cursor is not None


def test_a_throttled_answer_is_waited_out_and_asked_again(make_project):
    with Sandbox(seed=9, people=80, now=NOW, only={"shopify"}, shopify_orders=120, shopify_restore_rate=1000.0,
                 shopify_bucket_size=2000.0) as sb:
        emulator = sb.emulators["shopify"]
        connector = _connector(make_project, sb)
        drained = False

        def drain(request):   # another app of the same token spends the bucket behind the connector's back
            nonlocal drained
            if not drained and emulator.bucket().spent > 0:
                drained = True
                bucket = emulator.bucket()
                with bucket.lock:
                    bucket.available = 0
            return None

        emulator.before_request = drain
        ids, _ = _read_all(connector, "orders")
        assert drained and emulator.refused["THROTTLED"] >= 1
        assert sorted(ids) == sorted(r["id"] for r in emulator.store.records["orders"].values())


def test_late_answers_are_asked_again_and_nothing_is_lost(make_project):
    with Sandbox(seed=9, people=80, now=NOW, only={"shopify"}, shopify_orders=150, shopify_restore_rate=50000.0,
                 shopify_bucket_size=50000.0) as sb:
        emulator = sb.emulators["shopify"]
        emulator.chaos = Chaos(late=1.0, hang=1.0, limit=2, seed=3)
        connector = _connector(make_project, sb, timeout=0.3, retry_base_delay=0.01)
        ids, _ = _read_all(connector, "orders")
        assert emulator.chaos.injected.get("late") == 2
        assert sorted(ids) == sorted(r["id"] for r in emulator.store.records["orders"].values())


def test_orders_with_more_lines_than_a_page_asks_for_get_all_of_them(make_project):
    import orjson

    with Sandbox(seed=9, people=40, now=NOW, only={"shopify"}, shopify_orders=30, shopify_restore_rate=50000.0,
                 shopify_bucket_size=50000.0) as sb:
        store = sb.emulators["shopify"].store
        big = store.add_order(None, [(f"SKU-{i}", f"Item {i}", 1, "1.50") for i in range(12)], email="bulk@example.com")
        connector = _connector(make_project, sb)
        state = ReadState()
        rows = [r for t in connector.read(connector.streams["orders"], None, state) for r in t.to_pylist()]
        connector.client.close()
        row = next(r for r in rows if r["id"] == big["id"])
        assert [line["sku"] for line in orjson.loads(row["line_items"])] == [f"SKU-{i}" for i in range(12)]
        assert row["total_price"] == big["totalPriceSet"]["shopMoney"]["amount"]
        assert len(rows) == len(store.records["orders"])
