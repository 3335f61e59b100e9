"""Moving a DuckDB warehouse into PostgreSQL whole (`hub warehouse copy --to postgres`).

What moves: every table of every schema (``raw_*``, ``staging``, ``canonical``, ``marts``, ``_hub`` with its runs,
cursors, identity map, sync state and model state, and dlt's own ``_dlt_loads`` / ``_dlt_version`` beside the raw
tables), with their rows, NOT NULL columns, literal defaults, primary keys and unique constraints, plus sequences at
their current value. Views are recreated from their SQL compiled to PostgreSQL by the models' own rules
(:mod:`hub.modeling.dialects`); a view that does not compile or run there is left for the next ``hub build``, which
recreates every view of a model anyway, and the report names it. DuckDB's ``main`` becomes PostgreSQL's ``public``.
Not moved: dlt's merge staging schemas (``_hub_staging_*``, emptied before every load, dlt recreates them) and hub's
DuckDB macros (``_hub.survivor_key``..., which a build on PostgreSQL inlines).

How: rows leave DuckDB as Arrow record batches, are written as CSV by Arrow's C++ writer and enter PostgreSQL by
``COPY ... FROM STDIN``, so no value becomes a Python object. Types that CSV cannot carry as they are leave DuckDB as
text that PostgreSQL reads back exactly (nested values as JSON, BLOB as ``\\x`` hex, HUGEINT as digits...).

Guarantees: everything is checked before the first write (the source file, every column type, the target holding no
relation of the same name unless ``replace``), the source is held with the DuckDB writer lock so no hub process
changes it meanwhile (it is only read), and the target is written in ONE transaction under its writer lock; the row
count of every table is compared inside that transaction, so a copy either lands whole and verified or not at all.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import CopyRefusedError, WarehouseError
from hub.secrets import redact
from hub.warehouse.copy_plan import Plan, Sequence, Table, View, read_plan, target_schema
from hub.warehouse.sql import qualified, quote

if TYPE_CHECKING:
    import duckdb

    from hub.config import WarehouseConfig

#: rows per Arrow batch between the engines (one CSV chunk written to COPY per batch)
BATCH_ROWS = 100_000
#: the DuckDB file a project had before its switch to postgres, when --from does not say (the duckdb default)
DEFAULT_SOURCE = "warehouse.duckdb"
#: a step run inside the copy's transaction: (source connection, target warehouse) -> summary lines
Within = Callable[[Any, Any], list[str]]


@dataclass
class Copied:
    """One table's outcome: rows in DuckDB and in PostgreSQL (compared before the commit)."""

    label: str
    source_rows: int
    target_rows: int


@dataclass
class CopyReport:
    """What `hub warehouse copy` did."""

    source: str
    target: str
    tables: list[Copied] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    views_left: list[tuple[str, str]] = field(default_factory=list)   # (view, why) left for `hub build`
    sequences: list[str] = field(default_factory=list)
    macros: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)      # what the caller's ``within`` step reported
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(t.target_rows for t in self.tables)


def copy_to_postgres(source: Path, target: WarehouseConfig, anchor: Path, *, replace: bool = False,
                     progress: Callable[[str], None] | None = None, within: Within | None = None) -> CopyReport:
    """Copy the DuckDB warehouse file ``source`` into the PostgreSQL warehouse ``target`` (see the module doc).

    ``replace``: relations of the same names already in the target are dropped first, in the same transaction;
    without it such a target is refused before anything is written.
    ``within``: called with the source's connection and the target warehouse once everything is copied, still
    inside the target's transaction (its failure rolls the copy back); the lines it returns go to the summary.
    """
    from hub.warehouse.dsn import redacted
    from hub.warehouse.postgres import PostgresWarehouse

    began = time.monotonic()
    say = progress or (lambda _line: None)
    if not source.is_file():
        raise CopyRefusedError(f"no DuckDB warehouse at {source}",
                               hint="pass --from PATH: the file [warehouse] path named before the switch to postgres")
    report = CopyReport(source=str(source), target=redacted(target.dsn or ""))
    with _duckdb(source) as duck:
        plan = read_plan(duck)
        if not plan.tables:
            raise CopyRefusedError(f"{source} holds no table to copy", hint="check --from PATH")
        with PostgresWarehouse(target, anchor) as pg:
            taken = _taken(pg, plan)
            if taken and not replace:
                shown = ", ".join(taken[:3]) + (f" and {len(taken) - 3} more" if len(taken) > 3 else "")
                raise CopyRefusedError(f"the postgres warehouse {report.target} already holds {shown}",
                                       hint="pass --replace to drop them and copy over them (in the same "
                                            "transaction), or point [warehouse] dsn at an empty database")
            with pg.transaction() as con:
                for name in taken:
                    kind = _kind(pg, name)
                    con.execute(f"DROP {kind} IF EXISTS {_pg_name(name)} CASCADE")
                report.replaced = taken
                for schema in plan.schemas:
                    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
                for seq in plan.sequences:
                    _create_sequence(con, seq)
                    report.sequences.append(f"{seq.schema}.{seq.name}")
                for table in plan.tables:
                    if table.rows >= BATCH_ROWS:
                        say(f"copying {table.label} ({table.rows:,} rows)...")
                    _create_table(con, table)
                    _copy_rows(duck, con, table)
                for table in plan.tables:
                    landed = con.execute(f"SELECT count(*) FROM {table.target}").fetchone()[0]
                    report.tables.append(Copied(table.label, table.rows, landed))
                wrong = [t for t in report.tables if t.source_rows != t.target_rows]
                if wrong:
                    raise WarehouseError("the copy was rolled back: row counts differ for " + ", ".join(
                        f"{t.label} ({t.source_rows:,} in DuckDB, {t.target_rows:,} in PostgreSQL)" for t in wrong))
                report.views, report.views_left = _create_views(con, plan.views)
                if within is not None:
                    report.notes = within(duck, pg)
            report.macros = plan.macros
    report.seconds = time.monotonic() - began
    return report


