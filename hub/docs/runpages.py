"""The run pages: the history with charts (rows in and out, duration, failures over time), one page per recent or
failed run with its steps and masked errors, and one page per sync (created / updated / unchanged per run, rejected
rows with the vendor's reason searchable by key, conflicts per field, skipped deletions).

A project with 100,000 runs gets pages for the latest runs, the latest failures and each sync's latest pushes
(:data:`hub.docs.collect.RECENT_RUNS` ...); older history is in the per-day charts and in ``hub runs``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from hub.docs.collect import CHART_RUNS, Site
from hub.docs.html import bar_chart, e, link, live_panel, num, page, search_box, slug, state_badge, table, when
from hub.docs.lineage import Lineage, target_node
from hub.docs.pages import node_link

#: rejected rows listed on a run's page per sync (the sync's page lists and searches them all)
REJECTED_PER_RUN = 50


def _page(site: Site, title: str, body: str) -> str:
    return page(title, body, project=site.project, generated=site.generated_at)


def run_href(run_id: str) -> str:
    """The page of one run."""
    return f"run-{slug(run_id)}.html"


def runs_page(site: Site) -> dict[str, str]:
    """The run history: per-run and per-day charts, then the runs that have a page."""
    recent = list(reversed(site.runs[:CHART_RUNS]))
    labels = [f"{r['command']} {r['started_at']:%Y-%m-%d %H:%M}" for r in recent]
    per_run = bar_chart(f"Rows in and out, latest {len(recent)} runs", labels,
                        [("rows in", [r["rows_in"] for r in recent], "in"),
                         ("rows out", [r["rows_out"] for r in recent], "out")])
    seconds = bar_chart("Duration (seconds), same runs", labels,
                        [("seconds", [r["seconds"] or 0 for r in recent], "dur")])
    days = site.runs_by_day
    day_labels = [str(d["day"]) for d in days]
    failures = bar_chart(f"Runs per day ({len(days)} days, {site.run_total:,} runs)", day_labels,
                         [("succeeded", [d["runs"] - d["failed"] for d in days], "ok"),
                          ("failed", [d["failed"] for d in days], "failing")])
    volume = bar_chart("Rows in per day", day_labels, [("rows in", [float(d["rows_in"] or 0) for d in days], "in")])
    rows = [[link(run_href(r["run_id"]), r["run_id"]), e(r["command"]), when(r["started_at"]),
             num(r["seconds"]), state_badge(r["status"]), num(r["rows_in"]), num(r["rows_out"]), num(r["rejected"]),
             f'<span class="error">{e(_short(r["error"]))}</span>'] for r in site.runs]
    body = (live_panel(site.running, site.generated_at) +
            f'<div class="charts">{per_run}{seconds}{failures}{volume}</div>'
            f'<h2 id="list">Runs</h2><p>{len(site.runs):,} of {site.run_total:,} runs have a page: the latest, the '
            f'latest failures and each sync\'s latest pushes (<code>hub runs --limit N</code> lists any).</p>'
            + search_box("runs", "Filter runs (command, status, error, id)")
            + table(["run", "command", "started", "seconds", "status", "rows in", "rows out", "rejected", "error"],
                    rows, id_="runs", empty="no runs yet: `hub ingest` or `hub run` records one"))
    return {"runs.html": _page(site, "Runs", body)}


def _short(text: str | None, width: int = 120) -> str:
    if not text:
        return ""
    line = " ".join(text.split())
    return line if len(line) <= width else line[:width - 1] + "…"


def run_pages(site: Site) -> dict[str, str]:
    """One page per run that has one: its steps in order, each with counts and its masked error."""
    out = {}
    syncs = {s["name"] for s in site.syncs}
    for r in site.runs:
        rows = []
        for s in r["steps"]:
            detail = s["detail"]
            counts = ", ".join(f"{k} {v:,}" for k, v in detail.items() if isinstance(v, int)) \
                if isinstance(detail, dict) else e(detail or "")
            target = link(f"sync-{slug(s['target'])}.html", s["target"]) if s["step"] == "push" and \
                s["target"] in syncs else e(s["target"])
            seconds = (s["finished_at"] - s["started_at"]).total_seconds() if s["finished_at"] else None
            rows.append([e(s["step"]), target, state_badge(s["status"]), when(s["started_at"]), num(seconds),
                         num(s["rows_in"]), num(s["rows_out"]), e(counts),
                         f'<span class="error">{e(s["error"] or "")}</span>'])
        rejected = []
        for s in r["steps"]:
            if s["step"] != "push" or s["target"] not in syncs:
                continue
            rows = site.rejected.get(s["target"], [])
            # what this run refused, else (a run that refused nothing new) what is still refused, a page's worth
            end = s["finished_at"]
            here = [r for r in rows if end and s["started_at"] <= r["last_rejected_at"] <= end]
            for row in (here or rows)[:REJECTED_PER_RUN]:
                rejected.append([link(f"sync-{slug(s['target'])}.html#rejected-{slug(row['key'])}", row["key"],
                                      class_="rejected-link"), e(s["target"]), "yes" if here else "earlier",
                                 e(row["code"]), e(row["reason"])])
        body = (f'<dl class="facts"><dt>command</dt><dd>{e(r["command"])}</dd><dt>status</dt>'
                f'<dd>{state_badge(r["status"])}</dd><dt>started</dt><dd>{when(r["started_at"])}</dd>'
                f'<dt>finished</dt><dd>{when(r["finished_at"]) or "not yet"}</dd><dt>seconds</dt>'
                f'<dd>{num(r["seconds"])}</dd><dt>rows in / out</dt><dd>{num(r["rows_in"])} / {num(r["rows_out"])}'
                f'</dd>' + (f'<dt>error</dt><dd class="error">{e(r["error"])}</dd>' if r["error"] else "") + "</dl>"
                + '<h2 id="steps">Steps</h2>'
                + table(["step", "target", "status", "started", "seconds", "rows in", "rows out", "counts", "error"],
                        rows, empty="no step recorded")
                + '<h2 id="rejected">Rejected rows of the syncs this run pushed</h2>'
                + table(["key", "sync", "refused in this run", "code", "vendor's reason"], rejected,
                        empty="none still rejected"))
        out[run_href(r["run_id"])] = _page(site, f"Run {r['run_id']}", body)
    return out


def sync_pages(site: Site, graph: Lineage) -> dict[str, str]:
    """One page per sync: mapping with lineage, outcome per run, rejected rows, conflicts, skipped deletions."""
    out = {}
    pushes: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = defaultdict(list)
    for r in site.runs:
        for s in r["steps"]:
            if s["step"] == "push":
                pushes[s["target"]].append((r, s))
    for sync in site.syncs:
        name = sync["name"]
        info = site.targets.get(f"push:{name}") or {}
        mapping = []
        for column, target_field in sync["mapping"]:
            origins = [n for n in graph.origins(target_node(sync, target_field)) if n.startswith("raw_")]
            mapping.append([node_link(f"{sync['model']}.{column}", site), f"<code>{e(target_field)}</code>",
                            " ".join(node_link(n, site) for n in sorted(origins))])
        history = list(reversed(pushes.get(name, [])))
        labels = [f"{r['started_at']:%Y-%m-%d %H:%M}" for r, _ in history]

        def counts(key: str) -> list[float]:
            return [float((s["detail"] or {}).get(key) or 0) if isinstance(s["detail"], dict) else 0.0
                    for _, s in history]

        chart = bar_chart("Records per push", labels, [("created", counts("creates"), "in"),
                                                       ("updated", counts("updates"), "out"),
                                                       ("unchanged", counts("unchanged"), "dur"),
                                                       ("rejected", counts("rejected"), "failing")])
        run_rows = []
        for r, s in reversed(history):
            d = s["detail"] if isinstance(s["detail"], dict) else {}
            run_rows.append([link(run_href(r["run_id"]), r["run_id"], class_=f"run-link {s['status']}"),
                             e(r["command"]), when(s["started_at"]), state_badge(s["status"]),
                             num(d.get("creates")), num(d.get("updates")), num(d.get("unchanged")),
                             num(d.get("rejected")), num(d.get("conflicts")), num(d.get("skipped")),
                             f'<span class="error">{e(_short(s["error"]))}</span>'])
        rejected = site.rejected.get(name, [])
        rej_rows = [[f"<code>{e(x['key'])}</code>", e(x["target_id"]), e(x["operation"]), e(x["code"]),
                     e(x["reason"]), num(x["attempts"]), when(x["last_rejected_at"]),
                     f'<details><summary>payload</summary><pre>{e(x["payload"] or "")}</pre></details>']
                    for x in rejected]
        conflicts = [c for c in site.conflicts if name in (c.get("syncs") or "")]
        per_field = Counter(c["model_column"] for c in conflicts)
        conflict_rows = [[e(c["key"]), e(c["model_column"]), e(c["status"]), e(c["winner"]),
                          e(c["resolved_value"]), e(", ".join(f"{v.get('connection')}={v.get('value')!r}"
                                                              for v in c["candidates"])), when(c["detected_at"])]
                         for c in conflicts[:500]]
        skipped = [[e(d["key"]), e(d["target_id"]), when(d["detected_at"])]
                   for d in site.skipped_deletions if d["sync"] == name]
        model_link = link(f"model-{slug(sync['model'])}.html", sync["model"])
        to_link = link(f"connection-{slug(sync['to'])}.html#targets", sync["to"])
        listed = sync.get("exclude")
        excluded = (f'<dt>except</dt><dd>the rows {link(f"model-{slug(listed)}.html", listed)} lists</dd>'
                    if listed else "")
        body = (f'<dl class="facts"><dt>model</dt><dd>{model_link}</dd>'
                f'<dt>writes to</dt><dd>{to_link} '
                f'<code>{e(sync["object"])}</code> ({e(sync["mode"])})</dd>'
                f'<dt>where</dt><dd><code>{e(sync["where"] or "every row")}</code></dd>'
                + excluded + '<dt>conflicts</dt>'
                f'<dd>{e(sync["conflicts"])}</dd><dt>latest push</dt><dd>{state_badge(info.get("status"))} '
                f'{when(info.get("last_run"))}</dd><dt>records in sync</dt><dd>{num(sync.get("synced", 0))}</dd>'
                + (f'<dt>error</dt><dd class="error">{e(info["error"])}</dd>' if info.get("error") else "") + "</dl>"
                + '<h2 id="mapping">Fields</h2>'
                + table(["model column", "target field", "from vendor fields"], mapping)
                + f'<h2 id="history">Runs</h2>{chart}'
                + table(["run", "command", "started", "status", "created", "updated", "unchanged", "rejected",
                         "conflicts", "skipped", "error"], run_rows, id_="sync-runs", empty="never pushed")
                + f'<h2 id="rejected">Rejected rows ({len(rejected):,})</h2>'
                  f'<p>Rows the target refused, with its reason; retried every run until accepted.</p>'
                + search_box("rejected-rows", "Search rejected rows by key or reason")
                + table(["key", "target record", "operation", "code", "vendor's reason", "attempts", "last rejected",
                         "payload"], rej_rows, id_="rejected-rows",
                        row_ids=[f"rejected-{slug(x['key'])}" for x in rejected], empty="no rejected rows")
                + '<h2 id="conflicts">Conflicts per field</h2>'
                + table(["field", "conflicts"], [[e(f), num(n)] for f, n in per_field.most_common()],
                        empty="no conflicts")
                + table(["key", "field", "status", "winner", "value", "candidates", "detected"], conflict_rows,
                        empty="")
                + '<h2 id="deletions">Skipped deletions</h2>'
                + table(["key", "target record", "detected"], skipped, empty="none"))
        out[f"sync-{slug(name)}.html"] = _page(site, f"Sync {name}", body)
    return out
