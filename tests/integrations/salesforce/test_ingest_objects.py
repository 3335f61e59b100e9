"""Any sObject through the real CLI: `hub ingest` reads Lead, Opportunity, Case, Task and a custom object into
DuckDB (deletions included), `hub build` types them in staging, and an object the org lacks fails with the closest
names from describeGlobal."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.sandbox import Sandbox
from tests.conftest import run_hub

OBJECTS = ("Contact", "Account", "Lead", "Opportunity", "Case", "Task", "Subscription__c")


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=5, people=120, only={"salesforce"}) as sandbox:
        yield sandbox


def project(make_project: Callable[..., Path], sb: Sandbox, streams: tuple[str, ...] = OBJECTS) -> Path:
    return make_project(f"""
        [connections.salesforce]
        type = "salesforce"
        base_url = "{sb.salesforce.url}"
        streams = {json.dumps(list(streams))}
        """, f"""
        [connections.salesforce]
        token = "{sb.salesforce.token}"
        """)


def query(root: Path, sql: str) -> list[dict[str, Any]]:
    done = run_hub("query", "--format", "json", sql, cwd=root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_ingest_reads_every_named_object_and_build_types_them(make_project, sb):
    store = sb.salesforce.store
    doomed = store.create("Opportunity", {"Name": "Gone soon", "StageName": "Closed Lost", "CloseDate": "2025-01-31"})
    root = project(make_project, sb)
    first = run_hub("ingest", cwd=root)
    assert first.returncode == 0, first.stderr
    for name in OBJECTS:
        rows = query(root, f'SELECT count(*) AS n FROM raw_salesforce."{name.lower()}"')
        assert rows[0]["n"] == store.count(name, include_deleted=True) > 0, name
    tiers = query(root, "SELECT DISTINCT tier__c FROM raw_salesforce.account ORDER BY 1")
    assert {r["tier__c"] for r in tiers} == {"Enterprise", "Mid-Market", "SMB"}

    store.delete("Opportunity", doomed)
    sb.clock.advance(61)
    won = store.create("Opportunity", {"Name": "Won now", "StageName": "Closed Won", "CloseDate": "2025-02-01",
                                       "Amount": 1234.5})
    again = run_hub("ingest", "salesforce.Opportunity", cwd=root)
    assert again.returncode == 0, again.stderr
    flags = {r["id"]: r["is_deleted"] for r in query(root, "SELECT id, is_deleted FROM raw_salesforce.opportunity")}
    assert flags[doomed] is True and flags[won] is False

    built = run_hub("build", cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    deals = {r["source_id"]: r for r in query(root, "SELECT * FROM staging.salesforce_opportunity")}
    assert doomed not in deals
    assert deals[won]["stage"] == "Closed Won" and deals[won]["is_won"] is True and deals[won]["is_closed"] is True
    assert deals[won]["amount"] == 1234.5
    assert len(deals) == store.count("Opportunity")
    typed = query(root, "SELECT typeof(amount) AS a, typeof(close_date) AS d, typeof(is_won) AS w "
                        "FROM staging.salesforce_opportunity LIMIT 1")[0]
    assert typed == {"a": "DECIMAL(18,2)", "d": "DATE", "w": "BOOLEAN"}
    linked = [d for d in deals.values() if d["company_source_id"]]
    assert linked and all(d["company_stream"] == "Account" for d in linked)
    with store.lock:
        accounts = {r["Id"] for r in store.records("Account")}
    assert all(d["company_source_id"] in accounts for d in linked)

    cases = query(root, "SELECT * FROM staging.salesforce_case")
    assert len(cases) == store.count("Case")
    assert all(c["person_stream"] == "Contact" and c["person_source_id"].startswith("003") for c in cases)
    leads = query(root, "SELECT * FROM staging.salesforce_lead")
    assert len(leads) == store.count("Lead") and all(r["converted"] is False for r in leads)


def test_an_object_the_org_lacks_fails_with_the_closest_names(make_project, sb):
    root = project(make_project, sb, ("Contact", "Opportunites"))
    done = run_hub("ingest", cwd=root)
    assert done.returncode != 0
    assert "no sObject 'Opportunites'" in done.stdout + done.stderr
    assert "did you mean 'Opportunity'" in done.stdout + done.stderr


def test_a_stream_that_is_no_sobject_name_is_refused_before_any_call(make_project, sb):
    root = project(make_project, sb, ("Contact", "Lead Source"))
    sb.salesforce.requests.reset()
    done = run_hub("ingest", cwd=root)
    assert done.returncode != 0 and "unknown salesforce stream 'Lead Source'" in done.stdout + done.stderr
    assert sb.salesforce.requests.total == 0
