"""Re-stamping sync state when a warehouse moves to another engine (`hub warehouse copy --to postgres`).

A push skips a model row whose hash (:func:`hub.reverse_etl.diff.row_hash`) equals the one stored in
``_hub.sync_state`` when the target acknowledged it. The hash is over each column's text, and the engines write some
values differently (a DOUBLE 100.0 is '100.0' in DuckDB and '100' in PostgreSQL), so the hashes DuckDB stored would
not match the ones PostgreSQL computes for the very same rows, and the first push after a copy would send them all
again. So, inside the copy's transaction: the rows that were in sync in DuckDB (stored hash = DuckDB's hash of the
model row now) get the hash PostgreSQL computes for the same copied row; the rows that were pending (hash differs, or
no state) keep theirs, so they are still pushed.

DuckDB writes a TIMESTAMPTZ as text in its session's TimeZone (the machine's): run the copy where the DuckDB pushes
ran. Run elsewhere, such rows look changed here and keep DuckDB's hash: they are pushed again, never lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub.errors import HubError, WarehouseError
from hub.warehouse.duck import Result

if TYPE_CHECKING:
    import duckdb

    from hub.project import Project
    from hub.reverse_etl.config import SyncConfig


@dataclass
class Restamped:
    """What the re-stamp did: rows per sync, and the syncs it could not re-stamp (why)."""

    rows: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    stamped: bool = False      # some sync had state in the DuckDB file (else there is nothing to say)

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def lines(self) -> list[str]:
        """The lines of the copy's summary (none when nothing was ever pushed)."""
        if not self.stamped:
            return []
        out = [f"sync state: {self.total:,} row(s) in sync re-stamped with PostgreSQL's row hashes, so they are not "
               f"pushed again" + (" (" + ", ".join(f"{s} {n:,}" for s, n in self.rows.items()) + ")"
                                  if self.rows else "")]
        out += [f"  {name}: not re-stamped: {why}" for name, why in self.skipped]
        return out


class _Source:
    """The DuckDB file the copy reads, as much of a warehouse as :mod:`hub.reverse_etl.diff` asks of one."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def query(self, sql: str, params: list[Any] | None = None) -> Result:
        import duckdb

        from hub.errors import QueryError

        try:
            cursor = self.con.execute(sql, params)
            columns = [d[0] for d in cursor.description] if cursor.description else []
            return Result(columns, cursor.fetchall() if columns else [])
        except duckdb.Error as exc:
            raise QueryError(" ".join(str(exc).split())[:300]) from None

    def table_exists(self, schema: str, table: str) -> bool:
        return bool(self.query("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND "
                               "table_name = ?", [schema, table]).scalar())


def restamp(project: Project, duck: duckdb.DuckDBPyConnection, pg: Any) -> Restamped:
    """Re-stamp every sync's in-sync rows: ``duck`` is the source file's connection, ``pg`` the PostgreSQL warehouse
    inside the copy's open transaction, holding the copied rows already."""
    from hub.reverse_etl import config

    done = Restamped()
    source = _Source(duck)
    if not source.table_exists("_hub", "sync_state"):
        return done   # never pushed: nothing stamped
    for sync in config.load(project).values():
        why = _one(project, source, pg, sync, done)
        if why:
            done.skipped.append((sync.name, why))
    return done


def _one(project: Project, source: _Source, pg: Any, sync: SyncConfig, done: Restamped) -> str | None:
    """Re-stamp one sync; the reason when it cannot (None when done, or when it has no state)."""
    from hub.reverse_etl import _checked_where, diff

    stamped = source.query("SELECT count(*) FROM _hub.sync_state WHERE sync = ?", [sync.name]).scalar()
    if not stamped:
        return None
    done.stamped = True
    try:
        checked = _checked_where(project, source, sync)   # type: ignore[arg-type]
        model = diff.check_model(project, source, checked)   # type: ignore[arg-type]
    except HubError as exc:
        return f"its model cannot be read in the DuckDB file ({exc.message}); its rows keep DuckDB's hashes"
    if not pg.table_exists(sync.schema, sync.table):
        return (f"{sync.model} was not recreated in PostgreSQL (see views above); after `hub build` its "
                f"{stamped:,} row(s) are pushed again")
    params = {"sig": checked.signature, "sync": sync.name}
    in_sync = f"SELECT m.key FROM ({diff.hashes(model, checked)}) m JOIN _hub.sync_state st ON st.sync = $sync " \
              f"AND st.key = m.key AND st.row_hash = m.h"
    keys = [k for (k,) in source.query(*diff.positional(in_sync, params)).rows]
    if not keys:
        return None
    # the same statement on PostgreSQL, for exactly the rows in sync in DuckDB: the copied model rows, hashed there
    update = (f"UPDATE _hub.sync_state SET row_hash = m.h FROM ({diff.hashes(model, checked)}) m "
              f"WHERE _hub.sync_state.sync = $sync AND _hub.sync_state.key = m.key "
              f"AND _hub.sync_state.key = ANY($keys)")
    sql, values = diff.positional(update, {**params, "keys": keys})
    changed = len(pg.query(sql + " RETURNING 1", values).rows)   # RETURNING: the count the UPDATE changed
    if changed != len(keys):
        raise WarehouseError(f"the copy was rolled back: re-stamping sync '{sync.name}' matched {changed:,} of "
                             f"{len(keys):,} rows in PostgreSQL")
    done.rows[sync.name] = changed
    return None

