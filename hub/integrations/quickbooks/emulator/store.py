"""The sandbox QuickBooks company: customers, items, invoices, payments and credit memos of one realm.

What it enforces, as QuickBooks Online does (docs/vendors.md): an update names the record's current
``SyncToken`` (a stale one is refused with 5010, Stale Object Error, and the write is not applied; each write adds one);
a sparse update (``"sparse": true``) changes only the fields it sends, a full one clears the others; references
(``CustomerRef``, ``ItemRef``, a payment's ``LinkedTxn``) must name records that exist (2500, Invalid Reference Id);
customer display names are unique (6240, Duplicate Name Exists Error); a transaction is deleted by
``operation=delete`` and stays in the change-data-capture log as ``status: Deleted``. Totals are computed here
(``TotalAmt`` from the lines; ``Balance`` less the payments applied), never taken from the request.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.integrations.quickbooks.emulator.query import Query, QueryError, run

ENTITIES = ("Customer", "Item", "Invoice", "Payment", "CreditMemo")
TRANSACTIONS = frozenset({"Invoice", "Payment", "CreditMemo"})
#: QuickBooks reports times in the company's time zone; the sandbox company keeps Pacific standard time
COMPANY_TZ = timezone(timedelta(hours=-8))
READ_ONLY = frozenset({"Id", "SyncToken", "MetaData", "TotalAmt", "Balance", "domain", "sparse", "RemainingCredit",
                       "UnappliedAmt"})


class Fault(Exception):
    """A refused operation, in QuickBooks' terms: its error code, message, detail and fault type."""

    def __init__(self, code: str, message: str, detail: str, *, element: str = "", kind: str = "ValidationFault",
                 status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.detail, self.element, self.kind, self.status = (code, message, detail,
                                                                                      element, kind, status)

    def body(self) -> dict[str, Any]:
        error = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element:
            error["element"] = self.element
        return {"Error": [error], "type": self.kind}


def missing(element: str) -> Fault:
    return Fault("2020", "Required param missing, need to supply the required value for the API",
                 f"Required parameter {element} is missing in the request", element=element)


def bad_reference(element: str, value: Any) -> Fault:
    return Fault("2500", "Invalid Reference Id",
                 f"Invalid Reference Id : Something you're trying to use has been made inactive or deleted. "
                 f"Check the fields with accounts, customers, items, vendors or employees. ({element} {value})",
                 element=element)


def not_found(entity: str, ident: Any) -> Fault:
    return Fault("610", "Object Not Found",
                 f"Object Not Found : Something you're trying to use has been made inactive. Check the fields with "
                 f"accounts, customers, items, vendors or employees. ({entity} {ident})")


def stale(ident: Any) -> Fault:
    return Fault("5010", "Stale Object Error",
                 f"Stale Object Error : You and another user were working on the same thing. The other user "
                 f"finished before you did, so your work was not saved. (Id {ident})")


@dataclass
class Deleted:
    entity: str
    id: str
    at: datetime


class Company:
    """One realm's records; thread-safe (the emulator serves ten requests at once)."""

    def __init__(self, realm: str, clock: Any, *, hidden: frozenset[str] = frozenset()) -> None:
        self.realm = realm
        self.clock = clock
        self.hidden = hidden   # "Entity.Field": left out of every answer, as a restricted user sees the record
        self.records: dict[str, dict[str, dict[str, Any]]] = {e: {} for e in ENTITIES}
        self.deleted: list[Deleted] = []
        self._next = 1
        self._lock = threading.RLock()

    # --- time -------------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now().astimezone(timezone.utc).replace(microsecond=0)

    @staticmethod
    def stamp(moment: datetime) -> str:
        return moment.astimezone(COMPANY_TZ).isoformat()

    # --- reads ------------------------------------------------------------------------------------------------

    def render(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(record)
        for name in self.hidden:
            ent, _, fld = name.partition(".")
            if ent == entity:
                out.pop(fld, None)
        return out

    def get(self, entity: str, ident: str) -> dict[str, Any]:
        with self._lock:
            record = self.records[_entity(entity)].get(str(ident))
            if record is None:
                raise not_found(entity, ident)
            return self.render(entity, record)

    def query(self, query: Query) -> tuple[list[dict[str, Any]], int]:
        entity = _entity(query.entity, query=True)
        with self._lock:
            rows = list(self.records[entity].values())
            page, total = run(query, rows)
            return [self.render(entity, r) for r in page], total

    def changed_since(self, entity: str, since: datetime) -> list[dict[str, Any]]:
        """Records changed at or after ``since``, and deletion stubs (``status: Deleted``), oldest first."""
        entity = _entity(entity, query=True)
        with self._lock:
            live = [self.render(entity, r) for r in self.records[entity].values() if _updated(r) >= since]
            gone = [{"Id": d.id, "status": "Deleted", "domain": "QBO",
                     "MetaData": {"LastUpdatedTime": self.stamp(d.at)}}
                    for d in self.deleted if d.entity == entity and d.at >= since]
        return sorted(live + gone, key=lambda r: (r["MetaData"]["LastUpdatedTime"], int(r["Id"])))

    # --- writes -----------------------------------------------------------------------------------------------

    def create(self, entity: str, body: Any) -> dict[str, Any]:
        entity = _entity(entity)
        if not isinstance(body, dict):
            raise Fault("2010", "Request has invalid or unsupported property", f"{entity} is not an object")
        with self._lock:
            record = {k: copy.deepcopy(v) for k, v in body.items() if _writable(entity, k)}
            self._check(entity, record, None)
            ident = str(self._next)
            self._next += 1
            moment = self.stamp(self.now())
            record.update(Id=ident, SyncToken="0", domain="QBO", sparse=False,
                          MetaData={"CreateTime": moment, "LastUpdatedTime": moment})
            self._derive(entity, record, None)
            self.records[entity][ident] = record
            return self.render(entity, record)

    def update(self, entity: str, body: Any) -> dict[str, Any]:
        entity = _entity(entity)
        if not isinstance(body, dict):
            raise Fault("2010", "Request has invalid or unsupported property", f"{entity} is not an object")
        if not body.get("Id"):
            raise missing("Id")
        if body.get("SyncToken") in (None, ""):
            raise missing("SyncToken")
        with self._lock:
            current = self.records[entity].get(str(body["Id"]))
            if current is None:
                raise not_found(entity, body["Id"])
            if str(body["SyncToken"]) != current["SyncToken"]:
                raise stale(body["Id"])
            sent = {k: copy.deepcopy(v) for k, v in body.items() if _writable(entity, k)}
            if body.get("sparse") is True:
                record = {**copy.deepcopy(current), **sent}
            else:   # a full update: what it does not send is cleared
                record = {k: v for k, v in current.items() if not _writable(entity, k)} | sent
            self._check(entity, record, current)
            record["SyncToken"] = str(int(current["SyncToken"]) + 1)
            record["MetaData"] = {**current["MetaData"], "LastUpdatedTime": self.stamp(self.now())}
            record["sparse"] = False
            self._derive(entity, record, current)
            self.records[entity][record["Id"]] = record
            return self.render(entity, record)

    def delete(self, entity: str, body: Any) -> dict[str, Any]:
        entity = _entity(entity)
        if entity not in TRANSACTIONS:
            raise Fault("2030", "Invalid ID", f"{entity} records cannot be deleted; make them inactive instead")
        if not isinstance(body, dict) or not body.get("Id"):
            raise missing("Id")
        with self._lock:
            current = self.records[entity].get(str(body["Id"]))
            if current is None:
                raise not_found(entity, body["Id"])
            if str(body.get("SyncToken")) != current["SyncToken"]:
                raise stale(body["Id"])
            self._undo(entity, current)
            del self.records[entity][current["Id"]]
            self.deleted.append(Deleted(entity, current["Id"], self.now()))
            return {"status": "Deleted", "domain": "QBO", "Id": current["Id"]}

    def touch(self, entity: str, ident: str, **changes: Any) -> dict[str, Any]:
        """An edit made in QuickBooks itself (a user in the web app), for tests: no SyncToken asked."""
        with self._lock:
            current = self.records[_entity(entity)][str(ident)]
            return self.update(entity, {**changes, "Id": ident, "SyncToken": current["SyncToken"], "sparse": True})

    # --- rules ------------------------------------------------------------------------------------------------

    def _check(self, entity: str, record: dict[str, Any], current: dict[str, Any] | None) -> None:
        if entity == "Customer":
            name = record.get("DisplayName") or " ".join(
                str(record[k]) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
                if record.get(k)) or record.get("CompanyName")
            if not name:
                raise missing("DisplayName")
            record["DisplayName"] = str(name).strip()
            record.setdefault("Active", True)
            record.setdefault("Balance", 0)
            for other in self.records["Customer"].values():
                if other["DisplayName"].lower() == record["DisplayName"].lower() and other is not current \
                        and (current is None or other["Id"] != current["Id"]):
                    raise Fault("6240", "Duplicate Name Exists Error",
                                f"The name supplied already exists. : Another customer is already using this "
                                f"name ({record['DisplayName']}). Please use a different name.",
                                element="DisplayName")
        elif entity == "Item":
            if not record.get("Name"):
                raise missing("Name")
            record.setdefault("Type", "Service")
            record.setdefault("Active", True)
        elif entity in TRANSACTIONS:
            self._customer(record)
            if entity == "Payment":
                if record.get("TotalAmt") in (None, "") and "TotalAmt" not in (current or {}):
                    raise missing("TotalAmt")
                for line in record.get("Line") or []:
                    for linked in line.get("LinkedTxn") or []:
                        invoice = self.records["Invoice"].get(str(linked.get("TxnId")))
                        if linked.get("TxnType") != "Invoice" or invoice is None:
                            raise bad_reference("LinkedTxn", linked.get("TxnId"))
            else:
                lines = record.get("Line")
                if not isinstance(lines, list) or not lines:
                    raise missing("Line")
                for line in lines:
                    detail = (line or {}).get("SalesItemLineDetail")
                    if (line or {}).get("DetailType") == "SalesItemLineDetail":
                        ref = ((detail or {}).get("ItemRef") or {}).get("value")
                        if ref is not None and str(ref) not in self.records["Item"]:
                            raise bad_reference("ItemRef", ref)
                    _amount(line.get("Amount"), "Line.Amount")

    def _customer(self, record: dict[str, Any]) -> None:
        ref = (record.get("CustomerRef") or {}).get("value") if isinstance(record.get("CustomerRef"), dict) else None
        if ref in (None, ""):
            raise missing("CustomerRef")
        customer = self.records["Customer"].get(str(ref))
        if customer is None:
            raise bad_reference("CustomerRef", ref)
        record["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}

    def _derive(self, entity: str, record: dict[str, Any], current: dict[str, Any] | None) -> None:
        record.setdefault("CurrencyRef", {"value": "USD", "name": "United States Dollar"})
        if entity in TRANSACTIONS:
            record.setdefault("TxnDate", self.now().astimezone(COMPANY_TZ).date().isoformat())
        if entity in ("Invoice", "CreditMemo"):
            total = sum((_amount(line.get("Amount"), "Line.Amount") for line in record["Line"]
                         if line.get("DetailType") != "SubTotalLineDetail"), Decimal(0))
            record["Line"] = [line for line in record["Line"] if line.get("DetailType") != "SubTotalLineDetail"]
            for n, line in enumerate(record["Line"], start=1):
                line.setdefault("Id", str(n))
                line.setdefault("LineNum", n)
            record["Line"].append({"Amount": float(total), "DetailType": "SubTotalLineDetail",
                                   "SubTotalLineDetail": {}})
            record["TotalAmt"] = float(total)
            if entity == "Invoice":
                paid = self._paid(record["Id"])
                record["Balance"] = float(total - paid)
            else:
                record["RemainingCredit"] = float(total)
        elif entity == "Payment":
            if current is not None:
                self._undo(entity, current)
            total = _amount(record.get("TotalAmt", (current or {}).get("TotalAmt")), "TotalAmt")
            record["TotalAmt"] = float(total)
            applied = Decimal(0)
            for line in record.get("Line") or []:
                amount = _amount(line.get("Amount"), "Line.Amount")
                applied += amount
                for linked in line.get("LinkedTxn") or []:
                    invoice = self.records["Invoice"][str(linked["TxnId"])]
                    invoice["Balance"] = float(Decimal(str(invoice["Balance"])) - amount)
            record["UnappliedAmt"] = float(total - applied)

    def _paid(self, invoice_id: str) -> Decimal:
        paid = Decimal(0)
        for payment in self.records["Payment"].values():
            for line in payment.get("Line") or []:
                if any(str(t.get("TxnId")) == invoice_id for t in line.get("LinkedTxn") or []):
                    paid += _amount(line.get("Amount"), "Line.Amount")
        return paid

    def _undo(self, entity: str, current: dict[str, Any]) -> None:
        """Take a payment's applications off its invoices (before it changes or goes)."""
        if entity != "Payment":
            return
        for line in current.get("Line") or []:
            for linked in line.get("LinkedTxn") or []:
                invoice = self.records["Invoice"].get(str(linked.get("TxnId")))
                if invoice is not None:
                    invoice["Balance"] = float(Decimal(str(invoice["Balance"])) + _amount(line.get("Amount"), ""))

    # --- state ------------------------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        with self._lock:
            return {"realm": self.realm, "next": self._next, "records": copy.deepcopy(self.records),
                    "deleted": [[d.entity, d.id, d.at.isoformat()] for d in self.deleted]}

    def load(self, state: dict[str, Any]) -> None:
        with self._lock:
            self._next = int(state["next"])
            self.records = {e: dict(state["records"].get(e, {})) for e in ENTITIES}
            self.deleted = [Deleted(e, i, datetime.fromisoformat(t)) for e, i, t in state.get("deleted", [])]

    def count(self, entity: str) -> int:
        with self._lock:
            return len(self.records[_entity(entity)])


def _writable(entity: str, key: str) -> bool:
    return key not in READ_ONLY or (entity == "Payment" and key == "TotalAmt")


def _entity(name: str, *, query: bool = False) -> str:
    for entity in ENTITIES:
        if entity.lower() == str(name).lower():
            return entity
    if query:
        raise QueryError(f"Invalid query: {name} is not an entity this company supports")
    raise Fault("2010", "Request has invalid or unsupported property", f"Unsupported entity {name}")


def _amount(value: Any, element: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Fault("2050", "Invalid Number", f"{element} must be a number, not {value!r}", element=element) from None
    if not amount.is_finite():
        raise Fault("2050", "Invalid Number", f"{element} must be a number, not {value!r}", element=element)
    return amount


def _updated(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["MetaData"]["LastUpdatedTime"])
