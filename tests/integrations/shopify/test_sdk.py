"""The official SDK (ShopifyAPI's ``shopify.GraphQL``) against the emulator over loopback: the emulator speaks the
Admin GraphQL API (paging, costs, the bucket, hidden fields, edits and deletions while paging, errors)."""

from __future__ import annotations

import urllib.error

import pytest

from tests.integrations.shopify.conftest import sdk

PAGE = """query Page($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name email updatedAt displayFinancialStatus
      totalPriceSet { shopMoney { amount currencyCode } } customer { id email }
      lineItems(first: 5) { nodes { sku quantity } } } }
  }
}"""


def test_orders_page_by_cursor_with_the_cost_of_each_page(shop):
    emulator = shop.emulators["shopify"]
    run = sdk(emulator)
    seen, after, pages = [], None, 0
    while True:
        body = run(PAGE, {"first": 50, "after": after})
        assert "errors" not in body
        cost = body["extensions"]["cost"]
        # 2 + 50 x (order 1 + totalPriceSet 1 + shopMoney 1 + customer 1 + lineItems (2 + 5 x 1))
        assert cost["requestedQueryCost"] == 2 + 50 * 11
        edges = body["data"]["orders"]["edges"]
        assert cost["actualQueryCost"] <= cost["requestedQueryCost"]
        seen += [e["node"]["id"] for e in edges]
        pages += 1
        info = body["data"]["orders"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
        shop.clock.advance(10)   # let the bucket refill between pages
    assert len(seen) == len(set(seen)) == len(emulator.store.records["orders"])
    assert pages == -(-len(seen) // 50)
    node = edges[-1]["node"]
    assert set(node["totalPriceSet"]["shopMoney"]) == {"amount", "currencyCode"}
    assert isinstance(node["totalPriceSet"]["shopMoney"]["amount"], str)


def test_the_bucket_throttles_and_refills(shop):
    emulator = shop.emulators["shopify"]
    run = sdk(emulator)
    first = run(PAGE, {"first": 80})   # 882 points of a 2,000 bucket
    assert first["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 2000.0
    assert first["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 100.0
    left = first["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
    assert left == 2000 - first["extensions"]["cost"]["actualQueryCost"]
    while True:   # the clock is frozen: nothing refills
        body = run(PAGE, {"first": 80})
        if "errors" in body:
            break
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert "data" not in body
    status = body["extensions"]["cost"]["throttleStatus"]
    assert status["currentlyAvailable"] < body["extensions"]["cost"]["requestedQueryCost"]
    need = body["extensions"]["cost"]["requestedQueryCost"] - status["currentlyAvailable"]
    shop.clock.advance(need / 100 + 0.01)
    assert "errors" not in run(PAGE, {"first": 80})


def test_a_query_over_the_single_query_maximum_is_refused(shop):
    body = sdk(shop.emulators["shopify"])(PAGE, {"first": 250})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["cost"] == 2 + 250 * 11 and error["extensions"]["maxCost"] == 1000
    assert "exceeds the single query max cost limit (1000)" in error["message"]


def test_a_token_without_read_customers_gets_customer_fields_hidden(shop):
    emulator = shop.emulators["shopify"]
    token = emulator.issue_token({"read_orders", "read_products"})
    run = sdk(emulator, token)
    body = run(PAGE, {"first": 5})
    assert body["data"]["orders"]["edges"]
    assert all(e["node"]["customer"] is None for e in body["data"]["orders"]["edges"])
    assert {e["extensions"]["code"] for e in body["errors"]} == {"ACCESS_DENIED"}
    assert body["errors"][0]["path"][:2] == ["orders", "edges"] and body["errors"][0]["path"][-1] == "customer"
    denied = run("{ customers(first: 5) { nodes { id email } } }")
    assert denied["data"] is None
    assert denied["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "read_customers" in denied["errors"][0]["message"]


def test_edits_and_deletions_while_paging(shop):
    emulator = shop.emulators["shopify"]
    store = emulator.store
    run = sdk(emulator)
    body = run(PAGE, {"first": 20})
    first_page = [e["node"]["id"] for e in body["data"]["orders"]["edges"]]
    edited = int(first_page[3].rsplit("/", 1)[1])
    remaining = sorted(store.records["orders"].values(), key=lambda r: (r["updatedAt"], r["_n"]))[20:]
    gone = remaining[5]["_n"]
    shop.clock.advance(60)
    store.update("orders", edited, note="gift wrap")
    store.delete("orders", gone)
    seen, after = list(first_page), body["data"]["orders"]["pageInfo"]["endCursor"]
    while after:
        shop.clock.advance(20)
        page = run(PAGE, {"first": 50, "after": after})["data"]["orders"]
        seen += [e["node"]["id"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert seen.count(f"gid://shopify/Order/{edited}") == 2   # read again after its edit, at the end
    assert seen[-1] == f"gid://shopify/Order/{edited}"
    assert f"gid://shopify/Order/{gone}" not in seen
    assert set(seen) == {r["id"] for r in store.records["orders"].values()}


def test_search_filters_and_warns_about_fields_it_ignores(shop):
    emulator = shop.emulators["shopify"]
    store = emulator.store
    run = sdk(emulator)
    shop.clock.advance(3600)
    changed = sorted(store.records["orders"])[:3]
    for number in changed:
        store.update("orders", number, note="late edit")
    since = store.records["orders"][changed[0]]["updatedAt"]
    body = run(PAGE, {"first": 50, "query": f"updated_at:>='{since}'"})
    assert sorted(int(e["node"]["id"].rsplit("/", 1)[1]) for e in body["data"]["orders"]["edges"]) == changed
    ignored = run(PAGE, {"first": 5, "query": "colour:red"})
    assert ignored["extensions"]["search"][0]["warnings"][0]["field"] == "colour"
    assert len(ignored["data"]["orders"]["edges"]) == 5


def test_bad_queries_and_tokens_answer_like_shopify(shop):
    emulator = shop.emulators["shopify"]
    run = sdk(emulator)
    unknown = run("{ orders(first: 2) { nodes { id totalPrice } } }")
    assert unknown["errors"][0]["extensions"] == {"code": "undefinedField", "typeName": "Order",
                                                 "fieldName": "totalPrice"}
    assert run("{ orders { nodes { id } } }")["errors"][0]["message"] == "you must provide one of first or last"
    syntax = run("{ orders(first: 2) { nodes { id }")
    assert syntax["errors"][0]["message"].startswith("syntax error, unexpected end of file")
    assert "mutation operations are not served" in run("mutation { x }")["errors"][0]["message"]
    fragment = run("query { shop { ...S } } fragment S on Shop { name currencyCode }")
    assert fragment["data"]["shop"] == {"name": "hub-sandbox", "currencyCode": "USD"}
    with pytest.raises(urllib.error.HTTPError) as caught:
        sdk(emulator, "shpat_wrong")("{ shop { name } }")
    assert caught.value.code == 401
