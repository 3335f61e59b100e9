"""`hub run`: ingest, build and push through the one runner (:func:`hub.run.run`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from hub.commands.common import render_step


if TYPE_CHECKING:
    from hub.cli import Context


@click.command(name="run")
@click.argument("steps", nargs=-1)
@click.pass_obj
def run_(obj: Context, steps: tuple[str, ...]) -> None:
    """Ingest, build and push in one go; a failed step stops the steps after it (non-zero exit).

    STEPS run only those steps, in order, each with an optional selector as in a schedule's steps (default: ingest
    build push). On a PostgreSQL warehouse runs of different streams, models and syncs go on side by side.

    \b
    Example:
      hub run
      hub run ingest:crm build push:person_to_crm
    """
    from hub.progress import stream_progress
    from hub.run import DEFAULT_STEPS, run

    chosen = tuple(_step(text) for text in steps) or DEFAULT_STEPS
    with stream_progress() as progress:
        report = run(obj.project, chosen, on_step=lambda name, step: click.echo(render_step(name, step)),
                     ingest_progress=progress)
    if not report.ok:
        if report.error:
            click.echo(f"error: {report.error}", err=True)
        else:
            for error in report.reports[report.failed].errors:
                click.echo(f"error: {error}", err=True)
        click.echo(f"{report.failed} failed; skipped: {', '.join(report.skipped) or 'nothing'}", err=True)
        raise SystemExit(1)


def _step(text: str):
    """``kind[:selector]`` as a step (``ingest:crm``, ``build``, ``push:person_to_crm``)."""
    from hub.errors import UnknownNameError
    from hub.schedule_config import STEP_KINDS, JobStep

    kind, _, selector = text.partition(":")
    if kind.strip() not in STEP_KINDS:
        raise UnknownNameError("step", kind.strip(), STEP_KINDS, where=f" in `hub run {text}`")
    return JobStep(kind.strip(), selector.strip() or None)


COMMANDS = [run_]
