"""HubSpot batch endpoints, validated as a whole like the real API.

A create, update or upsert holding any invalid property value fails whole with 400 ``VALIDATION_ERROR`` and writes
nothing; a create whose unique value (a contact's email) already belongs to a record fails whole with 409 ``CONFLICT``
"Contact already exists. Existing ID: N", naming the first such record and no input. Updating contacts by
``idProperty=email`` is refused ("Unable to perform update/upsert by non-unique 0-1 property"). What remains per input
comes back as 207 ``errors[]``: ids that do not exist, a unique value taken by another record on update/upsert. Every
result carries the ``objectWriteTraceId`` its input was sent with.
"""

from __future__ import annotations

from typing import Any

from hub.integrations.hubspot.emulator.associations import resolve_links
from hub.integrations.hubspot.emulator.store import Failure, HubObject, HubSpotStore, Table

Outcome = tuple[list[dict[str, Any]], list[Failure], int] | None


def run_batch(store: HubSpotStore, table: Table, action: str, body: dict[str, Any], inputs: list[Any],
              *, archived: bool = False) -> Outcome:
    """Apply one batch request (caller holds ``store.lock``); None means 204 No Content."""
    handler = _ACTIONS.get(action)
    if handler is None:
        raise Failure(404, "OBJECT_NOT_FOUND", f"Unknown batch action {action}; use create, read, update, "
                                               "upsert or archive")
    return handler(store, table, body, inputs, archived)


def _not_found(table: Table, ids: list[str]) -> Failure:
    return Failure(404, "OBJECT_NOT_FOUND", f"Could not get some {table.schema.singular} objects, they may be "
                                            "deleted or not exist. Check that ids are valid.", {"ids": ids})


def _context(item: dict[str, Any]) -> dict[str, list[str]]:
    context: dict[str, list[str]] = {}
    if item.get("id") is not None:
        context["ids"] = [str(item["id"])]
    if item.get("objectWriteTraceId"):
        context["objectWriteTraceId"] = [str(item["objectWriteTraceId"])]
    return context


def _written(table: Table, values: dict[str, Any]) -> tuple[str, ...] | None:
    return table.selection(values)


def _values(store: HubSpotStore, table: Table, item: Any) -> dict[str, str | None]:
    """An input's validated values; an invalid one fails the whole batch (400, no per-input context)."""
    if not isinstance(item, dict):
        raise Failure(400, "VALIDATION_ERROR", "Invalid input JSON: each input must be an object")
    try:
        return store.validate(table, item.get("properties", {}), _context(item))
    except Failure as failure:
        raise Failure(failure.status, failure.category, failure.message, {}, failure.errors) from None


def _traced(result: dict[str, Any], item: Any) -> dict[str, Any]:
    if isinstance(item, dict) and item.get("objectWriteTraceId"):
        result["objectWriteTraceId"] = str(item["objectWriteTraceId"])
    return result


def _create(store: HubSpotStore, table: Table, body: dict[str, Any], inputs: list[Any], archived: bool) -> Outcome:
    planned = [_values(store, table, item) for item in inputs]   # all validated before anything is written
    # each input's associations too: one bad type id or unknown record refuses the whole batch, as a single create
    links = [resolve_links(store, table, (item or {}).get("associations") or []) if isinstance(item, dict) else []
             for item in inputs]
    taken: dict[tuple[str, str], int] = {}
    for values in planned:
        clash = store.conflict(table, values, None)
        if clash:  # the whole batch fails, naming the existing record but not the input
            raise Failure(409, "CONFLICT", clash.message)
        for name in table.unique:
            value = str(values.get(name) or "").strip().lower()
            if value and (name, value) in taken:
                raise Failure(400, "VALIDATION_ERROR", f"Duplicate IDs found in batch input: [{value}]. "
                                                       "IDs must be unique")
            if value:
                taken[(name, value)] = 1
    results = []
    for item, values, linked in zip(inputs, planned, links):
        obj = store.insert(table, values)
        for target, target_id, primary in linked:
            store.associations.link(table.schema.name, obj.id, target, target_id, primary=primary)
        results.append(_traced(store.public(table, obj, _written(table, values)), item))
    return results, [], 201


