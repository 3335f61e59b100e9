"""`hub warehouse copy --to postgres` pushes nothing again: the rows that were in sync in DuckDB are re-stamped with
the hashes PostgreSQL computes (each engine writes a DOUBLE 100.0 or a TIMESTAMPTZ as its own text), while a row
edited but not pushed before the copy stays pending, so the first push on PostgreSQL sends exactly that row.

The DuckDB side runs in New York time, as on a laptop, the PostgreSQL server in UTC: a TIMESTAMPTZ then reads back
as another text too (00:06:07-05:00 vs 05:06:07+00:00), so without the re-stamp every row would be re-planned and
sent again, not only skipped by the comparison with what the target last acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from hub.project import Project
from tests.conftest import run_hub
from tests.reverse_etl.helpers import hs_contact, hs_writes, reset
from tests.warehouse.test_copy import switch_to_postgres

D = "@hubtest.example"
SYNC = """
[syncs.person_to_hubspot]
model = "canonical.person"
to = "hubspot"
object = "contacts"
mode = "upsert"
match = { email = "email" }
fields = { first_name = "firstname", amount = "total_revenue", seen_at = "website" }
"""
LOCAL = {"TZ": "America/New_York"}
STATE = "SELECT key, row_hash FROM _hub.sync_state WHERE sync = 'person_to_hubspot' ORDER BY key"


@pytest.fixture
def sandbox() -> Iterator[Any]:
    from hub.sandbox import Sandbox

    with Sandbox(seed=3, people=5, hubspot_rate_limit=None) as sb:
        yield sb


def test_copy_restamps_in_sync_rows_and_the_pending_row_alone_is_pushed(make_project, sandbox, pg_server,
                                                                       pg_database):
    sb = sandbox
    root = make_project(f"""
        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"
        streams = ["contacts"]
        {SYNC}
        """, f'[connections.hubspot]\ntoken = "{sb.hubspot.token}"\n')
    project = Project(root)
    with project.warehouse() as wh, wh.transaction():
        wh.execute("CREATE SCHEMA upstream")
        wh.execute("CREATE TABLE upstream.people (id INTEGER, email VARCHAR, first_name VARCHAR, amount DOUBLE, "
                   "seen_at TIMESTAMPTZ)")
        for i in range(8):
            wh.execute("INSERT INTO upstream.people VALUES (?, ?, ?, ?, TIMESTAMPTZ '2025-03-04 05:06:07+00' + "
                       "to_days(?))", [i, f"copy{i}{D}", f"First{i}", 100.0 * (i + 1), i])
        wh.execute("CREATE SCHEMA canonical")
        wh.execute("CREATE VIEW canonical.person AS SELECT CAST(id AS VARCHAR) AS person_id, email, first_name, "
                   "amount, seen_at FROM upstream.people")
    first = run_hub("push", cwd=root, env=LOCAL)
    assert first.returncode == 0, first.stderr
    assert "created 8, updated 0;" in first.stdout, first.stdout
    sent = {i: hs_contact(sb, f"copy{i}{D}")["properties"] for i in range(8)}
    assert sent[0]["website"] == "2025-03-04T00:06:07-05:00" and sent[0]["total_revenue"] == "100"
    # one row edited upstream and one added, neither pushed: pending at the copy
    with project.warehouse() as wh:
        wh.execute("UPDATE upstream.people SET amount = 250.5 WHERE id = 3")
        wh.execute(f"INSERT INTO upstream.people VALUES (8, 'copy8{D}', 'First8', 42.0, now())")
    duck_state = dict(project.query(STATE).rows)
    assert len(duck_state) == 8

    switch_to_postgres(root, pg_server, pg_database)
    done = run_hub("warehouse", "copy", "--to", "postgres", cwd=root, env=LOCAL)
    assert done.returncode == 0, done.stderr
    assert "views: 1 of 1 recreated" in done.stdout, done.stdout
    assert "sync state: 7 row(s) in sync re-stamped with PostgreSQL's row hashes, so they are not pushed again " \
           "(person_to_hubspot 7)" in done.stdout, done.stdout

    after = Project(root)
    pg_state = dict(after.query(STATE).rows)
    # the engines' hashes differ for these rows (so without the re-stamp all 8 would go again); the pending row's
    # hash is DuckDB's still, so it differs from the model's and is pushed
    assert {k for k in pg_state if pg_state[k] != duck_state[k]} == {str(i) for i in range(8) if i != 3}
    assert pg_state["3"] == duck_state["3"]

    reset(sb)
    pushed = run_hub("push", cwd=root)
    assert pushed.returncode == 0, pushed.stderr
    assert "created 1, updated 1; 7 unchanged" in pushed.stdout, pushed.stdout
    assert hs_writes(sb) == 2   # one batch create, one batch update
    assert hs_contact(sb, f"copy8{D}")["properties"]["total_revenue"] == "42"
    now = {i: hs_contact(sb, f"copy{i}{D}")["properties"] for i in range(8)}
    assert now[3]["total_revenue"] == "250.5"
    # no other contact was written: each keeps the values (and modification date) of the DuckDB push
    assert {i: p for i, p in now.items() if i != 3} == {i: p for i, p in sent.items() if i != 3}
    # and then nothing is left to send
    reset(sb)
    again = run_hub("push", cwd=root)
    assert again.returncode == 0, again.stderr
    assert hs_writes(sb) == 0, again.stdout
    # the DuckDB file was only read: its state is as before
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        assert dict(con.execute(STATE).fetchall()) == duck_state
