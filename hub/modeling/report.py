"""What `hub build` and `hub models` return, and their plain-text rendering for the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hub.errors import HubError

if TYPE_CHECKING:
    from hub.warehouse.duck import Warehouse

#: what the note of a model skipped for lack of data says (its own raw table, or one upstream, not there yet: a form
#: with no posts, a stream never ingested): such a model is no error, and a sync reading it has nothing to send yet
NO_DATA = "has not been ingested yet"


def waiting_for_data(wh: Warehouse, model: str) -> str | None:
    """Why ``model`` (not in the warehouse) was not built, when its latest build was skipped for lack of data: the
    build's note (``raw_website.chat has not been ingested yet``); None otherwise (never built, failed, or there)."""
    schema, _, table = model.partition(".")
    if wh.table_exists(schema, table) or not wh.table_exists("_hub", "run_steps"):
        return None
    rows = wh.query("SELECT status, detail FROM _hub.run_steps WHERE step = 'build' AND lower(target) = ? "
                    "ORDER BY started_at DESC LIMIT 1", [model.lower()]).rows
    if rows and rows[0][0] == "skipped" and NO_DATA in str(rows[0][1] or ""):
        return str(rows[0][1])
    return None


@dataclass
class IdentitySummary:
    """What one resolution found, for `hub build` and `hub demo` to show."""

    entity: str
    records: int = 0
    entities: int = 0                      # persons (or companies) after resolution
    changed_records: int = 0               # records (re)read this build
    new_ids: int = 0
    merges: int = 0
    full: bool = False
    merged_examples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ModelResult:
    """One model's build: ``status`` is success, failed or skipped (``note`` says why it was skipped)."""

    name: str
    materialized: str
    status: str = "pending"
    rows: int | None = None            # rows in the relation afterwards (None for a view)
    written: int | None = None         # rows written by this build (an incremental build writes only some)
    seconds: float = 0.0
    mode: str | None = None            # full | incremental | view | identity
    error: str | None = None
    note: str | None = None


@dataclass
class BuildReport:
    """Every model's result, the errors that failed models, and what identity resolution found."""

    run_id: str
    results: list[ModelResult] = field(default_factory=list)
    errors: list[HubError] = field(default_factory=list)
    identity: dict[str, IdentitySummary] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def person(self) -> IdentitySummary | None:
        """Records -> persons, with merged examples (None when persons were not resolved in this build)."""
        return self.identity.get("person")

    @property
    def company(self) -> IdentitySummary | None:
        return self.identity.get("company")


@dataclass
class ModelInfo:
    """One line of `hub models`."""

    name: str
    path: str | None
    materialized: str
    depends_on: list[str]
    last_built_at: datetime | None = None
    rows: int | None = None
    connection: str | None = None
    description: str | None = None


def render_result(result: ModelResult) -> str:
    """One line per model, as `hub build` prints it while building."""
    if result.status == "skipped":
        return f"SKIP  {result.name:<34} {result.note or ''}"
    if result.status == "failed":
        return f"FAIL  {result.name:<34} {result.seconds:6.2f}s  {result.error}"
    rows = "view" if result.rows is None else f"{result.rows:,} rows"
    if result.mode == "incremental" and result.written is not None:
        rows += f" ({result.written:,} written)"
    return f"OK    {result.name:<34} {result.materialized:<12} {rows:<28} {result.seconds:6.2f}s"


def render_summary(report: BuildReport) -> str:
    """The closing lines of `hub build` (and `hub demo`): totals, identity resolution, merged examples."""
    built = sum(r.status == "success" for r in report.results)
    failed = sum(r.status == "failed" for r in report.results)
    skipped = sum(r.status == "skipped" for r in report.results)
    lines = [f"{built} built, {failed} failed, {skipped} skipped in {report.seconds:.2f}s"]
    for summary in report.identity.values():
        lines.append(render_identity(summary))
    return "\n".join(lines)


def render_identity(summary: IdentitySummary, examples: int = 3) -> str:
    """``1,000 records -> 640 persons (12 merges this build)`` and a few merged examples."""
    plural = "persons" if summary.entity == "person" else "companies"
    head = f"{summary.records:,} {summary.entity} records -> {summary.entities:,} {plural}"
    detail = f"{summary.changed_records:,} records read, {summary.new_ids:,} new ids, {summary.merges:,} merges"
    lines = [f"{head} ({detail})"]
    id_column = f"{summary.entity}_id"
    for example in summary.merged_examples[:examples]:
        lines.append(f"  {id_column} {example[id_column]}:")
        for record in example["records"]:
            lines.append("    " + _record(record))
    return "\n".join(lines)


def render_models(infos: list[ModelInfo]) -> str:
    """The table `hub models` prints."""
    lines = [f"{'MODEL':<34} {'MATERIALIZED':<12} {'ROWS':>12}  {'LAST BUILT':<19}  DEPENDS ON"]
    for info in infos:
        rows = "" if info.rows is None else f"{info.rows:,}"
        built = info.last_built_at.strftime("%Y-%m-%d %H:%M:%S") if info.last_built_at else "never"
        lines.append(f"{info.name:<34} {info.materialized:<12} {rows:>12}  {built:<19}  "
                     f"{', '.join(info.depends_on) or '-'}")
    return "\n".join(lines)


def _record(record: dict[str, Any]) -> str:
    where = f"{record['connection']}.{record['stream']} {record['source_id']}"
    values = ", ".join(f"{k}={v}" for k, v in record.items()
                       if k not in ("connection", "stream", "source_id") and v is not None)
    return f"{where}: {values}"
