"""`hub build`: build the SQL models in dependency order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from hub.commands.common import alert, exit_on_errors


if TYPE_CHECKING:
    from hub.cli import Context


@click.command(name="build")
@click.argument("selectors", nargs=-1)
@click.option("--full-refresh", is_flag=True,
              help="Rebuild incremental models whole and re-resolve every record (person ids are kept).")
@click.pass_obj
def build(obj: Context, selectors: tuple[str, ...], full_refresh: bool) -> None:
    """Build SQL models into tables and views, in dependency order; prints rows and time per model.

    SELECTORS: a model name, name+ (with downstream), +name (with upstream), connection:NAME.

    \b
    Example:
      hub build                       # everything
      hub build canonical.person+     # the person model and what depends on it
      hub build connection:hubspot
      hub build --full-refresh        # after fixing data whose updated_at did not move
    """
    from hub.modeling import render_result, render_summary

    report = obj.project.build(selectors, full_refresh=full_refresh, progress=lambda r: click.echo(render_result(r)))
    click.echo(render_summary(report))
    if getattr(report, "triggers", None) is not None:   # data triggers (hub.actions.data)
        from hub.actions.data import trigger_lines

        for line in trigger_lines(report.triggers):
            click.echo(line)
    alert(obj, report.run_id)
    exit_on_errors(report)


COMMANDS = [build]
