"""Column lineage across the whole project: from a vendor field (``raw_crm.contacts.email``) through every model
column that derives from it, to the target field a sync writes (``crm.contacts.email``), and back.

Each SQL model is parsed once with sqlglot, qualified, and walked scope by scope (CTEs, subqueries, unions): a
projection's columns are traced to the tables they finally come from. The generated nodes (an entity's union of
records, identity resolution) pass their contract's columns through by name. A model's edges depend only on its SQL,
so they are cached by the SQL's hash (:class:`LineageCache`, a JSON file): a rebuild with 200 unchanged models parses
nothing.

Nodes are ``relation.column`` strings; :class:`Lineage` answers ``upstream``/``downstream`` of any of them.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

DIALECT = "duckdb"
CACHE_VERSION = 1


@dataclass
class Lineage:
    """Column-level edges: ``parents[node]`` are the columns ``node`` is computed from."""

    parents: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    children: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _ends: dict[tuple[str, bool], frozenset[str]] = field(default_factory=dict, repr=False)

    def add(self, child: str, parent: str) -> None:
        """Record that ``child`` is computed from ``parent``."""
        if child != parent:
            self.parents[child].add(parent)
            self.children[parent].add(child)
            self._ends.clear()

    def upstream(self, node: str) -> list[str]:
        """Every column ``node`` derives from, nearest first."""
        return _walk(node, self.parents)

    def downstream(self, node: str) -> list[str]:
        """Every column (and target field) derived from ``node``, nearest first."""
        return _walk(node, self.children)

    def origins(self, node: str) -> list[str]:
        """The columns at the very start of ``node``'s lineage (vendor fields, for raw tables), sorted."""
        return sorted(self._terminal(node, self.parents, up=True) - {node})

    def ends(self, node: str) -> list[str]:
        """The columns and target fields at the very end of what derives from ``node``, sorted."""
        return sorted(self._terminal(node, self.children, up=False) - {node})

    def _terminal(self, node: str, graph: dict[str, set[str]], *, up: bool) -> frozenset[str]:
        """The nodes without further edges reachable from ``node``, memoized (every page asks for many columns
        whose lineages share most of their path); iterative, so a deep chain of models cannot overflow the stack."""
        memo = self._ends
        stack, visiting = [node], set()
        while stack:
            current = stack[-1]
            if (current, up) in memo:
                stack.pop()
                continue
            nexts = [n for n in graph.get(current, ()) if (n, up) not in memo and n not in visiting]
            if nexts and current not in visiting:
                visiting.add(current)
                stack.extend(nexts)
                continue
            stack.pop()
            visiting.discard(current)
            found = graph.get(current)
            memo[(current, up)] = frozenset().union(*(memo.get((n, up), frozenset()) for n in found)) \
                if found else frozenset([current])
        return memo[(node, up)]


def _walk(start: str, graph: dict[str, set[str]]) -> list[str]:
    seen, out, queue = {start}, [], deque([start])
    while queue:
        for nxt in sorted(graph.get(queue.popleft(), ())):
            if nxt not in seen:
                seen.add(nxt)
                out.append(nxt)
                queue.append(nxt)
    return out


class LineageCache:
    """Per SQL text hash, a model's column edges; read and written as one JSON file (absent = empty)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, list[list[str]]] = {}
        self.dirty = False
        if path is not None and path.exists():
            try:
                data = orjson.loads(path.read_bytes())
                if data.get("version") == CACHE_VERSION:
                    self.entries = data.get("models", {})
            except (OSError, orjson.JSONDecodeError, AttributeError):
                self.entries = {}   # a damaged cache is only slower: rebuild it

    def save(self) -> None:
        """Write the cache if anything was added (atomically: a temp file renamed over it)."""
        if self.path is None or not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps({"version": CACHE_VERSION, "models": self.entries}))
        tmp.replace(self.path)


def build(models: Iterable[dict[str, Any]], syncs: Iterable[dict[str, Any]],
          cache: LineageCache | None = None) -> Lineage:
    """The lineage of every model and every sync's mapping (both as :mod:`hub.docs.collect` gives them)."""
    from hub.modeling.entities import UNIONS

    cache = cache or LineageCache(None)
    graph = Lineage()
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for model in models:
        if model["kind"] == "sql" and model["sql"]:
            key = hashlib.sha256(f"{model['name']}\n{model['sql']}".encode()).hexdigest()[:24]
            edges = cache.entries.get(key)
            if edges is None:
                edges = model_edges(model["name"], model["sql"])
                cache.entries[key] = edges
                cache.dirty = True
            for child, parent in edges:
                graph.add(child, parent)
            if model.get("entity"):
                members[model["entity"]].append(model)
    for entity in UNIONS.values():
        contract = [c for c, _ in entity.columns]
        for member in members.get(entity.name, ()):
            for column in member["columns"] or contract:
                graph.add(f"{entity.union}.{column}", f"{member['name']}.{column}")
        for column in contract if entity.resolved else ():   # identity resolution keeps each record's fields, and when each last changed
            graph.add(f"{entity.identity}.{column}", f"{entity.union}.{column}")
            graph.add(f"{entity.identity}.{column}_changed_at", f"{entity.union}.updated_at")
    for sync in syncs:
        for column, target_field in sync["mapping"]:
            graph.add(target_node(sync, target_field), f"{sync['model']}.{column}")
    return graph


