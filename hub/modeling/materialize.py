"""Building one SQL model into the warehouse, atomically: all of it, audits included, or none of it.

Each build is one DuckDB transaction: create (or replace, or incrementally update) the relation, run the audits against
the new rows, record the model's state, commit. Any failure rolls back, so readers keep seeing the previous table.
The statement wraps the user's text on its first line (``CREATE TABLE x AS <text>``), so DuckDB's ``LINE n`` in an
error is the line of the file.

Incremental models replace rows by ``unique_key``:

- ``changes: <relation>``: the relation logs changed keys with a ``change_version``; each build deletes and rebuilds
  the keys logged since the version it last consumed (a key with no rows left is simply deleted).
- ``cursor: <column>``: rows whose cursor is past the table's highest replace their key's rows.

An incremental model is built whole the first time, whenever its SQL or its columns change, and when the change log no
longer reaches back to what it last consumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.errors import ModelError, WarehouseError
from hub.failpoints import failpoint
from hub.modeling import audits
from hub.modeling.model import Model, Position
from hub.warehouse.bookkeeping import now
from hub.warehouse.duck import Warehouse
from hub.warehouse.functions import SURVIVOR_KEY
from hub.warehouse.sql import qualified, quote

STATE_DDL = """
CREATE SCHEMA IF NOT EXISTS _hub;
CREATE TABLE IF NOT EXISTS _hub.model_state (model VARCHAR NOT NULL, fingerprint VARCHAR, materialized VARCHAR,
    changes VARCHAR, change_version BIGINT, built_at TIMESTAMPTZ);
"""
_LINE = re.compile(r"LINE (\d+):")


@dataclass
class Outcome:
    """What a build did: total rows (None for a view), rows written, and whether it was whole or incremental."""

    rows: int | None
    written: int | None
    mode: str                  # full | incremental | view


def ensure_state(wh: Warehouse) -> None:
    """The ``_hub`` tables and SQL helpers models rely on."""
    reset_if_reshaped(wh, "_hub", "model_state", ("model", "fingerprint", "materialized", "changes", "change_version",
                                                  "built_at"))
    wh.execute(STATE_DDL)
    wh.execute(SURVIVOR_KEY)


def reset_if_reshaped(wh: Warehouse, schema: str, table: str, columns: tuple[str, ...]) -> None:
    """Drop a state table written by an older hub with other columns. It only remembers what was built from what,
    so the cost of forgetting is one whole rebuild (identity keeps its ids: they live in the map, not here)."""
    have = tuple(r[0] for r in wh.query("SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                                        "AND table_name = ? ORDER BY ordinal_position", [schema, table]).rows)
    if have and have != columns:
        wh.execute(f"DROP TABLE {qualified(schema, table)}")


def materialize(wh: Warehouse, model: Model, checks: list[audits.Check], sql: str | None = None, *,
                full: bool = False) -> Outcome:
    """Build ``model`` (its own SQL, or ``sql`` for a generated model) in one transaction; ``full``: never in place."""
    text = sql if sql is not None else model.body
    target = qualified(model.schema, model.table)
    with wh.transaction():
        wh.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(model.schema)}")
        existing = _existing(wh, model)
        scope = None
        if model.materialized == "view":
            if existing == "BASE TABLE":
                wh.execute(f"DROP TABLE {target}")
            _run(wh, model, f"CREATE OR REPLACE VIEW {target} AS {text}")
            outcome = Outcome(None, None, "view")
        else:
            if existing == "VIEW":
                wh.execute(f"DROP VIEW {target}")
                existing = None
            outcome = None
            if model.materialized == "incremental" and existing and not full:
                outcome = _incremental(wh, model, text, target)
                scope = _delta_scope(model)
            if outcome is None:
                scope = None
                _run(wh, model, f"CREATE OR REPLACE TABLE {target} AS {text}")
                rows = wh.query(f"SELECT count(*) FROM {target}").scalar()
                outcome = Outcome(rows, rows, "full")
        # An incremental build audits only the rows it wrote: the others passed when they were written.
        audits.run(wh, model, checks, scope)
        wh.execute("DROP TABLE IF EXISTS temp.hub_delta")
        failpoint("build.materialize")  # the new relation exists in the open transaction, not yet committed
        _save_state(wh, model)
    return outcome


def _incremental(wh: Warehouse, model: Model, text: str, target: str) -> Outcome | None:
    """Update ``target`` in place, leaving the replaced keys in ``hub_delta``; None to build it whole instead."""
    state = wh.query("SELECT fingerprint, change_version FROM _hub.model_state WHERE model = ?", [model.name]).rows
    if not state or state[0][0] != model.fingerprint or not _same_columns(wh, model, text, target):
        return None
    keys = model.header.unique_key
    match = " AND ".join(f"t.{quote(k)} = d.{quote(k)}" for k in keys)
    cols = ", ".join(quote(k) for k in keys)
    if model.header.changes:
        consumed = state[0][1]
        log = _relation(model.header.changes)
        oldest = wh.query(f"SELECT min(change_version) FROM {log}").scalar()
        if consumed is None or (oldest is not None and oldest > consumed + 1):
            return None  # the log was pruned past what this model last read
        wh.execute(f"CREATE OR REPLACE TEMP TABLE hub_delta AS SELECT DISTINCT {cols} FROM {log} "
                   f"WHERE change_version > ?", [consumed])
        # DuckDB pushes the key filter below the model's GROUP BY only when there are keys: with none, skip it.
        if wh.query("SELECT count(*) FROM hub_delta").scalar():
            wh.execute(f"DELETE FROM {target} AS t USING hub_delta d WHERE {match}")
            _run(wh, model, f"INSERT INTO {target} BY NAME SELECT m.* FROM ({text}\n) AS m "
                            f"SEMI JOIN hub_delta d ON {match.replace('t.', 'm.')}")
    else:
        cursor = quote(model.header.cursor or "")
        _run(wh, model, f"CREATE OR REPLACE TEMP TABLE hub_rows AS SELECT * FROM ({text}\n) AS m "
                        f"WHERE (SELECT max({cursor}) FROM {target}) IS NULL "
                        f"OR m.{cursor} > (SELECT max({cursor}) FROM {target})")
        wh.execute(f"CREATE OR REPLACE TEMP TABLE hub_delta AS SELECT DISTINCT {cols} FROM hub_rows")
        wh.execute(f"DELETE FROM {target} AS t USING hub_delta d WHERE {match}")
        wh.execute(f"INSERT INTO {target} BY NAME SELECT * FROM hub_rows")
        wh.execute("DROP TABLE temp.hub_rows")
    written = wh.query(f"SELECT count(*) FROM {target} AS t SEMI JOIN hub_delta d ON {match}").scalar()
    return Outcome(wh.query(f"SELECT count(*) FROM {target}").scalar(), written, "incremental")


def _delta_scope(model: Model) -> str:
    """A condition on the target's rows: those whose key this incremental build replaced."""
    keys = model.header.unique_key
    cols = ", ".join(quote(k) for k in keys)
    return f"({cols}) IN (SELECT {cols} FROM hub_delta)" if len(keys) > 1 else \
        f"{quote(keys[0])} IN (SELECT {quote(keys[0])} FROM hub_delta)"


