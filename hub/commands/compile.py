"""`hub compile`: a model's SQL for another warehouse."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from hub.cli import Context


@click.command(name="compile")
@click.argument("model")
@click.option("--dialect", type=click.Choice(["postgres", "snowflake", "bigquery", "duckdb"]), default="postgres",
              show_default=True, help="The SQL dialect to compile for.")
@click.pass_obj
def compile_(obj: Context, model: str, dialect: str) -> None:
    """Print a model's SQL compiled for another warehouse.

    \b
    Example:
      hub compile canonical.person --dialect snowflake
    """
    click.echo(obj.project.compile(model, dialect))


COMMANDS = [compile_]
