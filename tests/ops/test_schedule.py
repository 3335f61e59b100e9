"""Schedules: config validation, next runs across timezones and DST, the scheduler under an injected clock, install."""

from __future__ import annotations

import os
import stat
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from hub.cli import cli
from hub.errors import ConfigError
from hub.project import Project
from hub.schedule import JobStep, MemorySlots, Schedule, Scheduler, format_time, load
from hub.schedule_install import on_calendar
from tests.conftest import run_hub

BERLIN = ZoneInfo("Europe/Berlin")
TOML = """
    [connections.hubspot]
    type = "hubspot"

    [schedules.nightly]
    cron = "0 2 * * *"

    [schedules.weekdays]
    cron = "30 6 * * 1-5"
    timezone = "Europe/Berlin"
    steps = ["ingest:hubspot", "build:canonical.person+"]
    """


def test_list_prints_each_schedule_with_its_next_run(make_project):
    root = make_project(TOML)
    result = CliRunner().invoke(cli, ["-C", str(root), "schedule", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["schedule", "cron", "timezone", "steps", "next", "run"]
    assert "nightly" in lines[2] and "ingest, build, push" in lines[2] and lines[2].endswith(" 02:00 UTC")
    assert "ingest:hubspot, build:canonical.person+" in lines[3] and lines[3].endswith(("06:30 CET", "06:30 CEST"))


def test_next_runs_in_a_timezone_and_across_dst():
    nightly = Schedule("n", "0 2 * * *")
    assert format_time(nightly.next_after(datetime(2026, 11, 21, 9, tzinfo=UTC))) == "2026-11-22 02:00 UTC"
    berlin = Schedule("b", "30 6 * * *", "Europe/Berlin")
    winter = berlin.next_after(datetime(2026, 11, 21, 9, tzinfo=UTC))
    assert format_time(winter) == "2026-11-22 06:30 CET" and winter.astimezone(UTC).hour == 5
    summer = berlin.next_after(datetime(2026, 7, 1, 9, tzinfo=UTC))
    assert format_time(summer) == "2026-07-02 06:30 CEST" and summer.astimezone(UTC).hour == 4
    # spring forward: 02:30 does not exist on 2026-03-29 in Berlin; the job still runs that day, at 03:00
    at_230 = Schedule("s", "30 2 * * *", "Europe/Berlin")
    assert format_time(at_230.next_after(datetime(2026, 3, 28, 12, tzinfo=BERLIN))) == "2026-03-29 03:00 CEST"
    # fall back: 02:30 happens twice on 2026-10-25; a fixed-hour job runs once, like cron
    first = at_230.next_after(datetime(2026, 10, 24, 12, tzinfo=BERLIN))
    assert format_time(first) == "2026-10-25 02:30 CEST"
    assert format_time(at_230.next_after(first)) == "2026-10-26 02:30 CET"
    # ...while an hourly job runs in both 02:00 hours, each a real hour apart
    hourly = Schedule("h", "0 * * * *", "Europe/Berlin")
    a = hourly.next_after(datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN))
    b = hourly.next_after(a)
    assert (format_time(a), format_time(b)) == ("2026-10-25 02:00 CEST", "2026-10-25 02:00 CET")
    assert b.astimezone(UTC) - a.astimezone(UTC) == timedelta(hours=1)   # same-zone subtraction ignores fold
    assert Schedule("w", "0 2 * * 1-5").interval(datetime(2026, 11, 21, tzinfo=UTC)) == timedelta(days=3)


@pytest.mark.parametrize("body, message", [
    ('cron = "0 25 * * *"', "hub.toml:4: [schedules.bad] cron '0 25 * * *' is not a 5-field cron expression"),
    ('cron = "0 2 * * *"\ntimezone = "Europe/Berln"', "hub.toml:5: [schedules.bad] timezone 'Europe/Berln'"),
    ('cron = "0 2 * * *"\nsteps = ["ingest", "biuld"]', ("unknown step 'biuld' in [schedules.bad] steps (did you "
                                                         "mean 'build'?)")),
    ('cron = "0 2 * * *"\nsteps = ["ingest:hubspt"]', "unknown connection 'hubspt'"),
    ('cron = "0 2 * * *"\ncorn = 1', "hub.toml:5: unknown key 'corn' in [schedules.bad] (did you mean 'cron'?)"),
])
def test_schedule_config_errors_point_at_the_line(make_project, body, message):
    root = make_project('[connections.hubspot]\ntype = "hubspot"\n[schedules.bad]\n' + body + "\n")
    with pytest.raises(ConfigError) as caught:
        load(Project(root))
    assert message in str(caught.value)


class FakeClock:
    """Time that moves only when the scheduler waits; it stops the loop once ``until`` is reached."""

    def __init__(self, start: datetime, until: datetime | None = None) -> None:
        self.t, self.until = start, until

    def now(self) -> datetime:
        return self.t

    def wait(self, seconds: float, stop: threading.Event) -> None:
        self.t += timedelta(seconds=seconds)
        if self.until and self.t >= self.until:
            stop.set()


class Calls:
    """A job runner that records when it ran and can be held until released."""

    def __init__(self, clock: FakeClock, hold: threading.Event | None = None) -> None:
        self.clock, self.hold, self.at = clock, hold, []

    def __call__(self, project, schedule):
        self.at.append((schedule.name, self.clock.now()))
        if self.hold:
            self.hold.wait()


NIGHTLY = {"nightly": Schedule("nightly", "0 2 * * *", steps=(JobStep("ingest"),))}


def test_the_loop_runs_a_due_job_once(make_project):
    clock = FakeClock(datetime(2026, 11, 21, 1, 50, tzinfo=UTC), until=datetime(2026, 11, 21, 3, 0, tzinfo=UTC))
    calls = Calls(clock)
    Scheduler(Project(make_project(TOML)), NIGHTLY, clock=clock, slots=MemorySlots(), runner=calls).run(
        threading.Event())
    assert calls.at == [("nightly", datetime(2026, 11, 21, 2, 0, tzinfo=UTC))]


def test_a_missed_job_runs_once_after_downtime(make_project):
    slots = MemorySlots({"nightly": datetime(2026, 11, 18, 2, 0, tzinfo=UTC)})   # three nights missed
    clock = FakeClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    calls = Calls(clock)
    scheduler = Scheduler(Project(make_project(TOML)), NIGHTLY, clock=clock, slots=slots, runner=calls)
    scheduler.tick()
    scheduler.join()
    scheduler.tick()
    scheduler.join()
    assert calls.at == [("nightly", datetime(2026, 11, 21, 9, 0, tzinfo=UTC))]
    assert slots.get("nightly") == datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


def test_a_job_never_runs_beside_itself(make_project):
    hold = threading.Event()
    clock = FakeClock(datetime(2026, 11, 21, 2, 0, tzinfo=UTC))
    calls, events = Calls(clock, hold), []
    scheduler = Scheduler(Project(make_project(TOML)), NIGHTLY, clock=clock, runner=calls,
                          slots=MemorySlots({"nightly": datetime(2026, 11, 20, 2, 0, tzinfo=UTC)}),
                          on_event=lambda name, message: events.append(message))
    scheduler.tick()                              # starts the 02:00 run, which is held
    clock.t = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    scheduler.tick()                              # the next night's slot comes while it still runs
    hold.set()
    scheduler.join()
    assert len(calls.at) == 1
    assert any(m.startswith("skipped the run due 2026-11-22 02:00 UTC") for m in events), events
    clock.t = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    scheduler.tick()
    scheduler.join()
    assert len(calls.at) == 2


def test_install_prints_crontab_lines_and_systemd_timers(make_project):
    root = make_project(TOML)
    cron = CliRunner().invoke(cli, ["-C", str(root), "schedule", "install"])
    assert cron.exit_code == 0, cron.output
    lines = cron.output.splitlines()
    assert lines[0] == f"# BEGIN hub {root}" and lines[-1] == f"# END hub {root}"
    assert "CRON_TZ=UTC" in lines and "CRON_TZ=Europe/Berlin" in lines
    assert any(line.startswith("0 2 * * * ") and line.endswith("schedule run --once nightly") for line in lines)
    assert any(line.startswith("30 6 * * 1-5 ") and line.endswith("--once weekdays") for line in lines)
    units = CliRunner().invoke(cli, ["-C", str(root), "schedule", "install", "--systemd"]).output
    assert "OnCalendar=*-*-* 02:00:00 UTC" in units and "OnCalendar=Mon..Fri *-*-* 06:30:00 Europe/Berlin" in units
    assert "Persistent=true" in units and "Type=oneshot" in units
    assert on_calendar(Schedule("x", "*/15 8-18 1 jan,jul *")) == "*-01,07-01 08..18:0/15:00 UTC"


def test_install_write_replaces_only_its_own_crontab_block(make_project, tmp_path):
    root = make_project(TOML)
    bin_dir, store = tmp_path / "bin", tmp_path / "crontab.txt"
    bin_dir.mkdir()
    store.write_text(f"MAILTO=me\n5 * * * * other-job\n# BEGIN hub {root}\nold line\n# END hub {root}\n")
    fake = bin_dir / "crontab"   # a stand-in for the system's crontab program, keeping the table in a file
    fake.write_text(f'#!/bin/sh\nif [ "$1" = "-l" ]; then cat "{store}"; else cat > "{store}"; fi\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    proc = run_hub("-C", str(root), "schedule", "install", "--write", env=env)
    assert proc.returncode == 0, proc.stderr
    text = store.read_text()
    assert text.startswith("MAILTO=me\n5 * * * * other-job\n# BEGIN hub") and "old line" not in text
    assert text.count("# BEGIN hub") == 1 and "schedule run --once nightly" in text

    config = tmp_path / "xdg"
    proc = run_hub("-C", str(root), "schedule", "install", "--systemd", "--write",
                   env={"XDG_CONFIG_HOME": str(config)})
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in (config / "systemd" / "user").iterdir())
    assert written == ["hub-proj-nightly.service", "hub-proj-nightly.timer", "hub-proj-weekdays.service",
                       "hub-proj-weekdays.timer"]
    assert "systemctl --user enable --now hub-proj-nightly.timer hub-proj-weekdays.timer" in proc.stdout
