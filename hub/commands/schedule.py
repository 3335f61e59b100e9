"""`hub schedule list|run|install`: the schedules of hub.toml, a foreground scheduler, and system-scheduler entries."""

from __future__ import annotations

from datetime import UTC

import click


@click.group(name="schedule")
def schedule() -> None:
    """Run [schedules.*] jobs of hub.toml: list them, run the scheduler, or install them in cron/systemd.

    \b
    Example:
      hub schedule list
      hub schedule run                # foreground; Ctrl-C stops it
      hub schedule install --systemd
    """


@schedule.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the schedules as JSON.")
@click.pass_obj
def list_(obj, as_json: bool) -> None:
    """Show each schedule with its cron, timezone, steps and next run time.

    \b
    Example:
      hub schedule list
    """
    from datetime import datetime

    from hub import schedule as scheduling
    from hub.output import table, to_json

    now = datetime.now(UTC)
    rows = [{"schedule": s.name, "cron": s.cron, "timezone": s.timezone, "steps": [str(x) for x in s.steps],
             "next_run": scheduling.format_time(s.next_after(now)), "next_run_at": s.next_after(now).isoformat()}
            for s in scheduling.load(obj.project).values()]
    if as_json:
        click.echo(to_json(rows))
    elif not rows:
        click.echo("no schedules: add a [schedules.NAME] table with cron = \"...\" to hub.toml")
    else:
        click.echo(table(["schedule", "cron", "timezone", "steps", "next run"],
                         [[r["schedule"], r["cron"], r["timezone"], ", ".join(r["steps"]), r["next_run"]]
                          for r in rows]))


@schedule.command(name="run")
@click.argument("names", nargs=-1)
@click.option("--once", is_flag=True, help="Run the named jobs (all by default) now, once, and exit.")
@click.pass_obj
def run(obj, names: tuple[str, ...], once: bool) -> None:
    """Run due jobs in the foreground until Ctrl-C; a missed job runs once after downtime, never beside itself.

    Ctrl-C or SIGTERM: no new job starts, a running job finishes its run, then it exits 0; a second one aborts
    (exit 128+signal), interrupting the running jobs.

    NAMES limit it to some schedules (default: all).

    \b
    Example:
      hub schedule run
      hub schedule run --once nightly   # what crontab/systemd entries call
    """
    import os
    import signal
    import sys
    import threading

    from hub import schedule as scheduling
    from hub.errors import UnknownNameError
    from hub.stop_signals import StopSignals
    from hub.output import table

    every = scheduling.load(obj.project)
    for name in names:
        if name not in every:
            raise UnknownNameError("schedule", name, every)
    chosen = {n: s for n, s in every.items() if not names or n in names}
    if not chosen:
        click.echo("no schedules: add a [schedules.NAME] table with cron = \"...\" to hub.toml")
        return
    if once:
        failed = False
        for s in chosen.values():
            result = scheduling.run_and_alert(obj.project, s)
            click.echo(f"{s.name}: {'success' if result.ok else 'failed'} (run {result.run_id})")
            click.echo(table(["step", "status", "run", "error"],
                             [[x.step, x.status, x.run_id or "", x.error or ""] for x in result.steps]))
            failed = failed or not result.ok
        if failed:
            raise SystemExit(1)
        return

    def event(name: str, message: str) -> None:
        click.echo(f"{scheduling.format_time(scheduling.Clock().now())}  {name}: {message}")

    # the loop runs in a thread of its own and this (main) thread sleeps on StopSignals: Ctrl-C and SIGTERM (systemd,
    # docker stop) wake it whichever thread the kernel hands them to, at once, even while jobs run; they are kept
    # from here on, so one that arrives while starting stops it as soon as it is up
    stop = threading.Event()
    scheduler = scheduling.Scheduler(obj.project, chosen, on_event=event)
    with StopSignals() as signals:
        for s in chosen.values():
            click.echo(f"{s.name}: next run {scheduling.format_time(s.next_after(scheduling.Clock().now()))}")
        failure: list[BaseException] = []

        def loop() -> None:
            try:
                scheduler.run(stop)   # after ``stop``: returns once the running jobs have finished
            except BaseException as exc:   # handed to the main thread, which re-raises it
                failure.append(exc)
            finally:
                signals.wake()

        thread = threading.Thread(target=loop, name="hub-scheduler", daemon=True)
        thread.start()
        first = signals.wait()
        if first is not None:
            stop.set()
            running = scheduler.running()
            click.echo(f"stopping ({signal.Signals(first).name}): no new jobs; "
                       + (f"waiting for {', '.join(running)} to finish (again to abort)" if running
                          else "no job is running"))
            second = signals.wait()
            if second is not None:
                click.echo(f"aborted ({signal.Signals(second).name}): {', '.join(scheduler.running()) or 'no job'} "
                           "interrupted mid-run; `hub runs` shows what it had done")
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(128 + second)   # the jobs' threads end with the process, mid-step, as asked
        thread.join()   # it has woken us: it is done
    if failure:
        raise failure[0]
    if first is not None:
        click.echo("stopped: every started job finished")


@schedule.command(name="install")
@click.option("--systemd", "use_systemd", is_flag=True, help="Systemd user timers instead of crontab lines.")
@click.option("--write", is_flag=True, help="Install them: replace this project's block in your crontab, or write "
                                            "the unit files to ~/.config/systemd/user.")
@click.pass_obj
def install(obj, use_systemd: bool, write: bool) -> None:
    """Print (or with --write install) crontab lines or systemd timers equivalent to the schedules.

    \b
    Example:
      hub schedule install                    # crontab lines, printed
      hub schedule install --write            # into your crontab
      hub schedule install --systemd --write
    """
    from hub import schedule as scheduling
    from hub import schedule_install as inst

    schedules = list(scheduling.load(obj.project).values())
    if not schedules:
        click.echo("no schedules: add a [schedules.NAME] table with cron = \"...\" to hub.toml")
        return
    root = obj.project.root
    if use_systemd:
        units = inst.systemd_units(root, schedules)
        if not write:
            for unit in units:
                click.echo(f"# {unit.name}\n{unit.text}")
            return
        for path in inst.install_systemd(units):
            click.echo(f"wrote {path}")
        timers = " ".join(u.name for u in units if u.name.endswith(".timer"))
        click.echo(f"next: systemctl --user daemon-reload && systemctl --user enable --now {timers}")
        return
    if not write:
        click.echo(inst.crontab(root, schedules), nl=False)
        return
    inst.install_crontab(root, schedules)
    click.echo(f"installed {len(schedules)} schedule(s) in your crontab (see `crontab -l`)")


COMMANDS = [schedule]
