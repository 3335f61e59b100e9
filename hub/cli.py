"""The `hub` command line: parse arguments, call one library function, print its result.

No SQL, HTTP or file parsing lives here. The group builds one :class:`Context`; a :class:`HubError` anywhere becomes one
``error: ...`` line on stderr and a non-zero exit (the traceback only with ``--debug``). Heavy imports happen inside
commands so ``hub --help`` is instant.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from hub import __version__
from hub.errors import HubError


class Context:
    """What every command shares: where the project is, whether to show tracebacks, and the loaded project."""

    def __init__(self, project_dir: str | None, debug: bool, wait: float | None = None) -> None:
        self.project_dir = project_dir
        self.debug = debug
        self.wait = wait
        self._project = None
        # The wait is process-wide (warehouse.lock); import it only when needed, since that loads duckdb, but reset
        # it when already loaded so one in-process invocation's --wait does not outlive it.
        if wait is not None or "hub.warehouse.lock" in sys.modules:
            from hub.warehouse.lock import set_wait

            set_wait(wait)

    @property
    def project(self):  # -> hub.project.Project
        if self._project is None:
            from hub.project import Project

            self._project = Project.find(self.project_dir)
        return self._project


class HubClickError(click.ClickException):
    """A hub error as click shows it: one line, redacted, with the error's own exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        from hub.secrets import redact

        click.echo(f"error: {redact(self.format_message())}", err=True)


class HubGroup(click.Group):
    """Turns hub errors (and, as a last resort, bugs) into one clear line unless --debug asks for the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except HubError as exc:
            _record_failure(ctx, exc)
            if _debug(ctx):
                raise
            raise HubClickError(str(exc), exc.exit_code) from None
        except KeyboardInterrupt as exc:
            _record_failure(ctx, exc)
            raise HubClickError("interrupted", 130) from None
        except Exception as exc:  # the CLI boundary: a bug must still print one line, not a traceback
            _record_failure(ctx, exc)
            if _debug(ctx):
                raise
            raise HubClickError(f"unexpected {type(exc).__name__}: {_one_line(str(exc))} (this is a bug in hub; "
                                f"rerun with --debug for the traceback)", 70) from None


def _record_failure(ctx: click.Context, exc: BaseException) -> None:
    """Mark the runs the dying command left unfinished as failed with its cause; a failure to record that must not
    hide the error being reported."""
    project = ctx.obj._project if ctx.obj else None
    if project is None:
        return
    from hub.history import fail_unfinished

    try:
        fail_unfinished(project, exc)
    except HubError as again:
        click.echo(f"warning: could not record the run as failed: {again}", err=True)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _finite(param: click.Parameter, value: float | None) -> float | None:
    """click's FloatRange lets nan through (every comparison with it is false)."""
    if value is not None and value != value:
        raise click.BadParameter("must be a number of seconds, not nan", param=param)
    return value


def _debug(ctx: click.Context) -> bool:
    return bool(ctx.obj and ctx.obj.debug)


@click.group(cls=HubGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "--project-dir", type=click.Path(file_okay=False), default=None,
              help="The project directory (default: the nearest hub.toml upward from here).")
@click.option("--debug", is_flag=True, help="Show tracebacks and dlt's logs.")
@click.option("--wait", "wait", type=click.FloatRange(min=0, max=86400), default=None, metavar="SECONDS",
              callback=lambda ctx, param, value: _finite(param, value),
              help="How long to wait for another hub process to release the warehouse (writers default to 60; "
                   "query and status fail at once unless given; 0 = never wait).")
@click.version_option(__version__, prog_name="hub")
@click.pass_context
def cli(ctx: click.Context, project_dir: str | None, debug: bool, wait: float | None) -> None:
    """hub: ingest SaaS APIs into DuckDB, unify them with SQL models, push changes back.

    \b
    Example:
      hub init my-project && cd my-project
      hub ingest              # pull every configured connection
      hub query "SELECT count(*) FROM raw_hubspot.contacts"
    """
    ctx.obj = Context(project_dir, debug, wait)


@cli.command()
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


@cli.command()
@click.argument("selectors", nargs=-1)
@click.option("--full-refresh", is_flag=True, help="Re-pull everything instead of only what changed.")
@click.pass_obj
def ingest(obj: Context, selectors: tuple[str, ...], full_refresh: bool) -> None:
    """Pull data from the APIs into raw_<connection> schemas, incrementally.

    SELECTORS are CONNECTION or CONNECTION.STREAM; none means every configured connection.

    \b
    Example:
      hub ingest                      # everything
      hub ingest hubspot.contacts salesforce
      hub ingest --full-refresh hubspot
    """
    from hub.progress import stream_progress

    started = time.perf_counter()
    with stream_progress() as progress:
        report = obj.project.ingest(selectors, full_refresh=full_refresh, progress=progress)
    for r in report.results:
        line = f"{r.connection + '.' + r.stream:<24} {r.mode:<11} {r.rows:>9,} rows  {r.seconds:6.2f} s  {r.status}"
        click.echo(line)
    for notice in report.notices():
        click.echo(notice)
    connections = len({r.connection for r in report.results})
    click.echo(f"ingested {report.rows:,} rows from {connections} connection(s) in "
               f"{time.perf_counter() - started:.2f} s (run {report.run_id})")
    _alert(obj, report.run_id)
    _exit_on_errors(report)


