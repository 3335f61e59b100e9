"""The Zendesk connector through the real CLI (`hub ingest`, `hub build`) against the emulator over loopback HTTP:
cursor and time-based exports, duplicates across pages, deletions, edits while paging, staging views."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from hub.sandbox import Sandbox
from tests.conftest import run_hub
from tests.integrations.zendesk.helpers import zendesk_project
from tests.sandbox.conftest import NOW


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=3, people=60, now=NOW, only={"zendesk"}, zendesk_export_rate_limit=None) as box:
        yield box


def query(root, sql: str) -> list[dict]:
    done = run_hub("query", "--format", "json", sql, cwd=root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def live(sb: Sandbox, kind: str) -> set[int]:
    return {r["id"] for r in sb.zendesk.store.live(kind)}


def test_ingest_exports_every_record_once_and_staging_builds(make_project, sb: Sandbox) -> None:
    root = zendesk_project(make_project, sb)
    store = sb.zendesk.store
    done = run_hub("ingest", cwd=root)
    assert done.returncode == 0, done.stderr
    for kind, table in (("ticket", "tickets"), ("user", "users"), ("organization", "organizations")):
        rows = query(root, f"SELECT id, count(*) AS n FROM raw_zendesk.{table} GROUP BY id")
        assert {r["id"] for r in rows} == live(sb, kind) and all(r["n"] == 1 for r in rows)
    # five records a page: the organizations' time-based export repeats a page's last second on the next page
    assert len(store.records["organization"]) > 5
    build = run_hub("build", cwd=root)
    assert build.returncode == 0, build.stderr
    tickets = query(root, "SELECT * FROM staging.zendesk_tickets ORDER BY source_id")
    some = store.records["ticket"][int(tickets[0]["source_id"])]
    requester = store.records["user"][some["requester_id"]]
    assert tickets[0]["person_stream"] == "users" and tickets[0]["person_source_id"] == str(requester["id"])
    assert tickets[0]["email"] == requester["email"].strip().lower() and tickets[0]["subject"] == some["subject"]
    with_org = [t for t in tickets if t["company_source_id"]]
    assert with_org and all(t["company_stream"] == "organizations" for t in with_org)
    users = query(root, "SELECT source_id, email, first_name FROM staging.zendesk_users")
    assert len(users) == len(live(sb, "user"))
    orgs = query(root, "SELECT source_id, name FROM staging.zendesk_organizations")
    assert {int(o["source_id"]) for o in orgs} == live(sb, "organization")
    # canonical.ticket: each ticket on the person its requester resolved to, and on its organization's company
    linked = query(root, """
        SELECT t.source_id, p.email AS person_email, c.name AS company_name
        FROM canonical.ticket AS t
        LEFT JOIN canonical.person AS p ON p.person_id = t.person_id
        LEFT JOIN canonical.company AS c ON c.company_id = t.company_id""")
    assert len(linked) == len(live(sb, "ticket"))
    for row in linked:
        ticket = store.records["ticket"][int(row["source_id"])]
        assert row["person_email"] == store.records["user"][ticket["requester_id"]]["email"].strip().lower()
        org = ticket["organization_id"]
        assert row["company_name"] == (store.records["organization"][org]["name"] if org else None)


def test_incremental_run_takes_edits_and_deletions(make_project, sb: Sandbox) -> None:
    root = zendesk_project(make_project, sb)
    store = sb.zendesk.store
    assert run_hub("ingest", cwd=root).returncode == 0
    with store.lock:
        ticket = store.live("ticket")[0]
        gone_ticket = store.live("ticket")[1]["id"]
        gone_user = store.live("user")[-1]["id"]
        gone_org = store.live("organization")[0]["id"]
        store.update("ticket", ticket["id"], {"subject": "Edited subject", "status": "solved"})
        store.delete("ticket", gone_ticket)
        store.delete("user", gone_user)
        store.delete("organization", gone_org)
    sb.clock.advance(61)    # the exports leave the last minute out
    done = run_hub("ingest", cwd=root)
    assert done.returncode == 0, done.stderr
    rows = query(root, f"SELECT subject, status, deleted FROM raw_zendesk.tickets WHERE id IN ({ticket['id']}, "
                       f"{gone_ticket}) ORDER BY id")
    assert [(r["subject"], r["status"], r["deleted"]) for r in rows] == [
        ("Edited subject", "solved", False), (store.records["ticket"][gone_ticket]["subject"], "deleted", True)]
    assert query(root, f"SELECT deleted FROM raw_zendesk.users WHERE id = {gone_user}") == [{"deleted": True}]
    assert query(root, f"SELECT deleted FROM raw_zendesk.organizations WHERE id = {gone_org}") == [{"deleted": True}]
    assert run_hub("build", cwd=root).returncode == 0
    staged = {int(r["source_id"]) for r in query(root, "SELECT source_id FROM staging.zendesk_tickets")}
    assert gone_ticket not in staged and ticket["id"] in staged and staged == live(sb, "ticket")
    assert gone_user not in {int(r["source_id"]) for r in query(root, "SELECT source_id FROM staging.zendesk_users")}


def test_a_record_edited_while_the_export_pages_is_kept_once_in_its_newest_version(make_project, sb: Sandbox) -> None:
    root = zendesk_project(make_project, sb)
    store = sb.zendesk.store
    first = store.live("ticket")[0]["id"]
    pages = {"n": 0}

    def edit_after_first_page(request):   # runs before the emulator answers, as a user would edit meanwhile
        if request.path.startswith("/api/v2/incremental/tickets"):
            pages["n"] += 1
            if pages["n"] == 2:
                with store.lock:
                    store.update("ticket", first, {"subject": "Changed while paging"})
                    store.records["ticket"][first]["_ts"] -= 120   # changed before the last-minute blackout
                    store.records["ticket"][first]["generated_timestamp"] -= 120
        return None

    sb.zendesk.before_request = edit_after_first_page
    done = run_hub("ingest", cwd=root)
    assert done.returncode == 0, done.stderr
    assert pages["n"] > 2
    rows = query(root, f"SELECT subject FROM raw_zendesk.tickets WHERE id = {first}")
    assert rows == [{"subject": "Changed while paging"}]
    assert query(root, "SELECT count(*) AS n, count(DISTINCT id) AS d FROM raw_zendesk.tickets") == [
        {"n": len(store.records["ticket"]), "d": len(store.records["ticket"])}]


def test_oauth_bearer_token_and_an_agent_token_refused_with_one_line(make_project, sb: Sandbox) -> None:
    root = zendesk_project(make_project, sb, oauth=True)
    done = run_hub("ingest", cwd=root)
    assert done.returncode == 0, done.stderr
    assert query(root, "SELECT count(*) AS n FROM raw_zendesk.users") == [{"n": len(sb.zendesk.store.records["user"])}]
    agent = make_project(f"""
        [connections.zendesk]
        type = "zendesk"
        base_url = "{sb.zendesk.url}"
        email = "{sb.zendesk.agent_email}"
        """, f"""
        [connections.zendesk]
        token = "{sb.zendesk.agent_token}"
        """, name="agent")
    refused = run_hub("ingest", cwd=agent)
    assert refused.returncode != 0
    assert "admins only" in refused.stderr and sb.zendesk.agent_token not in refused.stderr + refused.stdout


def test_bad_config_is_one_line_before_any_call(make_project) -> None:
    root = make_project("""
        [connections.zendesk]
        type = "zendesk"
        email = "not-an-address"
        subdomain = "acme"
        """, '[connections.zendesk]\ntoken = "x"\n')
    done = run_hub("ingest", cwd=root)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "hub.toml:4" in lines[0] and "email" in lines[0], done.stderr


def test_a_field_hidden_from_the_api_user_lands_null_with_one_warning(make_project) -> None:
    with Sandbox(seed=3, people=20, now=NOW, only={"zendesk"}, zendesk_export_rate_limit=None,
                 zendesk_hidden={"user": {"phone"}}) as sb:
        root = zendesk_project(make_project, sb)
        done = run_hub("ingest", cwd=root)
        assert done.returncode == 0, done.stderr
        warnings = [line for line in (done.stdout + done.stderr).splitlines() if "did not list" in line]
        assert len(warnings) == 1 and "zendesk.users" in warnings[0] and "phone" in warnings[0], done.stdout
        assert query(root, "SELECT count(*) AS n FROM raw_zendesk.users WHERE phone IS NOT NULL") == [{"n": 0}]
        assert run_hub("build", cwd=root).returncode == 0
        assert len(query(root, "SELECT * FROM staging.zendesk_users")) == len(live(sb, "user"))