def _update(store: HubSpotStore, table: Table, body: dict[str, Any], inputs: list[Any], archived: bool) -> Outcome:
    results, errors, missing = [], [], []
    id_property = body.get("idProperty")
    planned = [_values(store, table, item) for item in inputs]   # all validated before anything is written
    for item, values in zip(inputs, planned):
        oid = str(item.get("id", "")) if isinstance(item, dict) else ""
        if not oid:
            errors.append(Failure(400, "VALIDATION_ERROR", "Invalid input JSON: each input needs an id"))
            continue
        by = item.get("idProperty") or id_property
        if table.schema.name == "contacts" and by not in (None, "", "hs_object_id"):
            # contacts (object type 0-1) are updated by record id only; upsert is the way to write by email
            raise Failure(400, "VALIDATION_ERROR", "Unable to perform update/upsert by non-unique 0-1 property")
        obj = table.find(oid, by)
        if obj is None:
            missing.append(oid)
            continue
        clash = store.conflict(table, values, obj.id)
        if clash:
            errors.append(Failure(clash.status, clash.category, clash.message, _context(item)))
            continue
        store.apply(table, obj, values)
        results.append(_traced(store.public(table, obj, _written(table, values)), item))
    if missing:
        errors.append(_not_found(table, missing))
    return results, errors, 200


def _read(store: HubSpotStore, table: Table, body: dict[str, Any], inputs: list[Any], archived: bool) -> Outcome:
    names = table.selection(body.get("properties") or None)
    id_property = body.get("idProperty")
    results, missing = [], []
    for item in inputs:
        oid = str(item.get("id", "")) if isinstance(item, dict) else ""
        obj = table.find(oid, id_property) if oid else None
        if obj is None and archived and oid.isdigit():
            candidate = table.objects.get(int(oid))
            obj = candidate if candidate is not None and candidate.archived else None
        if obj is None:
            missing.append(oid)
        else:
            results.append(store.public(table, obj, names))
    return results, [_not_found(table, missing)] if missing else [], 200


def _archive(store: HubSpotStore, table: Table, body: dict[str, Any], inputs: list[Any], archived: bool) -> Outcome:
    for item in inputs:
        if isinstance(item, dict) and item.get("id") is not None:
            store.archive(table.schema.name, str(item["id"]))
    return None


def _upsert(store: HubSpotStore, table: Table, body: dict[str, Any], inputs: list[Any], archived: bool) -> Outcome:
    seen: dict[str, str] = {}
    for item in inputs:
        if isinstance(item, dict) and item.get("id") is not None:
            key = str(item["id"]).strip().lower()
            if key in seen:
                raise Failure(400, "VALIDATION_ERROR", f"Duplicate IDs found in batch input: [{item['id']}]. "
                                                       "IDs must be unique")
            seen[key] = str(item["id"])
    for item in inputs:  # all validated before anything is written, the emails sent as ids too
        _values(store, table, item)
        if isinstance(item, dict) and item.get("idProperty") == "email" and item.get("id") not in (None, ""):
            _values(store, table, {"properties": {"email": str(item["id"])}})
    results, errors = [], []
    for item in inputs:
        try:
            result = _upsert_one(store, table, item)
        except Failure as failure:
            errors.append(failure)
            continue
        results.append(_traced(result, item))
    return results, errors, 200


def _upsert_one(store: HubSpotStore, table: Table, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or item.get("id") in (None, ""):
        raise Failure(400, "VALIDATION_ERROR", "Invalid input JSON: each upsert input needs an id",
                      _context(item) if isinstance(item, dict) else {})
    value = str(item["id"])
    id_property = item.get("idProperty") or "hs_object_id"
    if id_property != "hs_object_id" and id_property not in table.unique:
        raise Failure(400, "VALIDATION_ERROR", f"Property {id_property} is not a unique identifier property for "
                                               f"{table.schema.name}", _context(item))
    values = _values(store, table, item)
    obj: HubObject | None = table.find(value, id_property)
    if obj is None and id_property == "hs_object_id":
        raise _not_found(table, [value])
    if obj is None:
        values.setdefault(id_property, value.strip().lower() if id_property == "email" else value)
        if id_property == "email":
            values.update(store.validate(table, {"email": values["email"]}, _context(item)))
    clash = store.conflict(table, values, obj.id if obj else None)
    if clash:
        raise clash
    created = obj is None
    if obj is None:
        obj = store.insert(table, values)
    else:
        store.apply(table, obj, values)
    out = store.public(table, obj, _written(table, values))
    out["new"] = created
    return out


_ACTIONS = {"create": _create, "update": _update, "read": _read, "archive": _archive, "upsert": _upsert}
