"""The scheduler: runs ``[schedules.NAME]`` jobs when they are due, in-process, through the one runner.

:class:`Scheduler` runs due jobs through :func:`hub.run.run` (the same function `hub run` calls), never starts a job
while the same job still runs, and after downtime runs a missed job once (not once per missed slot). Time comes from an
injectable :class:`Clock` and the loop ends on a ``threading.Event``, so tests drive it without sleeping.

Layers, each importing only those before it: :mod:`hub.schedule_config` (the schedules as configuration) ->
:mod:`hub.history` -> :mod:`hub.alerts` -> :mod:`hub.run` -> this module (``tests/ops/test_layers.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from hub.errors import HubError
from hub.run import RunReport, StepOutcome, run
from hub.schedule_config import (FIRE_WITHIN_YEARS, KEYS, STEP_KINDS, JobStep, Schedule, fires, format_time,
                                 load)

if TYPE_CHECKING:
    from hub.project import Project

__all__ = ["FIRE_WITHIN_YEARS", "KEYS", "STEP_KINDS", "Clock", "JobResult", "JobStep", "MemorySlots", "Schedule",
           "Scheduler", "SlotStore", "StepOutcome", "WarehouseSlots", "fires", "format_time", "load", "run_and_alert",
           "run_job"]

#: what a job's run gives back: the runner's report (``run_id`` is the job's ``schedule:NAME`` run)
JobResult = RunReport


def run_job(project: Project, schedule: Schedule) -> RunReport:
    """Run a schedule's steps in order, in-process; a failed step skips the rest. Recorded as run ``schedule:NAME``."""
    return run(project, schedule.steps, job=f"schedule:{schedule.name}", alert=False)


def run_and_alert(project: Project, schedule: Schedule) -> RunReport:
    """:func:`run_job`, then the [alerts] the job's outcome calls for."""
    return run(project, schedule.steps, job=f"schedule:{schedule.name}")


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
            # ON CONFLICT, not DuckDB's INSERT OR REPLACE: both warehouse types, and safe beside another scheduler
            wh.execute("INSERT INTO _hub.schedule_slots VALUES (?, ?) ON CONFLICT (schedule) DO UPDATE SET "
                       "last_slot = excluded.last_slot", [name, slot])


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

    def running(self) -> list[str]:
        """The schedules whose job is running now."""
        return sorted(name for name, thread in list(self._threads.items()) if thread.is_alive())

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
