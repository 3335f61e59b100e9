"""Schedules: ``[schedules.NAME]`` in hub.toml, when each one runs next, running a job, and the foreground scheduler.

A schedule is a cron expression in a timezone plus steps (``"ingest"``, ``"build:canonical.person+"``,
``"push:person_to_hubspot"``). :class:`Scheduler` runs due jobs in-process through the :class:`~hub.project.Project`
methods, never starts a job while the same job still runs, and after downtime runs a missed job once (not once per
missed slot). Time comes from an injectable :class:`Clock` and the loop ends on a ``threading.Event``, so tests drive it
without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from hub.config import CONFIG_FILE
from hub.config import line_of as _line_of
from hub.errors import ConfigError, HubError, UnknownNameError

if TYPE_CHECKING:
    from hub.project import Project

KEYS = ("cron", "timezone", "steps")
STEP_KINDS = ("ingest", "build", "push")
#: A cron must fire within this many years (leap days fire every 4; 8 allows for a skipped leap year in 2100)
FIRE_WITHIN_YEARS = 8


@dataclass(frozen=True)
class JobStep:
    """One step of a job: a kind and an optional selector (``push:person_to_hubspot``)."""

    kind: str
    selector: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.selector}" if self.selector else self.kind


@dataclass(frozen=True)
class Schedule:
    """A validated ``[schedules.NAME]`` table."""

    name: str
    cron: str
    timezone: str = "UTC"
    steps: tuple[JobStep, ...] = (JobStep("ingest"), JobStep("build"), JobStep("push"))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def next_after(self, moment: datetime) -> datetime:
        """The first run strictly after ``moment``, in the schedule's timezone.

        Like cron, a job at a fixed hour runs once when clocks fall back, not again in the repeated hour.
        """
        it = croniter(self.cron, moment.astimezone(self.zone))
        while True:
            candidate: datetime = it.get_next(datetime)
            if not (self._fixed_hour and candidate.fold == 1
                    and candidate.replace(fold=0).utcoffset() != candidate.utcoffset()):
                return candidate

    def latest_at_or_before(self, moment: datetime) -> datetime:
        """The latest run time not after ``moment``."""
        # croniter's get_prev is strictly before its start; a second later makes an exact match count
        return croniter(self.cron, moment.astimezone(self.zone) + timedelta(seconds=1)).get_prev(datetime)

    def interval(self, moment: datetime) -> timedelta:
        """The longest gap between the next few runs: what 'on time' means for staleness (weekends included)."""
        times = [self.next_after(moment)]
        for _ in range(9):
            times.append(self.next_after(times[-1]))
        # in UTC: subtracting two times of one zone ignores DST folds
        utc = [t.astimezone(UTC) for t in times]
        return max(b - a for a, b in pairwise(utc))

    def ingests(self, connection: str) -> bool:
        """Whether a job of this schedule ingests ``connection``."""
        return any(s.kind == "ingest" and (s.selector is None or s.selector.split(".")[0] == connection)
                   for s in self.steps)

    @property
    def _fixed_hour(self) -> bool:
        return "*" not in self.cron.split()[1]


def format_time(moment: datetime) -> str:
    """``2026-11-22 02:00 UTC``: how schedules show times."""
    return moment.strftime("%Y-%m-%d %H:%M %Z")


def load(project: Project) -> dict[str, Schedule]:
    """Every ``[schedules.NAME]`` of hub.toml, validated; errors point at hub.toml lines."""
    tables = project.config.sections.get("schedules") or {}

    def line_of(*path: str) -> int | None:
        # Config.line_of takes every part as a table name; a key must go to config.line_of separately
        table, key = (list(path[:2]), path[2]) if len(path) > 2 else (list(path), None)
        return _line_of(project.config.text, table, key)

    if not isinstance(tables, dict):
        raise ConfigError("[schedules] must hold tables like [schedules.nightly]", file=CONFIG_FILE,
                          line=line_of("schedules"))
    return {name: _schedule(project, name, body, line_of) for name, body in tables.items()}


def _schedule(project: Project, name: str, body: Any, line_of: Callable[..., int | None]) -> Schedule:
    where = ["schedules", name]
    if not isinstance(body, dict):
        raise ConfigError(f"[schedules.{name}] must be a table", file=CONFIG_FILE, line=line_of(*where))
    for key in body:
        if key not in KEYS:
            raise UnknownNameError("key", key, KEYS, file=CONFIG_FILE, line=line_of(*where, key),
                                   where=f" in [schedules.{name}]")
    cron = body.get("cron")
    if not isinstance(cron, str) or not croniter.is_valid(cron) or len(cron.split()) != 5:
        raise ConfigError(f"[schedules.{name}] cron {cron!r} is not a 5-field cron expression", file=CONFIG_FILE,
                          line=line_of(*where, "cron") or line_of(*where),
                          hint='write minute hour day month weekday, e.g. cron = "0 2 * * *"')
    zone = body.get("timezone", "UTC")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"[schedules.{name}] timezone {zone!r} is not an IANA timezone", file=CONFIG_FILE,
                          line=line_of(*where, "timezone"), hint='e.g. timezone = "Europe/Berlin"') from None
    if not fires(cron, ZoneInfo(str(zone))):
        raise ConfigError(f"[schedules.{name}] cron {cron!r} never fires (no such date within {FIRE_WITHIN_YEARS} "
                          f"years)", file=CONFIG_FILE, line=line_of(*where, "cron") or line_of(*where),
                          hint="check the day of month against the month, e.g. February has no 30th or 31st")
    raw = body.get("steps", list(STEP_KINDS))
    if not isinstance(raw, list) or not raw or not all(isinstance(s, str) for s in raw):
        raise ConfigError(f"[schedules.{name}] steps must be a non-empty list like [\"ingest\", \"build\"]",
                          file=CONFIG_FILE, line=line_of(*where, "steps"))
    steps = tuple(_step(project, text, line_of(*where, "steps"), name) for text in raw)
    return Schedule(name, cron, str(zone), steps)


def fires(cron: str, zone: ZoneInfo, start: datetime | None = None) -> bool:
    """Whether ``cron`` has a fire time within :data:`FIRE_WITHIN_YEARS` of ``start`` (now): ``0 2 31 2 *`` has none,
    and croniter, asked for its next time, raises after a long search instead."""
    moment = (start or datetime.now(UTC)).astimezone(zone)
    try:
        nxt: datetime = croniter(cron, moment).get_next(datetime)
    except (CroniterBadDateError, ValueError, OverflowError):
        return False
    return nxt - moment <= timedelta(days=366 * FIRE_WITHIN_YEARS)


def _step(project: Project, text: str, line: int | None, schedule: str) -> JobStep:
    kind, _, selector = text.partition(":")
    kind, selector = kind.strip(), selector.strip()
    if kind not in STEP_KINDS:
        raise UnknownNameError("step", kind, STEP_KINDS, file=CONFIG_FILE, line=line,
                               where=f" in [schedules.{schedule}] steps")
    # build selectors need the model catalog; `hub build` checks them when the job runs
    if kind == "ingest" and selector:
        conn = selector.split(".")[0]
        if conn not in project.config.connections:
            raise UnknownNameError("connection", conn, project.config.connections, file=CONFIG_FILE, line=line,
                                   where=f" in [schedules.{schedule}] step '{text}'")
    if kind == "push" and selector:
        syncs = project.config.sections.get("syncs") or {}
        if selector not in syncs:
            raise UnknownNameError("sync", selector, syncs, file=CONFIG_FILE, line=line,
                                   where=f" in [schedules.{schedule}] step '{text}'")
    return JobStep(kind, selector or None)


# -- running one job ---------------------------------------------------------------------------------------------


@dataclass
class StepOutcome:
    """What one step of a job did: its own run id (ingest/build/push record their own runs) and outcome."""

    step: str
    status: str                    # success | failed | skipped
    run_id: str | None = None
    rows_in: int | None = None
    rows_out: int | None = None
    error: str | None = None


@dataclass
class JobResult:
    """A job's run id (``schedule:NAME`` in ``_hub.runs``) and its steps."""

    schedule: str
    run_id: str
    steps: list[StepOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.status == "success" for s in self.steps)


