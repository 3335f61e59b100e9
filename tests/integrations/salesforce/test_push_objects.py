"""Pushing to objects beyond Contact: Leads matched by email, Opportunities upserted by an external id, a lost create
reconciled (never sent twice), and a sync naming an object the org lacks refused with describeGlobal's names."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.errors import UnknownNameError
from hub.project import Project
from hub.reverse_etl import push
from hub.sandbox import Sandbox
from hub.sandbox.chaos import Chaos

D = "@leads.example"
LEADS = """
[syncs.web_leads]
model = "main.web_leads"
to = "salesforce"
object = "{object}"
mode = "upsert"
key = "email"
match = {{ email = "Email" }}
fields = {{ first_name = "FirstName", last_name = "LastName", company = "Company" }}
"""
DEALS = """
[syncs.deals]
model = "main.deals"
to = "salesforce"
object = "Opportunity"
mode = "upsert"
key = "deal_key"
match = { deal_key = "Hub_Deal_Id__c" }
fields = { name = "Name", stage = "StageName", close_date = "CloseDate", amount = "Amount", account_id = "AccountId" }
"""


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=3, people=20, only={"salesforce"}) as sandbox:
        yield sandbox


def project_on(make_project: Callable[..., Path], sb: Sandbox, syncs: str) -> Project:
    return Project(make_project(f"""
[connections.salesforce]
type = "salesforce"
base_url = "{sb.salesforce.url}"
timeout = 0.5
retry_base_delay = 0.01
{syncs}
""", f"""
[connections.salesforce]
token = "{sb.salesforce.token}"
"""))


def write(project: Project, table: str, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa

    with project.warehouse() as wh:
        con = wh.connect()
        con.register("incoming", pa.Table.from_pylist(rows))
        con.execute(f"CREATE OR REPLACE TABLE main.{table} AS SELECT * FROM incoming")
        con.unregister("incoming")


def leads(sb: Sandbox, email: str) -> list[dict[str, Any]]:
    with sb.salesforce.store.lock:
        return [dict(r) for r in sb.salesforce.store.records("Lead")
                if not r["IsDeleted"] and (r["Email"] or "").lower() == email.lower()]


def lead_rows(count: int) -> list[dict[str, Any]]:
    return [{"email": f"web{i}{D}", "first_name": f"F{i}", "last_name": "Visitor", "company": f"Co {i}"}
            for i in range(count)]


def test_leads_are_created_then_updated_by_email(make_project, sb):
    project = project_on(make_project, sb, LEADS.format(object="Lead"))
    before = sb.salesforce.store.count("Lead")
    rows = lead_rows(3)
    write(project, "web_leads", rows)
    report = push(project)
    assert report.ok, report.errors
    assert (report.results[0].creates, report.results[0].updates) == (3, 0)
    assert sb.salesforce.store.count("Lead") == before + 3
    assert leads(sb, f"web1{D}")[0]["Status"] == "Open - Not Contacted"     # the picklist's default
    rows[1]["company"] = "Renamed Co"
    write(project, "web_leads", rows)
    again = push(project)
    assert (again.results[0].creates, again.results[0].updates) == (0, 1)
    assert leads(sb, f"web1{D}")[0]["Company"] == "Renamed Co"


def test_a_lead_create_whose_answer_is_lost_is_reconciled_not_sent_again(make_project, sb):
    project = project_on(make_project, sb, LEADS.format(object="Lead"))
    rows = lead_rows(25)
    write(project, "web_leads", rows)
    before = sb.salesforce.store.count("Lead")
    chaos = Chaos(late=1.0, hang=1.5, only="POST */composite/sobjects", limit=1)
    sb.salesforce.chaos = chaos
    report = push(project)
    assert chaos.injected["late"] == 1 and report.ok, report.errors
    assert report.results[0].creates == 25 and report.results[0].rejected == 0
    assert sb.salesforce.store.count("Lead") == before + 25
    assert all(len(leads(sb, r["email"])) == 1 for r in rows)


def test_opportunities_upsert_by_external_id_with_their_account(make_project, sb):
    store = sb.salesforce.store
    with store.lock:
        account = next(r["Id"] for r in store.records("Account") if not r["IsDeleted"])
    project = project_on(make_project, sb, DEALS)
    deals = [{"deal_key": "d-1", "name": "Renewal", "stage": "Negotiation/Review", "close_date": "2025-04-30",
              "amount": 5000.0, "account_id": account},
             {"deal_key": "d-2", "name": "New logo", "stage": "Prospecting", "close_date": "2025-05-31",
              "amount": 800.0, "account_id": None}]
    write(project, "deals", deals)
    report = push(project)
    assert report.ok, report.errors
    assert report.results[0].creates == 2
    deals[0]["stage"] = "Closed Won"
    write(project, "deals", deals)
    assert push(project).results[0].updates == 1
    with store.lock:
        won = next(r for r in store.records("Opportunity") if r["Hub_Deal_Id__c"] == "d-1")
    assert (won["IsWon"], won["IsClosed"], won["AccountId"], won["Amount"]) == (True, True, account, 5000.0)


def test_a_sync_to_an_object_the_org_lacks_names_the_closest(make_project, sb):
    project = project_on(make_project, sb, LEADS.format(object="Leads"))
    write(project, "web_leads", lead_rows(1))
    with pytest.raises(UnknownNameError) as caught:
        push(project)
    assert "unknown salesforce object 'Leads'" in str(caught.value) and caught.value.suggestion == "Lead"
    assert sb.salesforce.store.count("Lead") > 0 and not leads(sb, f"web0{D}")


def test_a_custom_object_upserts_by_its_external_id(make_project, sb):
    store = sb.salesforce.store
    with store.lock:
        account = next(r["Id"] for r in store.records("Account") if not r["IsDeleted"])
    project = project_on(make_project, sb, """
[syncs.subscriptions]
model = "main.subs"
to = "salesforce"
object = "Subscription__c"
key = "sub_key"
match = { sub_key = "Hub_Subscription_Id__c" }
fields = { name = "Name", plan = "Plan__c", account_id = "Account__c" }
""")
    write(project, "subs", [{"sub_key": "s-1", "name": "Acme Growth", "plan": "Growth", "account_id": account}])
    report = push(project)
    assert report.ok, report.errors
    assert report.results[0].creates == 1
    with store.lock:
        [row] = [r for r in store.records("Subscription__c") if r["Hub_Subscription_Id__c"] == "s-1"]
    assert (row["Name"], row["Plan__c"], row["Account__c"]) == ("Acme Growth", "Growth", account)
