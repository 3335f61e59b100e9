"""`hub init`: scaffold a project, or write one of the example projects."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="init")
@click.argument("directory", type=click.Path(file_okay=False), default=".")
@click.option("--example", "example", metavar="NAME",
              help="Write a working example project instead (--example list names them).")
def init(directory: str, example: str | None) -> None:
    """Create a project: hub.toml, secrets.toml (0600), models/ and .gitignore.

    \b
    Examples:
      hub init crm-hub
      hub init --example shop-to-books books     # a working example project
      hub init --example list                    # the examples and what each shows
    """
    if example is not None:
        from hub.examples import describe, get

        if example == "list":
            for name, shows in describe():
                click.echo(f"{name:<24} {shows}")
            return
        chosen = get(example)
        for path in chosen.write(Path(directory)):
            click.echo(f"created {path}")
        click.echo(f"next: `hub demo --example {chosen.name} {directory}` runs it against the offline sandbox")
        return
    from hub.scaffold import init as scaffold

    for path in scaffold(Path(directory)):
        click.echo(f"created {path}")
    click.echo("next: put tokens in secrets.toml (or HUB__CONNECTIONS__<NAME>__TOKEN), then run `hub ingest`")


COMMANDS = [init]
