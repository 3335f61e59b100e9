"""The part of the Admin GraphQL schema the emulator serves: types, fields, the scope each needs, and their kind.

Kinds decide a field's cost (shopify.dev ``graphql-admin/rate-limits``: scalars and enums 0, objects 1, connections
sized by ``first``/``last``); ``scope`` is the access scope a token needs to read the field (``read_orders``,
``read_customers``, ``read_products``): without it the field answers null with an ``ACCESS_DENIED`` error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SCALAR, OBJECT, CONNECTION, LIST = "scalar", "object", "connection", "list"
CONNECTION_ARGS = frozenset({"first", "last", "after", "before", "query", "sortKey", "reverse"})
NESTED_ARGS = frozenset({"first", "last", "after", "before", "reverse"})


@dataclass(frozen=True)
class FieldDef:
    kind: str
    type: str | None = None            # the object (or node) type of object, list and connection fields
    args: frozenset[str] = frozenset()
    scope: str | None = None
    #: (store, parent) -> value; default: parent[name]
    resolve: Callable[[Any, dict[str, Any]], Any] | None = None
    non_null: bool = False
    sort_keys: frozenset[str] = frozenset()


S = FieldDef(SCALAR)


def obj(kind: str, **kw: Any) -> FieldDef:
    return FieldDef(OBJECT, kind, **kw)


def money() -> FieldDef:
    return obj("MoneyBag")


def top(kind: str, scope: str, sort_keys: tuple[str, ...]) -> FieldDef:
    return FieldDef(CONNECTION, kind, CONNECTION_ARGS, scope, non_null=True, sort_keys=frozenset(sort_keys))


def _customer(store: Any, parent: dict[str, Any]) -> Any:
    return store.customer_of(parent)


TYPES: dict[str, dict[str, FieldDef]] = {
    "QueryRoot": {
        "orders": top("Order", "read_orders", ("ID", "UPDATED_AT", "CREATED_AT", "PROCESSED_AT", "ORDER_NUMBER")),
        "customers": top("Customer", "read_customers", ("ID", "UPDATED_AT", "CREATED_AT", "NAME")),
        "products": top("Product", "read_products", ("ID", "UPDATED_AT", "CREATED_AT", "TITLE")),
        "order": FieldDef(OBJECT, "Order", frozenset({"id"}), "read_orders"),
        "customer": FieldDef(OBJECT, "Customer", frozenset({"id"}), "read_customers"),
        "product": FieldDef(OBJECT, "Product", frozenset({"id"}), "read_products"),
        "shop": obj("Shop", non_null=True),
    },
    "Shop": {"id": S, "name": S, "myshopifyDomain": S, "currencyCode": S, "ianaTimezone": S},
    "PageInfo": {"hasNextPage": S, "hasPreviousPage": S, "startCursor": S, "endCursor": S},
    "MoneyBag": {"shopMoney": obj("MoneyV2"), "presentmentMoney": obj("MoneyV2")},
    "MoneyV2": {"amount": S, "currencyCode": S},
    "Order": {
        "id": S, "legacyResourceId": S, "name": S, "email": S, "phone": S, "note": S, "tags": S, "test": S,
        "createdAt": S, "updatedAt": S, "processedAt": S, "cancelledAt": S, "cancelReason": S, "closedAt": S,
        "displayFinancialStatus": S, "displayFulfillmentStatus": S, "currencyCode": S,
        "totalPriceSet": money(), "subtotalPriceSet": money(), "totalTaxSet": money(),
        "totalRefundedSet": money(), "totalDiscountsSet": money(),
        "customer": obj("Customer", scope="read_customers", resolve=_customer),
        "lineItems": FieldDef(CONNECTION, "LineItem", NESTED_ARGS),
        "refunds": FieldDef(LIST, "Refund", frozenset({"first"})),
    },
    "LineItem": {"id": S, "name": S, "title": S, "sku": S, "quantity": S, "originalUnitPriceSet": money(),
                 "discountedTotalSet": money()},
    "Refund": {"id": S, "createdAt": S, "note": S, "totalRefundedSet": money()},
    "Customer": {
        "id": S, "legacyResourceId": S, "email": S, "firstName": S, "lastName": S, "displayName": S, "phone": S,
        "state": S, "note": S, "tags": S, "verifiedEmail": S, "createdAt": S, "updatedAt": S,
        "numberOfOrders": S, "amountSpent": obj("MoneyV2"),
    },
    "Product": {
        "id": S, "legacyResourceId": S, "title": S, "handle": S, "vendor": S, "productType": S, "status": S,
        "tags": S, "createdAt": S, "updatedAt": S, "publishedAt": S, "totalInventory": S,
        "variants": FieldDef(CONNECTION, "ProductVariant", NESTED_ARGS),
    },
    "ProductVariant": {"id": S, "title": S, "sku": S, "price": S, "inventoryQuantity": S},
}
#: what a connection field's selections may name besides its nodes
CONNECTION_FIELDS = frozenset({"edges", "nodes", "pageInfo"})
EDGE_FIELDS = frozenset({"cursor", "node"})
MAX_PAGE = 250
