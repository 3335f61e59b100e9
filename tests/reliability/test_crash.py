"""Crash safety: ``kill -9`` of ``hub ingest``, ``hub build`` or ``hub push`` at a dangerous moment, then a rerun,
ends where an uninterrupted run ends.

The kill is placed deterministically by a failpoint (:mod:`hub.failpoints`): the real CLI runs in a subprocess with
``HUB_FAILPOINTS`` set and SIGKILLs itself there. Each case then reruns the command without the failpoint and compares
the end state with a reference project run cleanly against a second sandbox of the same seed:

- raw and canonical tables by content. Person and company ids are compared as they are: identity mints them in a fixed
  order from the same records, so a crash that lost or replayed a resolution would show up as different ids.
- ``_hub`` cursors and sync state (target ids aside: each sandbox mints its own).
- the CRMs' contacts by content, read through their APIs: a record created twice shows up as an extra row, and the
  emails shared by several records must be exactly those the clean run leaves shared (the seed has a few).

Between a build's crash and its rerun, every model that is visible must already equal the clean build's: absent is
fine, partial never.
"""

from __future__ import annotations

import collections
import shutil
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hub.project import Project
from hub.sandbox import Sandbox
from tests.conftest import run_hub
from tests.reliability.compare import (
    demo_project,
    hubspot_contacts,
    salesforce_contacts,
    target_records,
    warehouse_tables,
)

SEED, PEOPLE = 31, 150   # enough for two HubSpot upsert batches, and Salesforce creates and updates
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
RAW = ("raw_hubspot", "raw_salesforce")
CURSORS = "SELECT connection, stream, cursor_value FROM _hub.cursors ORDER BY 1, 2"
SYNC_STATE = ("SELECT sync, key, row_hash, pushed, target_id IS NOT NULL FROM _hub.sync_state ORDER BY 1, 2")


@dataclass
class Reference:
    """The end state of an uninterrupted ingest, build and push."""

    raw: dict[str, list[tuple[Any, ...]]]
    cursors: list[tuple[Any, ...]]
    tables: dict[str, list[tuple[Any, ...]]]
    materialized: list[str]             # models in the order `build.materialize` meets them
    sync_state: list[tuple[Any, ...]]
    targets: dict[str, list[tuple[Any, ...]]]
    shared_emails: dict[str, set[str]]


def sandbox() -> Sandbox:
    return Sandbox(seed=SEED, people=PEOPLE, hubspot_rate_limit=None, now=NOW)


def shared_emails(sb: Sandbox) -> dict[str, set[str]]:
    """Per CRM, the lower-cased emails held by more than one contact."""
    out = {}
    for name, read in (("hubspot", hubspot_contacts), ("salesforce", salesforce_contacts)):
        counts = collections.Counter((r["email"] or "").lower() for r in read(sb) if r["email"])
        out[name] = {email for email, n in counts.items() if n > 1}
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    with sandbox() as sb:
        project = demo_project(tmp_path_factory.mktemp("crash") / "reference", sb)
        assert project.ingest().ok
        raw, cursors = warehouse_tables(project, RAW), project.query(CURSORS).rows
        built = project.build()
        assert built.ok, built.errors
        tables = warehouse_tables(project)
        pushed = project.push()
        assert pushed.ok, pushed.errors
        assert all(r.creates and r.updates for r in pushed.results), "the push must create and update in both CRMs"
        return Reference(raw, cursors, tables, [r.name for r in built.results
                                                    if r.mode != "identity" and r.status != "skipped"],
                         project.query(SYNC_STATE).rows, target_records(sb), shared_emails(sb))


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[tuple[Sandbox, Project]]:
    """A sandbox of the reference's seed and a project of its own pointed at it."""
    with sandbox() as sb:
        yield sb, demo_project(tmp_path / "proj", sb)


