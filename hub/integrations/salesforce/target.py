"""Salesforce sObject Collections: update by Id, upsert by external id, create, delete; up to 200 records a request.

Every write sends ``allOrNone: false``, so one bad record does not sink its batch; the response is one result per
record, in request order: ``{id, success, errors: [{statusCode, message, fields}], created?}``. Finding records by a
field that is not an external id (Email, usually) is a SOQL ``IN`` query, which compares text case-insensitively.
"""

from __future__ import annotations

from typing import Any

from hub.errors import SourceError
from hub.reverse_etl.base import MISSING, OK, REJECTED, Call, Current, NoSuchObject, Outcome, Pusher, Record, TargetField

DEFAULT_API_VERSION = "59.0"
LOOKUP_BATCH = 100   # keeps the query URL far below the ~16 KB Salesforce accepts
TEXT_TYPES = frozenset({"string", "textarea", "email", "phone", "url"})
GONE = frozenset({"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"})


class SalesforcePusher(Pusher):
    """Any sObject through the sObject Collections API."""

    type = "salesforce"
    OPS = frozenset({"update", "upsert", "create", "remove", "lookup"})
    batch_size = 200
    known_objects = ("Account", "Contact", "Lead", "Opportunity", "Case")

    @property
    def api(self) -> str:
        return f"/services/data/v{self.options.get('api_version', DEFAULT_API_VERSION)}"

    def fields(self) -> dict[str, TargetField]:
        try:
            body = self.client.get(f"{self.api}/sobjects/{self.object}/describe")
        except SourceError as exc:
            if exc.status == 404:  # every org has its own objects: describeGlobal lists them
                names = [o["name"] for o in self.client.get(f"{self.api}/sobjects").get("sobjects", [])]
                raise NoSuchObject(names or self.known_objects) from None
            raise
        return {f["name"]: _field(f) for f in body.get("fields", [])}

    def batch_limit(self, op: str) -> int:
        return LOOKUP_BATCH if op == "lookup" else self.batch_size

    def request(self, op: str, records: list[Record]) -> Call:
        collection = f"{self.api}/composite/sobjects"
        if op == "remove":
            return Call("DELETE", collection, params={"ids": ",".join(str(r.target_id) for r in records),
                                                      "allOrNone": "false"})
        if op == "lookup":
            values = ", ".join(_soql_string(r.match) for r in records)
            soql = (f"SELECT Id, {self.match_field} FROM {self.object} WHERE {self.match_field} IN ({values}) "
                    f"ORDER BY SystemModstamp DESC")
            return Call("GET", f"{self.api}/query", params={"q": soql})
        attributes = {"type": self.object}
        if op == "update":
            rows = [{"attributes": attributes, "Id": r.target_id, **r.values} for r in records]
            return Call("PATCH", collection, {"allOrNone": False, "records": rows})
        if op == "upsert":
            rows = [{"attributes": attributes, **r.values, self.match_field: r.match} for r in records]
            path = f"{collection}/{self.object}/{self.match_field}"
            return Call("PATCH", path, {"allOrNone": False, "records": rows})
        rows = [{"attributes": attributes, **{k: v for k, v in r.values.items() if v is not None}} for r in records]
        return Call("POST", collection, {"allOrNone": False, "records": rows}, idempotent=False)

    def read(self, ids: list[str], fields: list[str]) -> dict[str, Current]:
        # SOQL by Id (deleted records are not returned), with SystemModstamp: the record's last change by anyone
        names = ", ".join(dict.fromkeys(["Id", "SystemModstamp", *fields]))
        soql = f"SELECT {names} FROM {self.object} WHERE Id IN ({', '.join(_soql_string(i) for i in ids)})"
        body = self.client.get(f"{self.api}/query", params={"q": soql})
        rows = list(body.get("records") or [])
        while body.get("nextRecordsUrl"):
            body = self.client.get(body["nextRecordsUrl"])
            rows += body.get("records") or []
        return {str(r["Id"]): Current({k: v for k, v in r.items() if k != "attributes"}, r.get("SystemModstamp"))
                for r in rows}

    def results(self, op: str, records: list[Record], status: int, body: Any) -> list[Outcome]:
        if op == "lookup":
            found: dict[str, str] = {}
            for row in (body or {}).get("records", []):
                found.setdefault(_norm(row.get(self.match_field)), row["Id"])
            return [Outcome(OK, found[_norm(r.match)]) if _norm(r.match) in found else Outcome(MISSING)
                    for r in records]
        results = body if isinstance(body, list) else []
        outcomes = []
        for i, record in enumerate(records):
            result = results[i] if i < len(results) and isinstance(results[i], dict) else None
            if result is None:
                outcomes.append(Outcome(REJECTED, reason="Salesforce returned no result for this record",
                                        code="NO_RESULT"))
            elif result.get("success"):
                outcomes.append(Outcome(OK, result.get("id") or record.target_id,
                                        created=bool(result.get("created", op == "create"))))
            else:
                outcomes.append(_error_outcome(op, result.get("errors") or []))
        return outcomes


def _field(meta: dict[str, Any]) -> TargetField:
    """A describe field entry: what can be written, found by, filtered on, and what values it takes."""
    kind = str(meta.get("type") or "")
    createable = bool(meta.get("createable"))
    return TargetField(meta["name"], createable, bool(meta.get("updateable")), bool(meta.get("externalId")),
                       filterable=bool(meta.get("filterable", True)),
                       required=createable and not meta.get("nillable", True) and not meta.get("defaultedOnCreate"),
                       max_length=int(meta.get("length") or 0) if kind in TEXT_TYPES else 0,
                       kind="email" if kind == "email" else "")


def _error_outcome(op: str, errors: list[dict[str, Any]]) -> Outcome:
    first = errors[0] if errors else {}
    code = str(first.get("statusCode") or "UNKNOWN_EXCEPTION")
    fields = first.get("fields") or []
    if code in GONE and (op == "remove" or (op == "update" and (not fields or "Id" in fields))):
        # deleting what is already gone succeeded; updating it needs the record found again
        return Outcome(OK) if op == "remove" else Outcome(MISSING, reason=first.get("message"), code=code)
    reason = "; ".join(f"{e.get('statusCode')}: {e.get('message')}" + (f" ({', '.join(e['fields'])})"
                                                                       if e.get("fields") else "")
                       for e in errors) or code
    return Outcome(REJECTED, reason=reason, code=code)


def _soql_string(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _norm(value: Any) -> str:
    return str(value).strip().lower() if value is not None else ""
