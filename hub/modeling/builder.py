"""`hub build`: plan the selected models, check every reference, then build them in dependency order.

Everything that can be checked before writing is checked first (parse errors, cycles, unknown tables, selectors), so a
mistake changes nothing. Then each model builds in its own transaction; a model that fails is reported and the models
built from it are skipped, while unrelated models still build. A model reading a raw table that was never ingested is
skipped with a note, not failed: a new project has streams it has not pulled yet.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hub.errors import HubError, WarehouseError
from hub.failpoints import failpoint
from hub.modeling.catalog import Catalog, load_catalog
from hub.modeling.entities import ENTITIES, UNIONS, union_model
from hub.modeling.graph import Graph
from hub.modeling.guard import check_no_source_vanishes
from hub.modeling.identity import resolve
from hub.modeling.materialize import ensure_state, materialize, prune_changes
from hub.modeling.model import META_SCHEMAS, Model
from hub.modeling.origins import entity_syncs
from hub.modeling.records import RESOLVERS
from hub.modeling.report import NO_DATA, BuildReport, ModelResult
from hub.modeling.settings import EntitySettings, load_settings
from hub.modeling.synced import ensure_synced
from hub.warehouse.bookkeeping import Bookkeeping, Step, now
from hub.warehouse.sql import qualified

if TYPE_CHECKING:
    from hub.project import Project
    from hub.warehouse.duck import Warehouse

RAW_PREFIX = "raw_"
PUBLISH_EVERY_S = 1.0   # readers' snapshot during a build: refreshed after a step at most this often, and at the end
#: the engines identity resolution runs on (its SQL through hub.warehouse.translate, its Arrow through
#: hub.warehouse.arrow)
IDENTITY_ENGINES = ("duckdb", "postgres")
BUILD_MEMORY = "512MB"   # DuckDB's own memory during a build (Arrow batches of identity resolution come on top)


def build(project: Project, selectors: Sequence[str] = (), *, full_refresh: bool = False,
          progress: Callable[[ModelResult], None] | None = None) -> BuildReport:
    """Build the models ``selectors`` pick (all of them by default) and report each one.

    ``full_refresh`` rebuilds incremental models whole and re-resolves every record of an identity (its ids are kept:
    they live in the identity map, and a whole resolution still matches records to the ids they had).
    """
    clock = time.perf_counter()
    catalog = load_catalog(project)
    settings = load_settings(project, rankable_fields(catalog))
    graph = Graph(catalog)
    plan = graph.order(graph.select(selectors, project.config.connections))
    check_engine(plan, project.config.warehouse.type)
    with project.warehouse() as wh:
        duckdb = wh.dialect == "duckdb"
        if duckdb:
            wh.execute("SET enable_progress_bar = false")   # DuckDB would draw bars on the user's terminal
            # No model relies on the physical order of rows, and DuckDB writes large tables faster without keeping it.
            wh.execute("SET preserve_insertion_order = false")
            # DuckDB caches every block it reads or writes up to its memory limit (80% of RAM by default), and the
            # build's process holds that to its end. A build reads each table about once, so a small cache costs it
            # little, and an operator that needs more (canonical.person's GROUP BY over a million records) spills to
            # the warehouse's temp directory instead of doubling the process's peak.
            wh.execute(f"SET memory_limit = '{BUILD_MEMORY}'")
        books = Bookkeeping(wh)
        books.ensure()
        ensure_state(wh)
        ensure_synced(wh, project.config.sections.get("syncs", {}))   # two-way models read what each side was sent
        existing = relations(wh)
        check_references(catalog, plan, existing)
        report = BuildReport(run_id=books.start_run("build"))
        try:
            runner = _Runner(wh, books, catalog, settings, report, existing, full_refresh,
                             project.config.sections.get("syncs", {}))
            for model in plan:
                result = runner.build(model)
                report.results.append(result)
                if progress:
                    progress(result)
            prune_changes(wh, change_readers(catalog))
            if runner.unpublished:
                wh.publish_snapshot()   # readers see every model of the build (the steps published only now and then)
        except BaseException as exc:   # recorded, then re-raised: Ctrl-C or a bug must not leave the run "running"
            books.finish_run(report.run_id, "failed", f"interrupted: {exc!r}")
            raise
        report.seconds = time.perf_counter() - clock
        books.finish_run(report.run_id, "success" if report.ok else "failed",
                         "; ".join(str(e) for e in report.errors) or None)
        if duckdb:
            # the settings are the database's, not this handle's: a handle opened next in this process while the
            # file stays open (hub.warehouse.duck.kept_open) must not inherit the build's
            wh.execute("RESET preserve_insertion_order")
            wh.execute("RESET memory_limit")
    return report


def column_types(wh: Warehouse, models: list[Model]) -> dict[str, str]:
    """Each column of the built ``models`` and its type (the first model that has it decides), as the warehouse
    describes it."""
    out: dict[str, str] = {}
    for model in models:
        for name, kind, *_ in wh.query(f"DESCRIBE {qualified(model.schema, model.table)}").rows:
            if str(kind).strip('"').upper() != "NULL":   # DuckDB's type of a bare NULL in a view says nothing
                out.setdefault(str(name).lower(), str(kind))
    return out


def check_engine(plan: list[Model], engine: str) -> None:
    """Refuse, before anything is written, a plan with an identity step the warehouse's engine cannot run
    (:data:`IDENTITY_ENGINES`)."""
    engines = IDENTITY_ENGINES
    steps = [m.name for m in plan if m.kind == "identity"]
    if steps and engine not in engines:
        raise WarehouseError(f"hub build: identity resolution ({', '.join(steps)}) does not run on a {engine} "
                             f"warehouse yet", hint="build the models that need none, e.g. `hub build 'staging.*'`")


def rankable_fields(catalog: Catalog) -> dict[str, list[str]]:
    """Per entity, the record columns `[models.<entity>] priority` may rank sources for."""
    out = {}
    for entity in ENTITIES.values():
        union = catalog.models.get(entity.union)
        columns = list(union.columns) if union and union.columns else [c for c, _ in entity.columns]
        out[entity.name] = [c for c in columns if c not in ("connection", "stream", "source_id", "created_at",
                                                            "updated_at")]
    return out


def change_readers(catalog: Catalog) -> dict[str, list[str]]:
    """Per change log, the nodes that read it: incremental models, and identity steps whose records link to it."""
    readers: dict[str, list[str]] = {f"_hub.{e}_changes": [] for e in ENTITIES}
    for model in catalog:
        if model.header.changes:
            readers.setdefault(model.header.changes, []).append(model.name)
    for resolver in RESOLVERS.values():
        if resolver.link:
            readers[f"_hub.{resolver.link[0]}_changes"].append(resolver.entity.identity)
    return readers


def relations(wh: Warehouse) -> set[str]:
    """Every ``schema.table`` (and view) in the warehouse, lower-cased."""
    rows = wh.query("SELECT table_schema, table_name FROM information_schema.tables").rows
    return {f"{s}.{t}".lower() for s, t in rows}


def check_references(catalog: Catalog, plan: list[Model], existing: set[str]) -> None:
    """Fail before building when a planned model reads a table that nothing builds and that does not exist."""
    planned = {m.name for m in plan}
    known = existing | set(catalog.producers)
    for model in plan:
        if model.kind == "union":
            continue  # it takes whichever members exist
        for ref in model.refs:
            name = ref.name
            producer = catalog.producers.get(name)
            if producer is not None:
                if producer not in planned and name not in existing and producer != model.name:
                    raise model.error(f"{name} has not been built yet", ref.position,
                                      hint=f"build it first: `hub build +{model.name}`")
                continue
            if name in existing or ref.schema.startswith(RAW_PREFIX) or ref.schema in META_SCHEMAS:
                continue
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            raise model.error(f"unknown table {name}", ref.position,
                              hint=f"did you mean '{close[0]}'?" if close else
                              "no model or warehouse table has that name (`hub models` lists models)")


class _Runner:
    """Builds planned models one by one, remembering what failed or was skipped for the models after them."""

    def __init__(self, wh: Warehouse, books: Bookkeeping, catalog: Catalog, settings: dict[str, EntitySettings],
                 report: BuildReport, existing: set[str], full_refresh: bool = False,
                 syncs: Mapping[str, Any] | None = None) -> None:
        self.wh, self.books, self.catalog, self.settings = wh, books, catalog, settings
        self.report, self.existing, self.full_refresh = report, existing, full_refresh
        self.syncs = syncs or {}   # hub.toml's [syncs]: the records they wrote belong to whom they were written for
        self.status: dict[str, str] = {}
        self.notes: dict[str, str] = {}    # why a model was skipped
        self.published = time.monotonic()  # the run's start published a snapshot
        self.unpublished = False           # the last step is not in the readers' snapshot yet

    def build(self, model: Model) -> ModelResult:
        from hub.warehouse.runlog import progress as live

        result = ModelResult(model.name, model.materialized)
        started, clock = now(), time.perf_counter()
        live("build", model.name, None)   # readers see the model this run is on (the run log)
        result.note = self._skip_reason(model)
        if result.note:
            result.status = "skipped"
            self.notes[model.name] = result.note
        else:
            try:
                self._run(model, result)
                result.status = "success"
                self.existing.update((model.name, *model.produces))
            except HubError as exc:
                result.status, result.error = "failed", str(exc)
                self.report.errors.append(exc)
        result.seconds = time.perf_counter() - clock
        self.status[model.name] = result.status
        # a snapshot for readers at most every PUBLISH_EVERY_S (one is a checkpoint and a copy of the file: a build of
        # a few small models, say one a trigger runs for each chunk of form posts, would spend most of its time on them)
        publish = time.monotonic() - self.published >= PUBLISH_EVERY_S
        self.books.write_step(Step(run_id=self.report.run_id, step="build", target=model.name, started_at=started,
                                   status=result.status, rows_in=result.rows, rows_out=result.rows,
                                   detail=result.note or result.mode, error=result.error), publish=publish)
        if publish:
            self.published = time.monotonic()
        self.unpublished = not publish
        return result

    def _run(self, model: Model, result: ModelResult) -> None:
        if model.kind == "identity":
            entity = model.name.removeprefix("_hub.").removesuffix("_identity")
            resolver = RESOLVERS[entity]
            union = self.catalog.models[resolver.entity.union]
            # The models behind the union (a project's own union may read tables no model builds).
            members = [r.name for r in union.refs if r.name in self.catalog.models and self._usable(r.name)]
            # A generated union changes with its members, so only a project's own union SQL counts as an input.
            sources = [union.name, *members] if union.kind == "sql" else members
            inputs = {m: self.catalog.models[m].fingerprint for m in sources}
            # Members whose audits already proved source_id unique need no duplicate check of their union.
            audited = all(any(c.kind == "unique" and c.columns == ("source_id",)
                              for c in self.catalog.checks.get(m, [])) for m in members)
            check_no_source_vanishes(self.wh, entity, resolver.entity.union, id_column=resolver.id_column,
                                     fed_by={c for m in members if (c := self.catalog.models[m].connection)},
                                     model=model.name, full_refresh=self.full_refresh)
            summary = resolve(self.wh, resolver, self.settings[entity], source=resolver.entity.union,
                              run_id=self.report.run_id, inputs=inputs, unique=audited, full=self.full_refresh,
                              syncs=entity_syncs(self.syncs, entity, resolver.id_column))
            failpoint("build.identity")  # the map is committed; the canonical models are not rebuilt yet
            self.report.identity[entity] = summary
            result.rows, result.written, result.mode = summary.records, summary.changed_records, "identity"
            return
        sql = None
        if model.kind == "union":
            members = [self.catalog.models[r.name] for r in model.refs if self._usable(r.name)]
            entity = UNIONS[model.name.removeprefix("staging.").removesuffix("_records")]
            sql = union_model(entity, members, column_types(self.wh, members)).sql
        outcome = materialize(self.wh, model, self.catalog.checks.get(model.name, []), sql, full=self.full_refresh)
        result.rows, result.written, result.mode = outcome.rows, outcome.written, outcome.mode

    def _skip_reason(self, model: Model) -> str | None:
        if model.kind == "union":
            # A member that failed must not look like a source whose records all went away: identity would end their
            # persons. A member never ingested (skipped, no table) simply is not there yet.
            failed = [r.name for r in model.refs if self.status.get(r.name) == "failed"]
            return f"upstream {failed[0]} failed" if failed else None
        for ref in model.refs:
            name = ref.name
            producer = self.catalog.producers.get(name)
            if producer is not None and producer != model.name:
                state = self.status.get(producer)
                if state == "failed":
                    return f"upstream {producer} failed"
                if state == "skipped" and name not in self.existing:
                    why = self.notes.get(producer, "")
                    # keep the root cause in the note: "no data yet" must stay recognizable downstream
                    return f"upstream {producer} was skipped" + (f": {why.split(': ', 1)[-1]}" if why else "")
            elif producer is None and name not in self.existing and ref.schema.startswith(RAW_PREFIX):
                return f"{name} {NO_DATA} (`hub ingest`)"
        return None

    def _usable(self, name: str) -> bool:
        return self.status.get(name) not in ("failed", "skipped") and name in self.existing
