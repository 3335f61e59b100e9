"""What a push did (or, with ``--dry-run``, would do), per sync, and the text the CLI prints for it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from hub.errors import HubError


@dataclass
class Example:
    """One field of one row, before -> after (dry runs)."""

    key: str
    op: str              # create | update | remove
    field: str
    before: Any
    after: Any


@dataclass
class SyncResult:
    """One sync's outcome: counts of records by what happened to them."""

    sync: str
    to: str
    object: str
    mode: str
    creates: int = 0
    updates: int = 0
    removals: int = 0
    rejected: int = 0
    unchanged: int = 0
    skipped: int = 0            # mode update: no such record in the target
    conflicts: int = 0
    api_calls: int = 0
    seconds: float = 0.0
    status: str = "pending"     # success | failed | planned | waiting (its model has no data yet: nothing to send)
    error: str | None = None
    note: str | None = None     # waiting: why the model is not built
    examples: list[Example] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.creates + self.updates + self.removals


@dataclass
class PushReport:
    """Every selected sync's result, and the errors that stopped any of them."""

    run_id: str | None
    dry_run: bool = False
    results: list[SyncResult] = field(default_factory=list)
    errors: list[HubError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "dry_run": self.dry_run, "ok": self.ok,
                "results": [asdict(r) for r in self.results], "errors": [str(e) for e in self.errors]}


def render_push_report(report: PushReport) -> str:
    """The lines ``hub push`` prints."""
    lines = []
    if not report.results:
        return "no syncs to push: hub.toml has no [syncs.NAME] tables"
    width = max(len(r.sync) for r in report.results)
    for r in report.results:
        where = f"-> {r.to}.{r.object}"
        if r.status == "waiting":
            lines.append(f"{r.sync:<{width}}  {where}  nothing to send yet: {r.note}")
            continue
        if report.dry_run:
            lines.append(f"{r.sync:<{width}}  {where}  would create {r.creates:,}, update {r.updates:,}, "
                         f"remove {r.removals:,}; {r.unchanged:,} unchanged"
                         + (f"; {r.rejected:,} would be rejected" if r.rejected else "")
                         + (f"; {r.conflicts:,} conflicts" if r.conflicts else ""))
            for e in r.examples:
                lines.append(f"    {e.op:<6} {e.key}: {e.field} {_show(e.before)} -> {_show(e.after)}")
            continue
        if r.status == "failed" and not r.changed and not r.rejected:
            lines.append(f"{r.sync:<{width}}  {where}  failed: {r.error}")
            continue
        if not r.changed and not r.conflicts and r.status != "failed":
            retried = (f"; {r.rejected:,} rejected row(s) retried and refused again "
                       f"(hub push --show-rejected {r.sync})") if r.rejected else ""
            lines.append(f"{r.sync:<{width}}  {where}  nothing changed ({r.unchanged:,} in sync, "
                         f"{r.api_calls} API calls){retried}")
            continue
        parts = [f"created {r.creates:,}", f"updated {r.updates:,}"]
        if r.mode == "mirror" or r.removals:
            parts.append(f"removed {r.removals:,}")
        if r.rejected:
            parts.append(f"rejected {r.rejected:,} (hub push --show-rejected {r.sync})")
        if r.conflicts:
            parts.append(f"{r.conflicts:,} conflicts resolved")
        lines.append(f"{r.sync:<{width}}  {where}  {', '.join(parts)}; {r.unchanged:,} unchanged; "
                     f"{r.api_calls} API calls in {r.seconds:.1f} s" + (f"; failed: {r.error}" if r.error else ""))
    return "\n".join(lines)


def _show(value: Any) -> str:
    if value is None:
        return "(empty)"
    return repr(value) if isinstance(value, str) else str(value)
