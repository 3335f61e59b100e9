"""`hub docs`: write the docs site (flow map, lineage, runs) as static HTML that opens from disk."""

from __future__ import annotations

import click


@click.command(name="docs")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Where to write the site (default: .hub/docs in the project).")
@click.pass_obj
def docs(obj, out: str | None) -> None:
    """Write a static site of what flows where: the flow map, column lineage, runs, syncs and their rejected rows.

    The site is plain HTML, CSS and a little JS (no CDN): open index.html from disk or put the folder on any static
    host. `hub serve` shows the same pages live at /.

    \b
    Example:
      hub docs                    # .hub/docs/index.html
      hub docs --out site/        # somewhere else
    """
    from pathlib import Path

    from hub.docs import build_site

    obj.project.not_on_postgres("docs")
    report = build_site(obj.project, Path(out) if out else None)
    name, size = report.biggest
    click.echo(f"wrote {report.pages:,} pages in {report.seconds:.2f} s (biggest: {name}, {f'{size / 1024:,.0f} KB'})")
    click.echo(f"open: {report.index}")


COMMANDS = [docs]
