"""`hub ingest`: pull selected streams from their APIs into ``raw_<connection>``, incrementally.

For each connection, all selected streams go through one dlt load. A stream with no cursor yet (or ``--full-refresh``,
or a missing table) is pulled whole and replaces its table; otherwise only records modified at or after the cursor are
pulled and merged on the primary key, so re-ingesting never duplicates. The table webhooks land in
(``raw_<connection>.events``, :data:`hub.webhooks.EVENTS_TABLE`) is never replaced or emptied, a full pull merges into
it: events delivered by webhook may be older than any the vendor still lists. A connection with only a
``webhook_secret`` (no API token) has nothing to pull: ingesting everything skips it with a notice, naming it fails.
Cursors advance only after the load committed, to ``min(highest value seen, run start - CURSOR_LAG)``: a record
modified while the run was paging is picked up next time even if the vendor's clock runs a little ahead of ours.
Vendors filter on ``>= cursor``, so the records at the cursor come back every run: their keys are saved with the cursor
(:class:`Boundary`), and the next read leaves out a record whose key and cursor value are both unchanged. An ingest
that finds nothing else loads nothing: dlt is not even imported, and it says so. Connectors that see their records as
parsed JSON before they build Arrow tables leave those records out first
(:func:`hub.sources.base.hold_known`), so such an ingest does not import pyarrow either.

Everything that can be checked before writing (selectors, connection types, secrets) is checked first, so bad input
changes nothing.
"""

from __future__ import annotations

import gc
import itertools
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.config import SECRETS_FILE, env_var
from hub.errors import ConfigError, HubError, UnknownNameError
from hub.failpoints import failpoint
from hub.registry import connector_class
from hub.warehouse.bookkeeping import Bookkeeping, Step, now
from hub.warehouse.sql import qualified, quote

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.project import Project
    from hub.sources.base import Connector, Stream
    from hub.warehouse.schema_changes import SchemaChange

CURSOR_LAG = timedelta(seconds=60)
#: the most boundary keys saved per stream: past this (a bulk update stamped every record alike) they are not saved,
#: and the next run merges those records again, as it did before keys were kept
MAX_BOUNDARY_KEYS = 10_000
Progress = Callable[[str, str, int], None]


@dataclass
class StreamResult:
    """What one stream's ingest did."""

    connection: str
    stream: str
    table: str
    mode: str                  # "full" | "incremental"
    rows: int = 0
    seconds: float = 0.0
    status: str = "pending"    # "success" | "failed"
    error: str | None = None
    quarantined: int = 0       # records set aside in _hub.quarantine (no primary key)
    unchanged: int = 0         # records the vendor returned again, already loaded with the same cursor value
    primary_key: str = "id"
    schema_changes: list[SchemaChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)   # the connector's, e.g. fields the vendor did not list

    def notices(self) -> list[str]:
        """What `hub ingest` says about this stream beyond its row count: schema changes, quarantined records."""
        lines = [*self.warnings, *(f"schema: {c.describe('raw_' + self.connection)}" for c in self.schema_changes)]
        if self.quarantined:
            lines.append(f"quarantined {self.quarantined} record(s) of {self.connection}.{self.stream}: "
                         f"missing {self.primary_key} (see _hub.quarantine)")
        return lines


@dataclass
class IngestReport:
    """Every stream's result, plus the errors that stopped whole connections."""

    run_id: str
    results: list[StreamResult] = field(default_factory=list)
    errors: list[HubError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # webhook-only connections: nothing to pull
    unchanged: list[str] = field(default_factory=list)  # connections whose streams had nothing new: nothing loaded

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.results)

    def notices(self) -> list[str]:
        """Every stream's schema changes and quarantined records, and each skipped connection, one line each."""
        return [line for r in self.results for line in r.notices()] + [
            f"{name}: skipped, webhook-only connection (a webhook_secret and no token): its events arrive through "
            "`hub serve`" for name in self.skipped] + [
            f"{name}: nothing new since the last ingest ({self._again(name)} record(s) at the cursor already loaded); "
            "nothing loaded" for name in self.unchanged]

    def _again(self, connection: str) -> int:
        return sum(r.unchanged for r in self.results if r.connection == connection)


