"""`hub demo`: the example projects end to end, offline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from hub.cli import Context


@click.command(name="demo")
@click.argument("directory", type=click.Path(file_okay=False), required=False)
@click.option("--example", "example", metavar="NAME", help="Run one example (hub init --example lists them).")
@click.pass_obj
def demo(obj: Context, directory: str | None, example: str | None) -> None:
    """Run the examples end to end, offline: start the sandbox, write each example's project, ingest, build, push,
    and show what happened.

    \b
    Examples:
      hub demo                              # every example, each in ./hub-demo/<name>
      hub demo --example crm-two-way        # one, in ./hub-demo/crm-two-way
      hub demo --example crm-two-way crm    # one, in ./crm
    """
    from hub.demo import run_demo

    if example is not None:
        from hub.examples import get

        get(example)  # an unknown name fails before anything is written
        run_demo(Path(directory or Path("hub-demo") / example), echo=click.echo, example=example)
    else:
        run_demo(Path(directory or "hub-demo"), echo=click.echo)


COMMANDS = [demo]
