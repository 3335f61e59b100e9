"""`hub runs`: the history of commands that changed something, from ``_hub.runs``."""

from __future__ import annotations

import click


@click.command(name="runs")
@click.option("--limit", type=click.IntRange(1, 100_000), default=20, show_default=True, help="How many runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs, with their steps, as JSON.")
@click.pass_obj
def runs(obj, limit: int, as_json: bool) -> None:
    """List recent runs, newest first: command, start, duration, status, rows in/out, rejected rows, error (for a
    run in progress: the step it is on and its rows so far). Answers at once while another command writes.

    \b
    Example:
      hub runs
      hub runs --limit 5 --json
    """
    from hub import history
    from hub.output import cell, table, to_json
    from hub.warehouse.runlog import describe

    found = history.runs(obj.project, limit)
    if as_json:
        click.echo(to_json(found))
        return
    if not found:
        click.echo("no runs yet: `hub ingest` or `hub run` records one")
        return
    click.echo(table(["run", "command", "started", "seconds", "status", "rows in", "rows out", "rejected", "error"], [
        [r["run_id"], r["command"], cell(r["started_at"]), "" if r["seconds"] is None else f"{r['seconds']:.1f}",
         r["status"], f"{r['rows_in']:,}", f"{r['rows_out']:,}", f"{r['rejected']:,}",
         f"now at {describe(r['progress'])}" if r.get("progress") else _short(r.get("error"))]
        for r in found]))


def _short(text: str | None, width: int = 80) -> str:
    if not text:
        return ""
    line = " ".join(text.split())
    return line if len(line) <= width else line[:width - 1] + "…"


COMMANDS = [runs]
