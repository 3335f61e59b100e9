"""The `hub` command line: the group, the error boundary and the map of commands; nothing else.

Every command lives in ``hub/commands/<module>.py``, which lists its click commands in ``COMMANDS``; :data:`COMMANDS`
below maps each command name to its module, and a module is imported only when its command is asked for (or listed
by ``--help``). Command modules import only click at the top, so ``hub --help`` stays instant (no duckdb, no dlt).
The group builds one :class:`Context`; a :class:`HubError` anywhere becomes one ``error: ...`` line on stderr and a
non-zero exit (the traceback only with ``--debug``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from hub import __version__
from hub.errors import HubError

#: command name -> module in hub/commands/. A module not present yet (a branch still to be merged) is left out.
COMMANDS = {
    "build": "build",
    "compile": "compile",
    "demo": "demo",
    "docs": "docs",
    "ingest": "ingest",
    "init": "init",
    "integrations": "integrations",
    "models": "models",
    "push": "push",
    "query": "query",
    "run": "run",
    "runs": "runs",
    "sandbox": "sandbox",
    "schedule": "schedule",
    "serve": "serve",
    "status": "status",
    "warehouse": "warehouse",
}
COMMAND_PACKAGE = "hub.commands"
WAIT_HELP = ("How long to wait for another hub process to release the warehouse (writers default to 60; query and "
             "status fail at once unless given; 0 = never wait). Also accepted after the command.")


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
            self.set_wait(wait)

    def set_wait(self, wait: float | None) -> None:
        """How long this invocation waits for the warehouse (``--wait``, before or after the command)."""
        from hub.warehouse.lock import set_wait

        self.wait = wait
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
    """Finds commands through :data:`COMMANDS`, and turns hub errors (and, as a last resort, bugs) into one clear
    line unless --debug asks for the traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        present = [name for name, module in COMMANDS.items() if _module_exists(module)]
        return sorted({*present, *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = self.commands.get(name)
        if command is None and name in COMMANDS and _module_exists(COMMANDS[name]):
            module = importlib.import_module(f"{COMMAND_PACKAGE}.{COMMANDS[name]}")
            command = next((c for c in getattr(module, "COMMANDS", ()) if c.name == name), None)
        if command is not None:
            _accept_wait(command)
        return command

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


def _module_exists(module: str) -> bool:
    return importlib.util.find_spec(f"{COMMAND_PACKAGE}.{module}") is not None


def _accept_wait(command: click.Command) -> None:
    """Give ``command`` (and a group's subcommands) its own ``--wait``, so ``hub query --wait 5 ...`` works as well as
    ``hub --wait 5 query ...``: the lock's hint says "pass --wait SECONDS" and users put it after the command."""
    if getattr(command, "_hub_wait", False):
        return
    command._hub_wait = True  # type: ignore[attr-defined]
    if not any(p.name == "wait" for p in command.params):
        command.params.append(click.Option(["--wait"], type=click.FloatRange(min=0, max=86400), default=None,
                                           metavar="SECONDS", expose_value=False, is_eager=True,
                                           callback=_command_wait, help=WAIT_HELP))
    for sub in getattr(command, "commands", {}).values():
        _accept_wait(sub)


def _command_wait(ctx: click.Context, param: click.Parameter, value: float | None) -> None:
    value = _finite(param, value)
    if value is not None:
        ctx.find_object(Context).set_wait(value)


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
              help=WAIT_HELP)
@click.version_option(__version__, prog_name="hub")
@click.pass_context
def cli(ctx: click.Context, project_dir: str | None, debug: bool, wait: float | None) -> None:
    """hub: ingest SaaS APIs into DuckDB, unify them with SQL models, push changes back.

    \b
    Example:
      hub init my-project && cd my-project
      hub ingest              # pull every configured connection
      hub query "SELECT count(*) FROM raw_crm.contacts"
    """
    ctx.obj = Context(project_dir, debug, wait)


def main() -> None:
    """Console-script entry point."""
    from hub.startup import load_httpcore_without_trio

    load_httpcore_without_trio()   # the hub process runs no event loop: httpcore need not load trio (70 ms)
    cli(prog_name="hub")


if __name__ == "__main__":  # pragma: no cover
    main()
