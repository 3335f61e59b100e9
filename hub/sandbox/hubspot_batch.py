"""HubSpot batch endpoints: each valid input is applied, each invalid one becomes an error (HTTP 207)."""

from __future__ import annotations

from typing import Any

from hub.sandbox.hubspot_store import Failure, HubObject, HubSpotStore, Table

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
    if not isinstance(item, dict):
        raise Failure(400, "VALIDATION_ERROR", "Invalid input JSON: each input must be an object")
    return store.validate(table, item.get("properties", {}), _context(item))


def _create(store: HubSpotStore, table: Table, body: dict[str, Any], inputs: list[Any], archived: bool) -> Outcome:
    results, errors = [], []
    for item in inputs:
        try:
            values = _values(store, table, item)
            clash = store.conflict(table, values, None)
            if clash:
                raise clash
        except Failure as failure:
            errors.append(failure)
            continue
        obj = store.insert(table, values)
        results.append(store.public(table, obj, _written(table, values)))
    return results, errors, 201


def _update(store: HubSpotStore, table: Table, body: dict[str, Any], inputs: list[Any], archived: bool) -> Outcome:
    results, errors, missing = [], [], []
    id_property = body.get("idProperty")
    for item in inputs:
        oid = str(item.get("id", "")) if isinstance(item, dict) else ""
        if not oid:
            errors.append(Failure(400, "VALIDATION_ERROR", "Invalid input JSON: each input needs an id"))
            continue
        obj = table.find(oid, item.get("idProperty") or id_property)
        if obj is None:
            missing.append(oid)
            continue
        try:
            values = _values(store, table, item)
            clash = store.conflict(table, values, obj.id)
            if clash:
                raise clash
        except Failure as failure:
            errors.append(failure)
            continue
        store.apply(table, obj, values)
        results.append(store.public(table, obj, _written(table, values)))
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
    results, errors = [], []
    for item in inputs:
        try:
            result = _upsert_one(store, table, item)
        except Failure as failure:
            errors.append(failure)
            continue
        results.append(result)
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
