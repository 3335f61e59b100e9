"""`hub run`: ingest, build, push in one command. A failed step stops the steps that depend on it.

Build reads what ingest landed and push reads what build produced, so each step runs only when every step before it
succeeded: a push never sends values computed from a half-failed ingest. The warehouse's write lock is held from the
first step to the last, so no other writer comes in between.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub.errors import HubError

if TYPE_CHECKING:
    from hub.project import Project

STEPS = ("ingest", "build", "push")


@dataclass
class RunReport:
    """Each step's own report, in order; ``failed`` names the step that stopped the run."""

    reports: dict[str, Any] = field(default_factory=dict)
    failed: str | None = None
    error: HubError | None = None
    skipped: list[str] = field(default_factory=list)
    alerts: list[Any] = field(default_factory=list)     # hub.alerts.Alert, with how each delivery went

    @property
    def ok(self) -> bool:
        return self.failed is None


def run(project: Project, *, on_step: Callable[[str, Any], None] | None = None,
        ingest_progress: Callable[[str, str, int], None] | None = None) -> RunReport:
    """Run every step in order; ``on_step(name, report)`` is called as each one finishes."""
    from hub import alerts

    report = RunReport()
    actions: dict[str, Callable[[], Any]] = {
        "ingest": lambda: project.ingest(progress=ingest_progress),
        "build": lambda: project.build(),
        "push": lambda: project.push(),
    }
    project.check_all()      # a bad [syncs] or [alerts] is found before ingest, not after it committed
    with project.writing():  # no other writer between the steps
        for name in STEPS:
            if report.failed:
                report.skipped.append(name)
                continue
            try:
                step = actions[name]()
            except HubError as exc:
                report.failed, report.error = name, exc
                report.alerts += alerts.alert_error(project, name, exc)
                continue
            report.reports[name] = step
            report.alerts += alerts.after_run(project, getattr(step, "run_id", None))
            if on_step:
                on_step(name, step)
            if not step.ok:
                report.failed = name
    return report
