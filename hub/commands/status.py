"""`hub status`: ingests, syncs, models, staleness, failures, API versions and webhooks at a glance."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from hub.commands.common import num


if TYPE_CHECKING:
    from hub.cli import Context


@click.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Show the latest ingest per connection and stream, and each sync's outcome, rejected rows and conflicts.

    \b
    Example:
      hub status
      hub status --json
    """
    from hub.output import ago, table, to_json
    from hub.sources.notices import usage_line
    from hub.warehouse.runlog import describe

    report = obj.project.status()
    if report.tables_unreadable:   # a writer holds the warehouse and no snapshot stands in (a snapshot says so itself)
        click.echo(f"note: {report.as_of}", err=True)
    if as_json:
        click.echo(to_json(report.to_dict()))
        return
    rows = [[f"{s.connection}.{s.stream}", s.outcome, s.mode or "", num(s.rows_last_run), num(s.rows_in_table),
             ago(s.last_run_at), ago(s.last_success_at), s.error or ""] for s in report.streams]
    click.echo(f"warehouse: {report.warehouse}")
    click.echo(table(["stream", "outcome", "mode", "rows (last run)", "rows (table)", "last run", "last success",
                      "error"], rows))
    if report.syncs:
        click.echo("")
        click.echo(table(["sync", "to", "outcome", "last run", "synced", "rejected", "conflicts", "error"], [
            [s["sync"], s["to"], s["outcome"] or "never", ago(s.get("last_run_at")), num(s.get("synced")),
             num(s.get("rejected")), num(s.get("conflicts")), s.get("error") or ""] for s in report.syncs]))
    for c in report.held_conflicts:   # conflicts = "hold": nobody writes the field until one side edits it again
        values = ", ".join(f"{v['connection']} {v['value']!r}" for v in c["candidates"])
        click.echo(f"held conflict: {c['model']} {c['key']} {c['model_column']}: {values} "
                   f"(edit it in the system whose value should win)")
    if report.models:
        click.echo("")
        click.echo(table(["model", "outcome", "rows", "last run", "last success", "error"], [
            [m["model"], m["outcome"], num(m["rows"]), ago(m["last_run_at"]), ago(m["last_success_at"]),
             m["error"] or ""] for m in report.models]))
    for c in report.connections:
        if c["stale"]:
            click.echo(f"stale: connection {c['connection']} last succeeded {ago(c['last_success_at'])}, more than "
                       f"twice the interval of schedule '{c['schedule']}'")
    for r in report.running:   # in progress now (read from the writer's snapshot while it holds the warehouse)
        now = f", now at {describe(r['progress'])}" if r.get("progress") else ""
        click.echo(f"running: `{r['command']}` run {r['run_id']} (pid {r['pid']}), started {ago(r['started_at'])}, "
                   f"{r['steps_done']} step(s) done{now}")
    for f in report.failures:
        click.echo(f"{f['status']}: latest `{f['command']}` run {f['run_id']} ({ago(f['started_at'])}): "
                   f"{f['error'] or ''}")
    for c in report.schema_changes:
        change = f"+ new column {c['column']} ({c['new_type']})" if c["change"] == "added" \
            else f"~ column {c['column']} changed type {c['old_type']} -> {c['new_type']}"
        click.echo(f"schema change: {c['table']} {change} (run {c['run_id']})")
    for a in report.apis:   # pinned API versions, the vendor's usage counter and its deprecation notices
        usage = a["api_usage"]
        counted = f", {usage_line(usage['used'], usage['limit'])}" if usage else ""
        click.echo(f"api {a['connection']}: {a['type']} {a['api_version']}"
                   f"{'' if a['pinned'] else ' (default)'}{counted}")
        for message in a["warnings"]:
            click.echo(f"warning: {a['connection']}: {message}")
    for w in report.webhooks:   # hub serve's inbox and dead letters
        latest = f"; latest: {w['latest_dead_letter']}" if w["latest_dead_letter"] else ""
        if w["connection"].startswith("trigger:"):   # actions that could not land (hub.actions.send)
            click.echo(f"actions of {w['connection']}: {w['dead_letters']:,} dead letter(s) in "
                       f"_hub.action_dead_letters{latest}")
            continue
        click.echo(f"webhooks {w['connection']}: {num(w['received']) or '?'} received, {w['backlog']:,} waiting to "
                   f"load, {w['dead_letters']:,} dead letter(s) in _hub.webhook_dead_letters{latest}")
    for d in report.skipped_deletions:
        click.echo(f"deleted in target, not re-created: sync {d['sync']} key {d['key']} (record {d['target_id']}, "
                   f"{ago(d['detected_at'])}); set on_target_delete = \"recreate\" to bring it back")


COMMANDS = [status]
