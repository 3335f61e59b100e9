"""SOQL over REST: running a query into pages and serving the rest through query locators."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

from hub.integrations.salesforce.emulator.schema import make_id
from hub.integrations.salesforce.emulator.store import SalesforceStore
from hub.integrations.salesforce.emulator.soql import SOQLError, parse
from hub.integrations.salesforce.emulator.soql_eval import Plan

DEFAULT_BATCH, MIN_BATCH, MAX_BATCH = 2000, 200, 2000
MAX_CURSORS = 200


def batch_size(query_options: str | None) -> int:
    """The page size asked for in a Sforce-Query-Options header (batchSize=200..2000), else 2000."""
    for option in (query_options or "").split(","):
        name, _, value = option.partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return min(max(int(value), MIN_BATCH), MAX_BATCH)
    return DEFAULT_BATCH


@dataclass
class Cursor:
    """An open query locator: the matched rows (a snapshot: writes replace records) and how to render them."""

    plan: Plan
    rows: list[dict[str, Any]]
    batch: int
    endpoint: str


class QueryService:
    """Runs SOQL against the store and keeps the cursors behind nextRecordsUrl."""

    def __init__(self, store: SalesforceStore) -> None:
        self.store = store
        self._cursors: OrderedDict[str, Cursor] = OrderedDict()
        self._lock = threading.Lock()
        self._seq = 1_000

    def run(self, text: str, *, endpoint: str, batch: int, version: str) -> bytes:
        """The first page of a query (endpoint "query" or "queryAll"), as JSON."""
        with self.store.lock:
            query = parse(text)
            plan = Plan(query, self.store)
            rows = plan.run(include_deleted=endpoint == "queryAll")
            if query.count is True:
                return orjson.dumps({"totalSize": len(rows), "done": True, "records": []})
            if query.count is not None:
                get = plan.count_getter
                count = sum(1 for r in rows if get is not None and get(r) is not None)
                return orjson.dumps({"totalSize": 1, "done": True,
                                     "records": [{"attributes": {"type": "AggregateResult"}, "expr0": count}]})
            return self._page(Cursor(plan, rows, batch, endpoint), None, 0, version)

    def more(self, locator_and_offset: str, version: str) -> bytes:
        """A following page, from the ``{locator}-{offset}`` tail of a nextRecordsUrl."""
        locator, _, offset = locator_and_offset.rpartition("-")
        with self._lock:
            cursor = self._cursors.get(locator)
        if cursor is None or not offset.isdigit() or int(offset) > len(cursor.rows):
            raise SOQLError("INVALID_QUERY_LOCATOR", "invalid query locator")
        with self.store.lock:
            return self._page(cursor, locator, int(offset), version)

    def _page(self, cursor: Cursor, locator: str | None, offset: int, version: str) -> bytes:
        rows = cursor.rows[offset:offset + cursor.batch]
        body: dict[str, Any] = {"totalSize": len(cursor.rows), "done": offset + len(rows) >= len(cursor.rows)}
        if not body["done"]:
            locator = locator or self._open(cursor)
            body["nextRecordsUrl"] = f"/services/data/{version}/{cursor.endpoint}/{locator}-{offset + len(rows)}"
        body["records"] = [cursor.plan.render(r, version) for r in rows]
        return orjson.dumps(body)

    def _open(self, cursor: Cursor) -> str:
        with self._lock:
            self._seq += 1
            locator = make_id("01g", self._seq)
            self._cursors[locator] = cursor
            while len(self._cursors) > MAX_CURSORS:  # Salesforce also expires idle locators
                self._cursors.popitem(last=False)
            return locator
