"""Binding a parsed SOQL query to sObject metadata and evaluating it over the store's records."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from hub.sandbox.clock import parse_iso, iso_millis_offset
from hub.integrations.salesforce.emulator.objects import SOBJECTS
from hub.integrations.salesforce.emulator.schema import NUMERIC, STRINGY, SObjectType
from hub.integrations.salesforce.emulator.soql import MAX_OFFSET, WILD, Literal, Path, Query, SOQLError, position


class RecordSource(Protocol):
    """What the evaluator needs from the store."""

    def records(self, sobject: str) -> Iterable[dict[str, Any]]:
        """Every record of a type, deleted ones included."""
        ...

    def lookup(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        """A live record by Id (for parent fields such as Account.Name)."""
        ...


Getter = Callable[[dict[str, Any]], Any]


class Plan:
    """A query bound to sObject metadata, ready to run against a RecordSource."""

    def __init__(self, query: Query, source: RecordSource) -> None:
        self.query = query
        self.source = source
        # the source's own metadata where it has some (an org's custom fields, fields its user may not read)
        self.sobjects: dict[str, SObjectType] = getattr(source, "sobjects", SOBJECTS)
        sobject = self.sobjects.get(query.sobject.lower())
        if sobject is None:
            raise SOQLError("INVALID_TYPE", position(
                query.text, query.sobject_col, f"sObject type '{query.sobject}' is not supported. If you are "
                "attempting to use a custom object, be sure to append the '__c' after the entity name. Please "
                "reference your WSDL or the describe call for the appropriate names."))
        self.sobject: SObjectType = sobject
        self.columns = [self.bind(p) for p in query.select]
        self.count_getter = self.bind(query.count)[2] if isinstance(query.count, Path) else None
        self.where = self.compile(query.where) if query.where is not None else None
        # SOQL puts nulls first when ascending and last when descending unless told otherwise
        self.order = [(self.bind(p), desc, (not desc) if nf is None else nf) for p, desc, nf in query.order]
        if query.offset > MAX_OFFSET:
            raise SOQLError("NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}")

    def bind(self, path: Path) -> tuple[list[str], str, Getter]:
        """Resolve a field path to (canonical names, field type, getter)."""
        parts, sobject = path.parts, self.sobject
        if len(parts) == 1:
            fld = sobject.by_lower.get(parts[0].lower())
            if fld is not None:
                name = fld.name
                return [name], fld.type, lambda r: r.get(name)
        elif len(parts) == 2:
            rel = sobject.relationships.get(parts[0].lower())
            parent_type = self.sobjects.get((rel.reference_to or "").lower()) if rel else None
            fld = parent_type.by_lower.get(parts[1].lower()) if parent_type else None
            if rel is not None and parent_type is not None and fld is not None:
                key, parent_name, name, lookup = rel.name, parent_type.name, fld.name, self.source.lookup
                def get(r: dict[str, Any]) -> Any:
                    parent = lookup(parent_name, r[key]) if r.get(key) else None
                    return parent.get(name) if parent else None
                return [rel.relationship or "", name], fld.type, get
        shown = ".".join(parts)
        raise SOQLError("INVALID_FIELD", position(
            self.query.text, path.col, f"No such column '{shown}' on entity '{sobject.name}'. If you are "
            "attempting to use a custom field, be sure to append the '__c' after the custom field name. Please "
            "reference your WSDL or the describe call for the appropriate names."))

    def compile(self, node: Any) -> Callable[[dict[str, Any]], bool]:
        """Turn a WHERE tree into a predicate over records."""
        kind = node[0]
        if kind in ("AND", "OR"):
            parts = [self.compile(n) for n in node[1]]
            return (lambda r: all(p(r) for p in parts)) if kind == "AND" else (lambda r: any(p(r) for p in parts))
        if kind == "NOT":
            inner = self.compile(node[1])
            return lambda r: not inner(r)
        path = node[1]
        names, ftype, get = self.bind(path)
        self._filterable(path, names)
        norm = _normalizer(ftype)
        if kind == "LIKE":
            if ftype not in STRINGY:
                raise SOQLError("INVALID_FIELD", f"invalid operator on field: {'.'.join(names)}")
            regex = _like(self.coerce(node[2], ftype, names, like=True))
            return lambda r: (v := get(r)) is not None and regex.fullmatch(str(v)) is not None
        if kind in ("IN", "NOT IN"):
            pool = {norm(self.coerce(lit, ftype, names)) for lit in node[2]}
            if kind == "IN":
                return lambda r: norm(get(r)) in pool
            return lambda r: norm(get(r)) not in pool
        target = norm(self.coerce(node[2], ftype, names))
        if target is None:
            if kind not in ("=", "!="):
                raise SOQLError("MALFORMED_QUERY", f"null can only be used with = and != on {'.'.join(names)}")
            return (lambda r: get(r) in (None, "")) if kind == "=" else (lambda r: get(r) not in (None, ""))
        ops = {"=": lambda v: v == target, "!=": lambda v: v != target,
               "<": lambda v: v is not None and v < target, ">": lambda v: v is not None and v > target,
               "<=": lambda v: v is not None and v <= target, ">=": lambda v: v is not None and v >= target}
        test = ops[kind]
        return lambda r: test(norm(get(r)))

    def _filterable(self, path: Path, names: list[str]) -> None:
        """Refuse a WHERE on a field describe marks ``filterable: false``, as Salesforce does."""
        sobject = self.sobject
        if len(names) == 2:
            rel = sobject.relationships.get(path.parts[0].lower())
            sobject = self.sobjects[(rel.reference_to or "").lower()] if rel else sobject
        fld = sobject.by_lower.get(names[-1].lower())
        if fld is not None and not fld.filterable:
            raise SOQLError("INVALID_FIELD", position(
                self.query.text, path.col, f"field '{fld.name}' can not be filtered in query call"))

    def coerce(self, lit: Literal, ftype: str, names: list[str], like: bool = False) -> Any:
        """A literal converted to the stored representation of a field type (or INVALID_FIELD)."""
        if lit.kind == "null":
            return None
        shown = names[-1]
        if ftype in STRINGY and lit.kind == "string":
            return lit.value if like else lit.value.replace(WILD, "")
        if ftype in NUMERIC and lit.kind == "number":
            return float(lit.value)
        if ftype == "boolean" and lit.kind == "boolean":
            return lit.value
        if ftype == "datetime" and lit.kind == "datetime":
            return iso_millis_offset(int(parse_iso(lit.value).timestamp() * 1000))
        if ftype == "date" and lit.kind == "date":
            return lit.value
        expected = {"datetime": "dateTime", "date": "date", "boolean": "boolean"}.get(
            ftype, "string" if ftype in STRINGY else "number")
        quoting = "should be enclosed in quotes" if ftype in STRINGY else "should not be enclosed in quotes"
        raise SOQLError("INVALID_FIELD", position(
            self.query.text, lit.col, f"value of filter criterion for field '{shown}' must be of type {expected} "
            f"and {quoting}"))

    def run(self, include_deleted: bool) -> list[dict[str, Any]]:
        """Matching records after ORDER BY, OFFSET and LIMIT."""
        rows: Iterable[dict[str, Any]] = self.source.records(self.sobject.name)
        if not include_deleted:
            rows = (r for r in rows if not r.get("IsDeleted"))
        where = self.where
        matched = [r for r in rows if where(r)] if where is not None else list(rows)
        for (_, ftype, get), descending, nulls_first in reversed(self.order):
            norm = _sort_normalizer(ftype)
            present = [r for r in matched if get(r) is not None]
            missing = [r for r in matched if get(r) is None]
            present.sort(key=lambda r: norm(get(r)), reverse=descending)
            matched = missing + present if nulls_first else present + missing
        end = None if self.query.limit is None else self.query.offset + self.query.limit
        return matched[self.query.offset:end]

    def render(self, record: dict[str, Any], version: str) -> dict[str, Any]:
        """One record as the query API returns it: attributes first, then the selected fields."""
        sobject = self.sobject.name
        row: dict[str, Any] = {"attributes": {"type": sobject,
                                              "url": f"/services/data/{version}/sobjects/{sobject}/{record['Id']}"}}
        for names, _, _get in self.columns:
            if len(names) == 1:
                row[names[0]] = record.get(names[0])
                continue
            rel_field = self.sobject.relationships[names[0].lower()]
            parent_id = record.get(rel_field.name)
            parent_type = rel_field.reference_to or ""
            parent = self.source.lookup(parent_type, parent_id) if parent_id else None
            if parent is None:
                row[names[0]] = None
                continue
            nested = row.get(names[0]) or {"attributes": {
                "type": parent_type, "url": f"/services/data/{version}/sobjects/{parent_type}/{parent_id}"}}
            nested[names[1]] = parent.get(names[1])
            row[names[0]] = nested
        return row


def _normalizer(ftype: str) -> Callable[[Any], Any]:
    if ftype in ("id", "reference"):
        return lambda v: v[:15] if isinstance(v, str) else v  # 15- and 18-char forms compare equal
    if ftype in STRINGY:
        return lambda v: v.lower() if isinstance(v, str) else v  # SOQL text comparison ignores case
    if ftype in NUMERIC:
        return lambda v: float(v) if v is not None else None
    return lambda v: v


def _sort_normalizer(ftype: str) -> Callable[[Any], Any]:
    if ftype in STRINGY and ftype not in ("id", "reference"):
        return lambda v: v.lower()
    return lambda v: v


def _like(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == WILD:
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)
