"""`hub schedule install`: the system scheduler's equivalent of ``[schedules.*]``, as crontab lines or systemd timers.

Each entry runs ``hub schedule run --once NAME``, which runs the job once and records it exactly as the foreground
scheduler does. Crontab lines carry ``CRON_TZ`` (cronie and most modern crons honour it); systemd timers carry the
timezone in ``OnCalendar`` and ``Persistent=true``, which gives the same run-once-after-downtime as `hub schedule run`.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hub.errors import InstallError
from hub.schedule_config import Schedule

_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class UnitFile:
    """One systemd unit file to write."""

    name: str
    text: str


def command(root: Path, schedule: str) -> str:
    """The shell command that runs one job once."""
    return " ".join(shlex.quote(p) for p in (sys.executable, "-m", "hub", "-C", str(root), "schedule", "run",
                                                "--once", schedule))


def markers(root: Path) -> tuple[str, str]:
    """The comment lines around this project's block in a crontab, so --write replaces only its own lines."""
    return f"# BEGIN hub {root}", f"# END hub {root}"


def crontab(root: Path, schedules: Sequence[Schedule]) -> str:
    """This project's crontab block."""
    begin, end = markers(root)
    lines = [begin]
    for s in schedules:
        lines += [f"# hub schedule {s.name}: {', '.join(map(str, s.steps))}", f"CRON_TZ={s.timezone}",
                  f"{s.cron} {command(root, s.name)}"]
    return "\n".join([*lines, end]) + "\n"


def merge_crontab(existing: str, block: str, root: Path) -> str:
    """``existing`` crontab text with this project's block replaced (or appended)."""
    begin, end = markers(root)
    kept, inside = [], False
    for line in existing.splitlines():
        if line == begin:
            inside = True
        elif line == end and inside:
            inside = False
        elif not inside:
            kept.append(line)
    head = "\n".join(kept).rstrip("\n")
    return (head + "\n" if head else "") + block


def install_crontab(root: Path, schedules: Sequence[Schedule]) -> str:
    """Replace this project's block in the user's crontab through the ``crontab`` program; returns the new crontab."""
    try:
        current = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise InstallError("no `crontab` program on this system",
                           hint="use --systemd, or paste the lines printed "
                                "without --write where your scheduler wants them") from None
    # `crontab -l` exits non-zero when the user has no crontab yet: that is an empty one
    text = merge_crontab(current.stdout if current.returncode == 0 else "", crontab(root, schedules), root)
    done = subprocess.run(["crontab", "-"], input=text, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InstallError(f"`crontab -` refused the new crontab: {done.stderr.strip()}")
    return text


def unit_prefix(root: Path) -> str:
    return "hub-" + "".join(c if c.isalnum() else "-" for c in root.name.lower())


def systemd_units(root: Path, schedules: Sequence[Schedule]) -> list[UnitFile]:
    """A oneshot service and a timer per schedule."""
    units = []
    for s in schedules:
        base = f"{unit_prefix(root)}-{s.name.replace('_', '-')}"
        what = f"hub schedule {s.name} of {root}"
        units.append(UnitFile(f"{base}.service", f"[Unit]\nDescription={what}\n\n[Service]\nType=oneshot\n"
                                                 f"WorkingDirectory={root}\nExecStart={command(root, s.name)}\n"))
        units.append(UnitFile(f"{base}.timer", f"[Unit]\nDescription=Timer for {what} ({s.cron})\n\n[Timer]\n"
                                               f"OnCalendar={on_calendar(s)}\nPersistent=true\n\n"
                                               f"[Install]\nWantedBy=timers.target\n"))
    return units


def systemd_dir() -> Path:
    """Where user units live: ``$XDG_CONFIG_HOME/systemd/user`` (``~/.config/systemd/user``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def install_systemd(units: Sequence[UnitFile], directory: Path | None = None) -> list[Path]:
    """Write the unit files; enabling them is left to the user (the CLI prints the systemctl command)."""
    directory = directory or systemd_dir()
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for unit in units:
        path = directory / unit.name
        path.write_text(unit.text)
        paths.append(path)
    return paths


def on_calendar(schedule: Schedule) -> str:
    """A 5-field cron expression as a systemd ``OnCalendar`` value in the schedule's timezone."""
    minute, hour, dom, month, dow = schedule.cron.split()
    if dom != "*" and dow != "*":
        # cron runs when EITHER matches; systemd would require both
        raise InstallError(f"schedule '{schedule.name}': cron '{schedule.cron}' restricts both day of month and "
                           f"weekday, which systemd cannot express", hint="use the crontab lines instead")
    days = "" if dow == "*" else _field(dow, schedule, days=True) + " "
    date = f"*-{_field(month, schedule, months=True)}-{_field(dom, schedule, first=1)}"
    return f"{days}{date} {_field(hour, schedule)}:{_field(minute, schedule)}:00 {schedule.timezone}"


def _field(text: str, schedule: Schedule, *, first: int = 0, days: bool = False, months: bool = False) -> str:
    parts = []
    for part in text.split(","):
        body, _, step = part.partition("/")
        if body == "*":
            parts.append(f"{first}/{step}" if step else "*")
            continue
        if step:
            raise InstallError(f"schedule '{schedule.name}': cron part '{part}' has no systemd equivalent",
                               hint="use the crontab lines instead")
        ends = [_value(v, schedule, days, months) for v in body.split("-")]
        parts.append("..".join(ends))
    return ",".join(parts)


def _value(text: str, schedule: Schedule, days: bool, months: bool) -> str:
    low = text.lower()
    if months and low[:3] in _MONTHS:
        return f"{_MONTHS.index(low[:3]) + 1:02d}"
    if days:
        names = [d.lower() for d in _DAYS]
        if low[:3] in names:
            return _DAYS[names.index(low[:3])]
        if text.isdigit() and int(text) < len(_DAYS):
            return _DAYS[int(text)]
    if text.isdigit():
        return f"{int(text):02d}"
    raise InstallError(f"schedule '{schedule.name}': cron value '{text}' has no systemd equivalent",
                       hint="use the crontab lines instead")
