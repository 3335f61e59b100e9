"""`hub warehouse copy --to postgres`: move a DuckDB project's warehouse into PostgreSQL, history and state included."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from hub.cli import Context


@click.group(name="warehouse")
def warehouse() -> None:
    """Manage the warehouse itself (move it to another engine).

    \b
    Example:
      hub warehouse copy --to postgres
    """


@warehouse.command(name="copy")
@click.option("--to", "to", type=click.Choice(["postgres"]), required=True,
              help="The engine to copy into: the postgres warehouse [warehouse] in hub.toml names.")
@click.option("--from", "source", type=click.Path(dir_okay=False), default=None,
              help="The DuckDB file to copy (default: warehouse.duckdb in the project).")
@click.option("--replace", is_flag=True,
              help="Drop relations of the same names the target already holds, in the same transaction.")
@click.pass_obj
def copy(obj: Context, to: str, source: str | None, replace: bool) -> None:
    """Copy the project's DuckDB warehouse into PostgreSQL: every schema, the run history, cursors, identity map,
    sync state and dlt's state, in one transaction, with each table's row count verified. Person ids stay and
    nothing is pushed again.

    Switch hub.toml first: [warehouse] type = "postgres" and dsn = "postgresql://USER@HOST:5432/DATABASE", the
    password in secrets.toml ([warehouse] password) or HUB__WAREHOUSE__PASSWORD. The DuckDB file is only read.

    \b
    Example:
      hub warehouse copy --to postgres
      hub warehouse copy --to postgres --from old/warehouse.duckdb --replace
    """
    from pathlib import Path

    from hub.reverse_etl.restamp import restamp
    from hub.warehouse.copy import copy_project, render

    project = obj.project
    # in the copy's transaction: the rows in sync get the hashes PostgreSQL computes, so nothing is pushed again
    report = copy_project(project, source=Path(source) if source else None, replace=replace,
                          progress=lambda line: click.echo(line, err=True),
                          within=lambda duck, pg: restamp(project, duck, pg).lines())
    click.echo(render(report))


COMMANDS = [warehouse]
