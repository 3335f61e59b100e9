"""Write integrity against the sandbox over real loopback HTTP: a write whose answer is lost (answered after the
client's timeout, or with a cut body, once the vendor saved it) is reconciled, never sent twice; a match field the
target cannot filter on stops the sync before any write; HubSpot's whole-batch refusals cost only the bad rows."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.errors import ConfigError
from hub.project import Project
from hub.sandbox.chaos import Chaos
from hub.reverse_etl import push, rejected_rows
from tests.conftest import run_hub
from tests.reverse_etl.conftest import TO_HUBSPOT, TO_SALESFORCE, person, write_people
from tests.reverse_etl.helpers import hs_contact, reset, sf_contacts, sf_writes

D = "@hubtest.example"
CREATES = {"salesforce": "POST */composite/sobjects", "hubspot": "POST */batch/create"}


def project_on(make_project: Callable[..., Path], sb: Any, syncs: str, timeout: float = 0.5) -> Project:
    """A project on the sandbox whose connections give up on an answer after ``timeout`` seconds."""
    client = f"timeout = {timeout}\nretry_base_delay = 0.01"
    return Project(make_project(f"""
[connections.hubspot]
type = "hubspot"
base_url = "{sb.hubspot.url}"
{client}

[connections.salesforce]
type = "salesforce"
base_url = "{sb.salesforce.url}"
{client}
{syncs}
""", f"""
[connections.hubspot]
token = "{sb.hubspot.token}"

