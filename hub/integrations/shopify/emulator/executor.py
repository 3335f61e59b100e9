"""Validate, price and run one GraphQL query against the shop's records.

Pricing follows shopify.dev ``graphql-admin/rate-limits``: a scalar or enum costs 0, an object 1, a connection
``2 + first × (cost of one node)`` (its ``pageInfo`` and cursors included in the 2). The *requested* cost is priced
from the query before it runs (the sizes asked for); the *actual* cost from what came back (the nodes returned), and
the bucket is refunded the difference. A list field that is not a connection (``refunds``) costs as one object.
Validation errors (an unknown field or argument, a connection without ``first``/``last``, a page over 250) answer
with ``errors`` only, as Shopify's do, and cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from hub.integrations.shopify.emulator import schema as sc
from hub.integrations.shopify.emulator.graphql import (Document, EnumValue, Field, FragmentSpread,
                                                       GraphQLSyntaxError, Variable, parse)
from hub.integrations.shopify.emulator.store import KINDS, SearchError, ShopStore, parse_search

ACCESS_DOCS = "https://shopify.dev/api/usage/access-scopes"


class QueryError(Exception):
    """Errors that stop a query before it runs (the body is ``{"errors": [...]}``)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"])
        self.errors = errors


def _error(message: str, node: Any = None, path: list[Any] | None = None, **extensions: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"message": message}
    if node is not None:
        out["locations"] = [{"line": node.line, "column": node.column}]
    if path is not None:
        out["path"] = path
    if extensions:
        out["extensions"] = extensions
    return out


@lru_cache(maxsize=256)
def parsed(text: str) -> Document:
    """The document of a query text (clients send the same few texts over and over)."""
    return parse(text)


@dataclass
class Prepared:
    """A validated operation: its fields with fragments expanded, variables bound, and its requested cost."""

    selections: list[Field]
    variables: dict[str, Any]
    requested: int


@dataclass
class Result:
    data: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    actual: int = 0
    search: list[dict[str, Any]] = field(default_factory=list)


def prepare(query: Any, variables: Any, operation_name: Any) -> Prepared:
    """Read, bind and price a request; raises :class:`QueryError` with Shopify-shaped errors."""
    try:
        doc = parsed(query) if isinstance(query, str) else parse("")
        operation = doc.operation(operation_name if isinstance(operation_name, str) else None)
    except GraphQLSyntaxError as exc:
        raise QueryError([_error(exc.message, exc)]) from None
    if variables is not None and not isinstance(variables, dict):
        raise QueryError([_error("Variables must be a JSON object")])
    bound = _bind(operation.variables, variables or {})
    fields = _expand(doc, operation.selections, "QueryRoot")
    requested = _price(doc, fields, "QueryRoot", bound, ["query"])
    return Prepared(fields, bound, requested)


