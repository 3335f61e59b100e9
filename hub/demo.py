"""`hub demo`: the whole loop, offline. Starts the sandbox in-process, creates (or reuses) a demo project, ingests, and
prints what landed in a few readable lines.

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
"""

SECRETS_NOTE = """\
# Secrets for the demo project. `hub demo` passes the sandbox's tokens through the environment, so nothing is stored here.
"""


def run_demo(directory: Path, echo: Callable[[str], None] = print, *, people: int = 400, seed: int = 7) -> None:
    """Run the demo in ``directory`` (created if missing), printing progress with ``echo``."""
    from hub.output import table
    from hub.project import Project
    from hub.sandbox import Sandbox
    from warehouse.sql import qualified
    from hub.scaffold import init

    started = time.perf_counter()
    with Sandbox(seed=seed, people=people) as sb:
        echo(f"sandbox: HubSpot emulator at {sb.hubspot.url}, Salesforce emulator at {sb.salesforce.url} "
             f"({people} fake people, seed {seed})")
        if (directory / CONFIG_FILE).exists():
            echo(f"project: {directory} (existing; this run is incremental)")
        else:
            init(directory, hub_toml=DEMO_TOML, secrets_toml=SECRETS_NOTE)
            echo(f"project: {directory} (created)")
        environ = {**os.environ,
                   "HUB__CONNECTIONS__HUBSPOT__BASE_URL": sb.hubspot.url,
                   "HUB__CONNECTIONS__HUBSPOT__TOKEN": sb.hubspot.token,
                   "HUB__CONNECTIONS__SALESFORCE__BASE_URL": sb.salesforce.url,
                   "HUB__CONNECTIONS__SALESFORCE__TOKEN": sb.salesforce.token}
        project = Project(directory, environ=environ)
        report = project.ingest()
        echo("")
        echo("ingest:")
        for r in report.results:
            echo(f"  {r.connection + '.' + r.stream:<20} {r.mode:<11} {r.rows:>6,} rows  -> raw_{r.connection}.{r.table}")
        for error in report.errors:
            echo(f"  error: {error}")
        if not report.ok:
            raise SystemExit(1)

    tables = project.query("""
        SELECT table_schema, table_name FROM information_schema.tables
        WHERE table_schema LIKE 'raw\\_%' ESCAPE '\\' AND table_name NOT LIKE '\\_dlt%' ESCAPE '\\' ORDER BY 1, 2""").rows
    counts = [[f"{schema}.{name}", f"{project.query(f'SELECT count(*) FROM {qualified(schema, name)}').scalar():,}"]
              for schema, name in tables]
    echo("")
    echo("in the warehouse now:")
    for line in table(["table", "rows"], counts).splitlines():
        echo(f"  {line}")
    sample = project.query("""
        SELECT h.email AS hubspot_email, s.email AS salesforce_email, h.firstname AS hubspot_first,
               s.first_name AS salesforce_first, h.phone AS hubspot_phone, s.phone AS salesforce_phone
        FROM raw_hubspot.contacts h JOIN raw_salesforce.contact s ON lower(trim(h.email)) = lower(trim(s.email))
        WHERE h.email <> s.email OR h.firstname <> s.first_name OR coalesce(h.phone, '') <> coalesce(s.phone, '')
        ORDER BY h.id LIMIT 4""")
    echo("")
    echo("the same people in both systems, not quite the same (what `hub build` will reconcile):")
    for line in table(sample.columns, [[str(v or "") for v in row] for row in sample.rows]).splitlines():
        echo(f"  {line}")
    echo("")
    echo(f"done in {time.perf_counter() - started:.1f} s. Explore: hub -C {directory} query \"SELECT * FROM "
         f"raw_hubspot.contacts LIMIT 5\"  |  hub -C {directory} status")
