"""Small HTML helpers for the docs pages: escaping, links, tables, the page shell, and inline SVG charts.

Pages are plain HTML built with f-strings over escaped values (no template engine: nothing to install, and a 200-model
site renders in well under a second). Every value that came from the project goes through :func:`e`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def e(value: Any) -> str:
    """``value`` as escaped HTML text (None is empty)."""
    return "" if value is None else html.escape(str(value), quote=True)


def slug(name: str) -> str:
    """A file-name-safe form of a name (``canonical.person`` stays, ``a/b c`` becomes ``a_b_c``)."""
    return _UNSAFE.sub("_", name).strip("._") or "_"


def when(moment: datetime | None) -> str:
    """A timestamp as a ``<time>`` element in UTC (empty for None)."""
    if moment is None:
        return ""
    text = moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment.tzinfo else moment.strftime("%Y-%m-%d %H:%M:%S")
    return f'<time datetime="{e(moment.isoformat())}">{e(text)}</time>'


def num(value: Any) -> str:
    """A number with thousands separators; empty for None."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else e(value)


def state_badge(state: str | None) -> str:
    """A run or edge state as a labelled badge (the word is always shown: colour is never the only cue)."""
    word = state or "never"
    css = {"success": "ok", "ok": "ok", "failed": "failing", "failing": "failing", "interrupted": "failing",
           "running": "running", "stale": "stale"}.get(word, "never")
    return f'<span class="badge {css}">{e(word)}</span>'


def link(href: str, text: Any, **attrs: str) -> str:
    """An ``<a>`` with escaped text and attributes."""
    extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{e(v)}"' for k, v in attrs.items())
    return f'<a href="{e(href)}"{extra}>{e(text)}</a>'


def link_html(href: str, inner: str, **attrs: str) -> str:
    """An ``<a>`` around already-rendered HTML (a ``<time>``, a badge)."""
    extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{e(v)}"' for k, v in attrs.items())
    return f'<a href="{e(href)}"{extra}>{inner}</a>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, caption: str | None = None,
          id_: str | None = None, row_ids: Sequence[str | None] | None = None, empty: str = "none") -> str:
    """A table of already-rendered cells; ``row_ids`` gives rows an ``id`` to link to (and highlight)."""
    body = []
    ids = list(row_ids) if row_ids is not None else None
    for i, row in enumerate(rows):
        rid = f' id="{e(ids[i])}"' if ids is not None and ids[i] else ""
        body.append(f"<tr{rid}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    if not body:
        return f'<p class="empty">{e(empty)}</p>'
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    cap = f"<caption>{e(caption)}</caption>" if caption else ""
    tid = f' id="{e(id_)}"' if id_ else ""
    return f'<div class="scroll"><table{tid}>{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>' \
           f'</table></div>'


def live_panel(running: Sequence[dict[str, Any]], as_of: datetime | None, *, root: str = "") -> str:
    """The runs in progress with their live progress. Static, it is the state when the site was read; served by
    `hub serve`, hub.js refreshes it from ``live.json`` every few seconds (the run log: it never waits for a writer)."""
    items = "".join(live_item(r, root) for r in running) or '<li class="idle">Nothing is running.</li>'
    stamp = f"as of {when(as_of)}" if as_of else ""
    return (f'<section id="live" class="live" aria-labelledby="live-h" data-live="{root}live.json">'
            f'<h2 id="live-h">In progress</h2><ul id="live-runs" aria-live="polite">{items}</ul>'
            f'<p class="live-note" id="live-note">{stamp}</p></section>')


def live_item(run: dict[str, Any], root: str = "") -> str:
    """One run in progress: command, run link, start, steps done, and the step it is on with its rows so far."""
    doing = f' <span class="doing">now at {e(run["doing"])}</span>' if run.get("doing") else ""
    return (f'<li class="running">{state_badge("running")} <strong>{e(run["command"])}</strong> '
            f'{link(root + "run-" + slug(run["run_id"]) + ".html", run["run_id"])}, started {when(run["started_at"])}, '
            f'{num(run.get("steps_done") or 0)} step(s) done.{doing}</li>')


def search_box(table_id: str, label: str) -> str:
    """A labelled text box that filters the rows of table ``table_id`` as one types (hub.js)."""
    return (f'<p class="search"><label for="q-{e(table_id)}">{e(label)}</label> '
            f'<input type="search" id="q-{e(table_id)}" data-filter="{e(table_id)}" autocomplete="off"></p>')


NAV = (("index.html", "Flow map"), ("runs.html", "Runs"), ("models.html", "Models"), ("operations.html", "Operations"))


def page(title: str, body: str, *, root: str = "", project: str = "", generated: datetime | None = None,
         head: str = "") -> str:
    """A whole page: the shell (skip link, navigation, main landmark) around ``body``."""
    nav = "".join(f'<li>{link(root + href, text)}</li>' for href, text in NAV)
    stamp = f"generated {when(generated)}" if generated else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · hub docs · {e(project)}</title>
<link rel="stylesheet" href="{root}assets/hub.css">{head}
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header><nav aria-label="Site"><span class="brand">hub · {e(project)}</span><ul>{nav}</ul></nav></header>
<main id="main" tabindex="-1"><h1>{e(title)}</h1>
{body}
</main>
<footer><p>{stamp}</p></footer>
<script src="{root}assets/hub.js"></script>
</body></html>
"""


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]], *,
              height: int = 140, width: int = 720) -> str:
    """An inline SVG bar chart (stacked series) with a text summary for screen readers."""
    n = len(labels)
    if not n:
        return f'<p class="empty">{e(title)}: no data yet</p>'
    totals = [sum(s[1][i] or 0 for s in series) for i in range(n)]
    peak = max(totals) or 1
    step = width / n
    bar = max(step - 1, 1)
    parts = []
    for i in range(n):
        y = height
        for name, values, css in series:
            v = values[i] or 0
            h = v / peak * (height - 10)
            if h <= 0:
                continue
            y -= h
            parts.append(f'<rect class="{css}" x="{i * step:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}">'
                         f'<title>{e(labels[i])}: {e(name)} {num(v)}</title></rect>')
    legend = " ".join(f'<span class="key {css}">{e(name)}</span>' for name, _, css in series)
    summary = f"{n} points; peak {num(round(peak, 2))}"
    return (f'<figure class="chart"><figcaption>{e(title)} {legend}</figcaption>'
            f'<svg role="img" aria-label="{e(title)}: {e(summary)}" viewBox="0 0 {width} {height}" '
            f'preserveAspectRatio="none" width="100%" height="{height}">{"".join(parts)}</svg>'
            f'<p class="axis"><span>{e(labels[0])}</span><span>{e(labels[-1])}</span></p></figure>')
