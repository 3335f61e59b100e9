"""Ingest speed: 100,000 HubSpot contacts with 300 custom properties each, against a bare httpx fetch+parse loop.

The sandbox runs in its own process (as a vendor API would), without rate limiting; its custom properties have names
as long as real portals' (300 of them do not fit in a list URL: the sandbox refuses request lines over 16,384 bytes
with 414, like HubSpot). Each round times, side by side:
  bare    - the simplest loop that gets every property over one keep-alive httpx.Client, r.json() on every answer:
            GET every page of /crm/v3/objects/contacts with all properties when that URL fits, else GET the ids page
            by page and POST each page's ids to batch/read with the property names in the body
  ingest  - `Project.ingest(["hubspot.contacts"], full_refresh=True)`: discovery, paging, Arrow, dlt, DuckDB commit
and the script prints the property count, the medians and `ratio: ingest / bare` (goal <= 1.5). It also times
`hub --help` in a subprocess.

    python benchmarks/ingest.py [--contacts 100000] [--custom-properties 300] [--rounds 3]
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


def serve(contacts: int, custom: int, conn) -> None:
    from hub.sandbox import Sandbox

    sb = Sandbox(seed=1, people=2000, hubspot_contacts=contacts, hubspot_rate_limit=None, custom_fields=custom).start()
    conn.send((sb.hubspot.url, sb.hubspot.token))
    conn.recv()  # block until the benchmark is done
    sb.stop()


def bare(url: str, token: str, url_budget: int | None = None) -> tuple[float, int, int]:
    """The bare loop; ``url_budget`` given (HubSpot's URL_BUDGET), it imports nothing but httpx, as a process of its
    own (benchmarks/startup.py) should."""
    import httpx

    if url_budget is None:
        from hub.integrations.hubspot.source import URL_BUDGET as url_budget

    start = time.perf_counter()
    rows = 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        names = [p["name"] for p in http.get(f"{url}/crm/v3/properties/contacts").json()["results"]]
        params = {"limit": 100, "properties": ",".join(names), "archived": "false"}
        fits = len(str(httpx.URL(f"{url}/crm/v3/objects/contacts", params=params))) + 30 <= url_budget
        if not fits:
            params["properties"] = "hs_object_id"
        while True:
            body = http.get(f"{url}/crm/v3/objects/contacts", params=params).json()
            if fits:
                rows += len(body["results"])
            else:
                inputs = [{"id": r["id"]} for r in body["results"]]
                read = http.post(f"{url}/crm/v3/objects/contacts/batch/read",
                                 json={"properties": names, "inputs": inputs}).json()
                rows += len(read["results"])
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                break
            params["after"] = after
    return time.perf_counter() - start, rows, len(names)


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
    parser.add_argument("--custom-properties", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    parent, child = mp.Pipe()
    server = mp.Process(target=serve, args=(args.contacts, args.custom_properties, child), daemon=True)
    t0 = time.perf_counter()
    server.start()
    url, token = parent.recv()
    print(f"sandbox: {args.contacts:,} HubSpot contacts with {args.custom_properties} custom properties seeded in "
          f"{time.perf_counter() - t0:.1f} s at {url}")

    from hub.project import Project

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "hub.toml").write_text(f'[connections.hubspot]\ntype = "hubspot"\nbase_url = "{url}"\n'
                                       'streams = ["contacts"]\n')
        project = Project(root, environ={"HUB__CONNECTIONS__HUBSPOT__TOKEN": token})
        ingest(project)  # warm-up: imports (dlt, duckdb, pyarrow) and the first table creation are not measured
        bare_times, ingest_times = [], []
        for _ in range(args.rounds):
            seconds, rows_bare, properties = bare(url, token)
            bare_times.append(seconds)
            seconds, rows_ingest = ingest(project)
            ingest_times.append(seconds)
        landed = project.query("SELECT count(*) FROM raw_hubspot.contacts").scalar()
    parent.send("done")
    server.join(timeout=10)

    b, i = statistics.median(bare_times), statistics.median(ingest_times)
    print(f"properties per contact: {properties} ({args.custom_properties} custom)")
    print(f"rows: bare {rows_bare:,}, ingest {rows_ingest:,}, in warehouse {landed:,}")
    print(f"bare fetch+parse: {b:.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in bare_times)})")
    print(f"hub ingest:       {i:.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in ingest_times)})")
    print(f"ratio: {i / b:.2f}  (goal <= 1.5)")
    print(f"hub --help: {help_time():.3f} s  (goal < 0.3)")


if __name__ == "__main__":
    main()
