"""The flow map: every schedule, trigger, connection, stream, model, sync, action and target as a node, with arrows
for how data moves, laid out left to right in layers and drawn as inline SVG (no JS library, no CDN).

Each edge carries how often it runs (the schedules and triggers that run it, else ``manual``), its latest run and its
state: ``ok``, ``failing`` (the latest run failed), ``stale`` (scheduled, but not run successfully within twice the
schedule's interval), or ``never``. The state is drawn as colour *and* line style, the run count of the last 30 days
as line width, and spelt out in each arrow's tooltip and in the flows table under the map.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hub.docs.collect import Site
from hub.docs.html import e, slug

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 180, 26, 70, 10, 16
KIND_LABEL = {"schedule": "schedule", "trigger": "trigger", "connection": "connection", "stream": "stream",
              "model": "model", "sync": "sync", "action": "action", "target": "target"}


@dataclass
class Node:
    """One box of the map."""

    id: str
    kind: str
    label: str
    href: str
    layer: int = 0
    row: int = 0


@dataclass
class Edge:
    """One arrow: from, to, and what the arrow says about how it runs."""

    source: str
    target: str
    how: str = "manual"
    last_run: datetime | None = None
    state: str = "never"
    runs: int = 0
    href: str | None = None


@dataclass
class FlowMap:
    """Nodes and edges, laid out."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def node(self, id_: str, kind: str, label: str, href: str) -> None:
        self.nodes.setdefault(id_, Node(id_, kind, label, href))


def build(site: Site) -> FlowMap:
    """The nodes and edges of ``site``, laid out."""
    fm = FlowMap()
    intervals = {s["name"]: timedelta(seconds=s.get("interval_seconds") or 0) for s in site.schedules}
    runs_of = _who_runs(site)
    now = site.generated_at

    def edge(source: str, target: str, step_key: str | None, who: list[str]) -> None:
        info = site.targets.get(step_key or "") or {}
        if step_key and step_key.startswith("trigger:"):   # a trigger's own firings are runs `trigger:NAME`
            found = site.commands.get(step_key) or {}
            info = {**found, "last_ok": found.get("last_run") if found.get("status") == "success" else None}
        state = _state(info, [intervals[w] for w in who if w in intervals], now)
        how = ", ".join(_how(w, site) for w in who) or "manual"
        fm.edges.append(Edge(source, target, how, info.get("last_run"), state, info.get("recent") or 0,
                             f"run-{slug(info['run_id'])}.html" if info.get("run_id") else None))

    for s in site.schedules:
        fm.node(f"schedule:{s['name']}", "schedule", f"{s['name']} ({s['cron']})",
                f"operations.html#schedule-{slug(s['name'])}")
    for c in site.connections:
        cid = f"connection:{c['name']}"
        fm.node(cid, "connection", f"{c['name']} ({c['type']})", f"connection-{slug(c['name'])}.html")
        for s in site.schedules:
            if any(step == "ingest" or step.startswith(f"ingest:{c['name']}") for step in s["steps"]):
                edge(f"schedule:{s['name']}", cid, None, [s["name"]])
        for stream in c["streams"]:
            sid = f"stream:{stream['table']}"
            fm.node(sid, "stream", f"{c['name']}.{stream['name']}",
                    f"connection-{slug(c['name'])}.html#stream-{slug(stream['name'])}")
            edge(cid, sid, f"ingest:{c['name']}.{stream['name']}", runs_of["ingest"].get(c["name"], []))
    streams = {n.id[len("stream:"):]: n.id for n in fm.nodes.values() if n.kind == "stream"}
    for m in site.models:
        fm.node(f"model:{m['name']}", "model", m["name"], f"model-{slug(m['name'])}.html")
    producers = {}
    for m in site.models:
        for relation in (m["name"], *m["produces"]):
            producers[relation] = f"model:{m['name']}"
    for m in site.models:
        for dep in m["depends_on"]:
            source = producers.get(dep) or streams.get(dep)
            if source and source != f"model:{m['name']}":
                edge(source, f"model:{m['name']}", f"build:{m['name']}", runs_of["build"].get("*", []))
    for t in site.triggers:
        tid = f"trigger:{t['name']}"
        fm.node(tid, "trigger", f"trigger {t['name']}", f"operations.html#trigger-{slug(t['name'])}")
        edge(f"connection:{t['connection']}", tid, f"trigger:{t['name']}", [f"trigger:{t['name']}"])
        for number, action in enumerate(t["actions"]):
            kind, _, what = action.partition(":")
            if kind == "notify":
                # a notify URL can hold a secret (a Slack webhook path): only its host is shown, anywhere
                host = what.split("/")[2].rpartition("@")[2] if what.count("/") >= 2 else "a URL"
                aid = f"action:{t['name']}:{number}"
                fm.node(aid, "action", f"notify {host}", f"operations.html#trigger-{slug(t['name'])}")
                edge(tid, aid, f"trigger:{t['name']}", [f"trigger:{t['name']}"])
    for s in site.syncs:
        sid = f"sync:{s['name']}"
        fm.node(sid, "sync", s["name"], f"sync-{slug(s['name'])}.html")
        tgt = f"target:{s['to']}.{s['object']}"
        fm.node(tgt, "target", f"→ {s['to']}.{s['object']}", f"connection-{slug(s['to'])}.html#targets")
        who = runs_of["push"].get(s["name"], [])
        if f"model:{s['model']}" in fm.nodes:
            edge(f"model:{s['model']}", sid, f"push:{s['name']}", who)
        edge(sid, tgt, f"push:{s['name']}", who)
        for t in site.triggers:
            if f"push:{s['name']}" in t["actions"]:
                edge(f"trigger:{t['name']}", sid, f"push:{s['name']}", [f"trigger:{t['name']}"])
    _layout(fm)
    return fm


