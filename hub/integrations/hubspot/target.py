"""HubSpot CRM v3 batch writes: ``POST /crm/v3/objects/{object}/batch/{update|upsert|create|archive}``.

At most 100 inputs per request. A batch where some inputs fail answers 207 with ``errors[]``; each error names its
inputs through ``context.ids`` (the id or match value sent) or ``context.objectWriteTraceId`` (set here to the input's
position), so every record gets its own outcome. Results come back in no promised order, so they are matched to
inputs by their ``objectWriteTraceId``, else by id or by the match property, never by position.

HubSpot validates some batches as a whole: one invalid value fails every input with a 400 (the engine rejects
known-bad rows before sending and isolates the rest), and a create whose email exists fails with 409 "Contact already
exists. Existing ID: N", naming one record and no input (:meth:`HubSpotPusher.refusal`). Updating by
``idProperty=email`` is refused for contacts ("Unable to perform update/upsert by non-unique 0-1 property"), so an
update-mode sync finds ids by a batch read first (no ``update_by_key``).
"""

from __future__ import annotations

import re
from typing import Any

from hub.errors import SourceError
from hub.reverse_etl.base import (EXISTS, MISSING, OK, REJECTED, Call, Current, NoSuchObject, Outcome, Pusher, Record,
                              TargetField)
from hub.reverse_etl.config import LINK_PREFIX

#: HubSpot's default (unlabeled) association type ids, HUBSPOT_DEFINED, from -> to (the v4 associations guide's table)
DEFAULT_TYPES: dict[tuple[str, str], int] = {
    ("contacts", "companies"): 279, ("companies", "contacts"): 280, ("deals", "contacts"): 3,
    ("contacts", "deals"): 4, ("deals", "companies"): 341, ("companies", "deals"): 342,
    ("tickets", "contacts"): 16, ("contacts", "tickets"): 15, ("tickets", "companies"): 339,
    ("companies", "tickets"): 340, ("tickets", "deals"): 28, ("deals", "tickets"): 27,
    ("deals", "line_items"): 19, ("line_items", "deals"): 20,
}
LINKING_OPS = frozenset({"update", "upsert", "update_by_key"})   # batch update/upsert inputs take no associations

EXISTING_ID = re.compile(r"already exists\. Existing ID: (\d+)")
ACTIONS = {"update": "update", "update_by_key": "update", "upsert": "upsert", "create": "create",
           "remove": "archive", "lookup": "read"}