def target_node(sync: dict[str, Any], target_field: str) -> str:
    """The node of a field a sync writes: ``<connection>.<object>.<field>`` (prefixed so it never meets a table)."""
    return f"target:{sync['to']}.{sync['object']}.{target_field}"


def model_edges(name: str, sql: str) -> list[list[str]]:
    """``[child, parent]`` column pairs of one model: each output column and the table columns it is computed from.

    Most models qualify their columns (``c.name``) or read one table, and are traced as written; only a model with a
    column sqlglot cannot place that way is run through sqlglot's ``qualify`` first, which costs as much as parsing.
    SQL sqlglot cannot read gives no edges rather than an error: the docs must build whatever the model holds.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import build_scope

    try:
        tree = sqlglot.parse_one(sql, read=DIALECT)
        unplaced: list[Any] = []
        outputs = _outputs(build_scope(tree), exp, unplaced) if isinstance(tree, exp.Query) else {}
        if unplaced:
            tree = qualify(tree, dialect=DIALECT, validate_qualify_columns=False, identify=False,
                           quote_identifiers=False, expand_stars=False)
            outputs = _outputs(build_scope(tree), exp, [])
    except (SqlglotError, RecursionError, KeyError, ValueError, AttributeError, TypeError):
        return []
    edges: list[list[str]] = []
    for column, parents in outputs.items():
        edges += [[f"{name}.{column}", parent] for parent in sorted(parents)]
    return edges


def _branches(scope: Any) -> list[Any]:
    """The SELECT scopes a query's rows come from: itself, or every branch of a UNION (nested ones flattened)."""
    if scope.set_operation_scopes:
        return [leaf for part in scope.set_operation_scopes for leaf in _branches(part)]
    return [scope]


def _columns_of(scope: Any) -> dict[str, list[tuple[Any, Any]]]:
    """Per output column name, the (branch scope, projection) pairs that produce it; a UNION's columns are named by
    its first branch and matched by position in the others, as SQL does."""
    branches = _branches(scope)
    first = getattr(branches[0].expression, "selects", [])
    out: dict[str, list[tuple[Any, Any]]] = {}
    for position, projection in enumerate(first):
        name = projection.alias_or_name
        if not name or name == "*":
            continue
        pairs = []
        for branch in branches:
            selects = getattr(branch.expression, "selects", [])
            if position < len(selects):
                pairs.append((branch, selects[position]))
        out[name.lower()] = pairs
    return out


def _outputs(scope: Any, exp: Any, unplaced: list[Any]) -> dict[str, set[str]]:
    """Per output column of ``scope``'s query, the base-table columns it derives from; columns that cannot be placed
    (no source of that name, or no qualifier among several sources) are appended to ``unplaced``."""
    return {name: set().union(*(_trace(branch, projection, exp, 0, unplaced) for branch, projection in pairs))
            for name, pairs in _columns_of(scope).items()}


def _trace(scope: Any, expression: Any, exp: Any, depth: int, unplaced: list[Any]) -> set[str]:
    """The base-table columns the columns in ``expression`` (within ``scope``) come from."""
    found: set[str] = set()
    if depth > 50:
        return found
    for column in _value_columns(expression, exp):
        source = scope.sources.get(column.table) if column.table else _only_source(scope)
        if source is None:
            unplaced.append(column)
            continue
        name = column.name.lower()
        if isinstance(source, exp.Table):
            relation = f"{(source.db or 'main').lower()}.{source.name.lower()}"
            found.add(f"{relation}.{name}")
        elif source is not None and hasattr(source, "expression"):   # a CTE or subquery: look inside it
            for branch, projection in _columns_of(source).get(name, ()):
                found |= _trace(branch, projection, exp, depth + 1, unplaced)
    return found


def _value_columns(expression: Any, exp: Any) -> list[Any]:
    """The columns whose values flow into ``expression``'s value: not those that only choose a row (the ordering key
    of ``arg_max``, a ``FILTER (WHERE ...)``, a window's partition and order)."""
    found, stack = [], [expression]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.Column):
            found.append(node)
            continue
        if isinstance(node, (exp.ArgMax, exp.ArgMin)):
            stack.append(node.this)
            continue
        if isinstance(node, exp.Filter):
            stack.append(node.this)
            continue
        if isinstance(node, exp.Window):
            stack.append(node.this)
            continue
        stack.extend(node.iter_expressions())
    return found


def _only_source(scope: Any) -> Any:
    sources = list(scope.sources.values())
    return sources[0] if len(sources) == 1 else None
