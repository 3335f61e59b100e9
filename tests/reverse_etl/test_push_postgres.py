"""`hub push` from a PostgreSQL warehouse to the sandbox's HubSpot over real loopback HTTP: a first push creates,
a rerun sends only what changed, a dry run writes nothing (neither the target nor ``_hub``), rejected rows and sync
state live in ``_hub`` of the same database, and a row ingested back from the target links by its id. The model
(canonical.person) is a real table the test creates on PostgreSQL, so the push engine is exercised alone.
"""

from __future__ import annotations

import json

from hub.project import Project
from hub.reverse_etl import push, rejected_rows, sync_status
from tests.conftest import run_hub
from tests.pg import PgServer
from tests.reverse_etl.conftest import TO_HUBSPOT
from tests.reverse_etl.helpers import hs_contact, hs_writes, reset

D = "@hubtest.example"


def pg_push_project(make_project, sb, server: PgServer, database: str, mode: str = "upsert") -> Project:
    root = make_project(f"""
        [warehouse]
        type = "postgres"
        dsn = "{server.dsn(database)}"

        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"
        streams = ["contacts"]
        {TO_HUBSPOT.format(mode=mode)}
        """, f'[warehouse]\npassword = "{server.password}"\n\n[connections.hubspot]\ntoken = "{sb.hubspot.token}"\n')
    return Project(root)


def write_people(project: Project, people: list[tuple[str, str | None, str, str | None]]) -> None:
    """Replace canonical.person on PostgreSQL: (person_id, email, first_name, phone) per row."""
    with project.warehouse() as wh, wh.transaction():
        wh.execute("CREATE SCHEMA IF NOT EXISTS canonical")
        wh.execute("DROP TABLE IF EXISTS canonical.person")
        wh.execute("CREATE TABLE canonical.person (person_id VARCHAR, email VARCHAR, first_name VARCHAR, "
                   "last_name VARCHAR, phone VARCHAR, updated_at TIMESTAMPTZ)")
        for pid, email, first, phone in people:
            wh.execute("INSERT INTO canonical.person VALUES (?, ?, ?, 'Lee', ?, now())", [pid, email, first, phone])


def test_push_from_postgres_sends_only_changes_and_keeps_state_in_the_database(make_project, quiet_sandbox,
                                                                              pg_server, pg_database):
    sb = quiet_sandbox
    project = pg_push_project(make_project, sb, pg_server, pg_database)
    people = [(str(i), f"pg{i}{D}", f"First{i}", "+14155550100") for i in range(12)]
    people.append(("99", "not-an-email", "Bad", None))
    write_people(project, people)
    before = sb.hubspot.store.count("contacts")

    # a dry run plans against PostgreSQL and writes nothing anywhere
    plan = push(project, dry_run=True)
    assert [(r.status, r.creates, r.rejected) for r in plan.results] == [("planned", 13, 0)]
    assert sb.hubspot.store.count("contacts") == before and hs_writes(sb) == 0
    assert project.query("SELECT count(*) FROM information_schema.tables WHERE table_schema = '_hub' "
                         "AND table_name IN ('sync_state', 'runs')").scalar() == 0

    report = push(project)
    assert report.ok, report.errors
    [first] = report.results
    assert (first.creates, first.updates, first.rejected) == (12, 0, 1)
    assert sb.hubspot.store.count("contacts") == before + 12
    assert hs_contact(sb, f"pg3{D}")["properties"]["firstname"] == "First3"
    # state, rejected rows and the run: in _hub of the same database
    assert project.query("SELECT count(*), count(target_id) FROM _hub.sync_state "
                         "WHERE sync = 'person_to_hubspot'").rows == [(12, 12)]
    [bad] = rejected_rows(project, "person_to_hubspot")
    assert (bad["key"], bad["code"], bad["attempts"]) == ("99", "INVALID_EMAIL", 1)
    assert bad["payload"]["email"] == "not-an-email"
    assert project.query("SELECT command, status FROM _hub.runs").rows == [("push", "success")]

    # a rerun with nothing changed makes no call; the rejected row is checked again locally
    reset(sb)
    again = push(project)
    assert [(r.creates, r.updates, r.unchanged, r.api_calls) for r in again.results] == [(0, 0, 12, 0)]
    assert sb.hubspot.requests.total == 0
    assert rejected_rows(project, "person_to_hubspot")[0]["attempts"] == 2

    # one phone changes, the bad email is fixed: one update, one create, nothing else sent
    people[4] = ("4", f"pg4{D}", "First4", "+14155550144")
    people[-1] = ("99", f"fixed{D}", "Bad", None)
    write_people(project, people)
    reset(sb)
    third = push(project)
    assert [(r.creates, r.updates, r.unchanged, r.rejected) for r in third.results] == [(1, 1, 11, 0)]
    assert hs_writes(sb) == 2
    assert hs_contact(sb, f"pg4{D}")["properties"]["phone"] == "+14155550144"
    assert rejected_rows(project, "person_to_hubspot") == []
    [status] = sync_status(project)
    assert (status["outcome"], status["synced"], status["rejected"]) == ("success", 13, 0)


def test_cli_push_on_postgres_links_ingested_records_and_dry_run_changes_nothing(make_project, quiet_sandbox,
                                                                                pg_server, pg_database):
    sb = quiet_sandbox
    project = pg_push_project(make_project, sb, pg_server, pg_database)
    root = project.root
    known = sb.hubspot.store.create("contacts", {"email": f"Known{D}", "firstname": "Old"})
    done = run_hub("ingest", cwd=root)   # the target's records, read back into raw_hubspot on PostgreSQL
    assert done.returncode == 0, done.stderr
    write_people(project, [("1", f"known{D}", "New", None), ("2", f"new{D}", "Fresh", None)])
    before = sb.hubspot.store.count("contacts")

    dry = run_hub("push", "--dry-run", cwd=root)
    assert dry.returncode == 0, dry.stderr
    assert "Traceback" not in dry.stderr
    assert sb.hubspot.store.count("contacts") == before
    assert sb.hubspot.store.get("contacts", known["id"])["properties"]["firstname"] == "Old"
    assert project.query("SELECT count(*) FROM _hub.runs WHERE command = 'push'").scalar() == 0

    done = run_hub("push", cwd=root)
    assert done.returncode == 0, done.stderr
    assert sb.hubspot.store.count("contacts") == before + 1     # the known contact was matched, not duplicated
    assert sb.hubspot.store.get("contacts", known["id"])["properties"]["firstname"] == "New"
    assert project.query("SELECT target_id FROM _hub.sync_state WHERE key = '1'").scalar() == known["id"]
    status = run_hub("status", "--json", cwd=root)
    assert status.returncode == 0, status.stderr
    assert pg_server.password not in done.stdout + done.stderr + status.stdout + status.stderr
    assert "person_to_hubspot" in json.dumps(json.loads(status.stdout))
