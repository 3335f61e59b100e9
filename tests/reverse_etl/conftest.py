"""Fixtures for reverse-ETL tests: projects whose syncs point at the sandbox, and hand-made canonical tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from hub.project import Project
from tests.conftest import sandbox_project

PERSON_COLUMNS = ("person_id", "email", "first_name", "last_name", "phone", "company_name", "source_count",
                  "first_seen_at", "updated_at")
TO_HUBSPOT = """
[syncs.person_to_hubspot]
model = "canonical.person"
to = "hubspot"
object = "contacts"
mode = "{mode}"
match = {{ email = "email" }}
fields = {{ first_name = "firstname", last_name = "lastname", phone = "phone" }}
"""
TO_SALESFORCE = """
[syncs.person_to_salesforce]
model = "canonical.person"
to = "salesforce"
object = "Contact"
mode = "{mode}"
match = {{ email = "Email" }}
fields = {{ first_name = "FirstName", last_name = "LastName", phone = "Phone" }}
"""
NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def sandbox_syncs(make_project: Callable[..., Path]) -> Callable[..., Project]:
    """A project on a sandbox with the given [syncs.*] text."""

    def make(sb: Any, syncs: str, name: str = "proj") -> Project:
        return Project(sandbox_project(make_project, sb, name=name, extra=syncs))

    return make


@pytest.fixture
def quiet_sandbox() -> Iterator[Any]:
    """An unlimited sandbox of the test's own with only a few seeded people."""
    from hub.sandbox import Sandbox

    with Sandbox(seed=3, people=20, hubspot_rate_limit=None) as sb:
        yield sb


def person(pid: int | str, email: str | None, first: str | None = "Ann", last: str | None = "Lee",
           phone: str | None = None) -> dict[str, Any]:
    """One canonical.person row."""
    return {"person_id": str(pid), "email": email, "first_name": first, "last_name": last, "phone": phone,
            "company_name": None, "source_count": 1, "first_seen_at": NOW, "updated_at": NOW}


def write_people(project: Project, people: Sequence[dict[str, Any]],
                 sources: Sequence[tuple[str, str, str, str]] = ()) -> None:
    """Replace canonical.person (and canonical.person_source: person_id, connection, stream, source_id)."""
    import pyarrow as pa

    with project.warehouse() as wh:
        con = wh.connect()
        con.execute("CREATE SCHEMA IF NOT EXISTS canonical")
        con.execute("CREATE OR REPLACE TABLE canonical.person (person_id VARCHAR, email VARCHAR, first_name VARCHAR, "
                    "last_name VARCHAR, phone VARCHAR, company_name VARCHAR, source_count INTEGER, "
                    "first_seen_at TIMESTAMPTZ, updated_at TIMESTAMPTZ)")
        if people:
            con.register("people", pa.Table.from_pylist([{c: p.get(c) for c in PERSON_COLUMNS} for p in people]))
            con.execute("INSERT INTO canonical.person SELECT * FROM people")
            con.unregister("people")
        con.execute("CREATE OR REPLACE TABLE canonical.person_source (person_id VARCHAR, connection VARCHAR, "
                    "stream VARCHAR, source_id VARCHAR, source_updated_at TIMESTAMPTZ)")
        for pid, connection, stream, source_id in sources:
            con.execute("INSERT INTO canonical.person_source VALUES (?, ?, ?, ?, ?)",
                        [pid, connection, stream, source_id, NOW])
