"""Helpers the command modules share: exit codes from reports, alerts after a run, rendering a run's steps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from hub.cli import Context


def exit_on_errors(report: Any) -> None:
    """A report with errors (some connections, models or syncs failed) prints them and exits 1."""
    if not report.ok:
        for error in report.errors:
            click.echo(f"error: {error}", err=True)
        raise SystemExit(1)


def alert(obj: Context, run_id: str | None) -> None:
    """Send the [alerts] a finished run calls for (failure, rejected rows, staleness); say so if one could not go."""
    from hub.alerts import after_run

    for sent in after_run(obj.project, run_id):
        for delivery in sent.deliveries:
            if not delivery.ok:
                click.echo(f"warning: could not send the {sent.kind} alert by {delivery.channel}: {delivery.error}",
                           err=True)


def render_step(name: str, step: Any) -> str:
    if name == "ingest":
        return "\n".join([f"ingest: {step.rows:,} rows"] + [
            f"  {r.connection + '.' + r.stream:<24} {r.mode:<11} {r.rows:>9,} rows  {r.status}" for r in step.results]
            + [f"  {notice}" for notice in step.notices()])
    if name == "build":
        from hub.modeling import render_result, render_summary

        return "\n".join(["build:"] + [f"  {render_result(r)}" for r in step.results] + [render_summary(step)])
    from hub.reverse_etl import render_push_report

    return "push:\n" + render_push_report(step)


def num(value: int | None) -> str:
    return "" if value is None else f"{value:,}"
