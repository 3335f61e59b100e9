"""`hub push`: reverse ETL, what changed in the models sent to the targets."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from hub.commands.common import alert, exit_on_errors


if TYPE_CHECKING:
    from hub.cli import Context


@click.command(name="push")
@click.argument("syncs", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Plan and show what would change; write nothing anywhere.")
@click.option("--show-rejected", "show_rejected", metavar="SYNC", help="List the rows SYNC's target refused.")
@click.pass_obj
def push(obj: Context, syncs: tuple[str, ...], dry_run: bool, show_rejected: str | None) -> None:
    """Send what changed in models to the target systems (reverse ETL), per [syncs.*] in hub.toml.

    \b
    Example:
      hub push --dry-run              # what would change, without writing
      hub push person_to_hubspot
      hub push --show-rejected person_to_hubspot
    """
    from hub.output import render

    if show_rejected:
        rows = obj.project.rejected(show_rejected)
        columns = ["key", "target_id", "operation", "code", "reason", "attempts", "last_rejected_at"]
        click.echo(render(columns, [[r.get(c) for c in columns] for r in rows]))
        click.echo(f"{len(rows)} rejected row(s) for {show_rejected}")
        return
    from hub.reverse_etl import render_push_report

    report = obj.project.push(syncs, dry_run=dry_run)
    click.echo(render_push_report(report))
    alert(obj, report.run_id)
    exit_on_errors(report)


COMMANDS = [push]
