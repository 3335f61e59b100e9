"""dlt wiring: land Arrow batches in ``raw_<connection>`` of the warehouse, through the warehouse's own connection.

dlt is configured to keep every working file under the project's ``.hub/`` (never the user's home), to send no
telemetry, and to stay quiet. Arrow tables pass through dlt's extract/normalize untouched and load with DuckDB's COPY
(PostgreSQL's COPY of CSV files on a postgres warehouse: :mod:`hub.warehouse.pg_load`); a full pull replaces the table
(so deletions at the source disappear too), an incremental pull merges on the primary key, keeping the most recently
modified copy of a record that arrives twice. Batches a connector declares flat (scalars only, as ``type = "rest"``
makes them) skip dlt on a DuckDB warehouse: :mod:`hub.warehouse.direct` loads them as they arrive, into the same tables.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hub.errors import HubError, WarehouseError
from hub.secrets import RedactingFilter, redact
from hub.warehouse.duck import Warehouse
from hub.warehouse.schema_changes import LoadGuard, LoadOutcome

if TYPE_CHECKING:
    import pyarrow as pa


#: modules a first load imports inside dlt (found with sys.modules before and after one), loaded ahead with dlt
WARM_MODULES = ("dlt.common.libs.pyarrow", "dlt.common.configuration.plugins", "dlt.destinations.insert_job_client",
                "dlt.destinations.impl.duckdb.sql_client", "dlt.destinations.impl.duckdb.duck")
#: dlt merges through a staging dataset; keep it beside hub's own schema, out of the way of users' schemas.
STAGING_LAYOUT = "_hub_staging_%s"


@dataclass
class TableLoad:
    """One raw table to (re)write from a stream of Arrow batches."""

    table: str
    primary_key: str
    disposition: Literal["replace", "merge"]
    batches: Iterator[pa.Table]
    cursor_field: str | None = None
    #: every batch holds only text, integer, double and boolean columns (the connector says so): a DuckDB warehouse
    #: then loads them without dlt, each as it arrives (:mod:`hub.warehouse.direct`)
    flat: bool = False


def configure(project_dir: Path, debug: bool = False) -> None:
    """Point dlt at the project (before it is imported), silence it, and keep secrets out of its logs."""
    hub_dir = project_dir / ".hub"
    os.environ["DLT_DATA_DIR"] = str(hub_dir / "dlt")
    os.environ["DLT_PROJECT_DIR"] = str(hub_dir / "dlt")
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    os.environ["RUNTIME__LOG_LEVEL"] = "INFO" if debug else "ERROR"
    os.environ.setdefault("RESTORE_FROM_DESTINATION", "false")
    logger = logging.getLogger("dlt")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


def import_dlt() -> None:
    """Import the parts of dlt a load uses (:func:`hub.ingest.preload_dlt` runs this in a thread, ahead of the load)."""
    import dlt  # noqa: F401
    import dlt.destinations  # noqa: F401
    from dlt.common.normalizers.naming.snake_case import NamingConvention  # noqa: F401
    from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials  # noqa: F401
    from dlt.pipeline.exceptions import PipelineStepFailed  # noqa: F401

    for module in WARM_MODULES:  # what dlt imports on its own during its first load
        try:
            importlib.import_module(module)
        except ImportError:
            pass  # another dlt version lays them out otherwise: they load during the load, as they always did


def load(warehouse: Warehouse, project_dir: Path, connection: str, loads: list[TableLoad]) -> LoadOutcome:
    """Run one dlt load of ``loads`` into schema ``raw_<connection>``; raises the hub error that stopped it, if any.

    Returns the schema changes the load made and the records it quarantined (see :mod:`hub.warehouse.schema_changes`).
    """
    if getattr(warehouse, "dialect", "duckdb") == "duckdb" and loads and all(item.flat for item in loads):
        from hub.warehouse import direct

        return direct.load(warehouse, connection, loads)
    configure(project_dir)
    import dlt
    from dlt.common.normalizers.naming.snake_case import NamingConvention
    from dlt.pipeline.exceptions import PipelineStepFailed

    guard = LoadGuard(warehouse, f"raw_{connection}", NamingConvention().normalize_path)
    resources = []
    for item in loads:
        hints = ({item.cursor_field: {"dedup_sort": "desc"}}
                 if item.cursor_field and item.disposition == "merge" else None)
        batches = guard.conform(item.table, item.primary_key, item.batches)
        resources.append(dlt.resource(batches, name=item.table, primary_key=item.primary_key,
                                      write_disposition=item.disposition, columns=hints))
    pipeline = dlt.pipeline(
        pipeline_name=f"hub_{connection}", pipelines_dir=str(project_dir / ".hub" / "pipelines"),
        destination=_destination(warehouse),
        dataset_name=f"raw_{connection}", progress=None)
    # Packages left by an interrupted run are dropped: the cursors were not advanced, so their data is fetched again.
    if pipeline.has_pending_data:
        pipeline.abort_packages()
    try:
        with _settings(getattr(warehouse, "dlt_settings", {})):
            pipeline.run(resources)
    except PipelineStepFailed as exc:
        cause = _hub_cause(exc)
        if cause is not None:
            raise cause from None
        raise WarehouseError(f"loading raw_{connection} failed in dlt's {exc.step} step: "
                             f"{redact(_root_message(exc))}") from None
    return guard.finish()


def _destination(warehouse: Warehouse) -> Any:
    """dlt's destination for the warehouse: its own postgres one for a postgres warehouse, else DuckDB over the
    warehouse's own connection."""
    if getattr(warehouse, "dialect", "duckdb") == "postgres":
        return warehouse.dlt_destination(STAGING_LAYOUT)  # type: ignore[attr-defined]
    import dlt

    return _resolve_once(dlt.destinations.duckdb(credentials=_credentials(warehouse),
                                                 staging_dataset_name_layout=STAGING_LAYOUT))


