"""Many writers on one PostgreSQL warehouse: two `hub run` processes on disjoint work, together vs one after the other.

A throwaway PostgreSQL cluster (tests/pg.py: initdb, a free loopback port, removed at the end) holds the warehouse;
two sandbox HubSpot APIs run in processes of their own (two vendors, as two connections would talk to), each seeded
with ``--contacts`` contacts. The project has two connections, ``crm_a`` and ``crm_b``, one per API. Each round,
on a fresh database of the cluster (so every run is a whole first load, alike in both modes):

  one after the other - `hub run ingest:crm_a build:staging.crm_a_contacts push:crm_a_back`, then the same for
                        crm_b: two real CLI processes, in turn. Each ingests its connection's contacts, builds its
                        staging model and pushes them back to its own API through its own sync (matched by email)
  together            - the same two commands started at once: their per-resource advisory locks (stream:crm_a.
                        contacts, model:staging.crm_a_contacts, sync:crm_a_back vs crm_b's; hub.warehouse.pglocks)
                        do not conflict

and the script prints the wall-clock time of each mode (medians over the rounds, the order of the two modes
alternating), the load average, and ``ratio: together / one after the other`` (goal <= 0.6): the median of the
rounds' own ratios, each round's two modes having run back to back under the same load. Beside it, in the same
rounds, a reference: two CPU-bound Python processes (a counting loop, no I/O), together vs one after the other. On
an idle machine with two or more cores that ratio is about 0.5; on a loaded one it shows what the machine gives two
purely CPU-bound processes at that moment (hub's runs also wait on HTTP and the server, so they can do better). With
``--steps``, each process runs other steps instead (``--steps ingest:crm_a ingest:crm_b``: ingest alone).

    python benchmarks/parallel_runs.py [--contacts 20000] [--custom-properties 40] [--rounds 5]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def serve(seed: int, contacts: int, custom: int, conn) -> None:
    from hub.sandbox import Sandbox

    sb = Sandbox(seed=seed, people=2000, hubspot_contacts=contacts, hubspot_rate_limit=None,
                 custom_fields=custom).start()
    conn.send((sb.hubspot.url, sb.hubspot.token))
    conn.recv()  # block until the benchmark is done
    sb.stop()


def start_api(seed: int, contacts: int, custom: int):
    parent, child = mp.Pipe()
    process = mp.Process(target=serve, args=(seed, contacts, custom, child), daemon=True)
    process.start()
    url, token = parent.recv()
    return process, parent, url, token


def write_project(root: Path, dsn: str, apis: dict[str, tuple[str, str]], password: str) -> None:
    toml = [f'[warehouse]\ntype = "postgres"\ndsn = "{dsn}"\n']
    secrets = [f'[warehouse]\npassword = "{password}"\n']
    for name, (url, token) in apis.items():
        toml.append(f'[connections.{name}]\ntype = "hubspot"\nbase_url = "{url}"\nstreams = ["contacts"]\n')
        secrets.append(f'[connections.{name}]\ntoken = "{token}"\n')
        # the connection's contacts, as its staging model types them, pushed back to its own API (matched by
        # email: every one is found there, unchanged, on the first push of a round)
        toml.append(f'[syncs.{SYNC.format(name=name)}]\nmodel = "staging.{name}_contacts"\nto = "{name}"\n'
                    'object = "contacts"\nmode = "upsert"\nkey = "source_id"\nmatch = { email = "email" }\n'
                    'fields = { first_name = "firstname", last_name = "lastname" }\n')
    (root / "hub.toml").write_text("\n".join(toml))
    (root / "secrets.toml").write_text("\n".join(secrets))


SYNC = "{name}_back"
#: each process's steps: ingest its connection, build its staging model, push its sync (disjoint resources)
STEPS = "ingest:{name} build:staging.{name}_contacts push:{name}_back"


def hub_run(root: Path, steps: list[str]) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
    return subprocess.Popen([sys.executable, "-m", "hub", "--wait", "600", "run", *steps], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=1800)
    if proc.returncode:
        raise SystemExit(f"hub run failed (exit {proc.returncode}): {err.strip()[-800:]}")
    for line in err.splitlines():
        if line.startswith("waiting for "):   # a lock wait would mean the two runs did not have disjoint work
            print(f"  note: {line}", flush=True)
    return out


def one_after_the_other(root: Path, jobs: list[list[str]]) -> float:
    start = time.perf_counter()
    for steps in jobs:
        finish(hub_run(root, steps))
    return time.perf_counter() - start


def together(root: Path, jobs: list[list[str]], show: bool = False) -> float:
    start = time.perf_counter()
    procs = [hub_run(root, steps) for steps in jobs]
    outs = [finish(proc) for proc in procs]
    elapsed = time.perf_counter() - start
    for steps, out in zip(jobs, outs) if show else ():
        print(f"hub run {' '.join(steps)}:\n" + "".join(f"  {line}\n" for line in out.splitlines()), end="")
    return elapsed


SPIN = "x = 0\nfor i in range({n}): x += i\n"


def spin(n: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", SPIN.format(n=n)])


def spin_pair(n: int, together: bool) -> float:
    """Two counting loops, at once or in turn: the reference for what two processes can gain right now."""
    start = time.perf_counter()
    if together:
        for proc in [spin(n), spin(n)]:
            proc.wait()
    else:
        for _ in range(2):
            spin(n).wait()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000, help="contacts per API (default 20,000)")
    parser.add_argument("--custom-properties", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--spin", type=int, default=15_000_000, help="loop count of the reference processes")
    parser.add_argument("--steps", nargs=2, metavar=("STEPS_A", "STEPS_B"),
                        help="each process's steps, space-separated in one argument each (default: "
                             f"'{STEPS.format(name='crm_a')}' and the same for crm_b)")
    args = parser.parse_args()

    from tests import pg

    jobs = [s.split() for s in args.steps or [STEPS.format(name=n) for n in ("crm_a", "crm_b")]]
    t0 = time.perf_counter()
    apis = [start_api(seed, args.contacts, args.custom_properties) for seed in (1, 2)]
    print(f"sandbox: two HubSpot APIs in processes of their own, {args.contacts:,} contacts with "
          f"{args.custom_properties} custom properties each, seeded in {time.perf_counter() - t0:.1f} s")
    server = pg.start()
    print(f"postgres: throwaway cluster on port {server.port} ({server.bin})")
    seq, par, ratios, refs = [], [], [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            connections = {"crm_a": apis[0][2:], "crm_b": apis[1][2:]}
            write_project(root, server.dsn(server.new_database()), connections, server.password)
            together(root, jobs, show=True)   # warm-up: the OS page cache, Python's bytecode cache, the cluster's catalogs
            for i in range(args.rounds):
                modes = [(seq, one_after_the_other), (par, together)]
                for times, mode in modes if i % 2 == 0 else reversed(modes):
                    write_project(root, server.dsn(server.new_database()), connections, server.password)
                    times.append(mode(root, jobs))
                ratios.append(par[-1] / seq[-1])
                order = [False, True] if i % 2 == 0 else [True, False]
                ref = {mode: spin_pair(args.spin, mode) for mode in order}
                refs.append(ref[True] / ref[False])
                print(f"round {i + 1}: one after the other {seq[-1]:.2f} s, together {par[-1]:.2f} s, ratio "
                      f"{ratios[-1]:.2f}; reference {ref[False]:.2f} s / {ref[True]:.2f} s, ratio {refs[-1]:.2f}  "
                      f"(load {open('/proc/loadavg').read().split()[0]})", flush=True)
    finally:
        pg.stop(server)
        for process, pipe, _, _ in apis:
            pipe.send("done")
            process.join(timeout=10)
    s, p = statistics.median(seq), statistics.median(par)
    print(f"steps: {' '.join(jobs[0])} | {' '.join(jobs[1])}")
    print(f"one after the other: {s:.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in seq)})")
    print(f"together:            {p:.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in par)})")
    print(f"reference, two CPU-bound processes in the same rounds: ratio {statistics.median(refs):.2f}  "
          f"(rounds: {', '.join(f'{r:.2f}' for r in refs)})")
    print(f"cpus: {os.cpu_count()}, load average: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    print(f"ratio of the medians: {p / s:.2f}")
    print(f"ratio: {statistics.median(ratios):.2f}  (median of the rounds' ratios "
          f"{', '.join(f'{r:.2f}' for r in ratios)}; goal <= 0.6)")


if __name__ == "__main__":
    main()
