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

    def __init__(self, project_dir: str | None, debug: bool) -> None:
        self.project_dir = project_dir
        self.debug = debug
        self._project = None

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
            if _debug(ctx):
                raise
            raise HubClickError(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise HubClickError("interrupted", 130) from None
        except Exception as exc:  # the CLI boundary: a bug must still print one line, not a traceback
            if _debug(ctx):
                raise
            raise HubClickError(f"unexpected {type(exc).__name__}: {exc} (this is a bug in hub; rerun with --debug "
                                f"for the traceback)", 70) from None


def _debug(ctx: click.Context) -> bool:
    return bool(ctx.obj and ctx.obj.debug)


@click.group(cls=HubGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "--project-dir", type=click.Path(file_okay=False), default=None,
              help="The project directory (default: the nearest hub.toml upward from here).")
@click.option("--debug", is_flag=True, help="Show tracebacks and dlt's logs.")
@click.version_option(__version__, prog_name="hub")
@click.pass_context
def cli(ctx: click.Context, project_dir: str | None, debug: bool) -> None:
    """hub: ingest SaaS APIs into DuckDB, unify them with SQL models, push changes back.

    \b
    Example:
      hub init my-project && cd my-project
      hub ingest              # pull every configured connection
      hub query "SELECT count(*) FROM raw_hubspot.contacts"
    """
    ctx.obj = Context(project_dir, debug)


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
        line = f"{r.connection}.{r.stream:<12} {r.mode:<11} {r.rows:>9,} rows  {r.seconds:6.2f} s  {r.status}"
        click.echo(line)
    connections = len({r.connection for r in report.results})
    click.echo(f"ingested {report.rows:,} rows from {connections} connection(s) in "
               f"{time.perf_counter() - started:.2f} s (run {report.run_id})")
    if not report.ok:
        for error in report.errors:
            click.echo(f"error: {error}", err=True)
        raise SystemExit(1)


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
    """Show the latest ingest per connection and stream: outcome, rows, when.

    \b
    Example:
      hub status
      hub status --json
    """
    from hub.output import ago, table, to_json

    report = obj.project.status()
    if as_json:
        click.echo(to_json(report.to_dict()))
        return
    rows = [[f"{s.connection}.{s.stream}", s.outcome, s.mode or "", _num(s.rows_last_run), _num(s.rows_in_table),
             ago(s.last_run_at), ago(s.last_success_at), s.error or ""] for s in report.streams]
    click.echo(f"warehouse: {report.warehouse}")
    click.echo(table(["stream", "outcome", "mode", "rows (last run)", "rows (table)", "last run", "last success",
                      "error"], rows))


def _num(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--hubspot-port", type=int, default=0, help="HubSpot emulator port (default: a free one).")
@click.option("--salesforce-port", type=int, default=0, help="Salesforce emulator port (default: a free one).")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the fake data.")
@click.option("--people", type=int, default=400, show_default=True, help="How many fake people to create.")
@click.option("--tls", is_flag=True, help="Serve https with a locally generated CA (its path is printed).")
def sandbox(host: str, hubspot_port: int, salesforce_port: int, seed: int, people: int, tls: bool) -> None:
    """Serve local emulators of the HubSpot and Salesforce APIs, seeded with fake data, until Ctrl-C.

    \b
    Example:
      hub sandbox --hubspot-port 8001 --salesforce-port 8002
    """
    from hub.sandbox import Sandbox

    sb = Sandbox(seed=seed, people=people, tls=tls, host=host, hubspot_port=hubspot_port,
                 salesforce_port=salesforce_port).start()
    click.echo(f"HubSpot emulator:    {sb.hubspot.url}")
    click.echo(f"Salesforce emulator: {sb.salesforce.url}")
    if sb.ca_path:
        click.echo(f"CA certificate:      {sb.ca_path}")
    click.echo("Sandbox-only credentials (not secrets; they work against this sandbox only):")
    click.echo(f"  export HUB__CONNECTIONS__HUBSPOT__TOKEN={sb.hubspot.token}")
    click.echo(f"  export HUB__CONNECTIONS__SALESFORCE__TOKEN={sb.salesforce.token}")
    click.echo("Press Ctrl-C to stop.")
    sb.serve_forever()


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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="hub")


if __name__ == "__main__":  # pragma: no cover
    main()