def plan(project: Project, selectors: Sequence[str],
         skipped: list[str] | None = None) -> list[tuple[Connector, list[Stream]]]:
    """Resolve ``CONNECTION[.STREAM]`` selectors (none = every connection's configured streams) to connectors.

    Webhook-only connections are left out of "everything" (their names appended to ``skipped``); naming one fails.
    """
    from hub.webhooks import webhook_only

    config = project.config
    chosen: dict[str, list[str] | None] = {}
    for selector in selectors:
        name, _, stream = selector.partition(".")
        conn = config.connection(name)
        if webhook_only(conn, connector_class(conn.type).secret_keys):
            raise ConfigError(f"connection '{name}' has nothing to ingest: it only receives webhooks (a webhook_secret "
                              "and no token)", hint=f"its events land in raw_{name}.events through `hub serve`; to "
                              f"pull its API too, set {env_var('connections', name, 'token')} or add token = \"...\" "
                              f"under [connections.{name}] in {SECRETS_FILE}")
        if stream:
            known = connector_class(conn.type).stream_catalog(conn)
            if stream not in known:
                raise UnknownNameError(f"{conn.type} stream", stream, known, where=f" in selector '{selector}'")
            if chosen.get(name, []) is not None:
                chosen.setdefault(name, []).append(stream)
        else:
            chosen[name] = None
    if not selectors:
        chosen = {name: None for name in config.connections}
        for name, conn in config.connections.items():
            if webhook_only(conn, connector_class(conn.type).secret_keys):
                del chosen[name]
                if skipped is not None:
                    skipped.append(name)
    out = []
    for name, streams in chosen.items():
        conn = config.connections[name]
        connector = connector_class(conn.type).connect(conn, **project.client_options(conn))
        selected = [connector.streams[s] for s in dict.fromkeys(streams)] if streams else connector.selected_streams()
        out.append((connector, selected))
    return out


def ingest(project: Project, selectors: Sequence[str] = (), *, full_refresh: bool = False,
           progress: Progress | None = None) -> IngestReport:
    """Run an ingest; returns the report (failed connections are in ``report.errors``, others still land)."""
    skipped: list[str] = []
    work = plan(project, selectors, skipped)
    if not work and not skipped:
        raise HubError("nothing to ingest: hub.toml defines no connections",
                       hint="add a [connections.NAME] table (see `hub init`)")
    # Parsing pages allocates millions of short-lived objects; each collection they trigger would rescan every
    # long-lived object the imports created (dlt, duckdb, pyarrow). Freezing those first makes collections cheap.
    gc.freeze()
    try:
        # a postgres warehouse: no other process ingests these streams meanwhile (hub.warehouse.pglocks)
        with project.locked(_resources(work)):
            failpoint("ingest.locked")
            report = _ingest(project, work, full_refresh, progress)
    finally:
        gc.unfreeze()
    report.skipped = skipped
    return report


def _resources(work: list[tuple[Connector, list[Stream]]]) -> list[str]:
    from hub.warehouse.pglocks import stream

    return [stream(connector.config.name, s.name) for connector, streams in work for s in streams]


def _ingest(project: Project, work: list[tuple[Connector, list[Stream]]], full_refresh: bool,
            progress: Progress | None) -> IngestReport:
    with project.warehouse() as wh:
        books = Bookkeeping(wh)
        books.ensure()
        report = IngestReport(run_id=books.start_run("ingest"))
        for i, (connector, streams) in enumerate(work, 1):
            try:
                _ingest_connection(project, books, connector, streams, full_refresh, progress, report)
            except HubError as exc:
                report.errors.append(exc)
            finally:
                connector.client.close()
            if i < len(work):
                # one snapshot for the connection's steps; after the last one the run ends (which retires it)
                books.wh.publish_snapshot()
            failpoint("ingest.between_connections")
        books.finish_run(report.run_id, "success" if report.ok else "failed",
                         "; ".join(str(e) for e in report.errors) or None)
    return report