@contextmanager
def _duckdb(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """``path`` opened read-only while holding its writer lock: no hub process changes it during the copy, and the
    copy itself changes nothing in it."""
    import duckdb

    from hub.warehouse.lock import WarehouseLock

    lock = WarehouseLock(path, write=True)
    lock.acquire()
    try:
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise CopyRefusedError(f"cannot open {path} as a DuckDB warehouse: {' '.join(str(exc).split())[:300]}",
                                   hint="pass --from PATH naming the project's warehouse.duckdb") from None
        try:
            yield con
        finally:
            con.close()
    finally:
        lock.release()


def _taken(pg: Any, plan: Plan) -> list[str]:
    """The relations (and sequences) of the plan's names that the target already holds, ``schema.name``."""
    wanted = [(target_schema(t.schema), t.name) for t in plan.tables] + \
             [(target_schema(v.schema), v.name) for v in plan.views] + \
             [(target_schema(s.schema), s.name) for s in plan.sequences]
    if not wanted:
        return []
    have = {(s, n) for s, n in pg.query(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'v', 'm', 'S', 'p', 'f') AND n.nspname = ANY(?)",
        [sorted({s for s, _ in wanted})]).rows}
    return [f"{s}.{n}" for s, n in wanted if (s, n) in have]


def _kind(pg: Any, name: str) -> str:
    schema, _, rel = name.partition(".")
    kind = pg.query("SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = ? AND c.relname = ?", [schema, rel]).scalar()
    return {"v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE"}.get(kind or "r", "TABLE")


def _pg_name(name: str) -> str:
    schema, _, rel = name.partition(".")
    return qualified(schema, rel)


def _create_sequence(con: Any, seq: Sequence) -> None:
    name = qualified(target_schema(seq.schema), seq.name)
    con.execute(f"CREATE SEQUENCE {name} INCREMENT BY {int(seq.increment)} MINVALUE {int(seq.minimum)} "
                f"MAXVALUE {int(seq.maximum)} START WITH {int(seq.start)} {'CYCLE' if seq.cycle else 'NO CYCLE'}")
    if seq.last is not None:
        con.execute(f"SELECT setval('{name.replace(chr(39), chr(39) * 2)}', {int(seq.last)}, true)")


def _create_table(con: Any, table: Table) -> None:
    parts = [f"{quote(c.name)} {c.pg_type}" + (" NOT NULL" if c.not_null else "")
             + (f" DEFAULT {c.default}" if c.default else "") for c in table.columns]
    if table.primary_key:
        parts.append(f"PRIMARY KEY ({', '.join(quote(c) for c in table.primary_key)})")
    parts += [f"UNIQUE ({', '.join(quote(c) for c in cols)})" for cols in table.uniques]
    _run(con, f"CREATE TABLE {table.target} ({', '.join(parts)})", table)


def _copy_rows(duck: duckdb.DuckDBPyConnection, con: Any, table: Table) -> None:
    """Stream ``table``'s rows DuckDB -> Arrow batches -> CSV -> COPY, inside the target's open transaction."""
    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not table.rows or not table.columns:
        return
    names = ", ".join(quote(c.name) for c in table.columns)
    reader = duck.sql(f"SELECT {', '.join(c.select for c in table.columns)} FROM {table.source}") \
        .to_arrow_reader(BATCH_ROWS)
    options = pacsv.WriteOptions(include_header=False)   # strings quoted, NULL an empty unquoted field
    try:
        with con.cursor() as cursor, cursor.copy(f"COPY {table.target} ({names}) FROM STDIN (FORMAT csv)") as copy:
            for batch in reader:
                if batch.num_rows:
                    out = io.BytesIO()
                    pacsv.write_csv(pa.Table.from_batches([batch]), out, options)
                    copy.write(out.getbuffer())
    except psycopg.Error as exc:
        raise WarehouseError(f"the copy was rolled back: copying {table.label} failed: "
                             f"{redact(' '.join(str(exc).split()))[:400]}") from None


