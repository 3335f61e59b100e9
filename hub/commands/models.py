"""`hub models`: the models, their dependencies and last builds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from hub.cli import Context


@click.command(name="models")
@click.option("--json", "as_json", is_flag=True, help="Print the models as JSON.")
@click.pass_obj
def models(obj: Context, as_json: bool) -> None:
    """List models with their dependencies, materialization, last build time and row count.

    \b
    Example:
      hub models
    """
    from dataclasses import asdict

    from hub.modeling import render_models
    from hub.output import to_json

    infos = obj.project.models()
    click.echo(to_json([asdict(i) for i in infos]) if as_json else render_models(infos))


COMMANDS = [models]