def _bind(definitions: dict[str, tuple[str, Any, bool]], given: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (kind, default, has_default) in definitions.items():
        if name in given:
            value = given[name]
        elif has_default:
            value = default
        else:
            value = None
        base = kind.rstrip("!")
        if value is None and kind.endswith("!"):
            raise QueryError([_error(f"Variable ${name} of type {kind} was provided invalid value",
                                     value=None, problems=[{"path": [], "explanation": "Expected value to not be "
                                                                                       "null"}])])
        if value is not None and (base == "Int" and (not isinstance(value, int) or isinstance(value, bool))
                                  or base == "String" and not isinstance(value, str)
                                  or base == "Boolean" and not isinstance(value, bool)):
            raise QueryError([_error(f"Variable ${name} of type {kind} was provided invalid value",
                                     value=value, problems=[{"path": [], "explanation": f"Could not coerce value "
                                                                                         f"{value!r} to {base}"}])])
        out[name] = value
    for name in given:
        if name not in definitions:
            pass  # extra variables are ignored by GraphQL servers
    return out


def _expand(doc: Document, selections: list[Any], type_name: str, seen: frozenset[str] = frozenset()) -> list[Field]:
    """Fields of a selection set with fragment spreads and inline fragments flattened into it."""
    out: list[Field] = []
    for sel in selections:
        if isinstance(sel, Field):
            out.append(sel)
            continue
        if isinstance(sel, FragmentSpread):
            fragment = doc.fragments.get(sel.name)
            if fragment is None:
                raise QueryError([_error(f"Fragment {sel.name} was used, but not defined", sel)])
            if sel.name in seen:
                raise QueryError([_error(f"Fragment {sel.name} contains an infinite loop", sel)])
            seen = seen | {sel.name}
        else:
            fragment = sel
        if fragment.type_condition not in (None, type_name):
            if fragment.type_condition not in sc.TYPES:
                raise QueryError([_error(f"No such type {fragment.type_condition}, so it can't be a fragment "
                                         f"condition", sel)])
            continue
        out.extend(_expand(doc, fragment.selections, type_name, seen))
    return out


def _arg(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return [_arg(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _arg(v, variables) for k, v in value.items()}
    return value


def _size(f: Field, variables: dict[str, Any], path: list[Any]) -> int:
    first, last = (_arg(f.arguments.get(k), variables) for k in ("first", "last"))
    if first is None and last is None:
        raise QueryError([_error("you must provide one of first or last", f, path)])
    if first is not None and last is not None:
        raise QueryError([_error("providing both first and last is not supported", f, path)])
    size = first if first is not None else last
    if not isinstance(size, int) or size < 0:
        raise QueryError([_error(f"Argument '{'first' if first is not None else 'last'}' on Field '{f.name}' has "
                                 f"an invalid value ({size}). Expected type 'Int'.", f, path)])
    if size > sc.MAX_PAGE:
        raise QueryError([_error(f"The value of the '{'first' if first is not None else 'last'}' argument on "
                                 f"'{f.name}' must be less than or equal to {sc.MAX_PAGE}", f, path)])
    return size


def _price(doc: Document, fields: list[Field], type_name: str, variables: dict[str, Any], path: list[Any]) -> int:
    """The requested cost of ``fields`` on ``type_name``; validates fields and arguments on the way."""
    cost = 0
    defs = sc.TYPES[type_name]
    for f in fields:
        here = [*path, f.key]
        if f.name == "__typename":
            continue
        spec = defs.get(f.name)
        if spec is None:
            raise QueryError([_error(f"Field '{f.name}' doesn't exist on type '{type_name}'", f, here,
                                     code="undefinedField", typeName=type_name, fieldName=f.name)])
        for arg in f.arguments:
            if arg not in spec.args:
                raise QueryError([_error(f"Field '{f.name}' doesn't accept argument '{arg}'", f, here,
                                         code="argumentNotAccepted", name=f.name, typeName="Field",
                                         argumentName=arg)])
        if spec.kind == sc.SCALAR:
            if f.selections:
                raise QueryError([_error(f"Selections can't be made on scalars (field '{f.name}' returns a "
                                         f"scalar)", f, here, code="selectionMismatch", nodeName=f"field '{f.name}'",
                                         typeName="scalar")])
            continue
        if not f.selections:
            raise QueryError([_error(f"Field must have selections (field '{f.name}' returns {spec.type} but has "
                                     f"no selections. Did you mean '{f.name} {{ ... }}'?)", f, here,
                                     code="selectionMismatch", nodeName=f"field '{f.name}'", typeName=spec.type)])
        inner = f.selections = _expand(doc, f.selections, _wrapper(spec))
        if spec.kind == sc.CONNECTION:
            sort = _arg(f.arguments.get("sortKey"), variables)
            if sort is not None and sort not in spec.sort_keys:
                raise QueryError([_error(f"Argument 'sortKey' on Field '{f.name}' has an invalid value ({sort}).",
                                         f, here, code="argumentLiteralsIncompatible", typeName="Field",
                                         argumentName="sortKey")])
            cost += 2 + _size(f, variables, here) * _node_cost(doc, inner, spec.type, variables, here)
        else:
            cost += 1 + _price(doc, inner, spec.type, variables, here)
    return cost


def _wrapper(spec: sc.FieldDef) -> str:
    return f"{spec.type}Connection" if spec.kind == sc.CONNECTION else spec.type


def _node_cost(doc: Document, fields: list[Field], node_type: str, variables: dict[str, Any],
               path: list[Any]) -> int:
    """The cost of one node of a connection, from its ``edges { node }`` or ``nodes`` selections (at most one of
    them counts: both name the same nodes)."""
    best = 1
    for f in fields:
        here = [*path, f.key]
        if f.name == "__typename":
            continue
        if f.name not in sc.CONNECTION_FIELDS:
            raise QueryError([_error(f"Field '{f.name}' doesn't exist on type '{node_type}Connection'", f, here,
                                     code="undefinedField", typeName=f"{node_type}Connection", fieldName=f.name)])
        if f.name == "pageInfo":
            f.selections = _expand(doc, f.selections, "PageInfo")
            _price(doc, f.selections, "PageInfo", variables, here)
        elif f.name == "nodes":
            f.selections = _expand(doc, f.selections, node_type)
            best = max(best, 1 + _price(doc, f.selections, node_type, variables, here))
        else:
            f.selections = _expand(doc, f.selections, f"{node_type}Edge")
            for e in f.selections:
                if e.name not in sc.EDGE_FIELDS and e.name != "__typename":
                    raise QueryError([_error(f"Field '{e.name}' doesn't exist on type '{node_type}Edge'", e,
                                             [*here, e.key], code="undefinedField", typeName=f"{node_type}Edge",
                                             fieldName=e.name)])
                if e.name == "node":
                    e.selections = _expand(doc, e.selections, node_type)
                    best = max(best, 1 + _price(doc, e.selections, node_type, variables, [*here, e.key]))
    return best


class Runner:
    """Runs a prepared query with one token's scopes; hidden fields answer null with ACCESS_DENIED."""

    def __init__(self, store: ShopStore, scopes: frozenset[str], shop: dict[str, Any]) -> None:
        self.store, self.scopes, self.shop = store, scopes, shop
        self.result = Result(data={})

    def run(self, prepared: Prepared) -> Result:
        self.variables = prepared.variables
        data: dict[str, Any] | None = {}
        with self.store.lock:
            for f in prepared.selections:
                spec = sc.TYPES["QueryRoot"].get(f.name)
                if spec is None:   # __typename
                    data[f.key] = "QueryRoot"
                    continue
                value, cost = self._top(f, spec)
                self.result.actual += cost
                if value is None and spec.non_null:
                    data = None
                    break
                data[f.key] = value
        self.result.data = data
        return self.result

    def _denied(self, f: Field, spec: sc.FieldDef, path: list[Any]) -> bool:
        if spec.scope is None or spec.scope in self.scopes:
            return False
        self.result.errors.append(_error(f"Access denied for {f.name} field. Required access: `{spec.scope}` "
                                         f"access scope.", f, path, code="ACCESS_DENIED",
                                         documentation=ACCESS_DOCS, requiredAccess=f"`{spec.scope}` access scope."))
        return True

    def _top(self, f: Field, spec: sc.FieldDef) -> tuple[Any, int]:
        path = [f.key]
        if self._denied(f, spec, path):
            return None, 0
        if spec.kind == sc.CONNECTION:
            args = {k: _arg(v, self.variables) for k, v in f.arguments.items()}
            try:
                search = parse_search(args.get("query"))
                page, has_next, has_prev = self.store.page(
                    _kind(spec.type), first=args.get("first"), last=args.get("last"), after=args.get("after"),
                    before=args.get("before"), search=search, sort_key=args.get("sortKey") or "ID",
                    reverse=bool(args.get("reverse")))
            except SearchError as exc:
                self.result.errors.append(_error(str(exc), f, path))
                return None, 0
            if search.warnings:
                self.result.search.append({"path": path, "query": args.get("query"),
                                           "warnings": search.warnings})
            return self._connection(f, spec.type, page, has_next, has_prev, path)
        if f.name == "shop":
            value, cost = self._object(_expand_plain(f), "Shop", self.shop, path)
            return value, 1 + cost
        record = self.store.get(_kind(spec.type), _arg(f.arguments.get("id"), self.variables))
        if record is None:
            return None, 1
        value, cost = self._object(_expand_plain(f), spec.type, record, path)
        return value, 1 + cost

    def _connection(self, f: Field, node_type: str, page: list[tuple[str, dict[str, Any]]], has_next: bool,
                    has_prev: bool, path: list[Any]) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        cost = 2
        counted = False
        for sub in _expand_plain(f):
            here = [*path, sub.key]
            if sub.name == "pageInfo":
                info = {"hasNextPage": has_next, "hasPreviousPage": has_prev,
                        "startCursor": page[0][0] if page else None, "endCursor": page[-1][0] if page else None}
                out[sub.key] = {s.key: info.get(s.name, "PageInfo") for s in _expand_plain(sub)}
            elif sub.name == "nodes":
                values = []
                for i, (_, record) in enumerate(page):
                    value, c = self._object(_expand_plain(sub), node_type, record, [*here, i])
                    values.append(value)
                    cost += 0 if counted else 1 + c
                counted = counted or bool(page)
                out[sub.key] = values
            elif sub.name == "edges":
                edges = []
                for i, (cursor, record) in enumerate(page):
                    edge: dict[str, Any] = {}
                    for e in _expand_plain(sub):
                        if e.name == "cursor":
                            edge[e.key] = cursor
                        elif e.name == "node":
                            value, c = self._object(_expand_plain(e), node_type, record, [*here, i, e.key])
                            edge[e.key] = value
                            cost += 0 if counted else 1 + c
                        else:
                            edge[e.key] = f"{node_type}Edge"
                    edges.append(edge)
                counted = counted or bool(page)
                out[sub.key] = edges
            else:
                out[sub.key] = f"{node_type}Connection"
        return out, cost

    def _object(self, fields: list[Field], type_name: str, record: dict[str, Any],
                path: list[Any]) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        cost = 0
        defs = sc.TYPES[type_name]
        for f in fields:
            if f.name == "__typename":
                out[f.key] = type_name
                continue
            spec = defs[f.name]
            here = [*path, f.key]
            if self._denied(f, spec, here):
                out[f.key] = None
                continue
            value = spec.resolve(self.store, record) if spec.resolve else record.get(f.name)
            if spec.kind == sc.SCALAR:
                out[f.key] = value
            elif value is None:
                out[f.key] = None
            elif spec.kind == sc.OBJECT:
                out[f.key], c = self._object(_expand_plain(f), spec.type, value, here)
                cost += 1 + c
            elif spec.kind == sc.LIST:
                limit = _arg(f.arguments.get("first"), self.variables)
                items = value[:limit] if isinstance(limit, int) else value
                rendered = [self._object(_expand_plain(f), spec.type, item, [*here, i])
                            for i, item in enumerate(items)]
                out[f.key] = [r for r, _ in rendered]
                cost += 1 + max((c for _, c in rendered), default=0)
            else:
                out[f.key], c = self._nested(f, spec.type, value, here)
                cost += c
        return out, cost

    def _nested(self, f: Field, node_type: str, items: list[dict[str, Any]], path: list[Any]) -> tuple[Any, int]:
        """A connection inside a record (line items, variants): paged by position."""
        args = {k: _arg(v, self.variables) for k, v in f.arguments.items()}
        start = int(args["after"].rpartition(":")[2]) + 1 if isinstance(args.get("after"), str) else 0
        end = int(args["before"].rpartition(":")[2]) if isinstance(args.get("before"), str) else len(items)
        window = list(range(start, min(end, len(items))))
        chosen = window[:args["first"]] if args.get("first") is not None else window[-args["last"]:] \
            if args.get("last") else []
        page = [(f"{node_type}:{i}", items[i]) for i in chosen]
        has_next = bool(chosen) and chosen[-1] < len(items) - 1
        return self._connection(f, node_type, page, has_next, bool(chosen) and chosen[0] > 0, path)


def _expand_plain(f: Field) -> list[Field]:
    """A field's selections: pricing flattened its fragments into plain fields already."""
    return f.selections


def _kind(type_name: str) -> str:
    return KINDS[type_name]