def _ingest_connection(project: Project, books: Bookkeeping, connector: Connector, streams: list[Stream],
                       full_refresh: bool, progress: Progress | None, report: IngestReport) -> None:
    from hub.webhooks import EVENTS_TABLE
    from hub.sources.base import ReadState
    from hub.warehouse import loader, schema_changes

    name = connector.config.name
    started = now()
    results = {s.name: StreamResult(name, s.name, s.table, "full", primary_key=s.primary_key) for s in streams}
    outcome = None
    try:
        loads, states = [], []
        for stream in streams:
            since = None if full_refresh else _since(books, name, stream)
            result, state = results[stream.name], ReadState()
            if since is not None and connector.deletions_kept is not None:
                since, state.deleted_since = _deletions_window(books, connector, stream, since, started)
            result.mode = "incremental" if since else "full"
            boundary = Boundary(stream, books.loaded_keys(name, stream.name) if since else set())
            if boundary.usable:
                state.known = boundary.known   # a connector may leave them out before building Arrow (hold_known)
            states.append((stream, state, result, boundary))
            if since is None:
                preload_dlt(project.root)   # a full pull loads for certain: dlt loads while the first pages come
            batches = _peek(_counted(boundary.filter(connector.read(stream, since, state), result), result, progress))
            if batches is not None:
                preload_dlt(project.root)
            append_only = stream.table == EVENTS_TABLE  # webhook events may be older than any the API still lists
            if batches is None:
                boundary.adopt(state.held, result)
                if since is None and not append_only and books.wh.table_exists(f"raw_{name}", stream.table):
                    books.wh.execute(f"DELETE FROM {qualified('raw_' + name, stream.table)}")  # the source is empty
                continue
            loads.append(loader.TableLoad(stream.table, stream.primary_key,
                                          "merge" if since or append_only else "replace",
                                          batches, cursor_field=stream.cursor_field, flat=connector.flat_batches))
        if loads:
            from hub.warehouse.pglocks import load

            with project.locked([load(name)]):   # dlt keeps one pipeline per connection: one load of it at a time
                outcome = loader.load(books.wh, project.root, name, loads)
            failpoint("ingest.loaded")  # committed, cursors not yet saved: the rerun must not lose or double rows
    except HubError as exc:
        for result in results.values():
            result.status, result.error = "failed", str(exc)
            _write_step(books, report, result, started)
        raise
    if not loads and states and all(r.mode == "incremental" for r in results.values()):
        report.unchanged.append(name)
    for stream, state, result, boundary in states:
        result.status = "success"
        result.warnings = state.notices
        if outcome is not None:
            result.schema_changes, quarantined = outcome.for_table(stream.table)
            result.quarantined = len(quarantined)
            schema_changes.record(books.wh, report.run_id, name, stream.name, outcome, stream.table)
        if state.deleted and stream.deleted_flag:
            mark_deleted(books.wh, name, stream, state.deleted)   # before the cursor moves: a crash re-reads them
        books.set_cursor(name, stream.name, _next_cursor(state.max_cursor, started).isoformat(), boundary.keys())
        _write_step(books, report, result, started)


_preloading: threading.Thread | None = None


def preload_dlt(project_root: Path) -> None:
    """Import dlt in a thread, once per process, as soon as an ingest knows it will load something.

    Importing dlt takes about a second of CPU; pages come from the API meanwhile (the fetch thread waits on the
    network, pyarrow parses without the GIL), so the import mostly hides behind them instead of running after them.
    The loader's own ``import dlt`` then waits for this one (Python's import lock); a failure here is left for that
    import to report. An ingest that finds nothing new never calls this.
    """
    global _preloading
    if _preloading is not None or "dlt" in sys.modules:
        return
    from hub.warehouse import loader

    loader.configure(project_root)  # dlt reads its settings from the environment as it is imported

    def load_modules() -> None:
        try:
            loader.import_dlt()
        except Exception:  # noqa: BLE001 - the loader's own import raises it where it can be reported
            pass

    _preloading = threading.Thread(target=load_modules, name="hub-import-dlt", daemon=True)
    _preloading.start()


