"""Content-exact change detection: identity resolution re-reads a record when its content changes, whatever its
``updated_at`` says (vendors do not always move it), and only then. Real DuckDB; the CLI where it is the point."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.modeling import build
from hub.project import Project
from tests.conftest import run_hub, sandbox_project
from tests.modeling import raw
from tests.modeling.raw import hubspot_contact, salesforce_contact


def ids(project: Project) -> dict[tuple[str, str], int]:
    """(connection, source_id) -> person_id."""
    rows = project.query("SELECT connection, source_id, person_id FROM canonical.person_source").rows
    return {(c, s): p for c, s, p in rows}


def title(project: Project, person_id: int) -> str:
    return project.query(f"SELECT job_title FROM canonical.person WHERE person_id = {person_id}").scalar()


def contacts() -> list[dict[str, Any]]:
    return [hubspot_contact(f"h{i}", email=f"p{i}@acme.com", firstname="P", lastname=f"N{i}", jobtitle="Analyst")
            for i in range(4)]


def test_a_silent_edit_is_picked_up_by_hub_build_and_ids_stay(root, project, write_raw):
    rows = contacts()
    write_raw("hubspot", "contacts", rows)
    write_raw("salesforce", "contact", [salesforce_contact("s1", email="p1@acme.com", title="Lead")])
    done = run_hub("build", cwd=root)
    assert done.returncode == 0, done.stderr
    before = ids(project)
    # A vendor fix rewrites a title and keeps the record's modification time.
    rows[2]["jobtitle"] = "Director"
    write_raw("hubspot", "contacts", rows)
    done = run_hub("build", cwd=root)
    assert done.returncode == 0, done.stderr
    assert title(project, before[("hubspot", "h2")]) == "Director"
    assert ids(project) == before
    report = build(project)
    assert report.ok and report.person.changed_records == 0 and not report.person.full


def test_unchanged_records_are_not_re_read(project, write_raw):
    rows = contacts()
    write_raw("hubspot", "contacts", rows)
    assert build(project).person.changed_records == 4
    report = build(project)
    assert report.ok and report.person.changed_records == 0
    rows[0]["lastname"] = "Renamed"          # content only
    rows[3]["updated_at"] = raw.hs_time(9)   # timestamp only: still a change of a staged column
    write_raw("hubspot", "contacts", rows)
    report = build(project)
    assert report.ok and not report.person.full and report.person.changed_records == 2
    assert project.query("SELECT last_name FROM canonical.person WHERE email = 'p0@acme.com'").scalar() == "Renamed"
    # a record that goes away is still noticed, and nothing else is re-read
    write_raw("hubspot", "contacts", rows[:3])
    report = build(project)
    assert report.ok and report.person.changed_records == 0 and report.person.records == 3


def test_a_silent_edit_outranks_an_older_value_elsewhere(project, write_raw):
    """The edit happened after the map last read the record, so it is newer than what the other system said then."""
    rows = [hubspot_contact("h1", email="ann@acme.com", firstname="Ann", lastname="Lee", jobtitle="Analyst")]
    write_raw("hubspot", "contacts", rows)
    write_raw("salesforce", "contact", [salesforce_contact("s1", email="ann@acme.com", title="Lead", day=5)])
    build(project)
    person_id = ids(project)[("hubspot", "h1")]
    assert title(project, person_id) == "Lead"
    rows[0]["jobtitle"] = "Director"
    write_raw("hubspot", "contacts", rows)
    assert build(project).ok
    assert title(project, person_id) == "Director"


def test_a_map_without_content_hashes_is_re_read_once_keeping_ids(project, write_raw):
    rows = contacts()
    write_raw("hubspot", "contacts", rows)
    assert build(project).ok
    before = ids(project)
    stamps = project.query("SELECT source_id, job_title_changed_at FROM _hub.person_identity ORDER BY 1").rows
    with project.warehouse() as wh:   # the map as an older hub left it
        wh.execute("ALTER TABLE _hub.person_identity DROP COLUMN content_hash")
    rows[1]["jobtitle"] = "Director"      # an edit that timestamps alone could not see
    write_raw("hubspot", "contacts", rows)
    report = build(project)
    assert report.ok and report.person.full and report.person.new_ids == 0
    assert ids(project) == before
    assert title(project, before[("hubspot", "h1")]) == "Director"
    columns = {r[0] for r in project.query("DESCRIBE _hub.person_identity").rows}
    assert "content_hash" in columns
    after = dict(project.query("SELECT source_id, job_title_changed_at FROM _hub.person_identity ORDER BY 1").rows)
    assert {k: v for k, v in stamps if k != "h1"} == {k: v for k, v in after.items() if k != "h1"}
    report = build(project)
    assert report.ok and not report.person.full and report.person.changed_records == 0


TO_SALESFORCE = """
[syncs.person_to_salesforce]
model = "canonical.person"
to = "salesforce"
object = "Contact"
mode = "upsert"
match = { email = "Email" }
fields = { first_name = "FirstName", last_name = "LastName", job_title = "Title" }
"""


@pytest.fixture
def quiet_sandbox() -> Iterator[Any]:
    from hub.sandbox import Sandbox

    with Sandbox(seed=3, people=5, hubspot_rate_limit=None) as sb:
        yield sb


def test_a_content_only_change_flows_through_build_and_push(quiet_sandbox, make_project: Callable[..., Path]):
    sb = quiet_sandbox
    root = sandbox_project(make_project, sb, extra=TO_SALESFORCE)
    project = Project(root)
    rows = [hubspot_contact("h1", email="quiet.edit@hubtest.example", firstname="Ann", lastname="Lee",
                            jobtitle="Analyst")]
    with project.warehouse() as wh:
        raw.write(wh, "hubspot", "contacts", rows)
    for command in (["build"], ["push"]):
        done = run_hub(*command, cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr
    assert [c["Title"] for c in _sf(sb, "quiet.edit@hubtest.example")] == ["Analyst"]
    rows[0]["jobtitle"] = "Director"   # updated_at stays
    with project.warehouse() as wh:
        raw.write(wh, "hubspot", "contacts", rows)
    for command in (["build"], ["push"]):
        done = run_hub(*command, cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr
    assert [c["Title"] for c in _sf(sb, "quiet.edit@hubtest.example")] == ["Director"]


def _sf(sb: Any, email: str) -> list[dict[str, Any]]:
    store = sb.salesforce.store
    with store.lock:
        return [dict(r) for r in store.records("Contact") if not r["IsDeleted"] and r.get("Email") == email]
