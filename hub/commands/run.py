"""`hub run`: ingest, build and push through the one runner (:func:`hub.run.run`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from hub.commands.common import render_step


if TYPE_CHECKING:
    from hub.cli import Context


@click.command(name="run")
@click.pass_obj
def run_(obj: Context) -> None:
    """Ingest, build and push in one go; a failed step stops the steps after it (non-zero exit).

    \b
    Example:
      hub run
    """
    from hub.progress import stream_progress
    from hub.run import run

    with stream_progress() as progress:
        report = run(obj.project, on_step=lambda name, step: click.echo(render_step(name, step)),
                     ingest_progress=progress)
    if not report.ok:
        if report.error:
            click.echo(f"error: {report.error}", err=True)
        else:
            for error in report.reports[report.failed].errors:
                click.echo(f"error: {error}", err=True)
        click.echo(f"{report.failed} failed; skipped: {', '.join(report.skipped) or 'nothing'}", err=True)
        raise SystemExit(1)


COMMANDS = [run_]