def hub(project: Project, *args: str, failpoint: str = "") -> int:
    """Run the real CLI on ``project``; returns its exit code (negative: the signal that ended it)."""
    done = run_hub("-C", str(project.root), *args, env={"HUB_FAILPOINTS": failpoint})
    if done.returncode not in (0, -signal.SIGKILL):
        pytest.fail(f"hub {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.returncode


def crash_then_rerun(project: Project, command: str, failpoint: str) -> None:
    assert hub(project, command, failpoint=failpoint) == -signal.SIGKILL, f"{failpoint} was never reached"
    shown = orjson.loads(run_hub("-C", str(project.root), "runs", "--json").stdout)[0]
    assert (shown["command"], shown["status"]) == (command, "interrupted"), shown   # its process is gone
    assert hub(project, command) == 0
    runs = project.query("SELECT status, error FROM _hub.runs ORDER BY started_at DESC LIMIT 2").rows
    assert [status for status, _ in runs] == ["success", "interrupted"]              # recorded by the rerun
    assert f"(pid {shown['pid']}) ended before it finished" in runs[1][1]


@pytest.mark.parametrize("failpoint", [
    "ingest.extracted@1",           # dlt extracting HubSpot contacts: a half-written package, nothing committed
    "ingest.extracted@3",           # HubSpot committed with cursors; dlt extracting Salesforce Contact
    "ingest.loaded@1",              # HubSpot's load committed, its cursors not saved
    "ingest.between_connections@1",  # HubSpot done with cursors, Salesforce not started
])
def test_ingest_killed_then_rerun_lands_every_record_once(crm: tuple[Sandbox, Project], reference: Reference,
                                                          failpoint: str):
    _, project = crm
    crash_then_rerun(project, "ingest", failpoint)
    assert warehouse_tables(project, RAW) == reference.raw
    assert project.query(CURSORS).rows == reference.cursors


@pytest.mark.parametrize("failpoint", [
    "build.identity@1",              # company map committed, canonical.company not built
    "build.identity@2",              # person map committed, canonical.person not built
    "build.materialize:canonical.company",
    "build.materialize:canonical.person",   # the new table exists in the open transaction
])
def test_build_killed_shows_no_partial_model_and_rerun_completes(crm: tuple[Sandbox, Project],
                                                                 reference: Reference, failpoint: str):
    _, project = crm
    assert project.ingest().ok
    name, _, model = failpoint.partition(":")
    if model:   # the Nth model materialized, in the (deterministic) build order
        name = f"{name}@{reference.materialized.index(model) + 1}"
    assert hub(project, "build", failpoint=name) == -signal.SIGKILL, f"{name} was never reached"

    visible = warehouse_tables(project, ("canonical",))
    if model:
        assert model not in visible, f"{model} is visible though its build never committed"
    for table, rows in visible.items():
        assert rows == reference.tables[table], f"{table} is visible but not as a finished build leaves it"

    assert hub(project, "build") == 0
    assert warehouse_tables(project) == reference.tables


@pytest.mark.parametrize("failpoint", [
    "build.identity@2",                      # the person map took the edit; canonical.person did not yet
    "build.materialize:canonical.person",    # canonical.person's new rows exist in the open transaction
])
def test_rebuild_killed_keeps_the_previous_model(crm: tuple[Sandbox, Project], reference: Reference,
                                                 tmp_path: Path, failpoint: str):
    sb, project = crm
    assert project.ingest().ok
    assert project.build().ok
    old = warehouse_tables(project, ("canonical",))
    # an edit in HubSpot that the next build of canonical.person must show
    contact = hubspot_contacts(sb)[0]
    httpx.patch(f"{sb.hubspot.url}/crm/v3/objects/contacts/{contact['id']}",
                headers={"Authorization": f"Bearer {sb.hubspot.token}"},
                json={"properties": {"firstname": "Crashtest"}}).raise_for_status()
    assert project.ingest().ok
    # what a clean rebuild from this very warehouse gives: built on a copy of the project
    shutil.copytree(project.root, tmp_path / "clean")
    clean = Project(tmp_path / "clean")
    assert clean.build().ok
    rebuilt = warehouse_tables(clean, ("canonical",))
    assert rebuilt["canonical.person"] != old["canonical.person"], "the edit changed nothing: the case tests nothing"

    name, _, model = failpoint.partition(":")
    point = f"{name}@{reference.materialized.index(model) + 1}" if model else name
    assert hub(project, "build", failpoint=point) == -signal.SIGKILL
    assert warehouse_tables(project, ("canonical",))["canonical.person"] == old["canonical.person"]

    assert hub(project, "build") == 0
    assert warehouse_tables(project, ("canonical",)) == rebuilt


@pytest.mark.parametrize("failpoint, unknown_records", [
    ("push.sent.upsert@1", "hubspot"),     # HubSpot created/updated a batch; _hub has no acknowledgement
    ("push.sent.create@1", "salesforce"),  # Salesforce created a batch (no idempotent upsert by Email)
    ("push.sent.update@1", None),
    ("push.sync_done@1", None),            # person_to_hubspot acknowledged, person_to_salesforce not started
])
def test_push_killed_then_rerun_creates_nothing_twice(crm: tuple[Sandbox, Project], reference: Reference,
                                                      failpoint: str, unknown_records: str | None):
    sb, project = crm
    assert project.ingest().ok
    assert project.build().ok
    before = {"hubspot": {r["id"] for r in hubspot_contacts(sb)},
              "salesforce": {r["id"] for r in salesforce_contacts(sb)}}

    assert hub(project, "push", failpoint=failpoint) == -signal.SIGKILL, f"{failpoint} was never reached"
    if unknown_records:  # the dangerous case did happen: records the target created and hub never heard of
        read = hubspot_contacts if unknown_records == "hubspot" else salesforce_contacts
        known = {r[0] for r in project.query("SELECT target_id FROM _hub.sync_state").rows} \
            if project.query("SELECT 1 FROM information_schema.tables WHERE table_schema = '_hub' "
                             "AND table_name = 'sync_state'").rows else set()
        created = {r["id"] for r in read(sb)} - before[unknown_records]
        assert created - known, "the crash left no unacknowledged created record: the case tests nothing"

    assert hub(project, "push") == 0
    assert shared_emails(sb) == reference.shared_emails, "a contact was created twice"
    assert target_records(sb) == reference.targets
    assert project.query(SYNC_STATE).rows == reference.sync_state
