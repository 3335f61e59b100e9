"""Column lineage: golden edges for the SQL shapes models use, and the whole path from a vendor field to a target."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.docs import lineage
from hub.docs.collect import collect
from hub.project import Project
from tests.docs.conftest import Built

GOLDEN = [
    ("SELECT id AS source_id, nullif(trim(email), '') AS email FROM raw_crm.people",
     [["m.x.email", "raw_crm.people.email"], ["m.x.source_id", "raw_crm.people.id"]]),
    # CTEs and aliases are followed to the table the value comes from
    ("WITH p AS (SELECT id, lower(mail) AS email FROM raw_a.p) SELECT q.email AS e FROM p AS q",
     [["m.x.e", "raw_a.p.mail"]]),
    # a UNION's column comes from every branch
    ("SELECT a AS v FROM s.t1 UNION ALL SELECT b FROM s.t2",
     [["m.x.v", "s.t1.a"], ["m.x.v", "s.t2.b"]]),
    # arg_max's value is its first argument; the ordering key and the FILTER only pick the row
    ("SELECT arg_max(i.name, i.updated_at) FILTER (WHERE i.ok) AS name FROM s.i AS i GROUP BY i.k",
     [["m.x.name", "s.i.name"]]),
    ("SELECT c.name AS company, coalesce(p.city, c.city) AS city FROM s.p AS p JOIN s.c AS c ON p.cid = c.id",
     [["m.x.city", "s.c.city"], ["m.x.city", "s.p.city"], ["m.x.company", "s.c.name"]]),
]


@pytest.mark.parametrize(("sql", "edges"), GOLDEN)
def test_model_edges(sql: str, edges: list[list[str]]) -> None:
    assert sorted(lineage.model_edges("m.x", sql)) == edges


def test_unparseable_sql_gives_no_edges_rather_than_an_error() -> None:
    assert lineage.model_edges("m.x", "SELECT FROM WHERE (") == []


def test_a_vendor_field_traced_to_the_target_field_and_back(built: Built, tmp_path: Path) -> None:
    project = Project(built.root)
    site = collect(project)
    cache = lineage.LineageCache(tmp_path / "cache.json")
    graph = lineage.build(site.models, site.syncs, cache)
    cache.save()
    target = "target:hubspot.contacts.firstname"
    assert set(graph.origins(target)) == {"raw_hubspot.contacts.firstname", "raw_salesforce.contact.first_name"}
    assert "canonical.person.first_name" in graph.upstream(target)
    assert target in graph.ends("raw_salesforce.contact.first_name")
    # a second build reads every model's edges from the cache: same graph, nothing parsed
    again = lineage.LineageCache(tmp_path / "cache.json")
    assert again.entries == cache.entries
    rebuilt = lineage.build(site.models, site.syncs, again)
    assert not again.dirty and rebuilt.parents == graph.parents
    page = (built.site / "model-canonical.person.html").read_text()
    assert "raw_hubspot.contacts.firstname" in page and "hubspot.contacts.firstname" in page
