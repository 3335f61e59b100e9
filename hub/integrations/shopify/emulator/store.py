"""The emulated shop's records (orders, customers, products), its search syntax and its cursor paging.

Records are kept as the GraphQL nodes render them (``id`` a ``gid://shopify/Order/1001`` GID, timestamps ISO 8601 to
the second with ``Z``, money as ``MoneyBag`` with decimal-string amounts); an order names its customer by id.
Top-level connections page by key, as Shopify's cursors do: the cursor holds the sort value and id of the last node,
and the next page starts after that pair, so a record edited mid-read moves behind the cursor (its ``updatedAt`` is
now) and is read again at the end, and one deleted mid-read is simply no longer there. ``query`` takes Shopify's
search syntax for the fields served here (``updated_at:>='2024-01-01T00:00:00Z'``, ``created_at:<...``, ``email:``,
``status:``); a term on another field is ignored with a warning in ``extensions.search``, as Shopify does.
"""

from __future__ import annotations

import base64
import bisect
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from hub.sandbox.clock import AnyClock

KINDS = {"Order": "orders", "Customer": "customers", "Product": "products"}
SORT_FIELDS = {"ID": "_n", "UPDATED_AT": "updatedAt", "CREATED_AT": "createdAt", "PROCESSED_AT": "processedAt",
               "ORDER_NUMBER": "_n", "NAME": "displayName", "TITLE": "title"}
SEARCH_FIELDS = {"updated_at": "updatedAt", "created_at": "createdAt", "processed_at": "processedAt",
                 "email": "email", "status": "status", "financial_status": "displayFinancialStatus"}
_TERM = re.compile(r"""\s*(?:(?P<field>[a-z_]+):(?P<op><=|>=|<|>)?"""
                   r"""(?:'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<bare>[^\s)]+))"""
                   r"""|(?P<word>AND|OR|NOT|[^\s:]+))""")


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


class SearchError(ValueError):
    pass


@dataclass
class Search:
    """A parsed ``query`` argument: the filters served, and warnings for the terms ignored."""

    filters: list[tuple[str, str, str]] = field(default_factory=list)   # (record field, op, value)
    warnings: list[dict[str, str]] = field(default_factory=list)

    def matches(self, record: dict[str, Any]) -> bool:
        for name, op, value in self.filters:
            have = record.get(name)
            if have is None:
                return False
            have = str(have).lower() if op == ":" else str(have)
            if op == ":" and have != value.lower():
                return False
            if op == ">" and not have > value or op == ">=" and not have >= value:
                return False
            if op == "<" and not have < value or op == "<=" and not have <= value:
                return False
        return True


def parse_search(text: str | None) -> Search:
    """Shopify's search syntax, for ``field:value`` / ``field:>value`` terms joined by spaces or AND."""
    search = Search()
    if not text:
        return search
    for match in _TERM.finditer(text):
        if match.group("word"):
            if match.group("word") in ("OR", "NOT"):
                raise SearchError(f"the emulator does not serve {match.group('word')} in search queries")
            continue
        name = match.group("field")
        value = next(v for v in (match.group("sq"), match.group("dq"), match.group("bare")) if v is not None)
        if name not in SEARCH_FIELDS:
            search.warnings.append({"field": name, "message": f"Invalid search field for this query."})
            continue
        if name.endswith("_at"):
            value = _normal_time(value)
        search.filters.append((SEARCH_FIELDS[name], match.group("op") or ":", value))
    return search


