"""Pushing HubSpot deals and a custom object's records: upserted by a unique property, a lost create reconciled
(never sent twice), and a sync to an object HubSpot lacks refused with the closest names."""

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

DEALS = """
[syncs.deals]
model = "main.deals"
to = "hubspot"
object = "{object}"
mode = "{mode}"
key = "deal_key"
match = {{ deal_key = "hub_deal_id" }}
fields = {{ name = "dealname", stage = "dealstage", amount = "amount", currency = "deal_currency_code" }}
"""


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=3, people=20, only={"hubspot"}, hubspot_rate_limit=None) as sandbox:
        yield sandbox


def project_on(make_project: Callable[..., Path], sb: Sandbox, syncs: str) -> Project:
    return Project(make_project(f"""
[connections.hubspot]
type = "hubspot"
base_url = "{sb.hubspot.url}"
timeout = 0.5
retry_base_delay = 0.01
{syncs}
""", f"""
[connections.hubspot]
token = "{sb.hubspot.token}"
"""))


def write(project: Project, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa

    with project.warehouse() as wh:
        con = wh.connect()
        con.register("incoming", pa.Table.from_pylist(rows))
        con.execute("CREATE OR REPLACE TABLE main.deals AS SELECT * FROM incoming")
        con.unregister("incoming")


def deals(count: int) -> list[dict[str, Any]]:
    return [{"deal_key": f"k-{i}", "name": f"Deal {i}", "stage": "qualifiedtobuy", "amount": f"{100 * i}.00",
             "currency": "USD"} for i in range(count)]


def by_key(sb: Sandbox, key: str) -> dict[str, Any] | None:
    found = sb.hubspot.store.find("deals", "hub_deal_id", key)
    return found["properties"] if found else None


def test_deals_upsert_then_update_one_stage(make_project, sb):
    project = project_on(make_project, sb, DEALS.format(object="deals", mode="upsert"))
    before = sb.hubspot.store.count("deals")
    rows = deals(4)
    write(project, rows)
    report = push(project)
    assert report.ok, report.errors
    assert (report.results[0].creates, report.results[0].updates) == (4, 0)
    assert sb.hubspot.store.count("deals") == before + 4
    rows[2]["stage"] = "closedwon"
    write(project, rows)
    again = push(project)
    assert (again.results[0].creates, again.results[0].updates, again.results[0].unchanged) == (0, 1, 3)
    assert by_key(sb, "k-2")["hs_is_closed_won"] == "true" and by_key(sb, "k-1")["hs_is_closed_won"] == "false"


def test_a_deal_create_whose_answer_is_lost_is_reconciled_not_sent_again(make_project, sb):
    project = project_on(make_project, sb, DEALS.format(object="deals", mode="insert"))
    rows = deals(15)
    write(project, rows)
    before = sb.hubspot.store.count("deals")
    chaos = Chaos(late=1.0, hang=1.5, only="POST */batch/create", limit=1)
    sb.hubspot.chaos = chaos
    report = push(project)
    assert chaos.injected["late"] == 1 and report.ok, report.errors
    assert (report.results[0].creates, report.results[0].rejected) == (15, 0)
    assert sb.hubspot.store.count("deals") == before + 15
    assert all(by_key(sb, r["deal_key"]) for r in rows)


def test_a_sync_to_an_object_hubspot_lacks_names_the_closest(make_project, sb):
    project = project_on(make_project, sb, DEALS.format(object="dealz", mode="upsert"))
    write(project, deals(1))
    with pytest.raises(UnknownNameError) as caught:
        push(project)
    assert caught.value.suggestion == "deals" and by_key(sb, "k-0") is None