def _resolve_once(destination: Any) -> Any:
    """``destination`` resolving its partial configuration once per load instead of at each use.

    dlt asks a destination for its capabilities about ten times in one load (pipeline, extract, normalize, load), and
    each time resolves its configuration anew from the environment and config providers, to adjust them: measured,
    0.1-0.2 s of one 100,000-record load, half of it after the last page. The partial configuration depends only on
    the destination's own arguments and the environment, which do not change during a load (each load builds its
    destination afresh). The full resolution, which makes the load's client, is left alone.
    """
    configuration = destination.configuration
    resolved: list[Any] = []

    def once(initial_config: Any, accept_partial: bool = False) -> Any:
        if not accept_partial:
            return configuration(initial_config, accept_partial)
        if not resolved:
            resolved.append(configuration(initial_config, accept_partial=True))
        return resolved[0]

    destination.configuration = once
    return destination


@contextmanager
def _settings(settings: dict[str, str]) -> Iterator[None]:
    """dlt ``settings`` (environment variables, which dlt reads at each step) for the length of one load."""
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _credentials(warehouse: Warehouse):
    """dlt's credentials for the warehouse's own connection.

    dlt raises DuckDB's checkpoint threshold to 1 GB, which defers writing a load's tables to the file until the
    connection closes, and writes every row to the WAL first. DuckDB's default (16 MB) checkpoints a large load at
    its commit instead, straight from memory: measured, 0.15-0.25 s less for 100,000 contacts.
    """
    from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

    return DuckDbCredentials(warehouse.connect(), statements=["RESET GLOBAL checkpoint_threshold"])


def _hub_cause(exc: BaseException) -> HubError | None:
    """The hub error (an API failure inside a stream, say) that dlt wrapped on its way out."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, HubError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _root_message(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return " ".join(str(exc).split())[:500]