@cli.command()
@click.argument("selectors", nargs=-1)
@click.option("--full-refresh", is_flag=True,
              help="Rebuild incremental models whole and re-resolve every record (person ids are kept).")
@click.pass_obj
def build(obj: Context, selectors: tuple[str, ...], full_refresh: bool) -> None:
    """Build SQL models into tables and views, in dependency order; prints rows and time per model.

    SELECTORS: a model name, name+ (with downstream), +name (with upstream), connection:NAME.

    \b
    Example:
      hub build                       # everything
      hub build canonical.person+     # the person model and what depends on it
      hub build connection:hubspot
      hub build --full-refresh        # after fixing data whose updated_at did not move
    """
    from hub.modeling import render_result, render_summary

    report = obj.project.build(selectors, full_refresh=full_refresh, progress=lambda r: click.echo(render_result(r)))
    click.echo(render_summary(report))
    _alert(obj, report.run_id)
    _exit_on_errors(report)


@cli.command()
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


@cli.command(name="compile")
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


@cli.command()
@click.argument("syncs", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Plan and show what would change; write nothing anywhere.")
@click.option("--show-rejected", "show_rejected", metavar="SYNC", help="List the rows SYNC's target refused.")
@click.pass_obj
def push(obj: Context, syncs: tuple[str, ...], dry_run: bool, show_rejected: str | None) -> None:
    """Send what changed in models to the target systems (reverse ETL), per [syncs.*] in hub.toml.

    \b
    Example:
      hub push --dry-run              # what would change, without writing
      hub push person_to_hubspot
      hub push --show-rejected person_to_hubspot
    """
    from hub.output import render

    if show_rejected:
        rows = obj.project.rejected(show_rejected)
        columns = ["key", "target_id", "operation", "code", "reason", "attempts", "last_rejected_at"]
        click.echo(render(columns, [[r.get(c) for c in columns] for r in rows]))
        click.echo(f"{len(rows)} rejected row(s) for {show_rejected}")
        return
    from hub.reverse_etl import render_push_report

    report = obj.project.push(syncs, dry_run=dry_run)
    click.echo(render_push_report(report))
    _alert(obj, report.run_id)
    _exit_on_errors(report)


@cli.command(name="run")
@click.pass_obj
def run_(obj: Context) -> None:
    """Ingest, build and push in one go; a failed step stops the steps after it (non-zero exit).

    \b
    Example:
      hub run
    """
    from hub.progress import stream_progress
    from hub.run import run

    with stream_progress() as progress:
        report = run(obj.project, on_step=lambda name, step: click.echo(_render_step(name, step)),
                     ingest_progress=progress)
    if not report.ok:
        if report.error:
            click.echo(f"error: {report.error}", err=True)
        else:
            for error in report.reports[report.failed].errors:
                click.echo(f"error: {error}", err=True)
        click.echo(f"{report.failed} failed; skipped: {', '.join(report.skipped) or 'nothing'}", err=True)
        raise SystemExit(1)


def _exit_on_errors(report: Any) -> None:
    """A report with errors (some connections, models or syncs failed) prints them and exits 1."""
    if not report.ok:
        for error in report.errors:
            click.echo(f"error: {error}", err=True)
        raise SystemExit(1)


def _alert(obj: Context, run_id: str | None) -> None:
    """Send the [alerts] a finished run calls for (failure, rejected rows, staleness); say so if one could not go."""
    from hub.alerts import after_run

    for alert in after_run(obj.project, run_id):
        for delivery in alert.deliveries:
            if not delivery.ok:
                click.echo(f"warning: could not send the {alert.kind} alert by {delivery.channel}: {delivery.error}",
                           err=True)


def _render_step(name: str, step: Any) -> str:
    if name == "ingest":
        return "\n".join([f"ingest: {step.rows:,} rows"] + [
            f"  {r.connection + '.' + r.stream:<24} {r.mode:<11} {r.rows:>9,} rows  {r.status}" for r in step.results]
            + [f"  {notice}" for notice in step.notices()])
    if name == "build":
        from hub.modeling import render_result, render_summary

        return "\n".join(["build:"] + [f"  {render_result(r)}" for r in step.results] + [render_summary(step)])
    from hub.reverse_etl import render_push_report

    return "push:\n" + render_push_report(step)


@cli.command()
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="Output format (json = an array of objects).")
@click.pass_obj
def query(obj: Context, sql: str, fmt: str) -> None:
    """Run SQL against the warehouse (read-only). Use - to read the SQL from stdin.

    \b
    Example:
      hub query "SELECT email, firstname FROM raw_hubspot.contacts LIMIT 5"
      hub query --format json "SELECT * FROM _hub.runs"
    """
    from hub.output import render

    if sql == "-":
        sql = sys.stdin.read()
    result = obj.project.query(sql)
    click.echo(render(result.columns, result.rows, fmt))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Show the latest ingest per connection and stream, and each sync's outcome, rejected rows and conflicts.

    \b
    Example:
      hub status
      hub status --json
    """
    from hub.output import ago, table, to_json
    from hub.sources.notices import usage_line

    report = obj.project.status()
    if as_json:
        click.echo(to_json(report.to_dict()))
        return
    rows = [[f"{s.connection}.{s.stream}", s.outcome, s.mode or "", _num(s.rows_last_run), _num(s.rows_in_table),
             ago(s.last_run_at), ago(s.last_success_at), s.error or ""] for s in report.streams]
    click.echo(f"warehouse: {report.warehouse}")
    click.echo(table(["stream", "outcome", "mode", "rows (last run)", "rows (table)", "last run", "last success",
                      "error"], rows))
    if report.syncs:
        click.echo("")
        click.echo(table(["sync", "to", "outcome", "last run", "synced", "rejected", "conflicts", "error"], [
            [s["sync"], s["to"], s["outcome"] or "never", ago(s.get("last_run_at")), _num(s.get("synced")),
             _num(s.get("rejected")), _num(s.get("conflicts")), s.get("error") or ""] for s in report.syncs]))
    for c in report.held_conflicts:   # conflicts = "hold": nobody writes the field until one side edits it again
        values = ", ".join(f"{v['connection']} {v['value']!r}" for v in c["candidates"])
        click.echo(f"held conflict: {c['model']} {c['key']} {c['model_column']}: {values} "
                   f"(edit it in the system whose value should win)")
    if report.models:
        click.echo("")
        click.echo(table(["model", "outcome", "rows", "last run", "last success", "error"], [
            [m["model"], m["outcome"], _num(m["rows"]), ago(m["last_run_at"]), ago(m["last_success_at"]),
             m["error"] or ""] for m in report.models]))
    for c in report.connections:
        if c["stale"]:
            click.echo(f"stale: connection {c['connection']} last succeeded {ago(c['last_success_at'])}, more than "
                       f"twice the interval of schedule '{c['schedule']}'")
    for f in report.failures:
        click.echo(f"{f['status']}: latest `{f['command']}` run {f['run_id']} ({ago(f['started_at'])}): "
                   f"{f['error'] or ''}")
    for c in report.schema_changes:
        change = f"+ new column {c['column']} ({c['new_type']})" if c["change"] == "added" \
            else f"~ column {c['column']} changed type {c['old_type']} -> {c['new_type']}"
        click.echo(f"schema change: {c['table']} {change} (run {c['run_id']})")
    for a in report.apis:   # pinned API versions, the vendor's usage counter and its deprecation notices
        usage = a["api_usage"]
        counted = f", {usage_line(usage['used'], usage['limit'])}" if usage else ""
        click.echo(f"api {a['connection']}: {a['type']} {a['api_version']}"
                   f"{'' if a['pinned'] else ' (default)'}{counted}")
        for message in a["warnings"]:
            click.echo(f"warning: {a['connection']}: {message}")
    for w in report.webhooks:   # hub serve's inbox and dead letters
        latest = f"; latest: {w['latest_dead_letter']}" if w["latest_dead_letter"] else ""
        click.echo(f"webhooks {w['connection']}: {_num(w['received']) or '?'} received, {w['backlog']:,} waiting to "
                   f"load, {w['dead_letters']:,} dead letter(s) in _hub.webhook_dead_letters{latest}")
    for d in report.skipped_deletions:
        click.echo(f"deleted in target, not re-created: sync {d['sync']} key {d['key']} (record {d['target_id']}, "
                   f"{ago(d['detected_at'])}); set on_target_delete = \"recreate\" to bring it back")


def _num(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


@cli.command()
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


def _register_module_commands() -> None:
    """Add the commands of every module in hub/commands/ (each lists its own in ``COMMANDS``)."""
    import importlib
    import pkgutil

    import hub.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"hub.commands.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            cli.add_command(command)


_register_module_commands()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="hub")


if __name__ == "__main__":  # pragma: no cover
    main()