def _who_runs(site: Site) -> dict[str, dict[str, list[str]]]:
    """Per step kind and connection / sync ('*' for build): the schedules and triggers that run it."""
    out: dict[str, dict[str, list[str]]] = {"ingest": defaultdict(list), "build": defaultdict(list),
                                            "push": defaultdict(list)}
    names = [s["name"] for s in site.syncs]
    for s in site.schedules:
        for step in s["steps"]:
            kind, _, selector = step.partition(":")
            if kind == "ingest":
                for c in site.connections:
                    if not selector or selector.split(".")[0] == c["name"]:
                        out["ingest"][c["name"]].append(s["name"])
            elif kind == "build":
                out["build"]["*"].append(s["name"])
            elif kind == "push":
                for n in names:
                    if not selector or selector == n:
                        out["push"][n].append(s["name"])
    for t in site.triggers:
        for action in t["actions"]:
            if action.startswith("push:"):
                out["push"][action[5:]].append(f"trigger:{t['name']}")
    return out


def _how(who: str, site: Site) -> str:
    if who.startswith("trigger:"):
        name = who[len("trigger:"):]
        found = next((t for t in site.triggers if t["name"] == name), None)
        return f"on {found['connection']}:{found['event_type']} ({name})" if found else who
    found = next((s for s in site.schedules if s["name"] == who), None)
    return f"{found['cron']} {found['timezone']} ({who})" if found else who


def _state(info: dict[str, Any], intervals: list[timedelta], now: datetime) -> str:
    if not info:
        return "never"
    if info.get("status") in ("failed", "interrupted"):
        return "failing"
    if info.get("status") == "running":
        return "running"
    scheduled = [i for i in intervals if i.total_seconds() > 0]
    last_ok = info.get("last_ok")
    if scheduled and (last_ok is None or now - last_ok > 2 * min(scheduled)):
        return "stale"
    return "ok"


def _layout(fm: FlowMap) -> None:
    """Longest-path layers left to right; within a layer, nodes ordered by their parents' rows (fewer crossings)."""
    parents: dict[str, list[str]] = defaultdict(list)
    for edge in fm.edges:
        parents[edge.target].append(edge.source)
    order = _topological(fm, parents)
    for nid in order:
        node = fm.nodes[nid]
        node.layer = max((fm.nodes[p].layer + 1 for p in parents[nid] if p in fm.nodes), default=0)
    layers: dict[int, list[Node]] = defaultdict(list)
    for nid in order:
        layers[fm.nodes[nid].layer].append(fm.nodes[nid])
    for layer in sorted(layers):
        members = layers[layer]
        members.sort(key=lambda n: (_mean(fm.nodes[p].row for p in parents[n.id] if p in fm.nodes), n.kind, n.label))
        for row, node in enumerate(members):
            node.row = row


