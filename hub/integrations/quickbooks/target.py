"""QuickBooks Online as a push target: Customer, Invoice, Payment and CreditMemo through the ``batch`` endpoint.

One request carries at most 30 ``BatchItemRequest`` (each with its ``bId``, here its position); the answer has one
``BatchItemResponse`` per ``bId``, the entity or a ``Fault``, so every record gets its own outcome. Updates are sparse
(``"sparse": true``: only the fields sent change) and must name the record's current ``SyncToken``; the pusher reads
the records first (one query per batch), so a token is never older than that read, and a write by someone else in
between fails that record alone with 5010 (Stale Object Error), which is rejected and sent again by the next run.

Every batch carries a ``requestid`` (<= 36 characters, bIds <= 10 with one): QuickBooks answers a repeated requestid
with the first answer instead of acting again. The id is a hash of what the batch writes (for updates, with the
SyncTokens read), so a write whose answer is lost is sent again by the HTTP layer with the *same* requestid, never a
new one; that is what makes a create safe to resend (:attr:`Call.idempotent`). Should the resends run out, the rows
stay unacknowledged and the next run looks them up by their match field before creating anything.

Target fields are QuickBooks' own names, nested ones dotted (``PrimaryEmailAddr.Address``, ``CustomerRef.value``),
plus a few that stand for a line, since a sync maps one row to one record: an Invoice or CreditMemo row's ``Amount``
(with optional ``ItemRef.value``, ``Description``, ``Qty``) becomes its one sales line, a Payment row's
``LinkedInvoice`` (an Invoice Id) applies its ``TotalAmt`` to that invoice; ``Line`` takes the lines as JSON (a
Payment that pays several invoices: one line per invoice, ``{"Amount": .., "LinkedTxn": [{"TxnId": .., "TxnType":
"Invoice"}]}``, the amounts adding up to ``TotalAmt``).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from hub.integrations.quickbooks.source import fault_errors, run_query
from hub.reverse_etl.base import MISSING, OK, REJECTED, Call, Current, NoSuchObject, Outcome, Pusher, Record, TargetField
from hub.sources import versions

BATCH = 30
LOOKUP_BATCH = 1000           # values looked up per request: five Query items of a batch request, 200 values each
LOOKUP_QUERY = 200            # values per IN list; a query answers at most 1000 records
AMOUNTS = frozenset({"Amount", "TotalAmt", "Qty", "UnitPrice"})
LINE_FIELDS = ("Amount", "ItemRef.value", "Description", "Qty")

# entity -> {field: (required on create, filterable in a query, max length, kind)}
_F = tuple[bool, bool, int, str]
FIELDS: dict[str, dict[str, _F]] = {
    "Customer": {
        "DisplayName": (False, True, 500, ""), "GivenName": (False, True, 100, ""),
        "FamilyName": (False, True, 100, ""), "CompanyName": (False, True, 100, ""),
        "PrimaryEmailAddr.Address": (False, True, 100, "email"), "PrimaryPhone.FreeFormNumber": (False, False, 30, ""),
        "Mobile.FreeFormNumber": (False, False, 30, ""), "Notes": (False, False, 2000, ""),
        "BillAddr.Line1": (False, False, 500, ""), "BillAddr.City": (False, False, 255, ""),
        "BillAddr.PostalCode": (False, False, 30, ""), "BillAddr.Country": (False, False, 255, ""),
        "Active": (False, True, 0, "boolean")},
    "Invoice": {
        "DocNumber": (False, True, 21, ""), "CustomerRef.value": (True, True, 0, ""), "TxnDate": (False, True, 0, "date"),
        "DueDate": (False, True, 0, "date"), "PrivateNote": (False, False, 4000, ""),
        "BillEmail.Address": (False, False, 100, "email"), "CurrencyRef.value": (False, False, 3, ""),
        "Amount": (False, False, 0, "number"), "ItemRef.value": (False, False, 0, ""),
        "Description": (False, False, 4000, ""), "Qty": (False, False, 0, "number"), "Line": (False, False, 0, "")},
    "CreditMemo": {
        "DocNumber": (False, True, 21, ""), "CustomerRef.value": (True, True, 0, ""), "TxnDate": (False, True, 0, "date"),
        "PrivateNote": (False, False, 4000, ""), "BillEmail.Address": (False, False, 100, "email"),
        "Amount": (False, False, 0, "number"), "ItemRef.value": (False, False, 0, ""),
        "Description": (False, False, 4000, ""), "Qty": (False, False, 0, "number"), "Line": (False, False, 0, "")},
    "Payment": {
        "CustomerRef.value": (True, True, 0, ""), "TotalAmt": (True, True, 0, "number"),
        "TxnDate": (False, True, 0, "date"), "PaymentRefNum": (False, True, 21, ""),
        "PrivateNote": (False, False, 4000, ""), "LinkedInvoice": (False, False, 0, ""), "Line": (False, False, 0, "")},
}


class QuickBooksPusher(Pusher):
    """Customers, invoices, payments and credit memos of one QuickBooks company."""

    type = "quickbooks"
    OPS = frozenset({"create", "update", "lookup", "remove"})
    batch_size = BATCH
    known_objects = tuple(FIELDS)
    cache_fields = False        # declared here, not read from the API: no call to save

    @property
    def company(self) -> str:
        return f"/v3/company/{self.options['realm_id']}"

    @property
    def minorversion(self) -> str:
        return str(versions.api_version("quickbooks", self.options))

    def fields(self) -> dict[str, TargetField]:
        if self.object not in FIELDS:
            raise NoSuchObject(self.known_objects)
        return {name: TargetField(name, True, True, False, filterable, required, length, kind)
                for name, (required, filterable, length, kind) in FIELDS[self.object].items()}

    def batch_limit(self, op: str) -> int:
        """Lookups 1000 values per request; writes the connection's ``batch_size`` (default and most: 30)."""
        return LOOKUP_BATCH if op == "lookup" else int(self.options.get("batch_size") or BATCH)

    # --- requests ---------------------------------------------------------------------------------------------

    def request(self, op: str, records: list[Record]) -> Call:
        if op == "lookup":
            # queries as items of a batch request: the values go in a JSON body (a GET's request line would outgrow
            # 16 KB with long DocNumbers), and one request carries five queries
            items = []
            for n, start in enumerate(range(0, len(records), LOOKUP_QUERY)):
                values = ", ".join(_quote(r.match) for r in records[start:start + LOOKUP_QUERY])
                items.append({"bId": f"q{n}", "Query": f"SELECT * FROM {self.object} WHERE "
                                                       f"{_query_field(self.match_field)} IN ({values}) MAXRESULTS 1000"})
            return Call("POST", f"{self.company}/batch", {"BatchItemRequest": items},
                        {"minorversion": self.minorversion}, idempotent=True)   # reads only
        current = self._current([r.target_id for r in records if r.target_id]) if op in ("update", "remove") \
            else {}
        items = []
        for i, record in enumerate(records):
            if op == "remove":
                now = current.get(str(record.target_id)) or {}
                items.append({"bId": str(i), "operation": "delete",
                              self.object: {"Id": record.target_id, "SyncToken": now.get("SyncToken", "0")}})
                continue
            body = _body(self.object, record.values, current.get(str(record.target_id)))
            if op == "update":
                now = current.get(str(record.target_id)) or {}
                body.update(Id=record.target_id, SyncToken=now.get("SyncToken", "0"), sparse=True)
            items.append({"bId": str(i), "operation": "create" if op == "create" else op, self.object: body})
        payload = {"BatchItemRequest": items}
        request_id = hashlib.sha256(orjson.dumps([self.object, op, payload], option=orjson.OPT_SORT_KEYS)) \
            .hexdigest()[:36]
        # the requestid makes every batch, creates included, safe to send again: a repeat gets the first answer
        return Call("POST", f"{self.company}/batch", payload,
                    {"minorversion": self.minorversion, "requestid": request_id}, idempotent=True)

    def _current(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The records as they are now (their SyncToken, their lines), by Id."""
        if not ids:
            return {}
        found = run_query(self.client, self.company, self.minorversion,
                          f"SELECT * FROM {self.object} WHERE Id IN ({', '.join(_quote(i) for i in ids)}) "
                          f"MAXRESULTS 1000")
        return {str(r["Id"]): r for r in found.get(self.object) or []}

    def read(self, ids: list[str], fields: list[str]) -> dict[str, Current]:
        out = {}
        for ident, record in self._current(ids).items():
            out[ident] = Current({f: _value(record, f) for f in fields},
                                 (record.get("MetaData") or {}).get("LastUpdatedTime"))
        return out

    # --- answers ----------------------------------------------------------------------------------------------

    def results(self, op: str, records: list[Record], status: int, body: Any) -> list[Outcome]:
        body = body if isinstance(body, dict) else {}
        if op == "lookup":
            return self._found(records, body)
        answers = {str(a.get("bId")): a for a in body.get("BatchItemResponse") or [] if isinstance(a, dict)}
        outcomes = []
        for i, record in enumerate(records):
            answer = answers.get(str(i))
            if answer is None:
                outcomes.append(Outcome(REJECTED, reason="QuickBooks returned no BatchItemResponse for this record",
                                        code="NO_RESULT"))
            elif answer.get("Fault"):
                outcomes.append(_fault_outcome(op, answer))
            else:
                entity = answer.get(self.object) or {}
                outcomes.append(Outcome(OK, str(entity.get("Id") or record.target_id), created=op == "create"))
        return outcomes


    def _found(self, records: list[Record], body: dict[str, Any]) -> list[Outcome]:
        """Lookup outcomes: OK with the record's Id, MISSING, or REJECTED where a query failed or was cut at 1000
        results (then absent does not mean missing: creating would duplicate)."""
        answers = {str(a.get("bId")): a for a in body.get("BatchItemResponse") or [] if isinstance(a, dict)}
        outcomes: list[Outcome] = []
        for n, start in enumerate(range(0, len(records), LOOKUP_QUERY)):
            part = records[start:start + LOOKUP_QUERY]
            answer = answers.get(f"q{n}") or {}
            rows = (answer.get("QueryResponse") or {}).get(self.object) or []
            if answer.get("Fault") or "QueryResponse" not in answer or len(rows) >= 1000:
                why = _fault_outcome("lookup", answer).reason if answer.get("Fault") else \
                    "the lookup query matched 1000 records or more" if rows else "no answer to the lookup query"
                outcomes += [Outcome(REJECTED, reason=f"lookup failed: {why}", code="LOOKUP") for _ in part]
                continue
            found: dict[str, str] = {}
            for record in sorted(rows, key=lambda r: int(r["Id"]) if str(r.get("Id")).isdigit() else 0):
                found.setdefault(_norm(_value(record, self.match_field)), str(record["Id"]))
            outcomes += [Outcome(OK, found[_norm(r.match)]) if _norm(r.match) in found else Outcome(MISSING)
                         for r in part]
        return outcomes


def _fault_outcome(op: str, answer: dict[str, Any]) -> Outcome:
    errors = fault_errors(answer)
    first = errors[0] if errors else {}
    code = str(first.get("code") or "FAULT")
    message = str(first.get("Message") or "refused")
    detail = str(first.get("Detail") or "")
    reason = f"{message}: {detail}" if detail and detail not in message else message
    if code == "610" and op in ("update", "remove"):
        return Outcome(MISSING, reason=reason, code=code)
    if code == "5010":
        reason += " (the record changed in QuickBooks while this push ran; the next push sends it again)"
    return Outcome(REJECTED, reason=reason, code=code)


def _body(entity: str, values: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """A record's JSON from target-field values: dotted names nested, line fields made into lines."""
    out: dict[str, Any] = {}
    line: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue   # QuickBooks leaves out what is not sent (sparse): a NULL does not clear the field
        if name in AMOUNTS:
            value = _number(value)
        if name == "Line":
            out["Line"] = orjson.loads(value) if isinstance(value, str) else value
        elif name == "LinkedInvoice" and entity == "Payment":
            line["invoice"] = str(value)
        elif name in LINE_FIELDS and entity in ("Invoice", "CreditMemo"):
            line[name] = value
        elif "." in name:
            parent, _, child = name.partition(".")
            out.setdefault(parent, {})[child] = value
        else:
            out[name] = value
    if entity == "Payment" and line and "Line" not in out:
        total = out.get("TotalAmt", (current or {}).get("TotalAmt"))
        out["Line"] = [{"Amount": total, "LinkedTxn": [{"TxnId": line["invoice"], "TxnType": "Invoice"}]}]
    elif line and "Line" not in out:
        now = _sales_line(current)
        detail = dict(now.get("SalesItemLineDetail") or {})
        if "ItemRef.value" in line:
            detail["ItemRef"] = {"value": str(line["ItemRef.value"])}
        if "Qty" in line:
            detail["Qty"] = line["Qty"]
        sales = {"DetailType": "SalesItemLineDetail", "Amount": line.get("Amount", now.get("Amount")),
                 "SalesItemLineDetail": detail}
        if "Description" in line or now.get("Description"):
            sales["Description"] = line.get("Description", now.get("Description"))
        out["Line"] = [sales]
    return out


def _sales_line(record: dict[str, Any] | None) -> dict[str, Any]:
    for line in (record or {}).get("Line") or []:
        if line.get("DetailType") == "SalesItemLineDetail":
            return line
    return {}


def _value(record: dict[str, Any], field: str) -> Any:
    """A target field's value in a QuickBooks record (the line fields from its first sales line)."""
    if field in LINE_FIELDS:
        line = _sales_line(record)
        if field == "ItemRef.value":
            return ((line.get("SalesItemLineDetail") or {}).get("ItemRef") or {}).get("value")
        if field == "Qty":
            return (line.get("SalesItemLineDetail") or {}).get("Qty")
        return line.get(field)
    if field == "LinkedInvoice":
        for line in record.get("Line") or []:
            for linked in line.get("LinkedTxn") or []:
                if linked.get("TxnType") == "Invoice":
                    return linked.get("TxnId")
        return None
    value: Any = record
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _query_field(field: str) -> str:
    """The name a query filters a target field by (``PrimaryEmailAddr.Address`` is ``PrimaryEmailAddr``)."""
    return field.partition(".")[0] if field.endswith((".Address", ".value")) else field


def _number(value: Any) -> Any:
    try:
        return float(Decimal(str(value)).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return value   # QuickBooks says what is wrong with it


def _quote(value: Any) -> str:
    return "'" + str(value).replace("'", "\\'") + "'"


def _norm(value: Any) -> str:
    return str(value).strip().lower() if value is not None else ""

