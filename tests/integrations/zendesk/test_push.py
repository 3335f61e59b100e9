"""The Zendesk pusher over real loopback HTTP: organizations (with their custom organization_fields, as the
support-to-crm flow writes the account tier), users (create_or_update_many) and tickets, through bulk jobs polled to
completion; a create whose answer is lost is reconciled by looking it up by external_id, never sent twice, even while
its job is still queued."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from hub.project import Project
from hub.reverse_etl import push, rejected_rows
from hub.sandbox import Sandbox
from hub.sandbox.chaos import Chaos
from tests.sandbox.conftest import NOW

ORGS = """
[syncs.tiers]
model = "canonical.accounts"
key = "account_id"
to = "zendesk"
object = "organizations"
mode = "upsert"
match = { account_id = "external_id" }
fields = { name = "name", tier = "organization_fields.tier" }
"""
USERS = """
[syncs.people]
model = "canonical.contacts"
key = "contact_id"
to = "zendesk"
object = "users"
mode = "upsert"
match = { contact_id = "external_id" }
fields = { name = "name", email = "email" }
"""
TICKETS = """
[syncs.cases]
model = "canonical.cases"
key = "case_id"
to = "zendesk"
object = "tickets"
mode = "upsert"
match = { case_id = "external_id" }
fields = { subject = "subject", body = "description", requester = "requester_email", status = "status" }
"""


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=3, people=20, now=NOW, only={"zendesk"}, zendesk_export_rate_limit=None) as box:
        yield box


def project_on(make_project: Callable[..., Path], sb: Sandbox, syncs: str, timeout: float = 5.0) -> Project:
    z = sb.zendesk
    return Project(make_project(f"""
