"""SQL models: build them in dependency order, list them, compile them for other warehouses.

The public entry points, which the CLI and :class:`hub.project.Project` call::

    build(project, ["canonical.person+"], progress=print_line) -> BuildReport
    list_models(project) -> list[ModelInfo]
    compile_model(project, "canonical.person", "postgres") -> str

``render_result``, ``render_summary`` and ``render_models`` turn their results into the text the CLI prints. The engine
(sqlglot, pyarrow, scipy) is imported only when one of the three is called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hub.modeling.report import (
    BuildReport,
    IdentitySummary,
    ModelInfo,
    ModelResult,
    render_identity,
    render_models,
    render_result,
    render_summary,
)

if TYPE_CHECKING:
    from hub.project import Project

__all__ = ["BuildReport", "IdentitySummary", "ModelInfo", "ModelResult", "build", "compile_model", "list_models",
           "render_identity", "render_models", "render_result", "render_summary"]


def build(project: Project, selectors: Sequence[str] = (), *, full_refresh: bool = False,
          progress: Callable[[ModelResult], None] | None = None) -> BuildReport:
    """Build the selected models (all by default) in dependency order; ``progress`` sees each result as it lands.

    Selectors: ``name``, ``name+`` (and downstream), ``+name`` (and upstream), ``connection:NAME``, ``staging.*``.
    ``full_refresh`` rebuilds incremental models whole and re-resolves every record (ids are kept).
    """
    from hub.modeling.builder import build as run

    return run(project, selectors, full_refresh=full_refresh, progress=progress)


def list_models(project: Project) -> list[ModelInfo]:
    """Every model with its dependencies, materialization, last successful build and current row count."""
    from hub.modeling.catalog import load_catalog
    from hub.warehouse.bookkeeping import Bookkeeping
    from hub.warehouse.sql import qualified

    catalog = load_catalog(project)
    infos = [ModelInfo(name=m.name, path=m.file, materialized=m.materialized,
                       depends_on=sorted({catalog.producers.get(r.name, r.name) for r in m.refs} - {m.name}),
                       connection=m.connection, description=m.header.description) for m in catalog]
    with project.warehouse(read_only=True) as wh:
        books = Bookkeeping(wh)
        if not books.has_schema():
            return infos
        last = {r["target"]: r["last_success"] for r in books.last_steps("build").records()}
        kinds = {f"{s}.{t}": k for s, t, k in wh.query(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables").rows}
        for info in infos:
            info.last_built_at = last.get(info.name)
            if kinds.get(info.name) == "BASE TABLE":
                schema, _, table = info.name.partition(".")
                info.rows = wh.query(f"SELECT count(*) FROM {qualified(schema, table)}").scalar()
    return infos


def compile_model(project: Project, name: str, dialect: str) -> str:
    """Model ``name``'s SQL compiled for ``dialect`` (postgres, snowflake, bigquery or duckdb)."""
    from hub.modeling.catalog import load_catalog
    from hub.modeling.compile import compile_sql

    return compile_sql(load_catalog(project), name, dialect)
