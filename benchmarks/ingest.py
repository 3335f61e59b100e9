"""Ingest speed: 100,000 HubSpot contacts from the sandbox, against a bare httpx fetch+parse loop of the same pages.

The sandbox runs in its own process (as a vendor API would), without rate limiting. Each round times, side by side:
  bare    - GET every page of /crm/v3/objects/contacts with all properties over one keep-alive httpx.Client, r.json()
  ingest  - `Project.ingest(["hubspot.contacts"], full_refresh=True)`: discovery, paging, Arrow, dlt, DuckDB commit
and the script prints the medians and `ratio: ingest / bare` (goal <= 1.5). It also times `hub --help` in a subprocess.

    python benchmarks/ingest.py [--contacts 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def serve(contacts: int, conn) -> None:
    from hub.sandbox import Sandbox

    sb = Sandbox(seed=1, people=2000, hubspot_contacts=contacts, hubspot_rate_limit=None).start()
    conn.send((sb.hubspot.url, sb.hubspot.token))
    conn.recv()  # block until the benchmark is done
    sb.stop()


def bare(url: str, token: str) -> tuple[float, int]:
    import httpx

    start = time.perf_counter()
    rows = 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        props = ",".join(p["name"] for p in http.get(f"{url}/crm/v3/properties/contacts").json()["results"])
        params = {"limit": 100, "properties": props, "archived": "false"}
        while True:
            body = http.get(f"{url}/crm/v3/objects/contacts", params=params).json()
            rows += len(body["results"])
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                break
            params["after"] = after
    return time.perf_counter() - start, rows


def ingest(project) -> tuple[float, int]:
    start = time.perf_counter()
    report = project.ingest(["hubspot.contacts"], full_refresh=True)
    elapsed = time.perf_counter() - start
    assert report.ok, report.errors
    return elapsed, report.rows


def help_time() -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "hub", "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    parent, child = mp.Pipe()
    server = mp.Process(target=serve, args=(args.contacts, child), daemon=True)
    t0 = time.perf_counter()
    server.start()
    url, token = parent.recv()
    print(f"sandbox: {args.contacts:,} HubSpot contacts seeded in {time.perf_counter() - t0:.1f} s at {url}")

    from hub.project import Project

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "hub.toml").write_text(f'[connections.hubspot]\ntype = "hubspot"\nbase_url = "{url}"\n'
                                       'streams = ["contacts"]\n')
        project = Project(root, environ={"HUB__CONNECTIONS__HUBSPOT__TOKEN": token})
        ingest(project)  # warm-up: imports (dlt, duckdb, pyarrow) and the first table creation are not measured
        bare_times, ingest_times = [], []
        for _ in range(args.rounds):
            seconds, rows_bare = bare(url, token)
            bare_times.append(seconds)
            seconds, rows_ingest = ingest(project)
            ingest_times.append(seconds)
        landed = project.query("SELECT count(*) FROM raw_hubspot.contacts").scalar()
    parent.send("done")
    server.join(timeout=10)

    b, i = statistics.median(bare_times), statistics.median(ingest_times)
    print(f"rows: bare {rows_bare:,}, ingest {rows_ingest:,}, in warehouse {landed:,}")
    print(f"bare fetch+parse: {b:.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in bare_times)})")
    print(f"hub ingest:       {i:.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in ingest_times)})")
    print(f"ratio: {i / b:.2f}  (goal <= 1.5)")
    print(f"hub --help: {help_time():.3f} s  (goal < 0.3)")


if __name__ == "__main__":
    main()
