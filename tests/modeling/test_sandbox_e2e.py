"""End to end over the sandbox: ingest both CRMs over loopback HTTP, build, check against the seed's ground truth."""

from __future__ import annotations

import itertools

from hub.modeling import build, render_summary
from hub.project import Project
from tests.conftest import sandbox_project


def truth(sb) -> dict[tuple[str, str], int]:
    """(connection, source id) -> the seed's person key: both stores load their seed rows in order."""
    contacts = sb.hubspot.store.tables["contacts"]
    out = {("hubspot", contacts.objects[oid].sid): row.person
           for oid, row in zip(contacts.order, sb.data.contacts["marketing"], strict=True)}
    for record, row in zip(sb.salesforce.store.records("Contact"), sb.data.contacts["sales"],
                           strict=True):
        out[("salesforce", record["Id"])] = row.person
    return out


def pairwise(predicted: dict, actual: dict) -> tuple[float, float]:
    """Precision and recall over pairs of records said to be the same person."""
    tp = fp = fn = 0
    for a, b in itertools.combinations(sorted(predicted), 2):
        same, really = predicted[a] == predicted[b], actual[a] == actual[b]
        tp, fp, fn = tp + (same and really), fp + (same and not really), fn + (really and not same)
    return tp / (tp + fp), tp / (tp + fn)


def person_ids(project: Project) -> dict[tuple[str, str], int]:
    rows = project.query("SELECT connection, source_id, person_id FROM canonical.person_source").rows
    return {(c, s): p for c, s, p in rows}


def test_sandbox_people_resolve_to_the_true_persons(sandbox, make_project):
    project = Project(sandbox_project(make_project, sandbox))
    assert project.ingest().ok
    report = build(project)
    assert report.ok, report.errors
    got = person_ids(project)
    precision, recall = pairwise(got, truth(sandbox))
    assert precision >= 0.99, precision
    assert recall >= 0.9, recall
    summary = render_summary(report)
    assert f"{len(got)} person records -> {report.person.entities} persons" in summary
    assert report.person.merged_examples and report.company.entities < report.company.records
    # Deleted Salesforce contacts and archived HubSpot contacts are not persons.
    deleted = sum(r.deleted for r in sandbox.data.contacts["marketing"] + sandbox.data.contacts["sales"])
    assert len(got) == len(sandbox.data.contacts["marketing"]) + len(sandbox.data.contacts["sales"]) - deleted
    again = build(project)
    assert again.person.changed_records == 0 and person_ids(project) == got


def test_an_edit_at_the_source_flows_through_incrementally(fresh_sandbox, make_project):
    project = Project(sandbox_project(make_project, fresh_sandbox, name="edits"))
    assert project.ingest().ok and build(project).ok
    before = person_ids(project)
    # Two people known only from one HubSpot contact each, told apart until one takes the other's email at the source.
    store = fresh_sandbox.hubspot.store
    rows = project.query("""SELECT source_id, email FROM canonical.person_source
                            WHERE connection = 'hubspot' AND email_is_valid
                              AND person_id IN (SELECT person_id FROM canonical.person WHERE source_count = 1)
                            ORDER BY source_id LIMIT 2""").rows
    (keep, email), (moved, _) = rows
    store.update("contacts", moved, {"email": email.upper()})
    assert project.ingest(["hubspot.contacts"]).ok
    report = build(project)
    assert report.ok, report.errors
    assert report.person.changed_records == 1 and report.person.merges == 1
    after = person_ids(project)
    assert after[("hubspot", moved)] == after[("hubspot", keep)] == min(before[("hubspot", moved)],
                                                                        before[("hubspot", keep)])
    unaffected = {k: v for k, v in before.items() if v not in (before[("hubspot", moved)], before[("hubspot", keep)])}
    assert {k: after[k] for k in unaffected} == unaffected
    person = next(r for r in report.results if r.name == "canonical.person")
    assert person.mode == "incremental"
