"""Ingest speed of a ``type = "rest"`` connection: 100,000 tickets from the sandbox's REST emulator, against a bare
httpx fetch+parse loop over the same pages, and against dlt's own ``rest_api`` source.

The REST emulator runs in its own process (as a vendor API would), without rate limiting. Every reader takes the same
pages: ``GET /tickets?per_page=100`` following ``links.next``. Each round times, side by side:
  bare    - the simplest loop over one keep-alive httpx.Client: GET, r.json(), follow links.next
  ingest  - `Project.ingest(["api.tickets"], full_refresh=True)` in this process: paging, Arrow, DuckDB commit (a
            REST connection's flat records go into DuckDB batch by batch as pages arrive, without dlt:
            hub.warehouse.direct); `ratio:` uses this figure, as benchmarks/ingest.py does for HubSpot
  cli     - `hub ingest --full-refresh api` in a subprocess, as a user runs it (interpreter start and imports included)
  dlt     - dlt's `rest_api` source (json_link paginator) into DuckDB, with its fastest settings here (parquet files,
            and the item count per file as large as the run)
and the script prints the medians and `ratio: ingest / bare` (goal <= 1.5), plus the CLI's and dlt's ratios. On a
shared machine wall times swing with the load (printed): the CPU seconds each reader spent on its side (threads and
child processes included; the emulator's own time is not counted) are printed too, as a steadier second view.

    python benchmarks/rest.py [--records 100000] [--per-page 100] [--rounds 3] [--no-dlt]
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


def serve(records: int, conn) -> None:
    """The REST emulator with ``records`` tickets (no comments), until the benchmark says it is done."""
    import types

    from hub.integrations.rest.emulator import EMULATOR
    from hub.sandbox.clock import Clock

    emulator = EMULATOR.build(types.SimpleNamespace(clock=Clock(), seed=1, host="127.0.0.1", tls=None, state=None),
                              tickets=records, comments=0, contacts=0)
    emulator.start()
    conn.send((emulator.url, emulator.auth.token))
    conn.recv()
    emulator.stop()


def bare(url: str, token: str, per_page: int) -> tuple[float, int, float]:
    import httpx

    cpu, start = time.process_time(), time.perf_counter()
    rows = 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        next_url: str | None = f"{url}/tickets?per_page={per_page}"
        while next_url:
            body = http.get(next_url).json()
            rows += len(body["tickets"])
            next_url = body["links"]["next"]
    return time.perf_counter() - start, rows, time.process_time() - cpu


HUB_TOML = """
[connections.api]
type = "rest"
base_url = "{url}"
auth = {{ type = "bearer" }}

