"""Push targets of ``type = "rest"`` connections over real loopback HTTP against the REST emulator: batch creates,
lookups, updates and upserts; answers lost after the write (no duplicate); lost creates without a lookup held, not
re-created; failed lookups never become creates; whole-batch 422 refusals split down to the bad record; dry runs."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hub.integrations.rest.emulator import RestEmulator
from hub.project import Project
from hub.reverse_etl import push
from hub.sandbox.chaos import Chaos
from tests.conftest import run_hub
from tests.reverse_etl.conftest import person, write_people

BATCH = """
create = "POST /contacts/batch"
update = "PATCH /contacts/{id}"
lookup = "GET /contacts"
body = { email = "{email}", name = "{name}" }
batch_size = 10
records_path = "records"
id_path = "results.*.id"
lookup_records = "contacts"
"""
SINGLE = """
create = "POST /contacts"
update = "PATCH /contacts/{id}"
lookup = "GET /contacts"
body = { email = "{email}", name = "{name}" }
lookup_records = "contacts"
"""
STREAM = """
[connections.crm.streams.contacts]
path = "/contacts"
records = "contacts"
"""
SYNC = """
[syncs.people]
model = "canonical.person"
to = "crm"
object = "contacts"
mode = "{mode}"
match = {{ {match} }}
fields = {{ {fields} }}
"""


def rest_project(make_project: Callable[..., Path], emulator: RestEmulator, target: str, *, mode: str = "upsert",
                 match: str = 'email = "email"', fields: str = 'first_name = "name"', timeout: float = 5.0,
                 name: str = "proj", streams: bool = True) -> Project:
    """A project (directory ``name``) with a ``type = "rest"`` connection to the emulator, one target and a sync."""
    hub_toml = textwrap.dedent(f"""
        [connections.crm]
        type = "rest"
        base_url = "{emulator.url}"
        auth = {{ type = "bearer" }}
        timeout = {timeout}
        retry_base_delay = 0.01

        """) + (STREAM if streams else "") + "\n[connections.crm.targets.contacts]\n" + textwrap.dedent(target) + SYNC.format(mode=mode, match=match, fields=fields)
    return Project(make_project(hub_toml, f'[connections.crm]\ntoken = "{emulator.auth.token}"\n', name=name))


def people(n: int, first: str = "F", start: int = 0) -> list[dict[str, Any]]:
    return [person(i, f"p{i}@example.com", f"{first}{i}") for i in range(start, start + n)]


def by_email(emulator: RestEmulator, email: str) -> list[dict[str, Any]]:
    with emulator.store.lock:
        return [dict(c) for c in emulator.store.contacts.values() if (c["email"] or "").lower() == email.lower()]


def writes(emulator: RestEmulator) -> int:
    return sum(emulator.requests.count(p) for p in ("POST *", "PATCH *", "PUT *", "DELETE *"))


def test_batch_creates_then_single_updates(rest_emulator: RestEmulator, make_project) -> None:
    project = rest_project(make_project, rest_emulator, BATCH)
    write_people(project, [*people(25), person("s1", "SEED1@example.com", "Changed")])
    first = push(project)
    result = first.results[0]
    assert first.ok, first.errors
    assert (result.creates, result.updates, result.rejected) == (25, 1, 0)
    assert rest_emulator.requests["POST /contacts/batch"] == 3           # 25 rows in batches of 10
    assert by_email(rest_emulator, "seed1@example.com")[0]["name"] == "Changed"   # found by lookup, updated
    assert [c["name"] for c in by_email(rest_emulator, "p7@example.com")] == ["F7"]
    write_people(project, [*people(25, "G"), person("s1", "SEED1@example.com", "Changed")])
    rest_emulator.requests.reset()
    again = push(project).results[0]
    assert (again.creates, again.updates, again.unchanged) == (0, 25, 1)
    assert rest_emulator.requests.snapshot() == {"PATCH /contacts/{id}": 25}   # ids known: no lookup
    assert by_email(rest_emulator, "p3@example.com")[0]["name"] == "G3"
    rest_emulator.requests.reset()
    third = push(project).results[0]
    assert (third.creates, third.updates) == (0, 0) and writes(rest_emulator) == 0   # nothing changed: no call


def test_upsert_by_path_and_batch_upsert(rest_emulator: RestEmulator, make_project) -> None:
    target = 'upsert = "PUT /contacts/by/email/{email}"\nbody = { name = "{name}" }\n'
    project = rest_project(make_project, rest_emulator, target)
    write_people(project, [*people(3), person("s2", "seed2@example.com", "Renamed")])
    result = push(project).results[0]
    assert (result.creates, result.updates, result.rejected) == (3, 1, 0)
    assert by_email(rest_emulator, "seed2@example.com")[0]["name"] == "Renamed"
    batch = ('upsert = "PUT /contacts/batch?key=email"\nbody = { email = "{email}", name = "{name}" }\n'
             'batch_size = 20\nrecords_path = "records"\nid_path = "results.*.id"\n')
    project = rest_project(make_project, rest_emulator, batch, name="batch")
    write_people(project, people(4, "B"))
    result = push(project).results[0]
    assert (result.creates, result.updates) == (1, 3)   # p0..p2 existed: the answer's "created" tells them apart
    assert rest_emulator.requests["PUT /contacts/batch"] == 1


def test_late_answers_are_reconciled_by_lookup_never_duplicated(rest_emulator: RestEmulator, make_project) -> None:
    project = rest_project(make_project, rest_emulator, BATCH, timeout=0.3)
    write_people(project, people(25))
    # the first batch create is saved, but its answer comes after the client gave up
    rest_emulator.chaos = Chaos(late=1.0, hang=1.0, limit=1, only="POST /contacts/batch")
    report = push(project)
    result = report.results[0]
    assert report.ok, report.errors
    assert rest_emulator.chaos.injected["late"] == 1
    assert (result.creates, result.rejected) == (25, 0)
    assert all(len(by_email(rest_emulator, f"p{i}@example.com")) == 1 for i in range(25))   # no duplicate
    assert rest_emulator.requests["POST /contacts/batch"] == 3   # the lost batch was looked up, not sent again
    rest_emulator.chaos = None
    rest_emulator.requests.reset()
    assert push(project).results[0].creates == 0 and writes(rest_emulator) == 0


def test_late_single_create_found_by_lookup(rest_emulator: RestEmulator, make_project) -> None:
    project = rest_project(make_project, rest_emulator, SINGLE, timeout=0.3)
    write_people(project, people(3))
    rest_emulator.chaos = Chaos(late=1.0, hang=1.0, limit=1, only="POST /contacts")
    result = push(project).results[0]
    assert (result.creates, result.rejected) == (3, 0)
    assert all(len(by_email(rest_emulator, f"p{i}@example.com")) == 1 for i in range(3))
    assert rest_emulator.requests["POST /contacts"] == 3


def test_lost_create_without_lookup_is_held_not_recreated(rest_emulator: RestEmulator, make_project) -> None:
    # no lookup endpoint: rows are upserted by external_id; rows without one are created, and a lost create of such
    # a row cannot be reconciled
    target = ('create = "POST /contacts"\nupsert = "PUT /contacts/by/external_id/{external_id}"\n'
              'body = { email = "{email}", name = "{name}", external_id = "{external_id}" }\n')
    project = rest_project(make_project, rest_emulator, target, timeout=0.3, match='phone = "external_id"',
                           fields='email = "email", first_name = "name"')
    write_people(project, [person("a", "held@example.com", "Held"), person("b", "ext@example.com", "Ext", phone="X1")])
    rest_emulator.chaos = Chaos(late=1.0, hang=1.0, limit=1, only="POST /contacts")
    first = push(project).results[0]
    assert first.rejected == 1 and first.creates == 1
    assert len(by_email(rest_emulator, "held@example.com")) == 1    # it was written; the hub cannot know
    with project.warehouse() as wh:
        codes = wh.query("SELECT key, code FROM _hub.rejected_rows").rows
    assert codes == [("a", "UNKNOWN_OUTCOME")]
    rest_emulator.chaos = None
    rest_emulator.requests.reset()
    second = push(project).results[0]
    assert second.creates == 0 and rest_emulator.requests["POST /contacts"] == 0   # held, not sent again
    assert len(by_email(rest_emulator, "held@example.com")) == 1


def test_failed_lookup_never_becomes_a_create(rest_emulator: RestEmulator, make_project) -> None:
    project = rest_project(make_project, rest_emulator, BATCH)
    write_people(project, people(5))
    rest_emulator.chaos = Chaos(server_error=1.0, only="GET /contacts")
    report = push(project)
    assert not report.ok
    assert rest_emulator.requests["POST /contacts/batch"] == 0 and not by_email(rest_emulator, "p0@example.com")
    rest_emulator.chaos = None
    # two records share the match value: neither is chosen, nothing is created
    rest_emulator.store.create_contact({"email": "twin1@example.com", "name": "Twin"})
    rest_emulator.store.create_contact({"email": "twin2@example.com", "name": "Twin"})
    project = rest_project(make_project, rest_emulator, BATCH, match='first_name = "name"',
                           fields='email = "email"', name="twins")
    write_people(project, [person("t", "twin3@example.com", "Twin")])
    result = push(project).results[0]
    assert result.rejected == 1 and result.creates == 0 and not by_email(rest_emulator, "twin3@example.com")
    with project.warehouse() as wh:
        assert wh.query("SELECT code FROM _hub.rejected_rows").rows == [("AMBIGUOUS_MATCH",)]


def test_whole_batch_422_is_split_to_the_bad_record(rest_emulator: RestEmulator, make_project) -> None:
    project = rest_project(make_project, rest_emulator, BATCH)
    rows = people(10)
    rows[6]["email"] = "p6-at-example.com"   # the API refuses it, and with it the whole batch
    write_people(project, rows)
    result = push(project).results[0]
    assert (result.creates, result.rejected) == (9, 1)
    assert not by_email(rest_emulator, "p6-at-example.com")
    assert all(by_email(rest_emulator, f"p{i}@example.com") for i in range(10) if i != 6)
    with project.warehouse() as wh:
        (reason,), = wh.query("SELECT reason FROM _hub.rejected_rows").rows
    assert "not an email address" in reason
    assert 2 < rest_emulator.requests["POST /contacts/batch"] <= 10   # halved, not one call per row


def test_duplicate_on_create_is_looked_up_and_updated(rest_emulator: RestEmulator, make_project) -> None:
    project = rest_project(make_project, rest_emulator, SINGLE)
    write_people(project, people(2))

    def someone_else_creates(request: Any) -> None:
        # between our lookup and our create another writer creates p1: the API answers 409
        if request.method == "POST" and not by_email(rest_emulator, "p1@example.com"):
            rest_emulator.store.create_contact({"email": "p1@example.com", "name": "Other"})

    rest_emulator.before_request = someone_else_creates
    result = push(project).results[0]
    rest_emulator.before_request = None
    assert result.rejected == 0
    assert [c["name"] for c in by_email(rest_emulator, "p1@example.com")] == ["F1"]


def test_dry_run_writes_nothing(rest_emulator: RestEmulator, make_project) -> None:
    project = rest_project(make_project, rest_emulator, BATCH)
    write_people(project, people(5))
    before = len(rest_emulator.store.contacts)
    report = push(project, dry_run=True)
    assert report.ok and report.results[0].creates == 5
    assert writes(rest_emulator) == 0 and len(rest_emulator.store.contacts) == before
    done = run_hub("push", "--dry-run", cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert writes(rest_emulator) == 0 and len(rest_emulator.store.contacts) == before


def test_hub_push_in_a_subprocess(rest_emulator: RestEmulator, make_project) -> None:
    project = rest_project(make_project, rest_emulator, BATCH)
    write_people(project, people(12))
    done = run_hub("push", cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert all(len(by_email(rest_emulator, f"p{i}@example.com")) == 1 for i in range(12))
    assert rest_emulator.auth.token not in done.stdout + done.stderr
    again = run_hub("push", cwd=project.root)
    assert again.returncode == 0 and len(rest_emulator.store.contacts) == 32


def test_unknown_target_object_says_which_exist(rest_emulator: RestEmulator, make_project) -> None:
    project = rest_project(make_project, rest_emulator, BATCH)
    (project.root / "hub.toml").write_text((project.root / "hub.toml").read_text()
                                           .replace('object = "contacts"', 'object = "contact"'))
    write_people(project, people(1))
    done = run_hub("push", cwd=project.root)
    assert done.returncode != 0 and "contacts" in done.stderr and "Traceback" not in done.stderr
    assert writes(rest_emulator) == 0


@pytest.mark.parametrize("op", ["create", "update"])
def test_writes_carry_an_idempotency_key(rest_emulator: RestEmulator, make_project, op: str) -> None:
    project = rest_project(make_project, rest_emulator, SINGLE)
    write_people(project, people(1))
    push(project)
    seen: list[str | None] = []
    rest_emulator.before_request = lambda request: seen.append(request.header("idempotency-key")) if \
        request.method in ("POST", "PATCH") else None
    if op == "update":
        write_people(project, people(1, "Z"))
    else:
        write_people(project, people(2))
    push(project)
    rest_emulator.before_request = None
    assert len(seen) == 1 and seen[0] and seen[0].startswith("hub-")


def test_batch_update_reads_per_record_errors(rest_emulator: RestEmulator, make_project) -> None:
    target = BATCH.replace('update = "PATCH /contacts/{id}"', 'update = "PATCH /contacts/batch"') + \
        'errors_path = "errors"\n'
    project = rest_project(make_project, rest_emulator, target)
    write_people(project, people(5))
    assert push(project).results[0].creates == 5
    gone = by_email(rest_emulator, "p2@example.com")[0]["id"]
    rest_emulator.store.delete_contact(gone)   # deleted in the target since we wrote it
    write_people(project, people(5, "N"))
    rest_emulator.requests.reset()
    result = push(project).results[0]
    assert rest_emulator.requests["PATCH /contacts/batch"] == 1
    assert (result.updates, result.skipped, result.creates, result.rejected) == (4, 1, 0, 0)
    assert not by_email(rest_emulator, "p2@example.com")   # on_target_delete = "skip": left deleted
    assert [c["name"] for c in by_email(rest_emulator, "p4@example.com")] == ["N4"]


def test_a_push_only_connection_declares_targets_and_no_streams(rest_emulator: RestEmulator, make_project) -> None:
    project = rest_project(make_project, rest_emulator, SINGLE, name="pushonly", streams=False)
    write_people(project, people(3))
    result = push(project).results[0]
    assert (result.creates, result.rejected) == (3, 0)
    assert [c["name"] for c in by_email(rest_emulator, "p1@example.com")] == ["F1"]


def test_an_edited_target_takes_effect_at_the_next_push(rest_emulator: RestEmulator, make_project) -> None:
    # the target's fields come from hub.toml: they are not cached in _hub, so a new mapped field is known at once
    project = rest_project(make_project, rest_emulator, SINGLE, name="edited")
    write_people(project, people(2))
    assert push(project).ok
    toml = project.root / "hub.toml"
    toml.write_text(toml.read_text().replace('body = { email = "{email}", name = "{name}" }',
                                             'body = { email = "{email}", name = "{name}", plan = "{plan}" }')
                                     .replace('fields = { first_name = "name" }',
                                              'fields = { first_name = "name", last_name = "plan" }'))
    edited = Project(project.root)
    write_people(edited, [{**row, "last_name": "pro"} for row in people(2, "H")])
    report = push(edited)
    assert report.ok, report.errors
    assert [(c["name"], c["plan"]) for c in by_email(rest_emulator, "p1@example.com")] == [("H1", "pro")]