def run_job(project: Project, schedule: Schedule) -> JobResult:
    """Run a schedule's steps in order, in-process; a failed step skips the rest. Recorded as run ``schedule:NAME``."""
    from hub.warehouse.bookkeeping import Bookkeeping, Step, now

    project.check_all()
    with project.writing():  # no other writer between the job's steps
        with project.warehouse() as wh:
            books = Bookkeeping(wh)
            books.ensure()
            result = JobResult(schedule.name, books.start_run(f"schedule:{schedule.name}"))
        started = {}
        try:
            for step in schedule.steps:
                started[str(step)] = now()
                if any(s.status != "success" for s in result.steps):
                    result.steps.append(StepOutcome(str(step), "skipped"))
                    continue
                result.steps.append(_run_step(project, step))
        except BaseException as exc:  # a bug in a step: the job and the step's run end failed with the cause
            from hub.history import fail_unfinished

            fail_unfinished(project, exc)
            raise
        errors = [f"{s.step}: {s.error}" for s in result.steps if s.error]
        with project.warehouse() as wh:
            books = Bookkeeping(wh)
            for s in result.steps:
                # detail holds the step's own run id, so history can follow a job to the runs it made
                books.write_step(Step(result.run_id, "job", s.step, started[s.step], s.status, s.rows_in,
                                      s.rows_out, s.run_id, s.error))
            books.finish_run(result.run_id, "success" if result.ok else "failed", "; ".join(errors) or None)
    return result


