"""`hub demo`: the whole loop, offline. Starts the sandbox in-process, creates (or reuses) a demo project, then ingests,
builds the canonical models and pushes the changes back, printing what happened at each step.

The sandbox keeps its vendor data in the demo project (``.hub/sandbox-state.json``), so a second `hub demo` continues
where the first stopped: it ingests what the first push changed, and finds nothing left to send.

The sandbox listens on free ports, so the demo hands its URLs and sandbox-only tokens to the project through the same
environment overrides a user would use (``HUB__CONNECTIONS__HUBSPOT__BASE_URL``...); hub.toml stays as written, pointing
at the ports ``hub sandbox --hubspot-port 8001 --salesforce-port 8002`` serves, for use outside the demo.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from hub.config import CONFIG_FILE

DEMO_TOML = """\
# The hub demo project. `hub demo` runs it against an in-process sandbox. To use it by hand, start the sandbox with
#   hub sandbox --hubspot-port 8001 --salesforce-port 8002
# export the two sandbox tokens it prints, then e.g. `hub -C hub-demo ingest`.

[warehouse]
path = "warehouse.duckdb"

[connections.hubspot]
type = "hubspot"
base_url = "http://127.0.0.1:8001"
streams = ["contacts", "companies"]

[connections.salesforce]
type = "salesforce"
base_url = "http://127.0.0.1:8002"
streams = ["Contact", "Account"]

# Reverse ETL: keep both CRMs in line with the unified person (two-way through canonical.person).
[syncs.person_to_hubspot]
model = "canonical.person"
to = "hubspot"
object = "contacts"
mode = "upsert"
match = { email = "email" }
fields = { first_name = "firstname", last_name = "lastname", phone = "phone" }
where = "email_is_valid"

[syncs.person_to_salesforce]
model = "canonical.person"
to = "salesforce"
object = "Contact"
mode = "upsert"
match = { email = "Email" }
fields = { first_name = "FirstName", last_name = "LastName", phone = "Phone" }
where = "email_is_valid AND last_name IS NOT NULL"
"""

SECRETS_NOTE = (
    "# Secrets for the demo project. `hub demo` passes the sandbox's tokens through the environment, "
    "so nothing is stored here.\n"
)


def run_demo(directory: Path, echo: Callable[[str], None] = print, *, people: int = 400, seed: int = 7) -> None:
    """Run the demo in ``directory`` (created if missing), printing progress with ``echo``."""
    from hub.modeling import render_summary
    from hub.output import table
    from hub.project import Project
    from hub.run import run
    from hub.sandbox import Sandbox
    from hub.scaffold import init
    from hub.reverse_etl import render_push_report
    from hub.warehouse.sql import qualified

    started = time.perf_counter()
    fresh = not (directory / CONFIG_FILE).exists()
    if fresh:
        init(directory, hub_toml=DEMO_TOML, secrets_toml=SECRETS_NOTE)
    state = directory / ".hub" / "sandbox-state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    try:
        sb = Sandbox(seed=seed, people=people, state_file=state)
    except ValueError:
        state.unlink()  # an unreadable snapshot: the vendors start over from the seed
        sb = Sandbox(seed=seed, people=people, state_file=state)
    with sb:
        echo(f"sandbox: HubSpot emulator at {sb.hubspot.url}, Salesforce emulator at {sb.salesforce.url} "
             f"({people} fake people, seed {seed}; vendor data kept in {state})")
        echo(f"project: {directory} ({'created' if fresh else 'existing: this run is incremental'})")
        environ = {**os.environ,
                   "HUB__CONNECTIONS__HUBSPOT__BASE_URL": sb.hubspot.url,
                   "HUB__CONNECTIONS__HUBSPOT__TOKEN": sb.hubspot.token,
                   "HUB__CONNECTIONS__SALESFORCE__BASE_URL": sb.salesforce.url,
                   "HUB__CONNECTIONS__SALESFORCE__TOKEN": sb.salesforce.token}
        project = Project(directory, environ=environ)

        def show(step: str, report: object) -> None:
            echo("")
            if step == "ingest":
                echo("ingest (vendor APIs -> raw_<connection>):")
                for r in report.results:
                    echo(f"  {r.connection + '.' + r.stream:<20} {r.mode:<11} {r.rows:>6,} rows  "
                         f"-> raw_{r.connection}.{r.table}")
            elif step == "build":
                echo("build (raw -> staging -> canonical):")
                for line in render_summary(report).splitlines():
                    echo(f"  {line}")
            else:
                echo("push (canonical.person -> vendor APIs):")
                for line in render_push_report(report).splitlines():
                    echo(f"  {line}")

        outcome = run(project, on_step=show)
        if not outcome.ok:
            errors = [outcome.error] if outcome.error else outcome.reports[outcome.failed].errors
            for error in errors:
                echo(f"error: {error}")
            raise SystemExit(1)

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
    echo(f"done in {time.perf_counter() - started:.1f} s. Run `hub demo` again: it ingests what the push changed and "
         f"finds nothing left to send.")
    echo(f"explore: hub -C {directory} query \"SELECT * FROM canonical.person LIMIT 5\"  |  hub -C {directory} status")
    # --- docs step: the site of what flows where, built last so it shows this run
    from hub.docs import build_site

    site = build_site(project)
    echo(f"docs: {site.index} ({site.pages} pages; `hub -C {directory} docs` rebuilds it, `hub serve` shows it live)")
