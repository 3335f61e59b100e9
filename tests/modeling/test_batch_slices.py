"""Normalizing a batch in slices on worker threads changes nothing: the same map as one slice, record for record."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hub.modeling import batch, build
from hub.project import Project
from tests.modeling.conftest import HUB_TOML
from tests.modeling.raw import hubspot_contact, salesforce_contact, write

MAP = "SELECT * EXCLUDE (resolved_at) FROM _hub.person_identity ORDER BY connection, source_id"


def contacts() -> tuple[list[dict], list[dict]]:
    """People in both systems, matched on email or on phone + name (nicknames, no email), with some junk."""
    hubspot, salesforce = [], []
    for n in range(40):
        phone = f"(415) 555-{1000 + n}" if n % 5 else "call me"
        hubspot.append(hubspot_contact(f"h{n}", email=f"p{n}@acme.com" if n % 7 else None, firstname="Robert",
                                       lastname=f"Lee{n}", phone=phone))
        salesforce.append(salesforce_contact(f"s{n}", email=f" P{n}@ACME.COM " if n % 3 else None,
                                             first_name="Bob", last_name=f"Lee{n}", phone=f"+1 415 555 {1000 + n}"))
    return hubspot, salesforce


def resolved(make_project: Callable[..., Path], slice_size: int, monkeypatch) -> list[tuple]:
    monkeypatch.setattr(batch, "SLICE", slice_size)
    project = Project(make_project(HUB_TOML, name=f"slice{slice_size}"))
    hubspot, salesforce = contacts()
    with project.warehouse() as wh:
        write(wh, "hubspot", "contacts", hubspot)
        write(wh, "salesforce", "contact", salesforce)
    report = build(project)
    assert report.ok, report.errors
    with project.warehouse() as wh:
        return wh.query(MAP).rows


def test_slices_on_threads_resolve_exactly_as_one_slice(make_project, monkeypatch):
    whole = resolved(make_project, 1_000_000, monkeypatch)
    sliced = resolved(make_project, 7, monkeypatch)   # 80 records: 12 slices, more than the workers and the look-ahead
    assert len(whole) == 80
    assert sliced == whole
    assert len({row[3] for row in whole}) < 80   # records did merge: the graph saw keys from every slice
