"""What small runs cost as whole processes: each command's wall time against `python -c pass`, measured in one run.

Two sandboxes run in a process of their own (as vendor APIs would), without rate limits:
  small - the default seed (400 people) for HubSpot and Salesforce; a project with both connections is ingested once,
          then every round times `hub --help`, `hub status`, `hub runs`, `hub query "select 1"` and an empty
          incremental `hub ingest` (every stream incremental, nothing changed at the vendor since the last run)
  big   - 100,000 HubSpot contacts with 300 custom properties; every round times `hub ingest --full-refresh
          hubspot.contacts` and the bare fetch+parse loop of benchmarks/ingest.py, each as a whole process
Commands run interleaved, round after round, so a slow moment of the machine lands on all of them alike; the script
prints each one's median and fastest seconds and its median over `python -c pass`, then the goals:
`hub status` <= 0.3 s, the empty incremental ingest <= 0.5 s, whole-process ingest <= 1.3x the whole-process bare loop.
It also says which heavy modules each small command imported (`python -X importtime`, counted outside the timings).

    python benchmarks/startup.py [--rounds 5] [--contacts 100000] [--custom-properties 300] [--no-big]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HEAVY = ("dlt", "duckdb", "pyarrow", "numpy", "httpx", "sqlglot", "scipy", "hub.serve", "hub.sandbox")

#: the bare loop of benchmarks/ingest.py as a process of its own: python, httpx, every page fetched and parsed
BARE = ("import sys; from benchmarks.ingest import bare; seconds, rows, _ = bare(sys.argv[1], sys.argv[2], "
        "url_budget=int(sys.argv[3])); print(rows)")


def serve(contacts: int, custom: int, big: bool, conn) -> None:
    """Both sandboxes, until the benchmark says it is done."""
    from hub.sandbox import Sandbox

    small = Sandbox(seed=7, people=400, hubspot_rate_limit=None, hubspot_search_rate_limit=None).start()
    large = Sandbox(seed=1, people=2000, hubspot_contacts=contacts, hubspot_rate_limit=None,
                    hubspot_search_rate_limit=None, custom_fields=custom).start() if big else None
    conn.send({"hubspot": (small.hubspot.url, small.hubspot.token),
               "salesforce": (small.salesforce.url, small.salesforce.token),
               "big": (large.hubspot.url, large.hubspot.token) if large else None})
    conn.recv()
    small.stop()
    if large:
        large.stop()


def project(root: Path, connections: dict[str, tuple[str, str]], streams: dict[str, list[str]]) -> Path:
    """A project directory with ``connections`` (type = name), tokens in secrets.toml."""
    root.mkdir(parents=True)
    toml, secrets = [], []
    for name, (url, token) in connections.items():
        listed = ", ".join(f'"{s}"' for s in streams.get(name, []))
        toml.append(f'[connections.{name}]\ntype = "{name}"\nbase_url = "{url}"\n'
                    + (f"streams = [{listed}]\n" if listed else ""))
        secrets.append(f'[connections.{name}]\ntoken = "{token}"\n')
    (root / "hub.toml").write_text("\n".join(toml))
    (root / "secrets.toml").write_text("\n".join(secrets))
    return root


def environment() -> dict[str, str]:
    """The checkout on the path; bytecode cached as an installed package has it (pip compiles at install), so a
    PYTHONDONTWRITEBYTECODE in the caller's shell does not make every process compile hub's sources again."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    return env


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU (user + system) seconds of one whole process, and its output; a failure stops the benchmark.

    CPU seconds are what the process itself spent, whatever else the machine was doing meanwhile."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu, done.stdout


