"""The one pipeline runner: `hub run`, scheduled jobs and the demo all call :func:`run`.

Steps run in order (ingest, build, push by default; a schedule names its own, with selectors). Build reads what ingest
landed and push reads what build produced, so each step runs only when every step before it succeeded: a push never
sends values computed from a half-failed ingest. The write locks are held from the first step to the last, so no
other writer comes in between: on DuckDB the warehouse file's lock (one writing process per file is DuckDB's rule), on
PostgreSQL the advisory locks of every resource the steps write (their streams, models and syncs, taken together up
front in one stable order: :mod:`hub.warehouse.pglocks`), so runs on other resources, from other processes and
machines, go on beside it, and one that needs a resource this run holds waits for it (``hub --wait``). A job (``job="schedule:nightly"``) is also recorded as a run of its own in
``_hub.runs``, whose steps point at the runs each step made.

Layers: this module builds on :mod:`hub.schedule_config`, :mod:`hub.history` and :mod:`hub.alerts`; the scheduler
(:mod:`hub.schedule`) builds on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hub import alerts, history
from hub.errors import HubError
from hub.schedule_config import STEP_KINDS, JobStep

if TYPE_CHECKING:
    from hub.project import Project

STEPS = STEP_KINDS
#: what `hub run` runs: every step, unselected
DEFAULT_STEPS = tuple(JobStep(kind) for kind in STEPS)


@dataclass
class StepOutcome:
    """What one step did: its own run id (ingest/build/push record their own runs) and outcome."""

    step: str
    status: str                    # success | failed | skipped
    run_id: str | None = None
    rows_in: int | None = None
    rows_out: int | None = None
    error: str | None = None


@dataclass
class RunReport:
    """Each step's outcome and own report, in order; ``failed`` names the step that stopped the run."""

    job: str | None = None
    #: the job's own run in ``_hub.runs`` (None when the run is not recorded as a job: `hub run`)
    run_id: str | None = None
    steps: list[StepOutcome] = field(default_factory=list)
    reports: dict[str, Any] = field(default_factory=dict)
    failed: str | None = None
    error: HubError | None = None
    skipped: list[str] = field(default_factory=list)
    alerts: list[Any] = field(default_factory=list)     # hub.alerts.Alert, with how each delivery went

    @property
    def ok(self) -> bool:
        return self.failed is None

    @property
    def schedule(self) -> str | None:
        """The schedule a job ran for (``schedule:NAME``), else None."""
        return self.job.partition(":")[2] if self.job and self.job.startswith("schedule:") else None


def run(project: Project, steps: Sequence[JobStep] = DEFAULT_STEPS, *, job: str | None = None, alert: bool = True,
        on_step: Callable[[str, Any], None] | None = None,
        ingest_progress: Callable[[str, str, int], None] | None = None) -> RunReport:
    """Run ``steps`` in order under one write lock; a failed step skips the rest.

    ``job`` records the whole run as one run of that name (``schedule:NAME``); ``alert`` sends the [alerts] it calls
    for: per step when not a job, once for the job's run otherwise. ``on_step(kind, report)`` is called as each step
    finishes; ``ingest_progress`` is handed to the ingest step.
    """
    from hub.warehouse.bookkeeping import Bookkeeping, now

    report = RunReport(job=job)
    project.check_all()      # a bad [syncs] or [alerts] is found before ingest, not after it committed
    started: dict[str, datetime] = {}
    with project.writing(resources(project, steps)):  # no other writer between the steps
        if job:
            with project.warehouse() as wh:
                books = Bookkeeping(wh)
                books.ensure()
                report.run_id = books.start_run(job)
        try:
            for step in steps:
                name = str(step)
                started[name] = now()
                if report.failed:
                    report.skipped.append(name)
                    report.steps.append(StepOutcome(name, "skipped"))
                    continue
                _step(project, step, report, alert=alert and not job, ingest_progress=ingest_progress)
                if on_step and name in report.reports:
                    on_step(step.kind, report.reports[name])
        except BaseException as exc:  # a bug in a step: the job and the step's run end failed with the cause
            history.fail_unfinished(project, exc)
            raise
        if job:
            _record_job(project, report, started)
    if alert and job:
        report.alerts += alerts.after_run(project, report.run_id)
    return report


def resources(project: Project, steps: Sequence[JobStep]) -> list[str]:
    """What ``steps`` write, as lock names (PostgreSQL; none on DuckDB, whose file lock covers everything). A step
    whose resources cannot be known (a bad selector, a command the warehouse cannot run yet) adds none: it fails as
    a step of its own when it runs, as it would have."""
    if project.config.warehouse.type != "postgres":
        return []
    out: list[str] = []
    for step in steps:
        selectors = [step.selector] if step.selector else []
        try:
            if step.kind != "ingest":
                project.not_on_postgres(step.kind)
            out += (project.ingest_resources(selectors) if step.kind == "ingest" else
                    project.build_resources(selectors) if step.kind == "build" else
                    project.push_resources(selectors))
        except HubError:
            continue
    return out


def _step(project: Project, step: JobStep, report: RunReport, *, alert: bool,
          ingest_progress: Callable[[str, str, int], None] | None) -> None:
    """Run one step into ``report``: its outcome, its report, and (``alert``) the alerts it calls for."""
    name = str(step)
    selectors = [step.selector] if step.selector else []
    try:
        if step.kind == "ingest":
            done: Any = project.ingest(selectors, progress=ingest_progress)
            rows_in = rows_out = done.rows
        elif step.kind == "build":
            done = project.build(selectors)
            rows_in = rows_out = sum(r.rows or 0 for r in done.results)
        else:
            done = project.push(selectors)
            rows_in = sum(r.changed + r.unchanged for r in done.results)
            rows_out = sum(r.changed for r in done.results)
    except HubError as exc:
        report.failed, report.error = name, exc
        report.steps.append(StepOutcome(name, "failed", error=str(exc)))
        if alert:
            report.alerts += alerts.alert_error(project, name, exc)
        return
    report.reports[name] = done
    errors = "; ".join(str(e) for e in done.errors) or None
    report.steps.append(StepOutcome(name, "success" if done.ok else "failed", done.run_id, rows_in, rows_out, errors))
    if alert:
        report.alerts += alerts.after_run(project, done.run_id)
    if not done.ok:
        report.failed = name


def _record_job(project: Project, report: RunReport, started: dict[str, datetime]) -> None:
    from hub.warehouse.bookkeeping import Bookkeeping, Step

    assert report.run_id is not None
    errors = [f"{s.step}: {s.error}" for s in report.steps if s.error]
    with project.warehouse() as wh:
        books = Bookkeeping(wh)
        for s in report.steps:
            # detail holds the step's own run id, so history can follow a job to the runs it made
            books.write_step(Step(report.run_id, "job", s.step, started[s.step], s.status, s.rows_in, s.rows_out,
                                  s.run_id, s.error))
        books.finish_run(report.run_id, "success" if report.ok else "failed", "; ".join(errors) or None)