def _run_step(project: Project, step: JobStep) -> StepOutcome:
    selectors = [step.selector] if step.selector else []
    try:
        if step.kind == "ingest":
            report: Any = project.ingest(selectors)
            rows_in = rows_out = report.rows
        elif step.kind == "build":
            report = project.build(selectors)
            rows_in = rows_out = sum(r.rows or 0 for r in report.results)
        else:
            report = project.push(selectors)
            rows_in, rows_out = sum(r.changed + r.unchanged for r in report.results), \
                sum(r.changed for r in report.results)
    except HubError as exc:
        return StepOutcome(str(step), "failed", error=str(exc))
    errors = "; ".join(str(e) for e in report.errors) or None
    return StepOutcome(str(step), "success" if report.ok else "failed", report.run_id, rows_in, rows_out, errors)


# -- the foreground scheduler ------------------------------------------------------------------------------------


class Clock:
    """Real time; tests pass a clock whose ``wait`` moves time forward instead of sleeping."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, seconds: float, stop: threading.Event) -> None:
        stop.wait(seconds)


class SlotStore(Protocol):
    """Remembers each schedule's latest slot that was run, so a restart knows what it missed."""

    def get(self, name: str) -> datetime | None: ...

    def set(self, name: str, slot: datetime) -> None: ...


class MemorySlots:
    """Slots kept in memory (tests, and a fallback while the warehouse is locked)."""

    def __init__(self, slots: dict[str, datetime] | None = None) -> None:
        self.slots = dict(slots or {})

    def get(self, name: str) -> datetime | None:
        return self.slots.get(name)

    def set(self, name: str, slot: datetime) -> None:
        self.slots[name] = slot


