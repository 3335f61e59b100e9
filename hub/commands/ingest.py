"""`hub ingest`: pull the configured connections into raw_<connection>."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from hub.commands.common import alert, exit_on_errors


if TYPE_CHECKING:
    from hub.cli import Context


@click.command(name="ingest")
@click.argument("selectors", nargs=-1)
@click.option("--full-refresh", is_flag=True, help="Re-pull everything instead of only what changed.")
@click.pass_obj
def ingest(obj: Context, selectors: tuple[str, ...], full_refresh: bool) -> None:
    """Pull data from the APIs into raw_<connection> schemas, incrementally.

    SELECTORS are CONNECTION or CONNECTION.STREAM; none means every configured connection.

    \b
    Example:
      hub ingest                      # everything
      hub ingest hubspot.contacts salesforce
      hub ingest --full-refresh hubspot
    """
    from hub.progress import stream_progress

    started = time.perf_counter()
    with stream_progress() as progress:
        report = obj.project.ingest(selectors, full_refresh=full_refresh, progress=progress)
    for r in report.results:
        line = f"{r.connection + '.' + r.stream:<24} {r.mode:<11} {r.rows:>9,} rows  {r.seconds:6.2f} s  {r.status}"
        click.echo(line)
    for notice in report.notices():
        click.echo(notice)
    connections = len({r.connection for r in report.results})
    click.echo(f"ingested {report.rows:,} rows from {connections} connection(s) in "
               f"{time.perf_counter() - started:.2f} s (run {report.run_id})")
    alert(obj, report.run_id)
    exit_on_errors(report)


COMMANDS = [ingest]
