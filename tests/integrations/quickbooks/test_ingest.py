"""The QuickBooks connector through the real CLI (``hub ingest``, ``hub build``) against the emulator over loopback:
full pulls, CDC increments with deletions, rotated refresh tokens kept across runs, staging into canonical records."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from hub.config import ConnectionConfig
from hub.integrations.quickbooks.source import QuickBooks
from hub.project import Project
from hub.secrets import Secret
from hub.sources.base import ReadState
from tests.conftest import run_hub
from tests.integrations.quickbooks.conftest import project


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_ingest_full_then_cdc_increment_with_deletion_and_rotated_tokens(make_project, sb):
    q = sb.quickbooks
    root = project(make_project, sb)
    configured = (root / "secrets.toml").read_text()
    ok(run_hub("-C", str(root), "ingest"))
    proj = Project(root)
    counts = {t: proj.query(f"SELECT count(*) FROM raw_books.{t}").scalar()
              for t in ("customers", "invoices", "payments", "items")}
    assert counts == {"customers": q.company.count("Customer"), "invoices": q.company.count("Invoice"),
                      "payments": q.company.count("Payment"), "items": q.company.count("Item")}
    assert q.minorversions == {"75"}
    # the refresh token in secrets.toml was spent; the rotated one is in the token store, never in the output
    store = json.loads((root / ".hub" / "tokens.json").read_text())
    assert store["books"]["refresh_token"] not in configured
    assert (root / "secrets.toml").read_text() == configured

    # edits, a new record and a deletion in QuickBooks; the next ingest is incremental (CDC) and needs a refresh
    company = q.company
    invoice = proj.query("SELECT id FROM raw_books.invoices ORDER BY id LIMIT 1").scalar()
    company.touch("Invoice", invoice, PrivateNote="order: #1042")
    payment = proj.query("SELECT id FROM raw_books.payments ORDER BY id LIMIT 1").scalar()
    current = company.records["Payment"][payment]
    company.delete("Payment", {"Id": payment, "SyncToken": current["SyncToken"]})
    company.create("Customer", {"DisplayName": "New Buyer", "PrimaryEmailAddr": {"Address": "new@buyer.example"}})
    q.auth.expire_all()
    q.requests.reset()
    second = ok(run_hub("-C", str(root), "ingest"))
    # an increment: change data capture per stream (one answered 401 first: the access token expired), no query
    assert q.requests.count("GET /v3/company/{realm}/cdc") == 5
    assert q.requests.count("POST /v3/company/{realm}/query") == 0
    assert proj.query(f"SELECT private_note FROM raw_books.invoices WHERE id = '{invoice}'").scalar() \
        == "order: #1042"
    assert proj.query(f"SELECT deleted FROM raw_books.payments WHERE id = '{payment}'").scalar() is True
    assert proj.query("SELECT count(*) FROM raw_books.customers WHERE email = 'new@buyer.example'").scalar() == 1
    assert q.auth.refreshes >= 2
    secret_values = [q.auth.client_secret, *json.loads((root / ".hub" / "tokens.json").read_text())["books"].values()]
    assert not any(str(v) in second.stdout + second.stderr for v in secret_values if isinstance(v, str) and len(v) > 8)

    ok(run_hub("-C", str(root), "build"))
    rows = proj.query(f"SELECT source_id, number, order_ref, status, total, person_stream, person_source_id "
                      f"FROM {_staging(proj, 'invoices')} ORDER BY source_id").rows
    assert len(rows) == q.company.count("Invoice")
    touched = next(r for r in rows if r[0] == invoice)
    assert touched[2] == "#1042" and touched[5] == "customers"
    others = [r for r in rows if r[0] != invoice]
    assert all(r[2] == r[1] for r in others)                    # order_ref falls back to the DocNumber
    payments = proj.query(f"SELECT source_id, amount, invoice_stream, invoice_source_id FROM "
                          f"{_staging(proj, 'payments')}").rows
    assert payment not in {r[0] for r in payments}              # deleted: left out
    assert all(r[2] == "invoices" and r[3] for r in payments)
    people = proj.query(f"SELECT email FROM {_staging(proj, 'customers')} WHERE email = 'new@buyer.example'").rows
    assert people == [("new@buyer.example",)]
    total_type = proj.query(f"SELECT typeof(total) FROM {_staging(proj, 'invoices')} LIMIT 1").scalar()
    assert total_type.startswith("DECIMAL(18,2)")


def _staging(proj: Project, stream: str) -> str:
    """The staging view of ``stream`` of the books connection, whatever the catalog names it."""
    rows = proj.query("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = 'staging' "
                      f"AND table_name LIKE '%{stream}%'").rows
    names = [f"{s}.{t}" for s, t in rows if "books" in t or len(rows) == 1]
    assert names, rows
    return names[0]


def test_full_pull_pages_by_time_through_edits_and_deletions(sb):
    """Over a page boundary (the page is 1000 records), an edit moves a record to the end and a deletion shifts
    nothing: every record is read, none twice in one page."""
    q = sb.quickbooks
    company = q.company
    for n in range(1_150):
        company.create("Customer", {"DisplayName": f"Bulk {n}"})
    config = ConnectionConfig(name="books", type="quickbooks", base_url=q.url,
                              options={"realm_id": q.realm, "auth_url": q.url},
                              secrets={"client_id": Secret(q.auth.client_id),
                                       "client_secret": Secret(q.auth.client_secret),
                                       "refresh_token": Secret(q.auth.authorize())})
    connector = QuickBooks.connect(config)
    pages = connector._by_time("Customer", None)
    first = next(pages)
    assert len(first) == 1000
    # while paging: the first record read is edited (it moves past the boundary), one not yet read is deleted
    # (customers cannot be deleted in QuickBooks: made inactive, an edit too), one is added
    company.touch("Customer", first[0]["Id"], Notes="edited while paging")
    company.create("Customer", {"DisplayName": "Late arrival"})
    rest = [r for page in pages for r in page]
    ids = [r["Id"] for r in first] + [r["Id"] for r in rest]
    assert set(ids) == set(company.records["Customer"])
    assert ids.count(first[0]["Id"]) == 2          # read again, edited
    connector.client.close()


def test_check_config_refuses_a_missing_realm_and_a_retired_minor_version(make_project, sb):
    q = sb.quickbooks
    root = make_project(f"""
        [connections.books]
        type = "quickbooks"
        base_url = "{q.url}"
        """, """
        [connections.books]
        client_id = "x"
        client_secret = "y"
        refresh_token = "z"
        """)
    result = run_hub("-C", str(root), "ingest")
    assert result.returncode != 0 and "realm_id" in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 3
    root = project(make_project, sb, extra='api_version = "65"', name="old")
    result = run_hub("-C", str(root), "ingest")
    assert result.returncode != 0 and "api_version" in result.stderr and "75" in result.stderr


def test_fields_hidden_from_the_connected_user_land_as_null():
    """A user without the permission gets customers without PrimaryPhone: the column is there, NULL."""
    from hub.sandbox import Sandbox

    with Sandbox(seed=4, people=60, only=["quickbooks"], quickbooks_hidden=["Customer.PrimaryPhone"]) as box:
        q = box.quickbooks
        assert any("PrimaryPhone" in r for r in q.company.records["Customer"].values())
        config = ConnectionConfig(name="books", type="quickbooks", base_url=q.url,
                                  options={"realm_id": q.realm, "auth_url": q.url},
                                  secrets={"client_id": Secret(q.auth.client_id),
                                           "client_secret": Secret(q.auth.client_secret),
                                           "refresh_token": Secret(q.auth.authorize())})
        connector = QuickBooks.connect(config)
        state = ReadState()
        tables = list(connector.read(connector.streams["customers"], None, state))
        connector.client.close()
        rows = [r for t in tables for r in t.to_pylist()]
        assert len(rows) == q.company.count("Customer")
        assert all(r["phone"] is None for r in rows) and any(r["email"] for r in rows)
