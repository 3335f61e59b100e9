"""``exclude``: a sync leaves out the rows whose key another model lists, as ``where`` would (against the sandbox's
HubSpot over real HTTP): a listed row is never created, it goes out once it leaves the list; a bad ``exclude`` stops
before any write, with its hub.toml line and a did-you-mean."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.errors import ConfigError, UnknownNameError
from hub.project import Project
from hub.reverse_etl import config, push
from hub.sandbox import Sandbox
from tests.reverse_etl.helpers import hs_contact, hs_writes


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=4, people=20, only=["hubspot"], hubspot_rate_limit=None) as box:
        yield box


def project(make_project: Callable[..., Path], sb: Any, exclude: str = "t.skipped") -> Project:
    root = make_project(f"""
        [connections.crm]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"

        [syncs.people_to_crm]
        model = "t.people"
        key = "person_id"
        to = "crm"
        object = "contacts"
        match = {{ email = "email" }}
        fields = {{ first_name = "firstname" }}
        where = "email IS NOT NULL"
        exclude = "{exclude}"
        """, f"""
        [connections.crm]
        token = "{sb.hubspot.token}"
        """)
    return Project(root)


def fill(p: Project, skipped: list[str]) -> None:
    with p.warehouse() as wh:
        wh.execute("CREATE SCHEMA IF NOT EXISTS t")
        wh.execute("CREATE OR REPLACE TABLE t.people AS SELECT * FROM (VALUES "
                   "('1', 'ann@exclude.example', 'Ann'), ('2', 'bo@exclude.example', 'Bo')) "
                   "AS v(person_id, email, first_name)")
        wh.execute("CREATE OR REPLACE TABLE t.skipped (person_id VARCHAR, why VARCHAR)")
        wh.execute("INSERT INTO t.skipped VALUES (NULL, 'a NULL key excludes nothing')")
        for key in skipped:
            wh.execute("INSERT INTO t.skipped VALUES (?, 'listed')", [key])


def test_listed_rows_are_left_out_until_they_leave_the_list(make_project, sb):
    p = project(make_project, sb)
    fill(p, ["2"])
    report = push(p)
    assert report.ok, report.errors
    assert [(r.creates, r.updates) for r in report.results] == [(1, 0)]
    assert hs_contact(sb, "ann@exclude.example")["properties"]["firstname"] == "Ann"
    assert hs_contact(sb, "bo@exclude.example") is None

    fill(p, [])
    again = push(p)
    assert [(r.creates, r.updates, r.unchanged) for r in again.results] == [(1, 0, 1)]
    assert hs_contact(sb, "bo@exclude.example")["properties"]["firstname"] == "Bo"


@pytest.mark.parametrize(("exclude", "error", "says"), [
    ("skipped", ConfigError, "exclude 'skipped' must be schema.table"),
    ("t.skiped", UnknownNameError, "did you mean 't.skipped'"),
    ("t.people_ids", ConfigError, "t.people_ids has no column person_id (the key of t.people)"),
])
def test_a_bad_exclude_stops_before_any_write(make_project, sb, exclude, error, says):
    p = project(make_project, sb, exclude)
    fill(p, [])
    with p.warehouse() as wh:
        wh.execute("CREATE OR REPLACE TABLE t.people_ids AS SELECT person_id AS id FROM t.people")
    sb.hubspot.requests.reset()
    with pytest.raises(error) as caught:
        config.load(p) if exclude == "skipped" else push(p)
    assert says in str(caught.value)
    assert "hub.toml:" in str(caught.value)
    assert hs_writes(sb) == 0 and hs_contact(sb, "ann@exclude.example") is None
