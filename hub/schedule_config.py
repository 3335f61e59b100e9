"""Schedules as configuration: ``[schedules.NAME]`` in hub.toml validated, and when each one runs next.

A schedule is a cron expression in a timezone plus steps (``"ingest"``, ``"build:canonical.person+"``,
``"push:person_to_crm"``). This module is the bottom layer of the run machinery: it reads configuration only, so the
run history (:mod:`hub.history`, staleness against schedules), alerts, the runner (:mod:`hub.run`) and the scheduler
(:mod:`hub.schedule`) all build on it without importing each other in circles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.config import CONFIG_FILE
from hub.config import line_of as _line_of
from hub.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    from hub.project import Project

KEYS = ("cron", "timezone", "steps")
STEP_KINDS = ("ingest", "build", "push")
#: A cron must fire within this many years (leap days fire every 4; 8 allows for a skipped leap year in 2100)
FIRE_WITHIN_YEARS = 8


@dataclass(frozen=True)
class JobStep:
    """One step of a job: a kind and an optional selector (``push:person_to_crm``)."""

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
        from croniter import croniter   # here, not at the top: history and status load schedules without one

        it = croniter(self.cron, moment.astimezone(self.zone))
        while True:
            candidate: datetime = it.get_next(datetime)
            if not (self._fixed_hour and candidate.fold == 1
                    and candidate.replace(fold=0).utcoffset() != candidate.utcoffset()):
                return candidate

    def latest_at_or_before(self, moment: datetime) -> datetime:
        """The latest run time not after ``moment``."""
        from croniter import croniter

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
    from croniter import croniter

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
    from croniter import CroniterBadDateError, croniter

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
