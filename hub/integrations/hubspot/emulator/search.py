"""HubSpot CRM search (POST /crm/v3/objects/{objectType}/search): filters, one sort, offset paging."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

from hub.sandbox.clock import parse_iso
from hub.integrations.hubspot.emulator.store import Failure, HubObject, HubSpotStore, Table

MAX_TOTAL = 10_000  # HubSpot never pages a search past 10,000 results
MAX_LIMIT = 200
MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
SEARCHABLE = {"contacts": ("email", "firstname", "lastname", "phone", "company"),
              "companies": ("name", "domain", "website", "phone"), "deals": ("dealname",),
              "tickets": ("subject", "content"), "line_items": ("name", "hs_sku"),
              "subscriptions": ("subscription_name",)}
_TOKEN_SPLIT = re.compile(r"[\s@.,;:_/-]+")

Getter = Callable[[HubObject], Any]
Predicate = Callable[[HubObject], bool]


def search(store: HubSpotStore, table: Table, body: Any) -> dict[str, Any]:
    """Run one search request body against a table (caller holds ``store.lock``)."""
    if not isinstance(body, dict):
        raise _bad("Invalid input JSON: expected an object")
    limit = _int(body.get("limit", 10), "limit")
    after = _int(body.get("after") or 0, "after")
    if limit < 0 or limit > MAX_LIMIT:
        raise _bad(f"Invalid input JSON: limit must be between 0 and {MAX_LIMIT}, got {limit}")
    if after + limit > MAX_TOTAL:
        raise _bad(f"The search endpoint is limited to {MAX_TOTAL} total results; requested results "
                   f"{after}-{after + limit}. Narrow the query (for example by a date range) instead of paging "
                   "further.")
    predicate = _compile_groups(table, body.get("filterGroups") or [])
    query = body.get("query")
    if query:
        predicate = _with_query(table, predicate, str(query))
    matches = [obj for obj in table.live() if predicate(obj)]
    _sort(table, matches, body.get("sorts") or [])
    names = table.selection(body.get("properties") or None)
    page = matches[after:after + limit]
    result: dict[str, Any] = {"total": len(matches), "results": [store.public(table, o, names) for o in page]}
    if after + limit < len(matches) and limit:
        result["paging"] = {"next": {"after": str(after + limit)}}
    return result


def _bad(message: str) -> Failure:
    return Failure(400, "VALIDATION_ERROR", message)


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad(f"Invalid input JSON: {name} must be an integer, got {value!r}") from None


def getter(table: Table, name: str) -> tuple[Getter, str]:
    """A function reading a property as a comparable value, and the property's type."""
    prop = table.schema.props.get(name)
    if prop is None:
        raise _bad(f"Property \"{name}\" does not exist on {table.schema.name}; check GET /crm/v3/properties/"
                   f"{table.schema.name} for valid names")
    if name == "hs_object_id":
        return (lambda o: o.id), "number"
    if name == table.schema.created_prop:
        return (lambda o: o.created_ms), "datetime"
    if name == table.schema.modified_prop:
        return (lambda o: o.updated_ms), "datetime"
    if prop.type == "number":
        return (lambda o: _number(o.props.get(name))), "number"
    if prop.type in ("datetime", "date"):
        return (lambda o: _millis(o.props.get(name))), "datetime"
    return (lambda o: _lower(o.props.get(name))), "string"


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value is not None else None


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _millis(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) or str(value).strip().lstrip("-").isdigit():
        return int(value)
    try:
        return int(parse_iso(str(value)).timestamp() * 1000)
    except ValueError:
        return None


def _coerce(kind: str, value: Any, name: str) -> Any:
    if kind == "number":
        result = _number(value)
    elif kind == "datetime":
        result = _millis(value)
    else:
        return _lower(str(value)) if value is not None else None
    if result is None:
        raise _bad(f"Invalid value {value!r} for property {name}: expected a {kind}"
                   + (" as epoch milliseconds" if kind == "datetime" else ""))
    return result