def imported(argv: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """Which of :data:`HEAVY` the command imports (``python -X importtime``)."""
    done = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True)
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return [h for h in HEAVY if h in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--custom-properties", type=int, default=300)
    parser.add_argument("--no-big", action="store_true", help="Skip the 100k-contact ingest against the bare loop.")
    args = parser.parse_args()
    big = not args.no_big

    parent, child = mp.Pipe()
    server = mp.Process(target=serve, args=(args.contacts, args.custom_properties, big, child), daemon=True)
    t0 = time.perf_counter()
    server.start()
    urls = parent.recv()
    print(f"sandboxes seeded in {time.perf_counter() - t0:.1f} s"
          + (f" (big: {args.contacts:,} HubSpot contacts, {args.custom_properties} custom properties)" if big else ""))

    py, env = sys.executable, environment()
    hub = [py, "-m", "hub"]
    with tempfile.TemporaryDirectory() as tmp:
        small = project(Path(tmp) / "small", {"hubspot": urls["hubspot"], "salesforce": urls["salesforce"]}, {})
        seconds, _, out = run([*hub, "ingest"], small, env)
        print(f"small project: first ingest {seconds:.2f} s: {out.strip().splitlines()[-1]}")
        commands: dict[str, tuple[list[str], Path]] = {
            "python -c pass": ([py, "-c", "pass"], small),
            "hub --help": ([*hub, "--help"], small),
            "hub status": ([*hub, "status"], small),
            "hub runs": ([*hub, "runs"], small),
            'hub query "select 1"': ([*hub, "query", "select 1"], small),
            "hub ingest (nothing new)": ([*hub, "ingest"], small),
        }
        if big:
            from hub.integrations.hubspot.source import URL_BUDGET

            large = project(Path(tmp) / "big", {"hubspot": urls["big"]}, {"hubspot": ["contacts"]})
            run([*hub, "ingest", "hubspot.contacts"], large, env)   # warm-up: the table exists, the OS caches are warm
            commands["bare fetch+parse (process)"] = ([py, "-c", BARE, *urls["big"], str(URL_BUDGET)], ROOT)
            commands["hub ingest 100k (process)"] = ([*hub, "ingest", "--full-refresh", "hubspot.contacts"], large)
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        outputs: dict[str, str] = {}
        load = os.getloadavg()[0]
        for _ in range(args.rounds):
            for name, (argv, cwd) in commands.items():
                seconds, cpu, outputs[name] = run(argv, cwd, env)
                times[name].append(seconds)
                cpus[name].append(cpu)
        modules = {name: imported(argv, cwd, env) for name, (argv, cwd) in commands.items()
                   if name.startswith("hub ") and "100k" not in name}
    parent.send("done")
    server.join(timeout=30)

    base = statistics.median(times["python -c pass"])
    print(f"\nload average (1 min) {load:.1f} at the start of the rounds, {os.getloadavg()[0]:.1f} at the end; "
          f"{os.cpu_count()} CPUs; {args.rounds} rounds")
    print(f"{'command':<28} {'median':>7} {'fastest':>8} {'over python':>12} {'cpu':>7}   heavy modules imported")
    for name, values in times.items():
        median = statistics.median(values)
        extra = "" if name == "python -c pass" else f"{median - base:+11.3f}s"
        print(f"{name:<28} {median:6.3f}s {min(values):7.3f}s {extra:>12} {statistics.median(cpus[name]):6.3f}s   "
              f"{', '.join(modules.get(name, [])) or ''}")
    empty = outputs["hub ingest (nothing new)"].strip().splitlines()
    print("\nempty incremental ingest said:\n  " + "\n  ".join(empty))
    med = {name: statistics.median(values) for name, values in times.items()}
    print(f"\nhub status: {med['hub status']:.3f} s  (goal <= 0.3)")
    print(f"empty incremental ingest: {med['hub ingest (nothing new)']:.3f} s  (goal <= 0.5)")
    if big:
        rows = outputs["bare fetch+parse (process)"].strip()
        ratio = med["hub ingest 100k (process)"] / med["bare fetch+parse (process)"]
        cpu = {name: statistics.median(values) for name, values in cpus.items()}
        print(f"whole-process ingest of {int(rows):,} contacts: {med['hub ingest 100k (process)']:.2f} s, bare loop "
              f"{med['bare fetch+parse (process)']:.2f} s: ratio {ratio:.2f}  (goal <= 1.3)")
        print(f"  the same in CPU seconds of the client process: {cpu['hub ingest 100k (process)']:.2f} s vs "
              f"{cpu['bare fetch+parse (process)']:.2f} s: ratio "
              f"{cpu['hub ingest 100k (process)'] / cpu['bare fetch+parse (process)']:.2f}")


if __name__ == "__main__":
    main()