[connections.salesforce]
token = "{sb.salesforce.token}"
"""))


class Tally:
    """Counts the HubSpot batch actions served (the request log keys them by route template, which hides the action),
    and passes each request to ``then`` (a ``before_request`` hook) if given."""

    def __init__(self, emulator: Any, then: Callable[[Any], None] | None = None) -> None:
        self.actions: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.then = then
        emulator.before_request = self

    def __call__(self, request: Any) -> None:
        with self.lock:
            self.actions[request.path.rsplit("/", 1)[-1]] += 1
        return self.then(request) if self.then else None


def lost_create(sb: Any, vendor: str, kind: str) -> Chaos:
    """The vendor saves the next create, then answers it late (after the client's 0.5 s timeout) or cut."""
    chaos = Chaos(**{kind: 1.0}, hang=1.5, only=CREATES[vendor], limit=1)
    setattr(getattr(sb, vendor), "chaos", chaos)
    return chaos


@pytest.mark.parametrize("kind", ["late", "cut"])
def test_a_salesforce_create_whose_answer_is_lost_is_reconciled_not_sent_again(quiet_sandbox, make_project, kind):
    sb = quiet_sandbox
    project = project_on(make_project, sb, TO_SALESFORCE.format(mode="upsert"))
    people = [person(i, f"lost{i}{D}", f"F{i}") for i in range(30)]
    write_people(project, people)
    before = sb.salesforce.store.count("Contact")
    chaos = lost_create(sb, "salesforce", kind)
    report = push(project)
    assert chaos.injected[kind] == 1                          # the create was saved and its answer lost
    assert report.ok, report.errors
    assert report.results[0].creates == 30 and report.results[0].rejected == 0
    assert sb.salesforce.store.count("Contact") == before + 30
    assert all(len(sf_contacts(sb, p["email"])) == 1 for p in people)     # found by lookup, not created twice
    reset(sb)
    again = push(project)
    assert again.results[0].api_calls == 0 and sb.salesforce.requests.total == 0   # and acknowledged


@pytest.mark.parametrize("kind", ["late", "cut"])
def test_a_hubspot_create_whose_answer_is_lost_is_acknowledged_by_lookup(quiet_sandbox, make_project, kind):
    sb = quiet_sandbox
    project = project_on(make_project, sb, TO_HUBSPOT.format(mode="insert"))
    people = [person(i, f"late{i}{D}", f"F{i}") for i in range(20)]
    write_people(project, people)
    before = sb.hubspot.store.count("contacts")
    chaos = lost_create(sb, "hubspot", kind)
    tally = Tally(sb.hubspot)
    report = push(project)
    assert chaos.injected[kind] == 1
    assert report.ok, report.errors
    result = report.results[0]
    assert (result.creates, result.rejected) == (20, 0)                    # not refused as "already exists"
    assert sb.hubspot.store.count("contacts") == before + 20
    assert tally.actions["create"] == 1 and tally.actions["read"] == 2   # insert's lookup, then the reconciling one
    assert rejected_rows(project, "person_to_hubspot") == []


def test_a_create_without_a_match_value_whose_answer_is_lost_is_held_not_resent(quiet_sandbox, make_project):
    sb = quiet_sandbox
    project = project_on(make_project, sb, TO_SALESFORCE.format(mode="upsert"))
    write_people(project, [person(1, None, "Nomail", "Lee")])
    before = sb.salesforce.store.count("Contact")
    chaos = lost_create(sb, "salesforce", "late")
    report = push(project)
    assert chaos.injected["late"] == 1 and sb.salesforce.store.count("Contact") == before + 1
    [row] = rejected_rows(project, "person_to_salesforce")
    assert row["code"] == "UNKNOWN_OUTCOME" and "may exist in salesforce" in row["reason"]
    assert report.results[0].rejected == 1
    reset(sb)
    push(project)                                         # held: a later run does not create it blindly again
    assert sf_writes(sb) == 0 and sb.salesforce.store.count("Contact") == before + 1
    assert rejected_rows(project, "person_to_salesforce")[0]["code"] == "UNKNOWN_OUTCOME"


def test_a_match_field_salesforce_cannot_filter_on_stops_the_sync_before_any_write(quiet_sandbox, make_project):
    sb = quiet_sandbox
    # the emulator refuses such a lookup the way Salesforce does
    refused = httpx.get(f"{sb.salesforce.url}/services/data/v59.0/query",
                        params={"q": "SELECT Id FROM Contact WHERE Description IN ('x')"},
                        headers={"Authorization": f"Bearer {sb.salesforce.token}"})
    assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "can not be filtered" in refused.json()[0]["message"]
    syncs = TO_SALESFORCE.format(mode="upsert").replace('match = { email = "Email" }',
                                                         'match = { email = "Description" }')
    project = project_on(make_project, sb, syncs)
    write_people(project, [person(i, f"nf{i}{D}") for i in range(5)])
    before = sb.salesforce.store.count("Contact")
    reset(sb)
    with pytest.raises(ConfigError) as caught:
        push(project)
    assert "'Description'" in str(caught.value) and "filter" in str(caught.value) and "hub.toml:" in str(caught.value)
    assert sf_writes(sb) == 0 and sb.salesforce.store.count("Contact") == before
    # as the user meets it: one line naming the file, line and what to do, a non-zero exit, nothing written
    done = run_hub("push", cwd=project.root)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "hub.toml:" in lines[0] and "'Description'" in lines[0] and "match on a filterable field" in lines[0]
    assert sf_writes(sb) == 0 and sb.salesforce.store.count("Contact") == before


def test_hubspot_409_on_a_batch_create_looks_the_batch_up_instead_of_rejecting(quiet_sandbox, make_project):
    sb = quiet_sandbox
    project = project_on(make_project, sb, TO_HUBSPOT.format(mode="insert"))
    people = [person(i, f"race{i}{D}", f"F{i}") for i in range(6)]
    write_people(project, people)
    taken = {}

    def someone_else_creates_one(request: Any) -> None:
        # between our lookup and our create, another writer creates person 3: HubSpot refuses the whole batch
        if request.path.endswith("/batch/create") and not taken:
            taken["id"] = sb.hubspot.store.create("contacts", {"email": f"race3{D}", "firstname": "Other"})["id"]
        return None

    tally = Tally(sb.hubspot, someone_else_creates_one)
    report = push(project)
    result = report.results[0]
    assert report.ok, report.errors
    assert (result.creates, result.unchanged, result.rejected) == (5, 1, 0)
    assert all(hs_contact(sb, p["email"]) for p in people)
    assert hs_contact(sb, f"race3{D}")["id"] == taken["id"]      # insert mode: the other writer's record is kept
    assert tally.actions["create"] == 2 and tally.actions["read"] == 2


def test_a_known_bad_row_never_sinks_a_hubspot_batch(quiet_sandbox, make_project):
    sb = quiet_sandbox
    project = project_on(make_project, sb, TO_HUBSPOT.format(mode="insert"))
    people = [person(i, f"ok{i}{D}") for i in range(50)] + [person(99, "no-at-sign.example")]
    write_people(project, people)
    tally = Tally(sb.hubspot)
    report = push(project)
    result = report.results[0]
    assert (result.creates, result.rejected) == (50, 1)
    assert tally.actions["create"] == 1                                    # no halving
    [row] = rejected_rows(project, "person_to_hubspot")
    assert row["key"] == "99" and row["code"] == "INVALID_EMAIL"
