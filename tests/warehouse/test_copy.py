"""`hub warehouse copy --to postgres`: a DuckDB project (ingested, built and pushed over the sandbox) moves into a real
PostgreSQL, then carries on there: the next ingest continues from the copied cursors, person ids are the same, the
sync state is the same row for row (so nothing is pushed again), and the DuckDB file is left as it was.
Bad input is one line, exit 2, and nothing written.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hub.modeling import build
from hub.project import Project
from hub.reverse_etl import push
from tests.conftest import run_hub, sandbox_project
from tests.pg import PgServer
from tests.reverse_etl.conftest import TO_HUBSPOT, TO_SALESFORCE
from tests.reverse_etl.helpers import hs_writes, reset, sf_writes

SYNCS = (TO_HUBSPOT.format(mode="upsert") + 'where = "email_is_valid"\n'
         + TO_SALESFORCE.format(mode="upsert") + 'where = "email_is_valid AND last_name IS NOT NULL"\n')
PEOPLE = "SELECT connection, source_id, person_id FROM canonical.person_source ORDER BY 1, 2"
SYNC_STATE = "SELECT sync, key, target_id, row_hash, pushed FROM _hub.sync_state ORDER BY 1, 2"
CURSORS = "SELECT connection, stream, cursor_value FROM _hub.cursors ORDER BY 1, 2"


def duckdb_project(make_project, sb) -> Path:
    """A DuckDB project on the sandbox, ingested, built with the real models, pushed both ways and ingested again."""
    root = sandbox_project(make_project, sb, extra=SYNCS)
    project = Project(root)
    assert project.ingest().ok
    built = build(project)
    assert built.ok, built.errors
    pushed = push(project)
    assert pushed.ok and all(r.creates + r.updates > 0 for r in pushed.results), pushed.errors
    assert project.ingest().ok   # reads back what the push wrote: the cursors now stand past it
    return root


def switch_to_postgres(root: Path, server: PgServer, database: str) -> None:
    """What the user does before copying: [warehouse] becomes postgres, the password goes to secrets.toml."""
    toml = root / "hub.toml"
    toml.write_text(f'[warehouse]\ntype = "postgres"\ndsn = "{server.dsn(database)}"\n' + toml.read_text())
    secrets = root / "secrets.toml"
    secrets.write_text(f'[warehouse]\npassword = "{server.password}"\n\n' + secrets.read_text())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_duckdb_project_moves_whole_and_carries_on_in_postgres(make_project, fresh_sandbox, pg_server,
                                                                 pg_database):
    sb = fresh_sandbox
    root = duckdb_project(make_project, sb)
    before = Project(root)
    people, sync_state, cursors = (before.query(sql).rows for sql in (PEOPLE, SYNC_STATE, CURSORS))
    runs = before.query("SELECT run_id, command, status FROM _hub.runs ORDER BY started_at, run_id").rows
    contacts = before.query("SELECT count(*) FROM raw_hubspot.contacts").scalar()
    assert len(people) > 100 and len(sync_state) > 100 and cursors
    duck_file = root / "warehouse.duckdb"
    duck_digest = digest(duck_file)

    switch_to_postgres(root, pg_server, pg_database)
    done = run_hub("warehouse", "copy", "--to", "postgres", cwd=root)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"-> {pg_server.dsn(pg_database)} in one transaction" in out
    assert "every count verified" in out and "DIFFERS" not in out
    for table in ("_hub.sync_state", "_hub.person_ids", "_hub.cursors", "_hub.runs", "raw_hubspot._dlt_version",
                  "raw_hubspot.contacts", "canonical.person"):
        assert f"  {table} " in out, table
    assert "views: 16 of 16 recreated" in out
    # the rows in sync got PostgreSQL's hashes in the same transaction (tests/warehouse/test_copy_resend.py)
    assert "row(s) in sync re-stamped with PostgreSQL's row hashes" in out and "not re-stamped" not in out, out
    assert pg_server.password not in out + done.stderr
    assert digest(duck_file) == duck_digest   # only read

    after = Project(root)
    assert after.config.warehouse.type == "postgres"
    assert after.query(SYNC_STATE).rows == sync_state
    assert after.query(CURSORS).rows == cursors
    assert after.query("SELECT run_id, command, status FROM _hub.runs ORDER BY started_at, run_id").rows == runs
    # types moved with the values: hub's record hashes are unsigned 64-bit in DuckDB, NUMERIC(20) here
    assert after.query("SELECT data_type FROM information_schema.columns WHERE table_schema = '_hub' AND "
                       "table_name = 'person_identity' AND column_name = 'record_hash'").scalar() == "numeric"
    assert after.query("SELECT count(*) FROM information_schema.table_constraints WHERE table_schema = '_hub' "
                       "AND table_name = 'sync_state' AND constraint_type = 'PRIMARY KEY'").scalar() == 1

    # the same person ids, read by the CLI through the recreated view
    shown = run_hub("query", "--format", "json", PEOPLE, cwd=root)
    assert shown.returncode == 0, shown.stderr
    assert [(r["connection"], r["source_id"], r["person_id"]) for r in json.loads(shown.stdout)] == \
        [tuple(p) for p in people]

    # right after the copy a push finds nothing to send: the sync state is the DuckDB one
    reset(sb)
    pushed = run_hub("push", cwd=root)
    assert pushed.returncode == 0, pushed.stderr
    assert hs_writes(sb) == 0 and sf_writes(sb) == 0, pushed.stdout

    # the next ingest is incremental from the copied cursors: one edited contact, not a full reload
    edited = sb.hubspot.store.ids("contacts")[0]
    sb.hubspot.store.update("contacts", edited, {"phone": "+1 212 555 0142"})
    sb.clock.advance(5)
    ingest = run_hub("ingest", cwd=root)
    assert ingest.returncode == 0, ingest.stderr
    modes = {target: (mode, rows) for target, mode, rows in after.query(
        "SELECT target, detail, rows_out FROM _hub.run_steps WHERE step = 'ingest' AND run_id = (SELECT run_id "
        "FROM _hub.runs ORDER BY started_at DESC LIMIT 1)").rows}
    # (HubSpot's search re-reads a window behind the cursor: DuckDB reads the same 40-odd rows at this point)
    assert modes["hubspot.contacts"][0] == "incremental" and 1 <= modes["hubspot.contacts"][1] < contacts, modes
    assert {t: m for t, m in modes.items() if t != "hubspot.contacts"} == {
        "hubspot.companies": ("incremental", 0), "salesforce.Contact": ("incremental", 0),
        "salesforce.Account": ("incremental", 0)}
    assert after.query(f"SELECT phone FROM raw_hubspot.contacts WHERE id = '{edited}'").scalar() == \
        "+1 212 555 0142"
    assert after.query("SELECT count(*), count(DISTINCT id) FROM raw_hubspot.contacts").rows == [(contacts,) * 2]
    assert [r[1:] for r in after.query("SELECT run_id, command, status FROM _hub.runs ORDER BY started_at, "
                                       "run_id").rows] == [r[1:] for r in runs] + [("push", "success"),
                                                                                    ("ingest", "success")]
    status = run_hub("status", cwd=root)
    assert status.returncode == 0 and f"warehouse: {pg_server.dsn(pg_database)}" in status.stdout, status.stderr

    # a build on postgres keeps every person's id (the identity map moved with its ids)
    built = run_hub("build", cwd=root)
    assert built.returncode == 0, built.stderr
    now = {(c, s): pid for c, s, pid in after.query(PEOPLE).rows}
    assert {(c, s): now.get((c, s)) for c, s, _ in people} == {(c, s): pid for c, s, pid in people}
    # the contacts the first push created in HubSpot came back by ingest and joined the person they were made for
    assert len(now) > len(people) and set(now.values()) == {pid for _, _, pid in people}
    # the push after it sends the one edited person to each side, and nothing else
    pushed = run_hub("push", cwd=root)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.count("created 0, updated 1;") == 2, pushed.stdout
    changed = {(sync, key) for sync, key, *_ in after.query(SYNC_STATE).rows} ^ {(sy, k) for sy, k, *_ in sync_state}
    assert not changed   # no record became new to a sync


def test_bad_input_is_one_line_and_writes_nothing(make_project, fresh_sandbox, pg_server, pg_database):
    sb = fresh_sandbox
    root = sandbox_project(make_project, sb)
    assert Project(root).ingest().ok

    # still on duckdb: the copy says what to switch first
    done = run_hub("warehouse", "copy", "--to", "postgres", cwd=root)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: hub warehouse copy --to postgres copies into the postgres warehouse of hub.toml, "
                           "but [warehouse] is the duckdb file"), line
    assert 'type = "postgres"' in line

    switch_to_postgres(root, pg_server, pg_database)
    bad = [(["--to", "snowflake"], "Invalid value for '--to'"),
           (["--to", "postgres", "--from", "nowhere.duckdb"], "error: no DuckDB warehouse at "),
           (["--to", "postgres", "--from", "hub.toml"], "error: cannot open ")]
    for args, says in bad:
        done = run_hub("warehouse", "copy", *args, cwd=root)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert says in done.stderr, done.stderr
        assert len([x for x in done.stderr.splitlines() if x.lower().startswith("error")]) == 1
    pg = Project(root)
    assert pg.query("SELECT count(*) FROM information_schema.schemata WHERE schema_name IN ('_hub', "
                    "'raw_hubspot')").scalar() == 0

    # a wrong password: one line, the password never shown, nothing written
    wrong = "not-the-Password-31"
    done = run_hub("warehouse", "copy", "--to", "postgres", cwd=root, env={"HUB__WAREHOUSE__PASSWORD": wrong})
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "password authentication failed" in done.stderr and wrong not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1

    assert run_hub("warehouse", "copy", "--to", "postgres", cwd=root).returncode == 0
    runs = pg.query("SELECT count(*) FROM _hub.runs").scalar()
    # a target that already holds hub's tables is refused unless --replace, and left as it is
    again = run_hub("warehouse", "copy", "--to", "postgres", cwd=root)
    assert again.returncode == 2
    [line] = again.stderr.strip().splitlines()
    assert f"error: the postgres warehouse {pg_server.dsn(pg_database)} already holds " in line
    assert "pass --replace" in line
    with pg.warehouse() as wh:
        wh.execute("INSERT INTO _hub.runs (run_id, command, status, started_at) "
                   "VALUES ('extra', 'ingest', 'success', now())")
    assert pg.query("SELECT count(*) FROM _hub.runs").scalar() == runs + 1
    replaced = run_hub("warehouse", "copy", "--to", "postgres", "--replace", cwd=root)
    assert replaced.returncode == 0, replaced.stderr
    assert "replaced " in replaced.stdout
    assert pg.query("SELECT count(*) FROM _hub.runs").scalar() == runs   # the DuckDB history, exactly


@pytest.mark.parametrize("kind", ["LIST", "STRUCT", "every scalar"])
def test_column_types_round_trip(tmp_path, make_project, pg_server, pg_database, kind):
    """Values of every DuckDB type hub's tables (and users' tables) use arrive equal, NULL and '' kept apart."""
    import duckdb

    from hub.warehouse.copy import copy_to_postgres

    source = tmp_path / "w.duckdb"
    con = duckdb.connect(str(source))
    con.execute("CREATE SCHEMA raw_x")
    if kind == "LIST":
        con.execute("CREATE TABLE raw_x.t AS SELECT [1, 2] AS v UNION ALL SELECT NULL")
        expected = [([1, 2],), (None,)]
    elif kind == "STRUCT":
        con.execute("CREATE TABLE raw_x.t AS SELECT {'a': 1, 'b': 'x\"y'} AS v")
        expected = [({"a": 1, "b": 'x"y'},)]
    else:
        con.execute("""CREATE TABLE raw_x.t (id INTEGER PRIMARY KEY, s VARCHAR, e VARCHAR, n VARCHAR,
            ts TIMESTAMPTZ, d DATE, dec DECIMAL(18,2), u UBIGINT, h HUGEINT, b BOOLEAN, f DOUBLE, j JSON, bl BLOB,
            q VARCHAR NOT NULL DEFAULT 'resolved')""")
        con.execute("""INSERT INTO raw_x.t VALUES (1, 'a,"b"' || chr(10) || 'c', '', NULL,
            TIMESTAMPTZ '2025-01-02 03:04:05.123456+00', DATE '2024-02-29', 12.5, 18446744073709551615,
            170141183460469231731687303715884105727, true, 0.1, '{"k": [1, null]}', '\\x00\\xff'::BLOB, 'z')""")
        expected = None
    con.close()
    root = make_project(f'[warehouse]\ntype = "postgres"\ndsn = "{pg_server.dsn(pg_database)}"\n',
                        f'[warehouse]\npassword = "{pg_server.password}"\n')
    project = Project(root)
    report = copy_to_postgres(source, project.config.warehouse, project.warehouse_path)
    assert [(t.label, t.source_rows, t.target_rows) for t in report.tables] == [
        ("raw_x.t", len(expected) if expected else 1, len(expected) if expected else 1)]
    if expected is not None:
        assert project.query("SELECT v FROM raw_x.t ORDER BY v NULLS LAST").rows == expected
        return
    from datetime import date, datetime, timezone
    from decimal import Decimal

    row = project.query("SELECT * FROM raw_x.t").records()[0]
    assert row == {"id": 1, "s": 'a,"b"\nc', "e": "", "n": None,
                   "ts": datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc), "d": date(2024, 2, 29),
                   "dec": Decimal("12.50"), "u": Decimal(18446744073709551615),
                   "h": Decimal(170141183460469231731687303715884105727), "b": True, "f": 0.1,
                   "j": {"k": [1, None]}, "bl": b"\x00\xff", "q": "z"}
    assert project.query("SELECT column_default, is_nullable FROM information_schema.columns WHERE "
                         "table_name = 't' AND column_name = 'q'").rows == [("'resolved'::character varying", "NO")]