def _create_views(con: Any, views: list[View]) -> tuple[list[str], list[tuple[str, str]]]:
    """Recreate ``views`` compiled to PostgreSQL, each in a savepoint; a view over another waits for it (rounds
    until none more succeeds). Returns (created, [(left, why)])."""
    pending = {v.label: (v, _compile_view(v)) for v in views}
    created: list[str] = []
    why: dict[str, str] = {}
    progress = True
    while pending and progress:
        progress = False
        for label, (view, sql) in list(pending.items()):
            if sql is None:
                why[label] = why.get(label) or "its SQL does not compile to PostgreSQL"
                del pending[label]
                continue
            try:
                with con.transaction():          # a savepoint: a failed view leaves the copy intact
                    con.execute(sql)
            except Exception as exc:  # noqa: BLE001 - any failure of one view only defers it (psycopg.Error)
                why[label] = " ".join(str(exc).split())[:200]
                continue
            created.append(label)
            why.pop(label, None)
            del pending[label]
            progress = True
    return created, sorted(why.items())


def _compile_view(view: View) -> str | None:
    """The view's CREATE statement in PostgreSQL, through the models' dialect rules; None when it does not parse."""
    import sqlglot
    from sqlglot import exp

    from hub.modeling.dialects import rewrite

    try:
        tree = sqlglot.parse_one(view.sql.rstrip().rstrip(";"), read="duckdb")
        if not isinstance(tree, exp.Create):
            return None
        tree, _notes = rewrite(tree, "postgres")
        tree.set("this", exp.to_table(qualified(target_schema(view.schema), view.name), dialect="postgres"))
        return tree.sql(dialect="postgres")
    except (sqlglot.errors.SqlglotError, KeyError, ValueError):
        return None


def _run(con: Any, sql: str, table: Table) -> None:
    import psycopg

    try:
        con.execute(sql)
    except psycopg.Error as exc:
        raise WarehouseError(f"the copy was rolled back: creating {table.label} failed: "
                             f"{redact(' '.join(str(exc).split()))[:400]}") from None


def render(report: CopyReport) -> str:
    """The summary `hub warehouse copy` prints: one line per table with both counts, then views and what stayed."""
    width = max((len(t.label) for t in report.tables), default=10)
    lines = [f"copied {report.source} -> {report.target} in one transaction ({report.seconds:.1f} s)"]
    if report.replaced:
        lines.append(f"  replaced {len(report.replaced)} relation(s) the target held")
    lines += [f"  {t.label:<{width}} {t.source_rows:>11,} rows  {t.target_rows:>11,} in postgres  "
              f"{'ok' if t.source_rows == t.target_rows else 'DIFFERS'}" for t in report.tables]
    lines.append(f"tables: {len(report.tables)}, rows: {report.rows:,}, every count verified")
    total = len(report.views) + len(report.views_left)
    if total:
        lines.append(f"views: {len(report.views)} of {total} recreated"
                     + (" (the others are recreated by the next `hub build`):" if report.views_left else ""))
        lines += [f"  {label}: {why}" for label, why in report.views_left]
    if report.sequences:
        lines.append(f"sequences: {', '.join(report.sequences)}")
    lines += report.notes
    if report.macros:
        lines.append(f"not copied: DuckDB macros {', '.join(report.macros)} (DuckDB-only SQL helpers, not data: "
                     f"hub's SQL on postgres does without them)")
    return "\n".join(lines)


def copy_project(project: Any, *, source: Path | None = None, replace: bool = False,
                 progress: Callable[[str], None] | None = None, within: Within | None = None) -> CopyReport:
    """`hub warehouse copy --to postgres`: the project's DuckDB file (``source``, default ``warehouse.duckdb`` in the
    project) into the postgres warehouse its ``[warehouse]`` names now. The switch comes first, so the copy runs
    with exactly the DSN and password every later command uses."""
    config = project.config.warehouse
    if config.type != "postgres":
        raise CopyRefusedError(
            f"hub warehouse copy --to postgres copies into the postgres warehouse of hub.toml, but [warehouse] is "
            f"the duckdb file {config.path}",
            hint='first set [warehouse] type = "postgres" and dsn = "postgresql://USER@HOST:5432/DATABASE" (no path; '
                 "the password in secrets.toml [warehouse] or HUB__WAREHOUSE__PASSWORD), then run this again: it "
                 "reads warehouse.duckdb, or --from PATH")
    path = Path(source) if source is not None else project.config.root / DEFAULT_SOURCE
    return copy_to_postgres(path.resolve(), config, project.warehouse_path, replace=replace, progress=progress,
                            within=within)
