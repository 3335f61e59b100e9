"""The dependency graph of models: edges from references, build order, selectors, and cycles with positions.

Selectors, as `hub build` takes them: ``name`` (just it), ``name+`` (with everything downstream), ``+name`` (with
everything upstream), ``+name+`` (both), ``connection:crm`` (the models of a connection and everything built from
them), and ``*`` patterns over names (``staging.*``).
"""

from __future__ import annotations

import fnmatch
import heapq
from collections.abc import Iterable, Sequence

from hub.errors import ModelError, UnknownNameError
from hub.modeling.catalog import Catalog
from hub.modeling.model import Model, Position, Ref


class Graph:
    """Models as nodes; an edge from the model that writes a relation to each model that reads it."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.upstream: dict[str, dict[str, Ref]] = {m.name: {} for m in catalog}
        self.downstream: dict[str, set[str]] = {m.name: set() for m in catalog}
        for model in catalog:
            for ref in model.refs:
                producer = catalog.producers.get(ref.name)
                if producer is None or producer == model.name:
                    continue  # a raw table, or an incremental model reading its own rows
                self.upstream[model.name].setdefault(producer, ref)
                self.downstream[producer].add(model.name)
        self._check_cycles()

    def select(self, selectors: Sequence[str], connections: Iterable[str] = ()) -> set[str]:
        """The names ``selectors`` pick (all models when there are none)."""
        if not selectors:
            return set(self.upstream)
        chosen: set[str] = set()
        for selector in selectors:
            chosen |= self._select_one(selector.strip(), list(connections))
        return chosen

    def order(self, names: Iterable[str]) -> list[Model]:
        """``names`` in an order where every model comes after the models it reads (ties by name)."""
        names = set(names)
        waiting = {n: len([u for u in self.upstream[n] if u in names]) for n in names}
        ready = [n for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        out = []
        while ready:
            name = heapq.heappop(ready)
            out.append(self.catalog.models[name])
            for child in self.downstream[name]:
                if child in waiting:
                    waiting[child] -= 1
                    if waiting[child] == 0:
                        heapq.heappush(ready, child)
        return out

    def ancestors(self, name: str) -> set[str]:
        return self._walk(name, lambda n: self.upstream[n])

    def descendants(self, name: str) -> set[str]:
        return self._walk(name, lambda n: self.downstream[n])

    def _select_one(self, selector: str, connections: list[str]) -> set[str]:
        if selector.startswith("connection:"):
            conn = selector.split(":", 1)[1]
            if conn not in connections:
                raise UnknownNameError("connection", conn, connections, where=f" in selector '{selector}'")
            roots = {m.name for m in self.catalog if m.connection == conn}
            return roots.union(*(self.descendants(r) for r in roots)) if roots else set()
        up, down = selector.startswith("+"), selector.endswith("+")
        core = selector.strip("+").lower()
        if "*" in core or "?" in core:
            roots = {n for n in self.upstream if fnmatch.fnmatchcase(n, core)}
            if not roots:
                raise ModelError(f"selector '{selector}' matches no model", hint="`hub models` lists them")
        else:
            roots = {self.catalog.get(core).name}
        out = set(roots)
        for root in roots:
            if up:
                out |= self.ancestors(root)
            if down:
                out |= self.descendants(root)
        return out

    def _walk(self, start: str, step: object) -> set[str]:
        seen: set[str] = set()
        stack = list(step(start))  # type: ignore[operator]
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(step(name))  # type: ignore[operator]
        return seen

    def _check_cycles(self) -> None:
        """Raise on the first cycle, pointing at the reference that closes it."""
        state: dict[str, int] = {}                 # 1 = on the current path, 2 = done
        for start in sorted(self.upstream):
            if start in state:
                continue
            path = [start]
            iters = [iter(sorted(self.upstream[start]))]
            state[start] = 1
            while iters:
                nxt = next(iters[-1], None)
                if nxt is None:
                    state[path.pop()] = 2
                    iters.pop()
                    continue
                if state.get(nxt) == 1:
                    self._raise_cycle(path[path.index(nxt):] + [nxt])
                if nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    iters.append(iter(sorted(self.upstream[nxt])))

    def _raise_cycle(self, cycle: list[str]) -> None:
        # The walk follows reads: each model in ``cycle`` reads the next one.
        model = self.catalog.models[cycle[0]]
        ref = self.upstream[cycle[0]].get(cycle[1])
        raise model.error(f"dependency cycle: {' -> '.join(cycle)} (each reads the next)",
                          ref.position if ref else Position(),
                          hint="a model cannot read, even through others, a table built from itself")