[connections.api.streams.tickets]
path = "/tickets"
records = "tickets"
primary_key = "id"
paginator = {{ type = "next_url", path = "links.next" }}
incremental = {{ cursor_field = "updated_at", param = "updated_since" }}
params = {{ per_page = {per_page} }}
"""


def ingest(project) -> tuple[float, int, float]:
    cpu, start = time.process_time(), time.perf_counter()
    report = project.ingest(["api.tickets"], full_refresh=True)
    elapsed = time.perf_counter() - start
    assert report.ok, report.errors
    return elapsed, report.rows, time.process_time() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli(root: Path, token: str) -> tuple[float, float]:
    env = {**os.environ, "HUB__CONNECTIONS__API__TOKEN": token, "PYTHONPATH": str(ROOT)}
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "hub", "ingest", "--full-refresh", "api"], cwd=root, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    return elapsed, _children_cpu() - cpu


def dlt_rest_api(url: str, token: str, per_page: int, records: int, folder: Path) -> tuple[float, int, float]:
    """dlt's rest_api source over the same pages into DuckDB; returns (seconds, rows loaded, CPU seconds).

    Parquet load files: on this data they cost a quarter of the default insert_values (measured: 2.0 vs 7.2 CPU
    seconds for 20,000 records), and about what jsonl costs."""
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    os.environ["DATA_WRITER__FILE_MAX_ITEMS"] = str(records)   # one file: fewer, larger load jobs
    os.environ["DATA_WRITER__BUFFER_MAX_ITEMS"] = "20000"
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source({
        "client": {"base_url": url, "auth": {"type": "bearer", "token": token},
                   "paginator": {"type": "json_link", "next_url_path": "links.next"}},
        "resources": [{"name": "tickets", "primary_key": "id", "write_disposition": "replace",
                       "endpoint": {"path": "tickets", "params": {"per_page": per_page},
                                    "data_selector": "tickets"}}],
    })
    pipeline = dlt.pipeline(pipeline_name=f"bench_{time.monotonic_ns()}", pipelines_dir=str(folder / "dlt"),
                            destination=dlt.destinations.duckdb(str(folder / "dlt.duckdb")), dataset_name="rest")
    cpu, start = time.process_time() + _children_cpu(), time.perf_counter()
    pipeline.run(source, loader_file_format="parquet")
    elapsed = time.perf_counter() - start
    cpu = time.process_time() + _children_cpu() - cpu
    with pipeline.sql_client() as client:
        rows = client.execute_sql("SELECT count(*) FROM tickets")[0][0]
    return elapsed, rows, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-dlt", action="store_true", help="skip timing dlt's rest_api source")
    args = parser.parse_args()

    parent, child = mp.Pipe()
    server = mp.Process(target=serve, args=(args.records, child), daemon=True)
    t0 = time.perf_counter()
    server.start()
    url, token = parent.recv()
    print(f"REST emulator: {args.records:,} tickets seeded in {time.perf_counter() - t0:.1f} s at {url}, "
          f"{args.per_page} per page ({-(-args.records // args.per_page):,} pages)")

    from hub.project import Project

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        root.mkdir()
        (root / "hub.toml").write_text(HUB_TOML.format(url=url, per_page=args.per_page))
        project = Project(root, environ={"HUB__CONNECTIONS__API__TOKEN": token})
        ingest(project)  # warm-up: imports (dlt, duckdb, pyarrow) and the first table creation are not measured
        times: dict[str, list[float]] = {k: [] for k in ("bare", "ingest", "cli", "dlt")}
        cpus: dict[str, list[float]] = {k: [] for k in times}
        rows_dlt = 0
        for i in range(args.rounds):
            seconds, rows_bare, cpu = bare(url, token, args.per_page)
            times["bare"].append(seconds)
            cpus["bare"].append(cpu)
            seconds, rows_ingest, cpu = ingest(project)
            times["ingest"].append(seconds)
            cpus["ingest"].append(cpu)
            seconds, cpu = cli(root, token)
            times["cli"].append(seconds)
            cpus["cli"].append(cpu)
            if not args.no_dlt:
                seconds, rows_dlt, cpu = dlt_rest_api(url, token, args.per_page, args.records, Path(tmp) / f"dlt{i}")
                times["dlt"].append(seconds)
                cpus["dlt"].append(cpu)
        landed = project.query("SELECT count(*) FROM raw_api.tickets").scalar()
    parent.send("done")
    server.join(timeout=10)

    med = {k: statistics.median(v) for k, v in times.items() if v}
    cpu_med = {k: statistics.median(v) for k, v in cpus.items() if v}
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"rows: bare {rows_bare:,}, ingest {rows_ingest:,}, in warehouse {landed:,}"
          + (f", dlt {rows_dlt:,}" if times["dlt"] else ""))
    labels = {"bare": "bare fetch+parse", "ingest": "hub ingest", "cli": "hub ingest (CLI)", "dlt": "dlt rest_api"}
    for key, label in labels.items():
        if key in med:
            rounds = ", ".join(f"{t:.2f}" for t in times[key])
            print(f"{label + ':':19} {med[key]:6.2f} s  (rounds: {rounds}; CPU {cpu_med[key]:.2f} s)"
                  + ("  interpreter start and imports included" if key == "cli" else ""))
    b, i, c = med["bare"], med["ingest"], med["cli"]
    print(f"ratio: {i / b:.2f}  (goal <= 1.5)")
    print(f"ratio (CLI): {c / b:.2f}")
    if "dlt" in med:
        print(f"ratio (dlt rest_api / bare): {med['dlt'] / b:.2f}")
    print(f"CPU ratio: ingest {cpu_med['ingest'] / cpu_med['bare']:.2f}, CLI {cpu_med['cli'] / cpu_med['bare']:.2f}"
          + (f", dlt {cpu_med['dlt'] / cpu_med['bare']:.2f}" if "dlt" in cpu_med else ""))


if __name__ == "__main__":
    main()
