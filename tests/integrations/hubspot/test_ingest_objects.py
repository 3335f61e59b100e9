"""HubSpot's other objects through the real CLI: `hub ingest` reads deals, tickets, line items and a custom object
(by name or type id) with their associations, archived ones flagged on the next pull; `hub build` links deals and
tickets to contacts and companies; an object HubSpot lacks fails with the closest names."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.sandbox import Sandbox
from tests.conftest import run_hub

OBJECTS = ("contacts", "companies", "deals", "tickets", "line_items", "p4242424_subscriptions")


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=5, people=120, only={"hubspot"}, hubspot_rate_limit=None) as sandbox:
        yield sandbox


def project(make_project: Callable[..., Path], sb: Sandbox, streams: tuple[str, ...] = OBJECTS) -> Path:
    return make_project(f"""
        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"
        streams = {json.dumps(list(streams))}
        """, f"""
        [connections.hubspot]
        token = "{sb.hubspot.token}"
        """)


def query(root: Path, sql: str) -> list[dict[str, Any]]:
    done = run_hub("query", "--format", "json", sql, cwd=root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_ingest_reads_objects_with_associations_and_build_links_them(make_project, sb):
    store = sb.hubspot.store
    root = project(make_project, sb)
    first = run_hub("ingest", cwd=root)
    assert first.returncode == 0, first.stderr
    for name in OBJECTS:
        assert query(root, f"SELECT count(*) AS n FROM raw_hubspot.{name}")[0]["n"] == store.count(name) > 0, name
    assert query(root, "SELECT count(plan) AS n FROM raw_hubspot.p4242424_subscriptions")[0]["n"] > 0
    with store.lock:
        expected = {str(d.id): store.associations.of("deals", d.id, "companies")
                    for d in store.tables["deals"].live()}
    raw = {r["id"]: r for r in query(root, "SELECT * FROM raw_hubspot.deals")}
    for deal_id, companies in expected.items():
        primary = [str(c) for c, types in companies.items() if 5 in types]
        assert raw[deal_id]["associations_companies"].split(";")[0] == primary[0]
    items = query(root, "SELECT associations_deals FROM raw_hubspot.line_items")
    assert all(r["associations_deals"] in raw for r in items)

    # a new deal, linked to a contact later, and one archived: the incremental pull sees both
    gone = next(iter(raw))
    store.archive("deals", gone)
    contact = store.ids("contacts")[0]
    new = store.create("deals", {"dealname": "Late deal", "dealstage": "closedwon", "amount": "99.90",
                                 "deal_currency_code": "gbp"})
    with store.lock:
        store.associations.link("deals", int(new["id"]), "contacts", int(contact))
    sb.clock.advance(5)
    again = run_hub("ingest", "hubspot.deals", cwd=root)
    assert again.returncode == 0, again.stderr
    flags = {r["id"]: r for r in query(root, "SELECT id, archived, associations_contacts FROM raw_hubspot.deals")}
    assert flags[gone]["archived"] is True and flags[new["id"]]["associations_contacts"] == contact

    built = run_hub("build", cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    deals = {r["source_id"]: r for r in query(root, "SELECT * FROM staging.hubspot_deals")}
    assert gone not in deals and len(deals) == store.count("deals")
    late = deals[new["id"]]
    assert (late["is_won"], late["is_closed"], late["amount"], late["currency"]) == (True, True, 99.9, "GBP")
    assert (late["person_stream"], late["person_source_id"]) == ("contacts", contact)
    typed = query(root, "SELECT typeof(amount) AS a, typeof(close_date) AS d FROM staging.hubspot_deals LIMIT 1")
    assert typed == [{"a": "DECIMAL(18,2)", "d": "DATE"}]
    tickets = query(root, "SELECT * FROM staging.hubspot_tickets")
    assert len(tickets) == store.count("tickets")
    assert all(t["person_stream"] == "contacts" and t["person_source_id"] for t in tickets)
    assert {t["status"] for t in tickets} <= {"new", "waiting on contact", "waiting on us", "closed"}
    scores = query(root, "SELECT count(lead_score) AS n FROM staging.hubspot_contacts")
    assert scores[0]["n"] == store.count("contacts")


def test_a_custom_object_by_type_id_and_an_unknown_one(make_project, sb):
    root = project(make_project, sb, ("contacts", "2-3508482"))
    done = run_hub("ingest", cwd=root)
    assert done.returncode == 0, done.stderr
    assert query(root, 'SELECT count(*) AS n FROM raw_hubspot."_2_3508482"')[0]["n"] == sb.hubspot.store.count(
        "subscriptions")
    root = project(make_project, sb, ("contacts", "p4242424_subscription"))
    missing = run_hub("ingest", cwd=root)
    assert missing.returncode != 0
    out = missing.stdout + missing.stderr
    assert "no object type 'p4242424_subscription'" in out and "did you mean 'p4242424_subscriptions'" in out
    root = project(make_project, sb, ("contacts", "deal"))   # not a custom object's name: a typo, refused offline
    sb.hubspot.requests.reset()
    typo = run_hub("ingest", cwd=root)
    assert typo.returncode != 0 and "did you mean 'deals'" in typo.stdout + typo.stderr
    assert sb.hubspot.requests.total == 0
