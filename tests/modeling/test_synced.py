"""``_hub.synced`` and the two-way functions, through a real `hub build` of a project model on DuckDB and on
PostgreSQL (where the functions are inlined): each field of a pair of records is decided by which side edited it
since the hub last synced it, not by which record moved last."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from hub.modeling import build
from hub.project import Project
from tests.pg import PgServer

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
INGESTED = T0 + timedelta(hours=1)   # both CRMs' last ingest started then

HUB_TOML = """
[connections.left]
type = "hubspot"

[connections.right]
type = "salesforce"
base_url = "https://example.my.salesforce.com"

[syncs.pairs_to_left]
model = "T.Pair"
to = "left"
object = "deals"
match = { pair_id = "hub_deal_id" }
fields = { name = "dealname", amount = "amount" }

[syncs.pairs_to_right]
model = "t.pair"
to = "right"
object = "Opportunity"
match = { pair_id = "Hub_Deal_Id__c" }
fields = { name = "Name", amount = "Amount" }
"""

# One row per pair: each field from the side that edited it (the later edit when both did); else the right side's
# value stands (standing 0); a side whose ingest predates the hub's last write holds what the hub wrote.
MODEL = """-- materialized: table
SELECT pair_id,
    arg_max_null(_hub.held(s.fresh, r.name, s.synced->>'name'), _hub.two_way_key(
        _hub.edited(s.fresh, r.name, s.synced->>'name'), r.standing, r.updated_at, r.connection)) AS name,
    arg_max_null(_hub.held(s.fresh, r.amount, try_cast(s.synced->>'amount' AS DOUBLE)), _hub.two_way_key(
        _hub.edited(s.fresh, r.amount, try_cast(s.synced->>'amount' AS DOUBLE)), r.standing, r.updated_at,
        r.connection)) AS amount
FROM t.records AS r
LEFT JOIN _hub.synced AS s ON s.model = 't.pair' AND s.connection = r.connection AND s.key = r.pair_id
GROUP BY pair_id
"""

# (pair, connection, name, amount, record updated_at) as each CRM holds it now
RECORDS = [
    # name edited on the right, amount on the left (later): both edits stand
    ("split", "right", "Renamed", 10.0, T0 + timedelta(minutes=1)),
    ("split", "left", "Old", 25.0, T0 + timedelta(minutes=2)),
    # the name edited on both sides: the later edit wins, here the right's
    ("both", "left", "Left's", 10.0, T0 + timedelta(minutes=1)),
    ("both", "right", "Right's", 10.0, T0 + timedelta(minutes=3)),
    # the left's ingest predates the hub's last write there (it still shows the old name): not an edit
    ("stale", "left", "Before", 10.0, T0 + timedelta(minutes=5)),
    ("stale", "right", "Written", 10.0, T0),
    # the sides differ and neither edited since the last sync (a write that was refused): the right stands
    ("neither", "left", "L", 10.0, T0 + timedelta(minutes=9)),
    ("neither", "right", "R", 10.0, T0),
    # a record never synced, alone: itself
    ("new", "left", "Fresh deal", 5.0, T0),
]
# (sync, key, what the hub last synced there, when)
SYNCED = [
    *((s, "split", {"pair_id": "split", "name": "Old", "amount": "10"}, T0) for s in ("pairs_to_left",
                                                                                      "pairs_to_right")),
    *((s, "both", {"pair_id": "both", "name": "Old", "amount": "10"}, T0) for s in ("pairs_to_left",
                                                                                    "pairs_to_right")),
    ("pairs_to_left", "stale", {"pair_id": "stale", "name": "Written", "amount": "10"}, INGESTED + timedelta(1)),
    ("pairs_to_right", "stale", {"pair_id": "stale", "name": "Written", "amount": "10"}, T0),
    ("pairs_to_left", "neither", {"pair_id": "neither", "name": "L", "amount": "10"}, T0),
    ("pairs_to_right", "neither", {"pair_id": "neither", "name": "R", "amount": "10"}, T0),
    ("gone_sync", "split", {"name": "a sync no longer in hub.toml"}, T0),
]


@pytest.fixture(params=["duckdb", "postgres"])
def engine_toml(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """hub.toml and secrets.toml of a project on each engine (PostgreSQL: a fresh database of tests/pg.py's)."""
    if request.param == "duckdb":
        return HUB_TOML, None
    server: PgServer = request.getfixturevalue("pg_server")
    return (f'[warehouse]\ntype = "postgres"\ndsn = "{server.dsn(server.new_database())}"\n{HUB_TOML}',
            f'[warehouse]\npassword = "{server.password}"\n')


def test_each_field_goes_to_the_side_that_edited_it(make_project: Callable[..., Path],
                                                    engine_toml: tuple[str, str | None]) -> None:
    root = make_project(*engine_toml)
    (root / "models" / "t").mkdir(parents=True)
    (root / "models" / "t" / "pair.sql").write_text(MODEL)
    project = Project(root)
    with project.warehouse() as wh:
        wh.execute("CREATE SCHEMA t")
        wh.execute("CREATE TABLE t.records (pair_id VARCHAR, connection VARCHAR, name VARCHAR, amount DOUBLE, "
                   "updated_at TIMESTAMPTZ, standing INTEGER)")
        for pair, connection, name, amount, at in RECORDS:
            wh.execute("INSERT INTO t.records VALUES (?, ?, ?, ?, ?, ?)",
                       [pair, connection, name, amount, at, 0 if connection == "right" else 1])
        from hub.reverse_etl import state
        from hub.warehouse.bookkeeping import Bookkeeping

        state.ensure(wh)
        Bookkeeping(wh).ensure()
        for sync, key, pushed, at in SYNCED:
            wh.execute("INSERT INTO _hub.sync_state VALUES (?, ?, 'id', 'h', ?, ?)",
                       [sync, key, orjson.dumps(pushed).decode(), at])
        for target in ("left.deals", "right.Opportunity"):
            wh.execute("INSERT INTO _hub.run_steps VALUES ('r1', 'ingest', ?, ?, ?, 'success', 0, 0, NULL, NULL)",
                       [target, INGESTED, INGESTED])
    report = build(project, ["t.pair"])
    assert report.ok, report.errors
    got = {r[0]: (r[1], r[2]) for r in project.query("SELECT pair_id, name, amount FROM t.pair").rows}
    assert got == {"split": ("Renamed", 25.0), "both": ("Right's", 10.0), "stale": ("Written", 10.0),
                   "neither": ("R", 10.0), "new": ("Fresh deal", 5.0)}
    fresh = dict(project.query("SELECT connection, bool_and(fresh) FROM _hub.synced WHERE key = 'stale' "
                               "GROUP BY 1").rows)
    assert fresh == {"left": False, "right": True}
    assert project.query("SELECT count(*) FROM _hub.synced WHERE sync = 'gone_sync'").scalar() == 0


def test_a_project_that_never_pushed_builds_against_an_empty_view(make_project: Callable[..., Path]) -> None:
    root = make_project(HUB_TOML)
    (root / "models" / "t").mkdir(parents=True)
    (root / "models" / "t" / "pair.sql").write_text(MODEL)
    project = Project(root)
    with project.warehouse() as wh:
        wh.execute("CREATE SCHEMA t")
        wh.execute("CREATE TABLE t.records AS SELECT 'new' AS pair_id, 'left' AS connection, 'Deal' AS name, "
                   "1.0::DOUBLE AS amount, now() AS updated_at, 1 AS standing")
    report = build(project)
    assert report.ok, report.errors
    assert project.query("SELECT pair_id, name, amount FROM t.pair").rows == [("new", "Deal", 1.0)]
