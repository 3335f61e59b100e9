"""`hub demo`: the whole loop offline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from hub.cli import Context


@click.command(name="demo")
@click.argument("directory", type=click.Path(file_okay=False), default="hub-demo")
@click.pass_obj
def demo(obj: Context, directory: str) -> None:
    """Run the whole loop offline: start the sandbox, create a demo project, ingest, and show what landed.

    \b
    Example:
      hub demo            # creates ./hub-demo
    """
    from hub.demo import run_demo

    run_demo(Path(directory), echo=click.echo)


COMMANDS = [demo]
