"""``refs``: a sync column holding the key of another sync's row is sent as the id of the target record that sync
wrote for it (against the sandbox's QuickBooks over real HTTP: an Invoice's CustomerRef); a row whose reference has no
record yet is rejected, never sent without it, and goes out once the reference exists; bad refs stop at config."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.errors import ConfigError, UnknownNameError
from hub.project import Project
from hub.reverse_etl import config, push, rejected_rows
from hub.sandbox import Sandbox

SYNCS = """
[syncs.customers_to_books]
model = "t.customers"
key = "email"
to = "books"
object = "Customer"
match = {{ email = "PrimaryEmailAddr.Address" }}
fields = {{ name = "DisplayName" }}

[syncs.invoices_to_books]
model = "t.invoices"
key = "order_id"
to = "books"
object = "Invoice"
match = {{ doc = "DocNumber" }}
fields = {{ customer = "CustomerRef.value", amount = "Amount" }}
refs = {{ {refs} }}
"""


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=4, people=40, only=["quickbooks"]) as box:
        yield box


def books(make_project: Callable[..., Path], sb: Any, refs: str = 'customer = "customers_to_books"') -> Project:
    q = sb.quickbooks
    root = make_project(f"""
        [connections.books]
        type = "quickbooks"
        base_url = "{q.url}"
        auth_url = "{q.url}"
        realm_id = "{q.realm}"
        {SYNCS.format(refs=refs)}""", f"""
        [connections.books]
        client_id = "{q.auth.client_id}"
        client_secret = "{q.auth.client_secret}"
        refresh_token = "{q.auth.authorize()}"
        """)
    return Project(root)


def fill(project: Project, customers: list[tuple[str, str]], invoices: list[tuple[str, str, str, str]]) -> None:
    with project.warehouse() as wh:
        wh.execute("CREATE SCHEMA IF NOT EXISTS t")
        wh.execute("CREATE OR REPLACE TABLE t.customers (email VARCHAR, name VARCHAR)")
        wh.execute("CREATE OR REPLACE TABLE t.invoices (order_id VARCHAR, doc VARCHAR, customer VARCHAR, "
                   "amount DECIMAL(18,2))")
        for row in customers:
            wh.execute("INSERT INTO t.customers VALUES (?, ?)", list(row))
        for row in invoices:
            wh.execute("INSERT INTO t.invoices VALUES (?, ?, ?, ?)", list(row))


def invoices_named(sb: Any, doc: str) -> list[dict[str, Any]]:
    company = sb.quickbooks.company
    with company._lock:
        return [dict(r) for r in company.records["Invoice"].values() if r.get("DocNumber") == doc]


def customer_id(sb: Any, email: str) -> str:
    company = sb.quickbooks.company
    with company._lock:
        ids = [k for k, r in company.records["Customer"].items()
               if (r.get("PrimaryEmailAddr") or {}).get("Address") == email]
    assert len(ids) == 1
    return str(ids[0])


def test_a_reference_is_sent_as_the_other_syncs_target_id_and_waits_until_there_is_one(make_project, sb):
    project = books(make_project, sb)
    fill(project, [("ann@refs.example", "Ann Refs")],
         [("o1", "R-1", "ann@refs.example", "10.00"), ("o2", "R-2", "bo@refs.example", "20.00")])
    report = push(project)
    assert report.ok, report.errors
    ann = customer_id(sb, "ann@refs.example")
    [one] = invoices_named(sb, "R-1")
    assert one["CustomerRef"]["value"] == ann       # the customer the first sync created, not the email
    assert invoices_named(sb, "R-2") == []           # its customer has no record: never sent without it
    [waiting] = rejected_rows(project, "invoices_to_books")
    assert waiting["key"] == "o2" and waiting["code"] == "UNRESOLVED_REFERENCE"
    assert "customers_to_books" in waiting["reason"]

    fill(project, [("ann@refs.example", "Ann Refs"), ("bo@refs.example", "Bo Refs")],
         [("o1", "R-1", "ann@refs.example", "10.00"), ("o2", "R-2", "bo@refs.example", "20.00")])
    assert push(project).ok
    [two] = invoices_named(sb, "R-2")
    assert two["CustomerRef"]["value"] == customer_id(sb, "bo@refs.example")
    assert [r["Id"] for r in invoices_named(sb, "R-1")] == [one["Id"]]   # not sent again
    assert rejected_rows(project, "invoices_to_books") == []


def test_refs_naming_an_unknown_sync_or_an_unsent_column_stop_at_config(make_project, sb):
    with pytest.raises(UnknownNameError) as unknown:
        config.load(books(make_project, sb, 'customer = "customer_to_books"'))
    assert "customers_to_books" in str(unknown.value)                     # did you mean
    with pytest.raises(ConfigError) as unsent:
        config.load(books(make_project, sb, 'email = "customers_to_books"'))
    assert "does not send" in str(unsent.value)