[connections.zendesk]
type = "zendesk"
base_url = "{z.url}"
email = "{z.email}"
timeout = {timeout}
retry_base_delay = 0.01
{syncs}
""", f'[connections.zendesk]\ntoken = "{z.api_token}"\n'))


def write(project: Project, table: str, rows: list[dict[str, Any]]) -> None:
    with project.warehouse() as wh:
        con = wh.connect()
        con.execute("CREATE SCHEMA IF NOT EXISTS canonical")
        con.register("rows", pa.Table.from_pylist(rows))
        con.execute(f"CREATE OR REPLACE TABLE canonical.{table} AS SELECT * FROM rows")
        con.unregister("rows")


def orgs_by_external(sb: Sandbox, external_id: str) -> list[dict[str, Any]]:
    with sb.zendesk.store.lock:
        return [dict(r) for r in sb.zendesk.store.by_external_id("organization", external_id)]


def writes(sb: Sandbox) -> int:
    log = sb.zendesk.requests
    return sum(log.count(p) for p in ("POST */create_many*", "PUT */update_many*", "POST */create_or_update*"))


def test_organizations_get_the_account_tier_in_organization_fields(make_project, sb: Sandbox) -> None:
    project = project_on(make_project, sb, ORGS)
    accounts = [{"account_id": f"acct-{i}", "name": f"Account {i}", "tier": "gold" if i % 2 else "silver"}
                for i in range(130)]
    write(project, "accounts", accounts)
    report = push(project)
    assert report.ok, report.errors
    assert (report.results[0].creates, report.results[0].rejected) == (130, 0)
    assert sb.zendesk.requests.count("POST */create_many*") == 2          # 100 + 30: Zendesk's bulk limit
    for account in accounts:
        [org] = orgs_by_external(sb, account["account_id"])
        assert org["name"] == account["name"] and org["organization_fields"]["tier"] == account["tier"]
    sb.zendesk.requests.reset()
    assert push(project).ok and writes(sb) == 0                           # acknowledged: nothing to send again
    accounts[3]["tier"] = "platinum"
    write(project, "accounts", accounts)
    report = push(project)
    assert report.ok and report.results[0].updates == 1
    assert sb.zendesk.requests.count("PUT */update_many*") == 1
    assert orgs_by_external(sb, "acct-3")[0]["organization_fields"]["tier"] == "platinum"


def test_a_refused_record_is_rejected_alone(make_project, sb: Sandbox) -> None:
    project = project_on(make_project, sb, ORGS)
    taken = sb.zendesk.store.live("organization")[0]["name"]        # Zendesk keeps organization names unique
    write(project, "accounts", [{"account_id": "a1", "name": "Fresh Co", "tier": "gold"},
                                {"account_id": "a2", "name": taken, "tier": "gold"}])
    report = push(project)
    assert report.results[0].creates == 1 and report.results[0].rejected == 1
    [row] = rejected_rows(project, "tiers")
    assert row["key"] == "a2" and "already been taken" in row["reason"]


def test_users_are_upserted_by_external_id(make_project, sb: Sandbox) -> None:
    project = project_on(make_project, sb, USERS)
    existing = sb.zendesk.store.live("user")[0]
    sb.zendesk.store.update("user", existing["id"], {"external_id": "c-0"})
    write(project, "contacts", [{"contact_id": "c-0", "name": "Renamed Person", "email": existing["email"]},
                                {"contact_id": "c-1", "name": "New Person", "email": "new.person@example.com"}])
    report = push(project)
    assert report.ok, report.errors
    assert (report.results[0].creates, report.results[0].updates) == (1, 1)
    assert sb.zendesk.requests.count("POST */create_or_update_many*") == 1
    assert sb.zendesk.store.records["user"][existing["id"]]["name"] == "Renamed Person"
    assert sb.zendesk.store.by_email("new.person@example.com")["external_id"] == "c-1"


def test_tickets_are_created_for_their_requester_and_updated(make_project, sb: Sandbox) -> None:
    project = project_on(make_project, sb, TICKETS)
    email = sb.zendesk.store.live("user")[2]["email"]
    cases = [{"case_id": "case-1", "subject": "Printer on fire", "body": "Please help", "requester": email,
              "status": "open"}]
    write(project, "cases", cases)
    report = push(project)
    assert report.ok, report.errors
    assert report.results[0].creates == 1
    [ticket] = sb.zendesk.store.by_external_id("ticket", "case-1")
    assert ticket["subject"] == "Printer on fire" and ticket["description"] == "Please help"
    assert ticket["requester_id"] == sb.zendesk.store.by_email(email)["id"] and ticket["status"] == "open"
    cases[0]["status"] = "solved"
    write(project, "cases", cases)
    report = push(project)
    assert report.ok and report.results[0].updates == 1
    assert sb.zendesk.store.by_external_id("ticket", "case-1")[0]["status"] == "solved"


@pytest.mark.parametrize("kind", ["late", "cut"])
def test_a_create_whose_answer_is_lost_is_found_by_lookup_not_sent_twice(make_project, sb: Sandbox, kind) -> None:
    project = project_on(make_project, sb, ORGS, timeout=0.5)
    sb.zendesk.store.job_delay = 1.0            # the job is still queued when hub looks the records up
    accounts = [{"account_id": f"lost-{i}", "name": f"Lost {i}", "tier": "gold"} for i in range(25)]
    write(project, "accounts", accounts)
    chaos = Chaos(**{kind: 1.0}, hang=1.5, only="POST */create_many*", limit=1)
    sb.zendesk.chaos = chaos
    report = push(project)
    assert chaos.injected[kind] == 1                        # the job was queued and its answer lost
    assert report.ok, report.errors
    assert (report.results[0].creates, report.results[0].rejected) == (25, 0)
    assert sb.zendesk.requests.count("POST */create_many*") == 1          # never sent again
    assert all(len(orgs_by_external(sb, a["account_id"])) == 1 for a in accounts)
    assert sb.zendesk.requests.count("GET /api/v2/job_statuses{ext}") >= 1   # waited for the queued job
    sb.zendesk.requests.reset()
    assert push(project).ok and writes(sb) == 0


def test_two_way_read_returns_current_values_and_leaves_deleted_out(make_project, sb: Sandbox) -> None:
    from hub.integrations.zendesk.source import Zendesk
    from hub.integrations.zendesk.target import ZendeskPusher

    project = project_on(make_project, sb, "")
    conn = project.config.connections["zendesk"]
    store = sb.zendesk.store
    kept, gone = store.live("organization")[:2]
    store.update("organization", kept["id"], {"organization_fields": {"tier": "bronze"}})
    store.delete("organization", gone["id"])
    with Zendesk.api_client(conn) as client:
        pusher = ZendeskPusher(client, "organizations", "external_id")
        assert set(pusher.fields()) >= {"name", "external_id", "organization_fields.tier"}
        current = pusher.read([str(kept["id"]), str(gone["id"])], ["name", "organization_fields.tier"])
    assert list(current) == [str(kept["id"])]
    assert current[str(kept["id"])].values == {"name": kept["name"], "organization_fields.tier": "bronze"}
