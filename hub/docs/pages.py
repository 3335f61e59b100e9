"""The configuration pages: the flow map (index), models, each model with its column lineage, each connection with its
streams, vendor fields and targets, and the operations page (schedules and freshness, triggers, webhooks, schema
changes, API usage). Run and sync pages are in :mod:`hub.docs.runpages`.

Each function returns ``{file name: html}``; :func:`hub.docs.render` gathers them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hub.docs import flow
from hub.docs.collect import Site
from hub.docs.html import e, link, link_html, live_panel, num, page, search_box, slug, state_badge, table, when
from hub.docs.lineage import Lineage, target_node


def _page(site: Site, title: str, body: str, head: str = "") -> str:
    return page(title, body, project=site.project, generated=site.generated_at, head=head)


def node_link(node: str, site: Site) -> str:
    """A lineage node as a link: a model column to its model page, a raw field or target field to its connection."""
    if node.startswith("target:"):
        connection, _, rest = node[len("target:"):].partition(".")
        return link(f"connection-{slug(connection)}.html#targets", f"{connection}.{rest}", class_="field target")
    relation, _, column = node.rpartition(".")
    schema = relation.partition(".")[0]
    if schema.startswith("raw_") and schema[4:] in site.connection_names:
        return link(f"connection-{slug(schema[4:])}.html#fields", node, class_="field vendor")
    owner = site.owner_of.get(relation)
    if owner == relation:
        return link(f"model-{slug(relation)}.html#col-{slug(column)}", node, class_="field")
    return link(f"model-{slug(owner)}.html", node, class_="field") if owner else f'<span class="field">{e(node)}</span>'


def index(site: Site, fm: flow.FlowMap) -> dict[str, str]:
    """The landing page: what needs attention, the flow map, and every arrow as a table."""
    failing = [(k, v) for k, v in site.targets.items() if v["status"] in ("failed", "interrupted")]
    stale = [c for c in site.freshness if c["stale"]]
    backlog = sum(w.get("backlog") or 0 for w in site.webhooks)
    dead = sum(w.get("dead_letters") or 0 for w in site.webhooks)
    cards = [("failing", len(failing), "step targets whose latest run failed", "operations.html#failing"),
             ("stale", len(stale), "scheduled connections not loaded in time", "operations.html#freshness"),
             ("running", len(site.running), "runs in progress", "runs.html"),
             ("runs", site.run_total, "runs recorded", "runs.html"),
             ("backlog", backlog, f"webhook events waiting; {dead:,} dead letter(s)", "operations.html#webhooks")]
    summary = "".join(f'<li class="card {css}"><a href="{href}"><strong>{n:,}</strong> {e(text)}</a></li>'
                      for css, n, text, href in cards)
    rows = []
    for edge in fm.edges:
        a, b = fm.nodes.get(edge.source), fm.nodes.get(edge.target)
        if a is None or b is None:
            continue
        last = when(edge.last_run) or "never"
        rows.append([link(a.href, a.label), link(b.href, b.label), e(edge.how),
                     link_html(edge.href, last) if edge.href else last, state_badge(edge.state), num(edge.runs)])
    body = (f'<ul class="cards" aria-label="Health">{summary}</ul>'
            + live_panel(site.running, site.generated_at) +
            f'<section aria-labelledby="map-h"><h2 id="map-h">Flow map</h2>'
            f'<p>Every connection, stream, model, sync, trigger, schedule, action and target; select a box for its '
            f'page. Hover an arrow (or see the table below) for how often it runs, its last run and its state.</p>'
            f'{flow.legend()}<div class="mapwrap">{flow.svg(fm)}</div>'
            f'<script src="assets/flowmark.js"></script></section>'
            f'<section aria-labelledby="flows-h"><h2 id="flows-h">Flows</h2>{search_box("flows", "Filter flows")}'
            + table(["from", "to", "runs", "last run", "state", "runs (30 days)"], rows, id_="flows")
            + "</section>")
    return {"index.html": _page(site, "What flows where", body)}


def models_page(site: Site) -> dict[str, str]:
    """Every model with kind, materialization, dependencies and its latest build."""
    rows = []
    for m in site.models:
        info = site.targets.get(f"build:{m['name']}") or {}
        rows.append([link(f"model-{slug(m['name'])}.html", m["name"]), e(m["materialized"]), e(m["kind"]),
                     num(len(m["columns"])), ", ".join(e(d) for d in m["depends_on"]),
                     state_badge(info.get("status")), when(info.get("last_run"))])
    body = search_box("models", "Filter models") + table(
        ["model", "materialized", "kind", "columns", "reads", "latest build", "built at"], rows, id_="models")
    return {"models.html": _page(site, f"Models ({len(site.models)})", body)}


def model_pages(site: Site, graph: Lineage) -> dict[str, str]:
    """One page per model: what it reads, what reads it, and per column where it comes from and where it goes."""
    readers: dict[str, list[str]] = defaultdict(list)
    for m in site.models:
        for dep in m["depends_on"]:
            readers[dep].append(m["name"])
    syncs_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in site.syncs:
        syncs_of[s["model"]].append(s)
    out = {}
    for m in site.models:
        name = m["name"]
        info = site.targets.get(f"build:{name}") or {}
        columns = m["columns"] or sorted({n.rpartition(".")[2] for n in graph.parents if n.rpartition(".")[0] == name})
        rows, ids = [], []
        for column in columns:
            node = f"{name}.{column}"
            origins = [n for n in graph.origins(node) if n.startswith("raw_")] or graph.parents.get(node, ())
            ends = graph.ends(node)
            rows.append([f"<code>{e(column)}</code>", " ".join(node_link(n, site) for n in sorted(origins)),
                         " ".join(node_link(n, site) for n in sorted(graph.children.get(node, ()))),
                         " ".join(node_link(n, site) for n in sorted(ends) if n.startswith("target:"))])
            ids.append(f"col-{slug(column)}")
        deps = ", ".join(_relation_link(d, site) for d in m["depends_on"]) or "nothing"
        used = ", ".join(link(f"model-{slug(r)}.html", r) for r in readers.get(name, [])) or "no model"
        pushed = ", ".join(link(f"sync-{slug(s['name'])}.html", s["name"]) for s in syncs_of.get(name, [])) or "none"
        sql = f'<details><summary>SQL ({e(m["file"])})</summary><pre><code>{e(m["sql"])}</code></pre></details>' \
            if m["sql"] else f'<p>Generated by hub ({e(m["kind"])}).</p>'
        body = (f'<p>{e(m["description"] or "")}</p><dl class="facts"><dt>materialized</dt><dd>{e(m["materialized"])}'
                f'</dd><dt>latest build</dt><dd>{state_badge(info.get("status"))} {when(info.get("last_run"))}</dd>'
                f'<dt>reads</dt><dd>{deps}</dd><dt>read by</dt><dd>{used}</dd><dt>pushed by</dt><dd>{pushed}</dd>'
                f'{_error(info.get("error"))}</dl>'
                f'<h2 id="lineage">Column lineage</h2>{search_box("columns", "Filter columns")}'
                + table(["column", "from vendor fields", "feeds", "written to target fields"], rows, id_="columns",
                        row_ids=ids, empty="no columns known") + sql)
        out[f"model-{slug(name)}.html"] = _page(site, f"Model {name}", body)
    return out


def _relation_link(relation: str, site: Site) -> str:
    schema = relation.partition(".")[0]
    if schema.startswith("raw_"):
        return link(f"connection-{slug(schema[4:])}.html", relation)
    owner = site.owner_of.get(relation)
    return link(f"model-{slug(owner)}.html", relation) if owner else e(relation)


def _error(text: str | None) -> str:
    return f'<dt>error</dt><dd class="error">{e(text)}</dd>' if text else ""


def connection_pages(site: Site, graph: Lineage) -> dict[str, str]:
    """One page per connection: streams and their latest ingest, the vendor fields models use and where each ends up,
    the target objects syncs write, webhooks, schema changes and API usage."""
    out = {}
    for c in site.connections:
        name = c["name"]
        streams, ids = [], []
        for s in c["streams"]:
            info = site.targets.get(f"ingest:{name}.{s['name']}") or {}
            streams.append([e(s["name"]), f"<code>{e(s['table'])}</code>", state_badge(info.get("status")),
                            when(info.get("last_run")), when(info.get("last_ok")), e(info.get("detail") or ""),
                            f'<span class="error">{e(info.get("error") or "")}</span>'])
            ids.append(f"stream-{slug(s['name'])}")
        prefix = f"raw_{name}."
        fields = sorted(n for n in graph.children if n.startswith(prefix))
        field_rows = [[f"<code>{e(n[len(prefix):])}</code>",
                       " ".join(node_link(x, site) for x in sorted(graph.children[n])),
                       " ".join(node_link(x, site) for x in sorted(graph.ends(n)) if x.startswith("target:"))]
                      for n in fields]
        targets = []
        for s in site.syncs:
            if s["to"] != name:
                continue
            for column, target_field in s["mapping"]:
                origins = [n for n in graph.origins(target_node(s, target_field)) if n.startswith("raw_")]
                targets.append([e(s["object"]), f"<code>{e(target_field)}</code>",
                                link(f"sync-{slug(s['name'])}.html", s["name"]),
                                node_link(f"{s['model']}.{column}", site),
                                " ".join(node_link(n, site) for n in sorted(origins))])
        hooks = [w for w in site.webhooks if w["connection"] == name]
        api = [a for a in site.apis if a["connection"] == name]
        changes = [x for x in site.schema_changes if x["connection"] == name]
        body = (f'<dl class="facts"><dt>type</dt><dd>{e(c["title"])} (<code>{e(c["type"])}</code>)</dd></dl>'
                f'<h2 id="streams">Streams</h2>'
                + table(["stream", "raw table", "latest ingest", "ran at", "last success", "mode", "error"], streams,
                        row_ids=ids)
                + f'<h2 id="fields">Vendor fields used by models</h2>'
                  f'<p>Where each field of this system goes: the model columns computed from it, and the target fields '
                  f'those finally write.</p>{search_box("fields-" + slug(name), "Filter fields")}'
                + table(["vendor field", "feeds", "written to"], field_rows, id_=f"fields-{slug(name)}",
                        empty="no model reads this connection's fields")
                + '<h2 id="targets">Fields hub writes here</h2>'
                + table(["object", "field", "sync", "from model column", "from vendor fields"], targets,
                        empty="no sync writes to this connection")
                + _webhooks(hooks) + _apis(api) + _changes(changes))
        out[f"connection-{slug(name)}.html"] = _page(site, f"Connection {name}", body)
    return out


def _webhooks(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    return '<h2 id="webhooks">Webhooks</h2>' + table(
        ["connection", "received", "waiting to load (backlog)", "dead letters", "latest dead letter"],
        [[e(w["connection"]), num(w.get("received")), num(w.get("backlog")), num(w.get("dead_letters")),
          e(w.get("latest_dead_letter") or "")] for w in rows])


def _apis(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    out = []
    for a in rows:
        usage = a.get("api_usage") or {}
        share = f" ({usage['share']:.0%})" if usage.get("share") is not None else ""
        counted = f"{num(usage.get('used'))} / {num(usage.get('limit'))}{share}" if usage else "not reported"
        out.append([e(a["connection"]), e(a["api_version"]) + ("" if a["pinned"] else " (default)"), counted,
                    "<br>".join(e(w) for w in a["warnings"])])
    return '<h2 id="api">API version and usage</h2>' + table(["connection", "version", "usage vs limit", "notices"],
                                                              out)


def _changes(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    return '<h2 id="schema">Schema changes (latest ingest)</h2>' + table(
        ["table", "column", "change", "old type", "new type", "run"],
        [[e(c["table"]), e(c["column"]), e(c["change"]), e(c["old_type"]), e(c["new_type"]),
          link(f"run-{slug(c['run_id'])}.html", c["run_id"])] for c in rows])


def operations(site: Site) -> dict[str, str]:
    """Schedules and freshness, triggers, what is failing or running, webhooks, schema changes and API usage."""
    fresh = {f["schedule"]: [] for f in site.freshness}
    for f in site.freshness:
        fresh[f["schedule"]].append(f)
    sched_rows, sched_ids = [], []
    for s in site.schedules:
        conns = fresh.get(s["name"], [])
        state = "stale" if any(c["stale"] for c in conns) else ("ok" if conns else "")
        detail = "; ".join(f"{c['connection']} last loaded {c['last_success_at'] or 'never'}" for c in conns)
        sched_rows.append([e(s["name"]), f"<code>{e(s['cron'])}</code> {e(s['timezone'])}", e(", ".join(s["steps"])),
                           when(s["next_run"]), state_badge(state) if state else "", e(detail)])
        sched_ids.append(f"schedule-{slug(s['name'])}")
    trig = [[e(t["name"]), f"<code>{e(t['connection'])}:{e(t['event_type'])}</code>", f"<code>{e(t['when'] or '')}"
             f"</code>", ", ".join(_action_link(a) for a in t["actions"]),
             _latest(site.commands.get(f"trigger:{t['name']}"))] for t in site.triggers]
    failing = [[e(k.partition(":")[0]), e(k.partition(":")[2]), when(v["last_run"]),
                link(f"run-{slug(v['run_id'])}.html", v["run_id"], class_="run-link failed"),
                f'<span class="error">{e(v["error"] or "")}</span>']
               for k, v in sorted(site.targets.items()) if v["status"] in ("failed", "interrupted")]
    fresh_rows = [[link(f"connection-{slug(f['connection'])}.html", f["connection"]), e(f["schedule"]),
                   num(f["interval_seconds"]), when(f["last_success_at"]) or "never",
                   state_badge("stale" if f["stale"] else "ok")] for f in site.freshness]
    running = [[link(f"run-{slug(r['run_id'])}.html", r["run_id"]), e(r["command"]), when(r["started_at"]),
                num(r.get("steps_done") or 0), e(r.get("doing") or "")] for r in site.running]
    body = ('<h2 id="running">In progress</h2>' + table(["run", "command", "started", "steps done", "now at"],
                                                         running, empty="nothing is running")
            + '<h2 id="failing">Failing</h2>' + table(["step", "target", "latest run", "run", "error"], failing,
                                                       empty="nothing is failing")
            + '<h2 id="schedules">Schedules</h2>' + table(["schedule", "cron", "steps", "next run", "freshness",
                                                          "connections"], sched_rows, row_ids=sched_ids,
                                                         empty="no [schedules] in hub.toml")
            + '<h2 id="freshness">Freshness per scheduled connection</h2>'
            + table(["connection", "schedule", "interval (s)", "last success", "state"], fresh_rows,
                    empty="no schedule ingests a connection")
            + '<h2 id="triggers">Triggers</h2>'
            + table(["trigger", "on", "when", "do", "latest"], trig, row_ids=[f"trigger-{slug(t['name'])}"
                                                                              for t in site.triggers],
                    empty="no [triggers] in hub.toml")
            + (_webhooks(site.webhooks) or '<h2 id="webhooks">Webhooks</h2><p class="empty">no webhook received</p>')
            + _changes(site.schema_changes) + _apis(site.apis)
            + '<h2 id="deletions">Deleted in a target, not re-created</h2>'
            + table(["sync", "key", "target record", "detected"],
                    [[link(f"sync-{slug(d['sync'])}.html", d["sync"]), e(d["key"]), e(d["target_id"]),
                      when(d["detected_at"])] for d in site.skipped_deletions]))
    return {"operations.html": _page(site, "Operations", body)}


def _latest(run: dict[str, Any] | None) -> str:
    """A command's latest run as a badge and a time ("never" when it never ran)."""
    return f"{state_badge(run['status'])} {when(run['last_run'])}" if run else state_badge(None)


def _action_link(action: str) -> str:
    kind, _, target = action.partition(":")
    return link(f"sync-{slug(target)}.html", action) if kind == "push" else f"<code>{e(kind)}</code> (a URL)"
