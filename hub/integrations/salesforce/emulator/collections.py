"""sObject Collections (/composite/sobjects): per-record results in request order, allOrNone honoured."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from hub.integrations.salesforce.emulator.schema import to_18
from hub.integrations.salesforce.emulator.store import RecordError, SalesforceStore, SObjectTable, record_error

MAX_RECORDS = 200
ROLLED_BACK = record_error("ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all records were "
                                                                "valid and the request was using AllOrNone header")
Result = dict[str, Any]
Planned = tuple[str | None, list[RecordError], Callable[[], Result] | None]


def _finish(plans: list[Planned], all_or_none: bool) -> list[Result]:
    # validate everything first so allOrNone can refuse the whole request before writing anything
    if all_or_none and any(errors for _, errors, _ in plans):
        return [{"id": None, "success": False, "errors": errors or [ROLLED_BACK]} for _, errors, _ in plans]
    results: list[Result] = []
    for rid, errors, apply in plans:
        if errors or apply is None:
            results.append({"id": rid, "success": False, "errors": errors})
        else:
            results.append(apply())
    return results


def _typed_table(store: SalesforceStore, record: Any) -> tuple[SObjectTable | None, list[RecordError]]:
    if not isinstance(record, dict):
        return None, [record_error("JSON_PARSER_ERROR", "each record must be a JSON object")]
    kind = (record.get("attributes") or {}).get("type")
    if not kind:
        return None, [record_error("INVALID_TYPE", "No SObject Type defined in the attributes of the record")]
    table = store.table(str(kind))
    if table is None:
        return None, [record_error("INVALID_TYPE", f"sObject type '{kind}' is not supported.")]
    return table, []


def create_many(store: SalesforceStore, records: list[Any], all_or_none: bool) -> list[Result]:
    """POST /composite/sobjects."""
    plans: list[Planned] = []
    for record in records:
        table, errors = _typed_table(store, record)
        if table is None:
            plans.append((None, errors, None))
            continue
        values, errors = store.check(table, record, creating=True)
        plans.append((None, errors, _creator(store, table, values)))
    return _finish(plans, all_or_none)


def _creator(store: SalesforceStore, table: SObjectTable, values: dict[str, Any],
             upsert: bool = False) -> Callable[[], Result]:
    def apply() -> Result:
        result: Result = {"id": store.insert(table, values)["Id"], "success": True, "errors": []}
        if upsert:
            result["created"] = True
        return result
    return apply


def _updater(store: SalesforceStore, table: SObjectTable, rid: str, values: dict[str, Any],
             upsert: bool = False) -> Callable[[], Result]:
    def apply() -> Result:
        store.apply(table, rid, values)
        result: Result = {"id": rid, "success": True, "errors": []}
        if upsert:
            result["created"] = False
        return result
    return apply


def _missing_record(table: SObjectTable, raw_id: str) -> RecordError | None:
    rid = to_18(raw_id)
    if rid is None or not rid.startswith(table.sobject.key_prefix):
        return record_error("MALFORMED_ID", f"malformed id {raw_id}", ["Id"])
    record = table.records.get(rid)
    if record is None:
        return record_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["Id"])
    if record["IsDeleted"]:
        return record_error("ENTITY_IS_DELETED", "entity is deleted", ["Id"])
    return None


def update_many(store: SalesforceStore, records: list[Any], all_or_none: bool) -> list[Result]:
    """PATCH /composite/sobjects (update by Id)."""
    plans: list[Planned] = []
    for record in records:
        table, errors = _typed_table(store, record)
        if table is None:
            plans.append((None, errors, None))
            continue
        fields = {k: v for k, v in record.items() if k.lower() != "id"}
        raw_id = next((str(v) for k, v in record.items() if k.lower() == "id" and v), "")
        if not raw_id:
            plans.append((None, [record_error("MISSING_ARGUMENT", "Id not specified in an update call")], None))
            continue
        missing = _missing_record(table, raw_id)
        if missing:
            plans.append((raw_id, [missing], None))
            continue
        rid = to_18(raw_id) or raw_id
        values, errors = store.check(table, fields, creating=False, own_id=rid)
        plans.append((rid, errors, _updater(store, table, rid, values)))
    return _finish(plans, all_or_none)


def upsert_many(store: SalesforceStore, table: SObjectTable, field_name: str, records: list[Any],
                all_or_none: bool) -> list[Result]:
    """PATCH /composite/sobjects/{Object}/{ExternalIdField}: match on the external id, create or update."""
    def value_of(record: Any) -> str:
        if not isinstance(record, dict):
            return ""
        return next((str(v) for k, v in record.items() if k.lower() == field_name.lower() and v not in (None, "")), "")
    counts = Counter(value_of(r).strip().lower() for r in records)
    plans: list[Planned] = []
    for record in records:
        value = value_of(record)
        if not isinstance(record, dict):
            plans.append((None, [record_error("JSON_PARSER_ERROR", "each record must be a JSON object")], None))
        elif any(k.lower() == "id" for k in record):
            plans.append((None, [record_error("INVALID_FIELD", "Id is not allowed in an upsert by external id; "
                                                               f"match on {field_name} instead", ["Id"])], None))
        elif not value:
            plans.append((None, [record_error("MISSING_ARGUMENT", f"{field_name} not specified", [field_name])],
                          None))
        elif counts[value.strip().lower()] > 1:
            plans.append((None, [record_error("DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}",
                                              [field_name])], None))
        else:
            plans.append(_plan_upsert(store, table, field_name, value, record))
    return _finish(plans, all_or_none)


def _plan_upsert(store: SalesforceStore, table: SObjectTable, field_name: str, value: str,
                 record: dict[str, Any]) -> Planned:
    matches = table.by_external(field_name, value)
    if len(matches) > 1:
        return None, [record_error("DUPLICATE_EXTERNAL_ID", f"{field_name}: more than one record found for external "
                                                            f"id field: {matches}", [field_name])], None
    if matches:
        fields = {k: v for k, v in record.items() if k.lower() != field_name.lower()}
        values, errors = store.check(table, fields, creating=False, own_id=matches[0])
        return matches[0], errors, _updater(store, table, matches[0], values, upsert=True)
    values, errors = store.check(table, record, creating=True)
    return None, errors, _creator(store, table, values, upsert=True)


def delete_many(store: SalesforceStore, ids: list[str], all_or_none: bool) -> list[Result]:
    """DELETE /composite/sobjects?ids=..."""
    plans: list[Planned] = []
    for raw_id in ids:
        table = next((t for t in store.tables.values() if raw_id.startswith(t.sobject.key_prefix)), None)
        problem = _missing_record(table, raw_id) if table else record_error("MALFORMED_ID", f"malformed id {raw_id}")
        if problem or table is None:
            plans.append((raw_id, [problem] if problem else [], None))
            continue
        rid = to_18(raw_id) or raw_id
        plans.append((rid, [], _deleter(store, table, rid)))
    return _finish(plans, all_or_none)


def _deleter(store: SalesforceStore, table: SObjectTable, rid: str) -> Callable[[], Result]:
    def apply() -> Result:
        if not store.remove(table, rid):  # the same Id listed twice: the first entry already deleted it
            return {"id": rid, "success": False, "errors": [record_error("ENTITY_IS_DELETED", "entity is deleted")]}
        return {"id": rid, "success": True, "errors": []}
    return apply