class WarehouseSlots:
    """Slots in ``_hub.schedule_slots``, so catch-up after downtime survives a restart of the scheduler."""

    DDL = ("CREATE SCHEMA IF NOT EXISTS _hub; CREATE TABLE IF NOT EXISTS _hub.schedule_slots ("
           "schedule VARCHAR PRIMARY KEY, last_slot TIMESTAMPTZ NOT NULL)")

    def __init__(self, project: Project) -> None:
        self.project = project

    def get(self, name: str) -> datetime | None:
        with self.project.warehouse() as wh:
            wh.execute(self.DDL)
            return wh.query("SELECT last_slot FROM _hub.schedule_slots WHERE schedule = ?", [name]).scalar()

    def set(self, name: str, slot: datetime) -> None:
        with self.project.warehouse() as wh:
            wh.execute(self.DDL)
            wh.execute("INSERT OR REPLACE INTO _hub.schedule_slots VALUES (?, ?)", [name, slot])


Runner = Callable[["Project", Schedule], Any]
Event = Callable[[str, str], None]       # (schedule, message)


class Scheduler:
    """Runs due jobs: each in a thread of its own, one at a time (DuckDB has one writer), never a job beside itself."""

    def __init__(self, project: Project, schedules: dict[str, Schedule], *, clock: Clock | None = None,
                 slots: SlotStore | None = None, runner: Runner | None = None, on_event: Event | None = None,
                 max_wait: float = 60.0) -> None:
        self.project, self.schedules = project, schedules
        self.clock = clock or Clock()
        self.slots = slots if slots is not None else WarehouseSlots(project)
        self.runner = runner or run_and_alert
        self.on_event = on_event or (lambda name, message: None)
        self.max_wait = max_wait
        self._memory = MemorySlots()
        self._threads: dict[str, threading.Thread] = {}
        self._one_writer = threading.Lock()

    def tick(self) -> datetime:
        """Start every job that is due now; returns when to look again."""
        now = self.clock.now().astimezone(UTC)   # comparisons within one zone would ignore DST folds
        for name, schedule in self.schedules.items():
            last = self._last(name)
            if last is None:             # first start ever: begin with the next slot, run nothing from the past
                self._remember(name, now)
                continue
            if schedule.next_after(last) > now:
                continue
            slot = schedule.latest_at_or_before(now)
            self._remember(name, slot)   # before starting, so a slot is never run twice
            running = self._threads.get(name)
            if running is not None and running.is_alive():
                self.on_event(name, f"skipped the run due {format_time(slot)}: the previous run is still going")
                continue
            self.on_event(name, f"starting the run due {format_time(slot)}")
            thread = threading.Thread(target=self._work, args=(schedule,), name=f"hub-schedule-{name}", daemon=True)
            self._threads[name] = thread
            thread.start()
        upcoming = [s.next_after(now) for s in self.schedules.values()]
        return min([*upcoming, now + timedelta(seconds=self.max_wait)])

    def run(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set, then wait for running jobs to finish."""
        try:
            while not stop.is_set():
                wake = self.tick()
                self.clock.wait(max(0.0, (wake - self.clock.now()).total_seconds()), stop)
        finally:
            self.join()

    def join(self) -> None:
        """Wait for every started job."""
        for thread in list(self._threads.values()):
            thread.join()

    def _work(self, schedule: Schedule) -> None:
        with self._one_writer:
            try:
                result = self.runner(self.project, schedule)
            except HubError as exc:
                self.on_event(schedule.name, f"failed: {exc}")
                return
        ok = getattr(result, "ok", True)
        self.on_event(schedule.name, "finished" if ok else "failed (see `hub runs`)")

    def _last(self, name: str) -> datetime | None:
        try:
            stored = self.slots.get(name)
        except HubError:                 # e.g. the warehouse is locked by a `hub ingest` right now
            stored = None
        memory = self._memory.get(name)
        return max((t for t in (stored, memory) if t is not None), default=None)

    def _remember(self, name: str, slot: datetime) -> None:
        self._memory.set(name, slot)
        try:
            self.slots.set(name, slot)
        except HubError as exc:
            self.on_event(name, f"could not record the slot in the warehouse ({exc}); kept in memory")


def run_and_alert(project: Project, schedule: Schedule) -> JobResult:
    from hub.alerts import after_run

    result = run_job(project, schedule)
    after_run(project, result.run_id)
    return result
