"""The project context: one object the CLI builds and calls a single method on per command.

``Project`` finds the project directory, loads and validates its configuration, and opens the warehouse. It is just as
usable from Python as the CLI is from a shell::

    from hub.project import Project
    report = Project.find("path/to/project").ingest(["crm.contacts"])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub import config as configuration
from hub.failpoints import failpoint

if TYPE_CHECKING:
    import httpx

    from hub.config import ConnectionConfig
    from hub.ingest import IngestReport, Progress
    from hub.modeling import BuildReport, ModelInfo
    from hub.reverse_etl import PushReport
    from hub.status import Status
    from hub.warehouse import Result, Warehouse


class Project:
    """A hub project: its directory, validated configuration and warehouse."""

    def __init__(self, root: Path, *, environ: Mapping[str, str] | None = None,
                 http_factory: Callable[[ConnectionConfig], httpx.Client] | None = None) -> None:
        self.root = Path(root).resolve()
        self.config = configuration.load(self.root, dict(environ) if environ is not None else None)
        from hub.integrations.checks import check_connections

        check_connections(self.config)   # each connection against its connector, before any command does anything
        self._http_factory = http_factory
        self._checked = False

    @classmethod
    def find(cls, directory: str | Path | None = None, **kw: Any) -> Project:
        """The project in ``directory`` (``-C``), else the nearest one upward from the current directory."""
        explicit = Path(directory) if directory is not None else None
        return cls(configuration.find_root(explicit=explicit), **kw)

    def check_all(self) -> None:
        """Check the whole configuration (connections, models, syncs, schedules, triggers, alerts) before any step
        takes the write lock or makes a call, so a mistake in a later section cannot strike after earlier work.

        Each section keeps its own validator; this calls the validator of every part the project has. A validator
        is imported only when its part exists (sqlglot, scipy, the server and the sandbox cost an empty ingest more
        than the ingest itself); a section that is absent has nothing to refuse.
        """
        if self._checked:
            return
        sections = self.config.sections
        catalog = None
        if "models" in sections or _has_sql(self.root / "models"):   # modeling.catalog.MODELS_DIR; not imported
            from hub.modeling.builder import rankable_fields
            from hub.modeling.catalog import load_catalog
            from hub.modeling.settings import load_settings

            catalog = load_catalog(self)
            load_settings(self, rankable_fields(catalog))   # [models.*] and the project's SQL models
        if "syncs" in sections:
            from hub.reverse_etl import config as sync_config

            for sync in sync_config.load(self).values():
                _check_sync_model(self, sync, catalog)
                if sync.where:
                    from hub.reverse_etl.where import parse

                    parse(sync.where, sync=sync.name, line=self.config.line_of("syncs", sync.name, "where"))
        if "schedules" in sections:
            from hub import schedule

            schedule.load(self)
        if "forms" in sections:
            from hub.forms import config as forms

            forms.load(self)
        if "actions" in sections:
            from hub.actions import config as actions

            actions.load(self)
        if "triggers" in sections:
            from hub.serve import triggers

            triggers.load(self)
        if "alerts" in sections:
            from hub import alerts

            alerts.load(self)
        self._checked = True

    @property
    def warehouse_path(self) -> Path:
        return self.config.warehouse_path

    def warehouse(self, *, read_only: bool = False) -> Warehouse:
        """A new handle on the warehouse; the caller closes it (or uses it as a context manager)."""
        if self.config.warehouse.type == "postgres":
            from hub.warehouse.postgres import PostgresWarehouse

            return PostgresWarehouse(self.config.warehouse, self.warehouse_path, read_only=read_only)
        from hub.warehouse import Warehouse

        return Warehouse(self.warehouse_path, read_only=read_only)

    def not_on_postgres(self, command: str) -> None:
        """Refuse, in one line, a command whose SQL does not run on a postgres warehouse yet."""
        if self.config.warehouse.type == "postgres":
            from hub.warehouse.postgres import NOT_YET, not_yet

            if command in NOT_YET:
                raise not_yet(command)

    @contextmanager
    def writing(self, resources: Sequence[str] = ()) -> Iterator[None]:
        """Hold the write locks of several steps across all of them (`hub run`, a scheduled job).

        DuckDB: the warehouse file's write lock (one writing process per file is DuckDB's rule). PostgreSQL: the
        advisory locks of ``resources`` (``stream:crm.contacts``, ``model:canonical.person``, ``sync:NAME``, see
        :mod:`hub.warehouse.pglocks`), all taken up front in one stable order. Each step still opens and closes the
        warehouse itself and takes its own locks, which this process then already holds, so no other writer gets in
        between two steps on these resources (a build never reads another process's half-finished ingest of them).
        """
        if self.config.warehouse.type == "postgres":
            with self.locked(resources):
                yield
            return
        from hub.warehouse.lock import WarehouseLock

        lock = WarehouseLock(self.warehouse_path, write=True)
        lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def locked(self, resources: Sequence[str]) -> Any:
        """A context that holds the write locks of ``resources`` on a PostgreSQL warehouse (waiting, as writers do,
        up to ``hub --wait``); on DuckDB nothing: the warehouse handle's file lock covers every resource."""
        if self.config.warehouse.type != "postgres" or not resources:
            from contextlib import nullcontext

            return nullcontext()
        from hub.warehouse.pglocks import ResourceLocks

        return ResourceLocks(self.config.warehouse, resources)

    def client_options(self, connection: ConnectionConfig) -> dict[str, Any]:
        """Extra arguments for a connection's API client (an injected httpx client in tests)."""
        return {"http": self._http_factory(connection)} if self._http_factory else {}

    def ingest(self, selectors: Sequence[str] = (), *, full_refresh: bool = False,
               progress: Progress | None = None) -> IngestReport:
        """Pull the selected streams (all configured ones by default) into ``raw_<connection>``."""
        from hub.ingest import ingest

        self.check_all()
        return ingest(self, selectors, full_refresh=full_refresh, progress=progress)

    def build(self, selectors: Sequence[str] = (), *, full_refresh: bool = False,
              progress: Callable[[Any], None] | None = None) -> BuildReport:
        """Build the selected SQL models (all by default) in dependency order; ``full_refresh`` rebuilds them whole."""
        from hub.modeling import build

        self.check_all()
        with self.locked(self.build_resources(selectors)):
            failpoint("build.locked")
            report = build(self, selectors, full_refresh=full_refresh, progress=progress)
        # after the models' locks are let go: a trigger's push takes its sync's lock (and may build again), never
        # while this holds others
        if "triggers" in self.config.sections:   # data triggers: rows that entered a condition fire (hub.actions)
            from hub.actions.data import after_build

            report.triggers = after_build(self)
        return report

    def build_resources(self, selectors: Sequence[str] = ()) -> list[str]:
        """The write locks a build of ``selectors`` takes on a PostgreSQL warehouse: one per selected model."""
        if self.config.warehouse.type != "postgres":
            return []
        from hub.modeling.catalog import load_catalog
        from hub.modeling.graph import Graph
        from hub.warehouse.pglocks import model

        graph = Graph(load_catalog(self))
        return [model(name) for name in sorted(graph.select(selectors, self.config.connections))]

    def push_resources(self, syncs: Sequence[str] = ()) -> list[str]:
        """The write locks a push of ``syncs`` takes on a PostgreSQL warehouse: each sync and its two-way peers
        (their plans read each other's state)."""
        if self.config.warehouse.type != "postgres" or "syncs" not in self.config.sections:
            return []
        from hub.reverse_etl import config as sync_config
        from hub.warehouse.pglocks import sync

        every = sync_config.load(self)
        names = set()
        for chosen in sync_config.select(every, syncs):
            names |= {chosen.name, *(peer.name for peer in sync_config.peers(every, chosen))}
        return [sync(name) for name in sorted(names)]

    def ingest_resources(self, selectors: Sequence[str] = ()) -> list[str]:
        """The write locks an ingest of ``selectors`` takes on a PostgreSQL warehouse: one per stream."""
        if self.config.warehouse.type != "postgres":
            return []
        from hub.ingest import plan
        from hub.warehouse.pglocks import stream

        out = []
        for connector, streams in plan(self, selectors):
            out += [stream(connector.config.name, s.name) for s in streams]
            connector.client.close()
        return out

    def models(self) -> list[ModelInfo]:
        """Every model with its dependencies, materialization, last build and row count."""
        from hub.modeling import list_models

        return list_models(self)

    def compile(self, model: str, dialect: str) -> str:
        """A model's SQL compiled for another warehouse's dialect."""
        from hub.modeling import compile_model

        return compile_model(self, model, dialect)

    def push(self, syncs: Sequence[str] = (), *, dry_run: bool = False,
             progress: Callable[[str, int, int], None] | None = None) -> PushReport:
        """Run the selected reverse-ETL syncs (all by default); ``dry_run`` plans without writing anywhere."""
        from hub.reverse_etl import push

        self.not_on_postgres("push")
        self.check_all()
        if dry_run:   # writes nothing anywhere: a reader, it takes no lock
            return push(self, syncs, dry_run=dry_run, progress=progress)
        with self.locked(self.push_resources(syncs)):
            failpoint("push.locked")
            return push(self, syncs, dry_run=dry_run, progress=progress)

    def rejected(self, sync: str) -> list[dict[str, Any]]:
        """The rows a sync's target refused, with the target's reasons."""
        from hub.reverse_etl import rejected_rows

        return rejected_rows(self, sync)

    def query(self, sql: str) -> Result:
        """Run one read-only statement against the warehouse, sandboxed (no files, network, extensions or SET); every
        secret value in the result is masked."""
        from hub.secrets import redact
        from hub.warehouse import Result, Warehouse

        if self.config.warehouse.type == "postgres":
            from hub.warehouse.postgres import PostgresWarehouse

            with PostgresWarehouse(self.config.warehouse, self.warehouse_path, untrusted=True) as pg:
                result = pg.read(sql)
        else:
            with Warehouse(self.warehouse_path, untrusted=True) as wh:
                result = wh.read(sql)
        return Result([redact(c) for c in result.columns],
                      [tuple(redact(v) if isinstance(v, str) else v for v in row) for row in result.rows])

    def status(self) -> Status:
        """The latest ingest outcome per connection and stream."""
        from hub.status import status

        return status(self)


def _has_sql(folder: Path) -> bool:
    """Whether ``folder`` holds a SQL model of the project's own (the built-in ones are checked by hub's tests)."""
    return folder.is_dir() and next(folder.rglob("*.sql"), None) is not None


def _check_sync_model(project: Project, sync: Any, catalog: Any) -> None:
    """A sync's model in a schema the project's models build (staging, canonical, marts...) must be one of them: a
    misspelt name fails here, with the closest, before anything runs. (A model that exists but is not built yet, or
    was skipped for lack of data, is for the build and the push to handle.)"""
    if catalog is None:
        return
    schemas = {m.schema for m in catalog if m.kind == "sql" and not m.schema.startswith("raw_")} - {"main"}
    if sync.schema in schemas and sync.model.lower() not in catalog.producers:
        from hub.config import CONFIG_FILE
        from hub.errors import UnknownNameError

        raise UnknownNameError("model", sync.model, sorted(catalog.producers), file=CONFIG_FILE,
                               line=project.config.line_of("syncs", sync.name, "model"),
                               where=f" in [syncs.{sync.name}] model")