def _compile_groups(table: Table, groups: Any) -> Predicate:
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise _bad(f"Invalid input JSON: at most {MAX_GROUPS} filterGroups are allowed")
    compiled: list[list[Predicate]] = []
    total = 0
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
            raise _bad(f"Invalid input JSON: each filterGroup needs at most {MAX_FILTERS_PER_GROUP} filters")
        total += len(filters)
        compiled.append([_compile_filter(table, f) for f in filters])
    if total > MAX_FILTERS:
        raise _bad(f"Invalid input JSON: at most {MAX_FILTERS} filters are allowed across filterGroups")
    if not compiled:
        return lambda o: True
    # groups are ORed, the filters inside a group are ANDed
    return lambda o: any(all(f(o) for f in group) for group in compiled)


def _compile_filter(table: Table, spec: Any) -> Predicate:
    if not isinstance(spec, dict) or "propertyName" not in spec or "operator" not in spec:
        raise _bad("Invalid input JSON: a filter needs propertyName and operator")
    name, op = spec["propertyName"], str(spec["operator"]).upper()
    get, kind = getter(table, name)
    if op == "HAS_PROPERTY":
        return lambda o: get(o) not in (None, "")
    if op == "NOT_HAS_PROPERTY":
        return lambda o: get(o) in (None, "")
    if op in ("IN", "NOT_IN"):
        values = spec.get("values")
        if not isinstance(values, list):
            raise _bad(f"Invalid input JSON: operator {op} needs a values list")
        pool = {_coerce(kind, v, name) for v in values}
        if op == "IN":
            return lambda o: get(o) in pool
        return lambda o: get(o) not in pool
    if op == "BETWEEN":
        low, high = _coerce(kind, spec.get("value"), name), _coerce(kind, spec.get("highValue"), name)
        return lambda o: (v := get(o)) is not None and low <= v <= high
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(spec.get("value", "")).lower()
        def contains(o: HubObject) -> bool:
            v = get(o)
            if v is None:
                return False
            text = str(v)
            return fnmatch.fnmatchcase(text, token) if "*" in token else token in _TOKEN_SPLIT.split(text)
        return contains if op == "CONTAINS_TOKEN" else (lambda o: not contains(o))
    target = _coerce(kind, spec.get("value"), name)
    compare = {
        "EQ": lambda v: v == target, "NEQ": lambda v: v != target, "LT": lambda v: v is not None and v < target,
        "LTE": lambda v: v is not None and v <= target, "GT": lambda v: v is not None and v > target,
        "GTE": lambda v: v is not None and v >= target,
    }.get(op)
    if compare is None:
        raise _bad(f"Invalid input JSON: unknown filter operator {op}")
    return lambda o: compare(get(o))


def _with_query(table: Table, predicate: Predicate, query: str) -> Predicate:
    needle = query.strip().lower()
    fields = SEARCHABLE[table.schema.name]
    def matches(o: HubObject) -> bool:
        return predicate(o) and any(needle in (o.props.get(f) or "").lower() for f in fields)
    return matches


def _sort(table: Table, matches: list[HubObject], sorts: Any) -> None:
    if not sorts:
        return  # already in id order
    spec = sorts[0]
    if isinstance(spec, str):
        name, descending = spec.lstrip("-"), spec.startswith("-")
    elif isinstance(spec, dict) and spec.get("propertyName"):
        name, descending = spec["propertyName"], str(spec.get("direction", "ASCENDING")).upper() == "DESCENDING"
    else:
        raise _bad("Invalid input JSON: sorts entries need a propertyName")
    get, _ = getter(table, name)
    present = [o for o in matches if get(o) is not None]
    missing = [o for o in matches if get(o) is None]
    present.sort(key=lambda o: (get(o), o.id), reverse=descending)
    matches[:] = present + missing  # records without the property come last either way