def _normal_time(value: str) -> str:
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise SearchError(f"'{value}' is not a date or time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return iso(parsed)


def encode_cursor(sort_value: Any, number: int) -> str:
    return base64.b64encode(orjson.dumps({"last_id": number, "last_value": sort_value})).decode()


def decode_cursor(cursor: str) -> tuple[Any, int]:
    try:
        data = orjson.loads(base64.b64decode(cursor, validate=True))
        return data["last_value"], int(data["last_id"])
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise SearchError("Invalid cursor") from None


class ShopStore:
    """The shop's records; every read and change holds ``lock``."""

    def __init__(self, clock: AnyClock, currency: str = "USD") -> None:
        self.clock = clock
        self.currency = currency
        self.lock = threading.RLock()
        self.records: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in KINDS.values()}
        self.numbers = {kind: 1000 for kind in KINDS.values()}
        #: called with (topic, payload) for every change, for webhook deliveries
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self.version = 0   # bumped by every change; the sorted indexes are rebuilt when it moved
        self._indexes: dict[tuple[str, str], tuple[int, list[tuple[Any, int]], list[dict[str, Any]]]] = {}

    def now(self) -> str:
        return iso(self.clock.now())

    def _next(self, kind: str) -> int:
        self.version += 1
        self.numbers[kind] += 1
        return self.numbers[kind]

    def _notify(self, topic: str, payload: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(topic, payload)

    # --- writes (the test's and the seed's side of the shop) -------------------------------------------------

    def add_customer(self, email: str | None, first: str | None, last: str | None, *, phone: str | None = None,
                     at: str | None = None) -> dict[str, Any]:
        with self.lock:
            n = self._next("customers")
            when = at or self.now()
            record = {"_n": n, "id": gid("Customer", n), "legacyResourceId": str(n), "email": email,
                      "firstName": first, "lastName": last,
                      "displayName": " ".join(p for p in (first, last) if p) or email or "",
                      "phone": phone, "state": "ENABLED", "note": None, "tags": [], "verifiedEmail": True,
                      "createdAt": when, "updatedAt": when, "numberOfOrders": "0",
                      "amountSpent": {"amount": "0.0", "currencyCode": self.currency}}
            self.records["customers"][n] = record
            return record

    def add_order(self, customer: dict[str, Any] | None, lines: list[tuple[str, str, int, str]], *,
                  tax_rate: str = "0.08", paid: bool = True, at: str | None = None,
                  email: str | None = None) -> dict[str, Any]:
        """An order of ``lines`` (sku, name, quantity, unit price as a decimal string)."""
        from decimal import Decimal

        with self.lock:
            n = self._next("orders")
            when = at or self.now()
            subtotal = sum((Decimal(price) * qty for _, _, qty, price in lines), Decimal("0"))
            tax = (subtotal * Decimal(tax_rate)).quantize(Decimal("0.01"))
            items = [{"id": gid("LineItem", n * 100 + i), "name": name, "title": name, "sku": sku,
                      "quantity": qty, "originalUnitPriceSet": self.money(price),
                      "discountedTotalSet": self.money(str(Decimal(price) * qty))}
                     for i, (sku, name, qty, price) in enumerate(lines, start=1)]
            record = {"_n": n, "id": gid("Order", n), "legacyResourceId": str(n), "name": f"#{n}",
                      "email": email if email is not None else (customer or {}).get("email"),
                      "phone": None, "note": None, "tags": [], "test": False,
                      "createdAt": when, "updatedAt": when, "processedAt": when, "cancelledAt": None,
                      "cancelReason": None, "closedAt": None,
                      "displayFinancialStatus": "PAID" if paid else "PENDING",
                      "displayFulfillmentStatus": "UNFULFILLED", "currencyCode": self.currency,
                      "totalPriceSet": self.money(str(subtotal + tax)), "subtotalPriceSet": self.money(str(subtotal)),
                      "totalTaxSet": self.money(str(tax)), "totalRefundedSet": self.money("0.00"),
                      "totalDiscountsSet": self.money("0.00"),
                      "_customer": customer["_n"] if customer else None, "lineItems": items, "refunds": []}
            self.records["orders"][n] = record
            if customer is not None:
                customer["numberOfOrders"] = str(int(customer["numberOfOrders"]) + 1)
                customer["amountSpent"] = {"amount": str(Decimal(customer["amountSpent"]["amount"]) + subtotal + tax),
                                           "currencyCode": self.currency}
            return record

    def add_product(self, title: str, vendor: str, kind: str, variants: list[tuple[str, str, int]], *,
                    at: str | None = None) -> dict[str, Any]:
        with self.lock:
            n = self._next("products")
            when = at or self.now()
            record = {"_n": n, "id": gid("Product", n), "legacyResourceId": str(n), "title": title,
                      "handle": re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-"), "vendor": vendor,
                      "productType": kind, "status": "ACTIVE", "tags": [], "createdAt": when, "updatedAt": when,
                      "publishedAt": when, "totalInventory": sum(q for _, _, q in variants),
                      "variants": [{"id": gid("ProductVariant", n * 100 + i), "title": t, "sku": f"SKU-{n}-{i}",
                                    "price": price, "inventoryQuantity": q}
                                   for i, (t, price, q) in enumerate(variants, start=1)]}
            self.records["products"][n] = record
            return record

    def money(self, amount: str) -> dict[str, Any]:
        shop = {"amount": amount, "currencyCode": self.currency}
        return {"shopMoney": shop, "presentmentMoney": dict(shop)}

    def update(self, kind: str, number: int, **changes: Any) -> dict[str, Any]:
        """Change a record as an admin edit does: its ``updatedAt`` becomes now."""
        with self.lock:
            record = self.records[kind][number]
            record.update(changes)
            record["updatedAt"] = self.now()
            self.version += 1
            return record

    def refund(self, number: int, amount: str, note: str | None = None) -> dict[str, Any]:
        """Refund part or all of an order: a Refund, totalRefundedSet and the financial status follow."""
        from decimal import Decimal

        with self.lock:
            order = self.records["orders"][number]
            refunded = Decimal(order["totalRefundedSet"]["shopMoney"]["amount"]) + Decimal(amount)
            total = Decimal(order["totalPriceSet"]["shopMoney"]["amount"])
            order["refunds"] = [*order["refunds"], {"id": gid("Refund", number * 10 + len(order["refunds"]) + 1),
                                                   "createdAt": self.now(), "note": note,
                                                   "totalRefundedSet": self.money(amount)}]
            order["totalRefundedSet"] = self.money(str(refunded))
            order["displayFinancialStatus"] = "REFUNDED" if refunded >= total else "PARTIALLY_REFUNDED"
            order["updatedAt"] = self.now()
            self.version += 1
            return order

    def delete(self, kind: str, number: int) -> None:
        """Delete a record; Shopify then no longer returns it and sends ``<kind>/delete`` with its id. A customer
        who placed orders cannot be deleted (``customerDelete``), as in Shopify."""
        with self.lock:
            if kind == "customers" and any(o.get("_customer") == number for o in self.records["orders"].values()):
                raise ValueError("Customer can't be deleted because they have orders")
            del self.records[kind][number]
            self.version += 1
        self._notify(f"{kind}/delete", {"id": number})

    # --- reads ---------------------------------------------------------------------------------------------

    def get(self, kind: str, global_id: str) -> dict[str, Any] | None:
        prefix = f"gid://shopify/{next(k for k, v in KINDS.items() if v == kind)}/"
        if not isinstance(global_id, str) or not global_id.startswith(prefix) or not global_id[len(prefix):].isdigit():
            return None
        return self.records[kind].get(int(global_id[len(prefix):]))

    def customer_of(self, order: dict[str, Any]) -> dict[str, Any] | None:
        number = order.get("_customer")
        return self.records["customers"].get(number) if number is not None else None

    def page(self, kind: str, *, first: int | None, last: int | None, after: str | None, before: str | None,
             search: Search, sort_key: str, reverse: bool) -> tuple[list[tuple[str, dict[str, Any]]], bool, bool]:
        """``(cursor, record)`` pairs of one page, hasNextPage, hasPreviousPage (keyset paging on a sorted index)."""
        keys, rows = self._index(kind, SORT_FIELDS[sort_key])
        if reverse:
            keys, rows = keys[::-1], rows[::-1]
        start, end = 0, len(rows)
        if after is not None:
            mark = decode_cursor(after)
            start = bisect.bisect_right(keys, mark) if not reverse else _rbisect(keys, mark, after=True)
        if before is not None:
            mark = decode_cursor(before)
            end = bisect.bisect_left(keys, mark) if not reverse else _rbisect(keys, mark, after=False)
        want = first if first is not None else None
        chosen: list[int] = []
        if want is not None:
            i = start
            while i < end and len(chosen) <= want:
                if search.matches(rows[i]):
                    chosen.append(i)
                i += 1
            has_next = len(chosen) > want
            chosen = chosen[:want]
            return [(encode_cursor(*keys[i]), rows[i]) for i in chosen], has_next, start > 0
        matched = [i for i in range(start, end) if search.matches(rows[i])]
        chosen = matched[-last:] if last else []
        return [(encode_cursor(*keys[i]), rows[i]) for i in chosen], end < len(rows), len(matched) > len(chosen)

    def _index(self, kind: str, sort_field: str) -> tuple[list[tuple[Any, int]], list[dict[str, Any]]]:
        """The records of ``kind`` sorted by (sort field, number), kept until the next change."""
        with self.lock:
            cached = self._indexes.get((kind, sort_field))
            if cached is not None and cached[0] == self.version:
                return cached[1], cached[2]
            rows = sorted(self.records[kind].values(), key=lambda r: (r.get(sort_field) or "", r["_n"]))
            keys = [(r.get(sort_field) or "", r["_n"]) for r in rows]
            self._indexes[(kind, sort_field)] = (self.version, keys, rows)
            return keys, rows

    # --- saved state ---------------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        with self.lock:
            return {"records": {k: list(v.values()) for k, v in self.records.items()}, "numbers": self.numbers}

    def load(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.records = {k: {r["_n"]: r for r in state["records"].get(k, [])} for k in KINDS.values()}
            self.numbers = {k: int(state["numbers"][k]) for k in KINDS.values()}
            self.version += 1


def _rbisect(keys: list[tuple[Any, int]], mark: tuple[Any, int], *, after: bool) -> int:
    """In descending ``keys``: the first index past ``mark`` (after) or at/past it (before)."""
    lo, hi = 0, len(keys)
    while lo < hi:
        mid = (lo + hi) // 2
        if keys[mid] > mark or (after and keys[mid] == mark):
            lo = mid + 1
        else:
            hi = mid
    return lo


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
