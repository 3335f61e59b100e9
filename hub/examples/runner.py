"""Running an example end to end, offline: the sandbox in-process, the project pointed at it, one `hub run`.

The sandbox listens on free ports, so the runner hands each connection its emulator's URL and sandbox-only credentials
through the environment overrides a user would use (``HUB__CONNECTIONS__<NAME>__BASE_URL``, ``..._TOKEN``): hub.toml
stays as written. The sandbox keeps its vendor data in the project (``.hub/sandbox-state.json``), so running an example
again continues where the last run stopped: it ingests what the push changed and finds nothing left to send.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.config import CONFIG_FILE
from hub.examples import Example

if TYPE_CHECKING:
    from hub.project import Project
    from hub.run import RunReport
    from hub.sandbox import Sandbox

Echo = Callable[[str], None]


@dataclass
class ExampleRun:
    """What an example's hooks get: the running sandbox, the project, where to print, and the run's outcome."""

    example: Example
    directory: Path
    sandbox: Sandbox
    project: Project
    echo: Echo
    environ: dict[str, str]
    outcome: RunReport | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def run(self, **options: Any) -> RunReport:
        """One `hub run` of the project (ingest, build, push), printing each step; exits on failure."""
        from hub.run import run

        outcome = run(self.project, on_step=lambda step, report: show(self.echo, step, report), **options)
        if not outcome.ok:
            errors = [outcome.error] if outcome.error else outcome.reports[outcome.failed].errors
            for error in errors:
                self.echo(f"error: {error}")
            raise SystemExit(1)
        self.outcome = outcome
        return outcome


def sandbox_environment(directory: Path, sb: Sandbox, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment that points every connection of the project at its emulator in ``sb``."""
    environ = dict(os.environ if base is None else base)
    config = tomllib.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    for name, connection in (config.get("connections") or {}).items():
        emulator = sb.emulators.get(str(connection.get("type")))
        if emulator is None:
            continue
        prefix = f"HUB__CONNECTIONS__{name.upper()}__"
        environ[prefix + "BASE_URL"] = emulator.url
        for key, value in dict(emulator.credentials()).items():
            environ[prefix + key.upper()] = str(value)
    return environ


def show(echo: Echo, step: str, report: Any) -> None:
    """Print one step of the run in a few readable lines."""
    from hub.modeling import render_summary
    from hub.reverse_etl import render_push_report

    echo("")
    if step == "ingest":
        echo("ingest (vendor APIs -> raw_<connection>):")
        for r in report.results:
            echo(f"  {r.connection + '.' + r.stream:<20} {r.mode:<11} {r.rows:>6,} rows  -> raw_{r.connection}.{r.table}")
    elif step == "build":
        echo("build (raw -> staging -> canonical):")
        for line in render_summary(report).splitlines():
            echo(f"  {line}")
        from hub.actions.data import trigger_lines

        for line in trigger_lines(getattr(report, "triggers", None)):   # data triggers the build evaluated
            echo(f"  {line}")
    else:
        echo("push (canonical -> vendor APIs):")
        for line in render_push_report(report).splitlines():
            echo(f"  {line}")


def run_example(example: Example, directory: Path, echo: Echo = print, *, people: int = 400, seed: int = 7) -> None:
    """Run ``example`` in ``directory`` (its project is written there first when missing), printing what happens."""
    from hub.output import table
    from hub.project import Project
    from hub.sandbox import Sandbox
    from hub.warehouse.sql import qualified

    started = time.perf_counter()
    directory = Path(directory)
    fresh = not (directory / CONFIG_FILE).exists()
    if fresh:
        example.write(directory)
    state = directory / ".hub" / "sandbox-state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    try:
        sb = Sandbox(seed=seed, people=people, state_file=state, only=set(example.emulators), **example.sandbox)
    except ValueError:
        state.unlink()  # an unreadable snapshot: the vendors start over from the seed
        sb = Sandbox(seed=seed, people=people, state_file=state, only=set(example.emulators), **example.sandbox)
    with sb:
        from hub.integrations import get as integration

        where = ", ".join(f"{integration(name).title} emulator at {sb.emulators[name].url}"
                          for name in example.emulators)
        echo(f"example {example.name}: {example.shows}")
        echo(f"sandbox: {where} ({people} fake people, seed {seed}; vendor data kept in {state})")
        echo(f"project: {directory} ({'created' if fresh else 'existing: this run is incremental'})")
        environ = {**sandbox_environment(directory, sb), **example.environment}
        project = Project(directory, environ=environ)
        context = ExampleRun(example, directory, sb, project, echo, environ)
        if example.before:
            example.before(context)
        context.run()
        if example.after:
            example.after(context)

    tables = project.query("""
        SELECT table_schema, table_name FROM information_schema.tables
        WHERE table_schema IN ('canonical') OR (table_schema LIKE 'raw\\_%' ESCAPE '\\'
              AND table_name NOT LIKE '\\_dlt%' ESCAPE '\\') ORDER BY 1, 2""").rows
    counts = [[f"{schema}.{name}", f"{project.query(f'SELECT count(*) FROM {qualified(schema, name)}').scalar():,}"]
              for schema, name in tables]
    echo("")
    echo("in the warehouse now:")
    for line in table(["table", "rows"], counts).splitlines():
        echo(f"  {line}")
    echo("")
    echo(f"done in {time.perf_counter() - started:.1f} s. Run it again: it ingests what the push changed and finds "
         f"nothing left to send.")
    echo(f"explore: hub -C {directory} query \"SELECT * FROM canonical.person LIMIT 5\"  |  hub -C {directory} status")
    from hub.docs import build_site

    site = build_site(project)
    echo(f"docs: {site.index} ({site.pages} pages; `hub -C {directory} docs` rebuilds it, `hub serve` shows it live)")
