"""`hub query`: one read-only statement over the warehouse."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from hub.cli import Context


@click.command(name="query")
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="Output format (json = an array of objects).")
@click.pass_obj
def query(obj: Context, sql: str, fmt: str) -> None:
    """Run SQL against the warehouse (read-only). Use - to read the SQL from stdin.

    \b
    Example:
      hub query "SELECT email, firstname FROM raw_hubspot.contacts LIMIT 5"
      hub query --format json "SELECT * FROM _hub.runs"
    """
    from hub.output import render

    if sql == "-":
        sql = sys.stdin.read()
    result = obj.project.query(sql)
    click.echo(render(result.columns, result.rows, fmt))


COMMANDS = [query]