def _same_columns(wh: Warehouse, model: Model, text: str, target: str) -> bool:
    try:
        wanted = wh.query(f"DESCRIBE SELECT * FROM ({text}\n)").rows
    except WarehouseError:
        return False  # let the full build report the error with its position
    have = wh.query(f"DESCRIBE {target}").rows
    return [(r[0], r[1]) for r in wanted] == [(r[0], r[1]) for r in have]


def _save_state(wh: Warehouse, model: Model) -> None:
    version = None
    if model.header.changes:
        # Zero for an empty log: everything logged from now on is news to this model.
        version = wh.query(f"SELECT coalesce(max(change_version), 0) FROM {_relation(model.header.changes)}").scalar()
    save_state(wh, model.name, model.fingerprint, model.materialized, model.header.changes, version)


def save_state(wh: Warehouse, name: str, fingerprint: str, materialized: str, changes: str | None,
               version: int | None) -> None:
    """Record a build: what it was built from, and how far into a change log it has read."""
    wh.execute("DELETE FROM _hub.model_state WHERE model = ?", [name])
    wh.execute("INSERT INTO _hub.model_state VALUES (?, ?, ?, ?, ?, ?)",
               [name, fingerprint, materialized, changes, version, now()])


def prune_changes(wh: Warehouse, readers: dict[str, list[str]]) -> None:
    """Drop change-log entries every reader has consumed. A reader yet to build builds whole, so it needs none; a log
    with no reader keeps nothing."""
    for log, names in readers.items():
        schema, _, table = log.partition(".")
        if not wh.table_exists(schema, table):
            continue
        marks = ", ".join("?" for _ in names) or "NULL"
        consumed = wh.query(f"SELECT min(change_version) FROM _hub.model_state "
                            f"WHERE changes = ? AND model IN ({marks})", [log, *names]).scalar()
        if consumed is not None or not names:
            wh.execute(f"DELETE FROM {_relation(log)} WHERE change_version <= ?",
                       [consumed if consumed is not None else 2 ** 62])


def _existing(wh: Warehouse, model: Model) -> str | None:
    return wh.query("SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                    [model.schema, model.table]).scalar()


def _relation(name: str) -> str:
    schema, _, table = name.partition(".")
    return qualified(schema, table) if table else qualified(name)


def _run(wh: Warehouse, model: Model, statement: str) -> None:
    """Run a statement built from the model's text; DuckDB's error becomes a ModelError at the model's line."""
    try:
        wh.execute(statement)
    except WarehouseError as exc:
        raise _build_error(model, str(exc), lines=wh.dialect == "duckdb") from None


def _build_error(model: Model, text: str, *, lines: bool = True) -> ModelError:
    """``lines``: the engine ran the model's text as written, so the ``LINE n`` of its message is the file's (another
    engine runs a translation, whose lines are not)."""
    text = text.removeprefix("warehouse statement failed: ")
    first = text.strip().splitlines()[0] if text.strip() else text
    match = _LINE.search(text)
    line = int(match.group(1)) if match and lines and model.kind == "sql" else None
    return model.error(first, Position(line) if line else None, hint="fix the SQL; the previous version was kept")
