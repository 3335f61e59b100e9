"""`hub init`: scaffold a project."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="init")
@click.argument("directory", type=click.Path(file_okay=False), default=".")
def init(directory: str) -> None:
    """Create a project: hub.toml, secrets.toml (0600), models/ and .gitignore.

    \b
    Example:
      hub init crm-hub
    """
    from hub.scaffold import init as scaffold

    for path in scaffold(Path(directory)):
        click.echo(f"created {path}")
    click.echo("next: put tokens in secrets.toml (or HUB__CONNECTIONS__<NAME>__TOKEN), then run `hub ingest`")


COMMANDS = [init]