def _deletions_window(books: Bookkeeping, connector: Connector, stream: Stream, since: datetime,
                      started: datetime) -> tuple[datetime | None, datetime | None]:
    """(since, where to read the delete log from): the previous pull's start, or a full pull (since None) when that
    is older than the vendor keeps deletions; records deleted and purged since could not be seen otherwise."""
    row = books.wh.query("SELECT max(started_at) FROM _hub.run_steps WHERE step = 'ingest' AND status = 'success' "
                         "AND target = ?", [f"{connector.config.name}.{stream.name}"]).scalar()
    last = row if isinstance(row, datetime) else None
    if last is None or started - last > connector.deletions_kept:  # type: ignore[operator]
        return None, None
    return since, last - CURSOR_LAG


def mark_deleted(wh: Any, connection: str, stream: Stream, ids: list[str]) -> None:
    """Set the vendor's deleted flag on the raw rows of records the vendor reports deleted (an archived list, a delete
    log), which its pulls no longer return.

    One statement for all ids; the rows keep their other values, rows never landed stay out (as after a full pull),
    and a later pull that returns the record again (restored) overwrites the flag with the vendor's. Rows flagged
    already are left alone, so the same delete log read again writes nothing. Neither dlt nor pyarrow is needed: an
    ingest that loaded nothing still marks what the vendor deleted without loading them.
    """
    schema = f"raw_{connection}"
    if not wh.table_exists(schema, stream.table):
        return
    columns = wh.query("SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
                       [schema, stream.table]).rows
    flag, key = (raw_column([c for (c,) in columns], name) for name in (stream.deleted_flag, stream.primary_key))
    wh.execute(f"UPDATE {qualified(schema, stream.table)} SET {quote(flag)} = true "
               f"WHERE CAST({quote(key)} AS VARCHAR) IN (SELECT unnest(?::VARCHAR[])) "
               f"AND {quote(flag)} IS DISTINCT FROM true", [list(ids)])


def raw_column(columns: list[str], vendor_name: str) -> str:
    """The raw table's column that dlt made of the vendor's field ``vendor_name`` (``IsDeleted`` -> ``is_deleted``).

    dlt's naming convention, without importing dlt: its snake_case name is the one column that matches the field
    ignoring case and underscores. Ambiguous or absent (a name dlt changed otherwise): dlt decides.
    """
    loose = vendor_name.replace("_", "").lower()
    found = [c for c in columns if c.replace("_", "").lower() == loose]
    if len(found) == 1:
        return found[0]
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    return NamingConvention().normalize_identifier(vendor_name)


def _since(books: Bookkeeping, connection: str, stream: Stream) -> datetime | None:
    value = books.cursor(connection, stream.name)
    if value is None or not books.wh.table_exists(f"raw_{connection}", stream.table):
        return None
    return datetime.fromisoformat(value)


def _next_cursor(max_seen: datetime | None, started: datetime) -> datetime:
    ceiling = started - CURSOR_LAG
    return min(max_seen, ceiling) if max_seen is not None else ceiling


def _counted(batches: Iterator[pa.Table], result: StreamResult, progress: Progress | None) -> Iterator[pa.Table]:
    from hub.warehouse.runlog import progress as live

    clock = time.perf_counter()
    target = f"{result.connection}.{result.stream}"
    live("ingest", target, 0)   # readers see the stream this run is on, and its rows so far (the run log)
    for table in batches:
        result.rows += table.num_rows
        if progress:
            progress(result.connection, result.stream, result.rows)
        live("ingest", target, result.rows)
        yield table
        failpoint("ingest.extracted")  # dlt took this batch and asks for more: its load package is half written
    result.seconds = time.perf_counter() - clock