def _topological(fm: FlowMap, parents: dict[str, list[str]]) -> list[str]:
    """Nodes with every parent first (a cycle, which hub's config does not allow, is broken arbitrarily)."""
    done: set[str] = set()
    out: list[str] = []
    for start in sorted(fm.nodes):
        stack = [(start, False)]
        while stack:
            nid, ready = stack.pop()
            if ready:
                if nid not in done:
                    done.add(nid)
                    out.append(nid)
                continue
            if nid in done:
                continue
            stack.append((nid, True))
            stack += [(p, False) for p in parents[nid] if p not in done and p in fm.nodes and p != nid]
    return out


def _mean(values: Any) -> float:
    found = list(values)
    return sum(found) / len(found) if found else 0.0


def _xy(node: Node) -> tuple[int, int]:
    return PAD + node.layer * (NODE_W + GAP_X), PAD + node.row * (NODE_H + GAP_Y)


def svg(fm: FlowMap) -> str:
    """The map as inline SVG: nodes are links (keyboard-focusable), arrows carry a tooltip with how/last run/state."""
    if not fm.nodes:
        return '<p class="empty">Nothing configured yet: add [connections.*] to hub.toml.</p>'
    width = PAD * 2 + (max(n.layer for n in fm.nodes.values()) + 1) * (NODE_W + GAP_X) - GAP_X
    height = PAD * 2 + (max(n.row for n in fm.nodes.values()) + 1) * (NODE_H + GAP_Y) - GAP_Y
    parts = [f'<svg id="flowmap" class="flowmap" role="group" aria-label="Flow map: {len(fm.nodes)} nodes, '
             f'{len(fm.edges)} arrows" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'xmlns="http://www.w3.org/2000/svg"><defs>']
    for state in ("ok", "failing", "stale", "never", "running"):
        parts.append(f'<marker id="arrow-{state}" class="{state}" viewBox="0 0 10 10" refX="10" refY="5" '
                     f'markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/>'
                     f'</marker>')
    parts.append("</defs><g class=\"edges\">")
    for edge in fm.edges:
        a, b = fm.nodes.get(edge.source), fm.nodes.get(edge.target)
        if a is None or b is None:
            continue
        (x1, y1), (x2, y2) = _xy(a), _xy(b)
        x1, y1, y2 = x1 + NODE_W, y1 + NODE_H / 2, y2 + NODE_H / 2
        mid = (x1 + x2) / 2
        width_px = 1.2 + min(edge.runs, 1000) ** 0.5 / 8
        last = edge.last_run.strftime("%Y-%m-%d %H:%M UTC") if edge.last_run else "never"
        tip = f"{a.label} → {b.label}: runs {edge.how}; last run {last}; state {edge.state}; " \
              f"{edge.runs} run(s) in 30 days"
        parts.append(f'<path class="edge {edge.state}" d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} '
                     f'{x2 - 2:.0f},{y2:.0f}" stroke-width="{width_px:.1f}" marker-end="url(#arrow-{edge.state})">'
                     f'<title>{e(tip)}</title></path>')
    parts.append('</g><g class="nodes">')
    for node in fm.nodes.values():
        x, y = _xy(node)
        label = node.label if len(node.label) <= 26 else node.label[:25] + "…"
        parts.append(f'<a href="{e(node.href)}" class="node {node.kind}" data-node="{e(node.id)}">'
                     f'<title>{e(KIND_LABEL[node.kind])} {e(node.label)}</title>'
                     f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="5"/>'
                     f'<text x="{x + 8}" y="{y + 17}">{e(label)}</text></a>')
    parts.append("</g></svg>")
    return "".join(parts)


def legend() -> str:
    """What the colours, dashes and widths of the map mean."""
    items = [("ok", "ok: the latest run succeeded"), ("failing", "failing: the latest run failed"),
             ("stale", "stale: scheduled, not run successfully within twice its interval"),
             ("running", "running now"), ("never", "never run")]
    keys = "".join(f'<li><svg width="40" height="10" aria-hidden="true"><path class="edge {c}" d="M0,5H40"/></svg> '
                   f'{e(text)}</li>' for c, text in items)
    return f'<ul class="legend" aria-label="Legend">{keys}<li>thicker arrows run more often (last 30 days)</li></ul>'