class HubSpotPusher(Pusher):
    """Any CRM object (contacts, companies, deals, tickets, line items, custom objects) through HubSpot's batch
    endpoints."""

    type = "hubspot"
    OPS = frozenset({"update", "upsert", "create", "remove", "lookup"})
    batch_size = 100
    lookup_needs_unique = True
    known_objects = ("contacts", "companies", "deals", "tickets", "line_items")
    links = True

    def fields(self) -> dict[str, TargetField]:
        try:
            body = self.client.get(f"/crm/v3/properties/{self.object}")
        except SourceError as exc:
            if exc.status in (400, 404):  # "Unable to infer object type from: ..."
                # custom objects go by their fully qualified name or type id (p<portal>_<name>, 2-NNN)
                try:
                    custom = self.client.get("/crm/v3/schemas").get("results") or []
                except (SourceError, ValueError):   # the suggestions are a courtesy: the object is missing either way
                    custom = []
                names = [n for s in custom for n in (s.get("fullyQualifiedName"), s.get("objectTypeId")) if n]
                raise NoSuchObject([*self.known_objects, *names]) from None
            raise
        out = {}
        for prop in body.get("results", []):
            meta = prop.get("modificationMetadata") or {}
            writable = not meta.get("readOnlyValue", False) and not prop.get("calculated", False)
            email = self.object == "contacts" and prop.get("name") == "email"
            unique = bool(prop.get("hasUniqueValue")) or email
            out[prop["name"]] = TargetField(prop["name"], writable, writable, unique, kind="email" if email else "")
        return out

    def request(self, op: str, records: list[Record]) -> Call:
        path = f"/crm/v3/objects/{self.object}/batch/{ACTIONS[op]}"
        if op == "remove":
            return Call("POST", path, {"inputs": [{"id": r.target_id} for r in records]})
        if op == "lookup":
            return Call("POST", path, {"idProperty": self.match_field, "properties": [self.match_field],
                                       "inputs": [{"id": str(r.match)} for r in records]})
        inputs = []
        for i, r in enumerate(records):
            values = {k: v for k, v in r.values.items() if not k.startswith(LINK_PREFIX)}
            if not values and op == "update" and r.match not in (None, ""):
                values = {self.match_field: r.match}   # only links changed: write the match value it already has
            item: dict[str, Any] = {"properties": _properties(values, clear=op != "create"),
                                    "objectWriteTraceId": str(i)}
            if op == "create" and _links(r):
                item["associations"] = [{"to": {"id": str(to_id)}, "types": [self._spec(obj)]}
                                        for obj, to_id in _links(r).items()]
            if op == "update":
                item["id"] = r.target_id
            elif op in ("upsert", "update_by_key"):
                item["id"], item["idProperty"] = str(r.match), self.match_field
            inputs.append(item)
        return Call("POST", path, {"inputs": inputs}, idempotent=op != "create")

    def refusal(self, op: str, records: list[Record], status: int, message: str) -> list[Outcome] | None:
        # a one-record create refused with 409 names the record that has its email: that record is ours to update
        found = EXISTING_ID.search(message) if status == 409 and op == "create" and len(records) == 1 else None
        return [Outcome(EXISTS, found.group(1), reason=message, code="CONFLICT")] if found else None

    def link_problem(self, to_object: str) -> str | None:
        if (self.object, to_object) in DEFAULT_TYPES:
            return None
        pairs = ", ".join(f"{a}->{b}" for a, b in DEFAULT_TYPES if a == self.object) or "none"
        return (f"hub knows no HubSpot default association type from {self.object} to {to_object} (it links "
                f"{pairs})")

    def _spec(self, to_object: str) -> dict[str, Any]:
        return {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": DEFAULT_TYPES[(self.object, to_object)]}

    def follow_up(self, op: str, records: list[Record], outcomes: list[Outcome]) -> list[Outcome]:
        """Links of updated records, through ``POST /crm/v4/associations/{from}/{to}/batch/create`` (one call per
        linked object; creating a link that exists is harmless, so the call is idempotent). An input HubSpot refuses
        (207 ``errors[]``, naming ``fromObjectId``/``toObjectId``) rejects its record; a refused call, all of them."""
        if op not in LINKING_OPS:
            return outcomes
        groups: dict[str, list[int]] = {}
        for i, (record, outcome) in enumerate(zip(records, outcomes)):
            if outcome.status == OK and outcome.target_id:
                for obj in _links(record):
                    groups.setdefault(obj, []).append(i)
        self._unlink(records, outcomes)
        for obj, positions in groups.items():
            inputs = [{"from": {"id": str(outcomes[i].target_id)}, "to": {"id": str(_links(records[i])[obj])},
                       "types": [self._spec(obj)]} for i in positions]
            try:
                body = self.client.post(f"/crm/v4/associations/{self.object}/{obj}/batch/create", {"inputs": inputs},
                                        idempotent=True)
            except SourceError as exc:
                if exc.retriable:
                    raise
                for i in positions:
                    outcomes[i] = Outcome(REJECTED, outcomes[i].target_id, reason=f"linking to {obj}: {exc.message}",
                                          code="ASSOCIATION_REFUSED")
                continue
            for error in (body or {}).get("errors") or []:
                context = error.get("context") or {}
                named = {str(v) for v in (*(context.get("fromObjectId") or []), *(context.get("toObjectId") or []))}
                for i in positions:
                    ids = {str(outcomes[i].target_id), str(_links(records[i])[obj])}
                    if ids & named and outcomes[i].status == OK:
                        outcomes[i] = Outcome(REJECTED, outcomes[i].target_id, code=str(error.get("category")),
                                              reason=f"linking to {obj}: {error.get('message')}")
        return outcomes

    def _unlink(self, records: list[Record], outcomes: list[Outcome]) -> None:
        """Remove the links hub made before that a record's new value replaces (another record, or none):
        ``POST /crm/v4/associations/{from}/{to}/batch/archive`` (204; removing a link that is gone is harmless).
        Links made in HubSpot by hand are never touched: only the one hub itself last sent."""
        groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for i, (record, outcome) in enumerate(zip(records, outcomes)):
            if outcome.status != OK or not outcome.target_id:
                continue
            for name, old in (record.before or {}).items():
                if name.startswith(LINK_PREFIX) and old not in (None, "") and name in record.values \
                        and str(record.values[name] or "") != str(old):
                    groups.setdefault(name[len(LINK_PREFIX):], []).append(
                        (i, {"from": {"id": str(outcome.target_id)}, "to": [{"id": str(old)}]}))
        for obj, entries in groups.items():
            try:
                self.client.post(f"/crm/v4/associations/{self.object}/{obj}/batch/archive",
                                 {"inputs": [e for _, e in entries]}, idempotent=True)
            except SourceError as exc:
                if exc.retriable:
                    raise
                for i, _ in entries:   # sent again next run: the update is idempotent, so is the removal
                    outcomes[i] = Outcome(REJECTED, outcomes[i].target_id, code="ASSOCIATION_REFUSED",
                                          reason=f"unlinking the old {obj} record: {exc.message}")

    def read(self, ids: list[str], fields: list[str]) -> dict[str, Current]:
        # batch/read by record id: ids not found come back in errors[] (207), so they are simply absent here
        body = self.client.post(f"/crm/v3/objects/{self.object}/batch/read",
                                {"properties": list(dict.fromkeys(fields)), "inputs": [{"id": i} for i in ids]},
                                idempotent=True)   # a read: safe to send again when its answer is lost
        return {str(r["id"]): Current(r.get("properties") or {}, r.get("updatedAt"))
                for r in (body or {}).get("results") or [] if not r.get("archived")}

    def results(self, op: str, records: list[Record], status: int, body: Any) -> list[Outcome]:
        if op == "remove" or status == 204:
            return [Outcome(OK, r.target_id) for r in records]
        body = body if isinstance(body, dict) else {}
        outcomes: list[Outcome | None] = [None] * len(records)
        position = self._positions(op, records)
        for result in body.get("results") or []:
            trace = str(result.get("objectWriteTraceId") or "")
            if trace.isdigit() and int(trace) < len(records):
                i: int | None = int(trace)
            else:
                i = position.get(self._result_key(op, result))
            if i is not None and outcomes[i] is None:
                outcomes[i] = Outcome(OK, str(result.get("id")), created=bool(result.get("new", op == "create")))
        if op == "lookup":  # what was not found is reported as an error: it is simply not there
            return [o or Outcome(MISSING) for o in outcomes]
        for error in body.get("errors") or []:
            for i in self._error_targets(error, position, len(records)):
                if outcomes[i] is None:
                    outcomes[i] = _error_outcome(op, error)
        return [o or Outcome(REJECTED, reason="HubSpot returned no result for this record", code="NO_RESULT")
                for o in outcomes]

    def _positions(self, op: str, records: list[Record]) -> dict[str, int]:
        if op == "update":
            return {_norm(r.target_id): i for i, r in enumerate(records)}
        if op in ("upsert", "update_by_key", "lookup"):
            return {_norm(r.match): i for i, r in enumerate(records)}
        # a create's result carries the properties written; the match property tells which input it was
        return {_norm(r.values.get(self.match_field)): i for i, r in enumerate(records)
                if r.values.get(self.match_field) not in (None, "")}

    def _result_key(self, op: str, result: dict[str, Any]) -> str:
        if op == "update":
            return _norm(result.get("id"))
        return _norm((result.get("properties") or {}).get(self.match_field))

    @staticmethod
    def _error_targets(error: dict[str, Any], position: dict[str, int], n: int) -> list[int]:
        context = error.get("context") or {}
        traces = [int(t) for t in context.get("objectWriteTraceId") or [] if str(t).isdigit() and int(t) < n]
        if traces:
            return traces
        return [position[_norm(v)] for v in context.get("ids") or [] if _norm(v) in position]


def _error_outcome(op: str, error: dict[str, Any]) -> Outcome:
    category = str(error.get("category") or "ERROR")
    message = str(error.get("message") or category)
    context = error.get("context") or {}
    if category == "OBJECT_NOT_FOUND" and op in ("update", "update_by_key"):
        return Outcome(MISSING, reason=message, code=category)
    if category == "CONFLICT" and op == "create" and context.get("existingId"):
        return Outcome(EXISTS, str(context["existingId"][0]), reason=message, code=category)
    inner = error.get("errors") or []
    code = str(inner[0].get("code")) if inner and isinstance(inner[0], dict) and inner[0].get("code") else category
    return Outcome(REJECTED, reason=f"{category}: {message}", code=code)


def _links(record: Record) -> dict[str, Any]:
    """The record's links to send: linked object -> id (a None link is no link; removing one is not done here)."""
    return {k[len(LINK_PREFIX):]: v for k, v in record.values.items()
            if k.startswith(LINK_PREFIX) and v not in (None, "")}


def _properties(values: dict[str, Any], *, clear: bool) -> dict[str, Any]:
    # HubSpot clears a property set to "" (null is ignored); a new record has nothing to clear
    if clear:
        return {k: "" if v is None else v for k, v in values.items()}
    return {k: v for k, v in values.items() if v is not None}


def _norm(value: Any) -> str:
    return str(value).strip().lower() if value is not None else ""
