"""No secret value escapes secrets.toml and the token store, through a full loop that also fails.

The loop runs the real CLI in subprocesses: `hub run` with two OAuth connections (client id/secret + refresh token,
so access tokens are minted and stored) and a third connection whose token is wrong (its ingest fails), then ingest,
build and push of the OAuth connections, `hub status`, `hub runs` and `hub push --show-rejected`. A record carrying a
secret and no id is quarantined on the way. Then every output, every file of the project except secrets.toml and
``.hub/tokens.json``, and every value of every table of the warehouse (all schemas, hub's and dlt's included) is
searched for every secret value.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from hub.demo import PERSON_SYNCS
from hub.project import Project
from tests.conftest import run_hub
from hub.warehouse.sql import qualified

# the demo's two person syncs (its deal, lead and score syncs read models of the example's own folder)
SYNCS = PERSON_SYNCS
WRONG_STRIPE_KEY = "sk_test_wrong_0123456789abcdefWRONGKEY"


def full_loop_project(make_project: Callable[..., Path], sb: Any) -> Path:
    hs, sf = sb.hubspot.auth, sb.salesforce.auth
    return make_project(f"""
        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"

        [connections.salesforce]
        type = "salesforce"
        base_url = "{sb.salesforce.url}"
        auth_url = "{sb.salesforce.url}"

        [connections.stripe]
        type = "stripe"
        base_url = "{sb.stripe.url}"
        streams = ["customers"]
        max_retries = 0

        """ + SYNCS, f"""
        [connections.hubspot]
        client_id = "{hs.client_id}"
        client_secret = "{hs.client_secret}"
        refresh_token = "{hs.refresh_token}"

        [connections.salesforce]
        client_id = "{sf.client_id}"
        client_secret = "{sf.client_secret}"
        refresh_token = "{sf.refresh_token}"

        [connections.stripe]
        token = "{WRONG_STRIPE_KEY}"
        """)


def secret_values(sb: Any, root: Path) -> list[str]:
    """Every secret the project was given, and every token the vendors issued to it."""
    values = [WRONG_STRIPE_KEY, sb.hubspot.auth.client_id, sb.hubspot.auth.client_secret,
              sb.hubspot.auth.refresh_token, sb.salesforce.auth.client_id, sb.salesforce.auth.client_secret,
              sb.salesforce.auth.refresh_token]
    for entry in orjson.loads((root / ".hub" / "tokens.json").read_bytes()).values():
        values += [entry["refresh_token"], entry["access_token"]]
    return sorted({v for v in values if v})


def warehouse_text(root: Path) -> dict[str, str]:
    """Every table of the warehouse (all schemas), each as the text of all its values."""
    project = Project.find(root)
    tables = project.query("SELECT table_schema, table_name FROM information_schema.tables "
                           "WHERE table_type = 'BASE TABLE'").rows
    out = {}
    for schema, table in tables:
        result = project.query(f"SELECT * FROM {qualified(schema, table)}")
        out[f"{schema}.{table}"] = "\n".join(repr(row) for row in result.rows)
    return out


def test_no_secret_value_escapes_a_full_loop_with_failures(make_project: Callable[..., Path],
                                                           fresh_sandbox: Any) -> None:
    sb = fresh_sandbox
    root = full_loop_project(make_project, sb)
    # a record without an id, carrying a secret: it is quarantined, and the secret must be masked there too
    contact = sb.hubspot.store.ids("contacts")[0]
    sb.hubspot.store.update("contacts", contact, {"firstname": sb.hubspot.auth.client_secret})
    sb.hubspot.store.table("contacts").objects[int(contact)].sid = ""

    results = [run_hub("run", cwd=root)]
    assert results[0].returncode == 1 and "stripe" in results[0].stderr, results[0].stderr
    for args in (("ingest", "hubspot", "salesforce"), ("build",), ("push",), ("status",), ("status", "--json"),
                 ("runs",), ("runs", "--json"), ("push", "--show-rejected", "person_to_hubspot"),
                 ("query", "SELECT * FROM _hub.quarantine")):
        results.append(run_hub(*args, cwd=root))
        assert results[-1].returncode == 0, (args, results[-1].stderr)
    assert "quarantined 1 record(s) of hubspot.contacts" in results[0].stdout
    assert "***" in results[-1].stdout  # the quarantined record, masked

    values = secret_values(sb, root)
    assert len(values) == 9  # 7 configured + an access token per OAuth connection (refresh tokens not rotated)
    outputs = "\n".join(r.stdout + r.stderr for r in results)
    allowed = {root / "secrets.toml", root / ".hub" / "tokens.json"}
    files = [p for p in root.rglob("*") if p.is_file() and p not in allowed]
    assert any(p.suffix == ".duckdb" for p in files) and any("pipelines" in p.parts for p in files)
    tables = warehouse_text(root)
    assert {"_hub.runs", "_hub.quarantine", "raw_hubspot.contacts"} <= set(tables)
    assert any(name.endswith("._dlt_loads") for name in tables)
    for value in values:
        assert value not in outputs
        for path in files:
            assert value.encode() not in path.read_bytes(), f"a secret is in {path.relative_to(root)}"
        for name, text in tables.items():
            assert value not in text, f"a secret is in table {name}"