class Boundary:
    """The records at a stream's cursor: the ones the next read will be sent again.

    Vendors filter incremental reads on ``cursor >= since``, so the records stamped with the cursor value come back
    on every run, unchanged. A read sees all batches first; the keys of the records carrying the highest cursor value
    (ISO-8601 text of one format, or numbers: they order as the times they denote) are saved with the cursor, and the
    next read leaves out a record whose key and cursor value are both the ones saved. Leaving one out is always safe:
    any edit the vendor stamps moves its cursor value. A stream without a cursor field or key column is left as it is.
    """

    def __init__(self, stream: Stream, known: set[tuple[str, str]]) -> None:
        self.key, self.field = stream.primary_key, stream.cursor_field
        self.known = known
        self.usable = self.field is not None
        self.top: Any = None                   # the highest cursor value seen (as the batches hold it)
        self.at_top: list[tuple[str, str]] = []

    def filter(self, batches: Iterator[pa.Table], result: StreamResult) -> Iterator[pa.Table]:
        """``batches`` without the records already loaded; notes the records at the highest cursor value."""
        for table in batches:
            if self.usable:
                self._see(table)
            if self.known and self.usable and table.num_rows:
                keep = [(str(k), str(v)) not in self.known for k, v in zip(table.column(self.key).to_pylist(),
                                                                           table.column(self.field).to_pylist())]
                if not all(keep):
                    result.unchanged += len(keep) - sum(keep)
                    import pyarrow as pa

                    table = table.filter(pa.array(keep, pa.bool_()))
            if table.num_rows:
                yield table

    def _see(self, table: pa.Table) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.field not in table.column_names or self.key not in table.column_names:
            self.usable, self.at_top = False, []
            return
        column = table.column(self.field)
        try:
            highest = pc.max(column).as_py()
            if highest is None or (self.top is not None and highest < self.top):
                return
        except (TypeError, pa.ArrowException):  # not orderable, or it changed type between batches
            self.usable, self.at_top = False, []
            return
        if highest != self.top:
            self.top, self.at_top = highest, []
        rows = table.filter(pc.fill_null(pc.equal(column, highest), False))
        self.at_top += [(str(k), str(v)) for k, v in zip(rows.column(self.key).to_pylist(),
                                                           rows.column(self.field).to_pylist()) if k is not None]

    def adopt(self, held: list[tuple[str, str]], result: StreamResult) -> None:
        """The records a read held back, every one of them already loaded (:func:`hub.sources.base.hold_known`):
        they are the read's only records, so the ones at their highest cursor value stay the boundary."""
        if not held or not self.usable:
            return
        result.unchanged += len(held)
        top = max(value for _, value in held)
        self.top, self.at_top = top, [pair for pair in held if pair[1] == top]

    def keys(self) -> list[tuple[str, str]] | None:
        """The (key, cursor value) pairs to save with the cursor; None when there are none or too many."""
        if not self.usable or not self.at_top or len(self.at_top) > MAX_BOUNDARY_KEYS:
            return None
        return sorted(set(self.at_top))


def _peek(batches: Iterator[Any]) -> Iterator[Any] | None:
    """``batches`` with its first item already fetched, or None when it is empty (so dlt is not run for nothing)."""
    empty = object()
    first = next(batches, empty)
    return None if first is empty else itertools.chain([first], batches)


def _write_step(books: Bookkeeping, report: IngestReport, result: StreamResult, started: datetime) -> None:
    report.results.append(result)
    books.write_step(Step(run_id=report.run_id, step="ingest", target=f"{result.connection}.{result.stream}",
                          started_at=started, status=result.status, rows_in=result.rows, rows_out=result.rows,
                          detail=f"{result.mode}; {result.quarantined} quarantined" if result.quarantined
                          else result.mode, error=result.error), publish=False)
