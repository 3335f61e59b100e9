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

With ``--warehouse postgres`` the warehouse is a throwaway PostgreSQL cluster started for the run (tests/pg.py's, over
TCP with a password, as hub reaches a real server), and the bare reference also writes what it fetched: the same loop
streams every page's rows, as parsed, into one ``COPY ... FROM STDIN`` (psycopg 3, ``write_row``) of a table with a
text column per property, committed at the end. Fetch+parse and COPY are timed apart and summed; the ratio is
`ingest / (fetch+parse + COPY)` (goal <= 1.5).

    python benchmarks/ingest.py [--contacts 100000] [--custom-properties 300] [--rounds 3] [--warehouse postgres]
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


def bare(url: str, token: str, url_budget: int | None = None, sink: BareCopy | None = None) -> tuple[float, int, int]:
    """The bare loop; ``url_budget`` given (HubSpot's URL_BUDGET), it imports nothing but httpx, as a process of its
    own (benchmarks/startup.py) should. With a ``sink`` every page's records also go to its COPY, timed apart (the
    seconds returned are fetch+parse only)."""
    import httpx

    if url_budget is None:
        from hub.integrations.hubspot.source import URL_BUDGET as url_budget

    start = time.perf_counter()
    rows = 0
    copying = 0.0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        names = [p["name"] for p in http.get(f"{url}/crm/v3/properties/contacts").json()["results"]]
        params = {"limit": 100, "properties": ",".join(names), "archived": "false"}
        fits = len(str(httpx.URL(f"{url}/crm/v3/objects/contacts", params=params))) + 30 <= url_budget
        if not fits:
            params["properties"] = "hs_object_id"
        if sink is not None:
            mark = time.perf_counter()
            sink.begin(names)
            copying += time.perf_counter() - mark
        while True:
            body = http.get(f"{url}/crm/v3/objects/contacts", params=params).json()
            if fits:
                results = body["results"]
            else:
                inputs = [{"id": r["id"]} for r in body["results"]]
                results = http.post(f"{url}/crm/v3/objects/contacts/batch/read",
                                    json={"properties": names, "inputs": inputs}).json()["results"]
            rows += len(results)
            if sink is not None:
                mark = time.perf_counter()
                sink.write(results)
                copying += time.perf_counter() - mark
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                break
            params["after"] = after
        if sink is not None:
            mark = time.perf_counter()
            sink.commit()
            copying += time.perf_counter() - mark
    if sink is not None:
        sink.seconds = copying
    return time.perf_counter() - start - copying, rows, len(names)


class BareCopy:
    """The bare write: one ``COPY bare.contacts FROM STDIN`` over psycopg 3, a text column per property (PostgreSQL
    parses nothing but text), every record written as parsed, one commit at the end."""

    def __init__(self, dsn: str, password: str) -> None:
        import psycopg

        self.con = psycopg.connect(dsn, password=password)
        self.seconds = 0.0
        self._copy = None
        self._names: list[str] = []

    def begin(self, names: list[str]) -> None:
        from psycopg import sql

        self._names = names
        columns = [sql.Identifier("id"), *(sql.Identifier(n) for n in names)]
        self.con.execute("CREATE SCHEMA IF NOT EXISTS bare")
        self.con.execute("DROP TABLE IF EXISTS bare.contacts")
        self.con.execute(sql.SQL("CREATE TABLE bare.contacts ({})").format(
            sql.SQL(", ").join(sql.SQL("{} text").format(c) for c in columns)))
        self._cm = self.con.cursor().copy(sql.SQL("COPY bare.contacts ({}) FROM STDIN").format(
            sql.SQL(", ").join(columns)))
        self._copy = self._cm.__enter__()

    def write(self, results: list[dict]) -> None:
        names, write_row = self._names, self._copy.write_row
        for record in results:
            props = record["properties"]
            write_row([record["id"], *[props.get(n) for n in names]])

    def commit(self) -> None:
        self._cm.__exit__(None, None, None)
        self._copy = None
        self.con.commit()

    def close(self) -> None:
        self.con.close()


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
    parser.add_argument("--warehouse", choices=("duckdb", "postgres"), default="duckdb")
    args = parser.parse_args()
    pg = None
    if args.warehouse == "postgres":
        from tests.pg import start

        t0 = time.perf_counter()
        pg = start()
        print(f"postgres: a throwaway cluster on 127.0.0.1:{pg.port} started in {time.perf_counter() - t0:.1f} s "
              f"({pg.admin('SHOW server_version').strip()}, fsync=off as in the tests)")
    try:
        run(args, pg)
    finally:
        if pg is not None:
            from tests.pg import stop

            stop(pg)


def run(args: argparse.Namespace, pg) -> None:

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
        toml = f'[connections.hubspot]\ntype = "hubspot"\nbase_url = "{url}"\nstreams = ["contacts"]\n'
        environ = {"HUB__CONNECTIONS__HUBSPOT__TOKEN": token}
        sink = None
        if pg is not None:
            database = pg.new_database()
            toml += f'\n[warehouse]\ntype = "postgres"\ndsn = "{pg.dsn(database)}"\n'
            environ["HUB__WAREHOUSE__PASSWORD"] = pg.password
            sink = BareCopy(pg.dsn(database), pg.password)
        (root / "hub.toml").write_text(toml)
        project = Project(root, environ=environ)
        ingest(project)  # warm-up: imports (dlt, duckdb, pyarrow) and the first table creation are not measured
        bare_times, copy_times, ingest_times = [], [], []
        for _ in range(args.rounds):
            seconds, rows_bare, properties = bare(url, token, sink=sink)
            bare_times.append(seconds)
            if sink is not None:
                copy_times.append(sink.seconds)
            seconds, rows_ingest = ingest(project)
            ingest_times.append(seconds)
        landed = project.query("SELECT count(*) FROM raw_hubspot.contacts").scalar()
        if sink is not None:
            copied = sink.con.execute("SELECT count(*) FROM bare.contacts").fetchone()[0]
            sink.close()
    parent.send("done")
    server.join(timeout=10)

    b, i = statistics.median(bare_times), statistics.median(ingest_times)
    print(f"warehouse: {args.warehouse}")
    print(f"properties per contact: {properties} ({args.custom_properties} custom)")
    rounds = ", ".join
    totals: list[float] = []
    if sink is None:
        print(f"rows: bare {rows_bare:,}, ingest {rows_ingest:,}, in warehouse {landed:,}")
        print(f"bare fetch+parse: {b:.2f} s  (rounds: {rounds(f'{t:.2f}' for t in bare_times)})")
    else:
        totals = [f + c for f, c in zip(bare_times, copy_times)]
        b = statistics.median(totals)
        print(f"rows: bare {rows_bare:,} (COPY landed {copied:,}), ingest {rows_ingest:,}, in warehouse {landed:,}")
        print(f"bare fetch+parse: {statistics.median(bare_times):.2f} s  "
              f"(rounds: {rounds(f'{t:.2f}' for t in bare_times)})")
        print(f"bare COPY:        {statistics.median(copy_times):.2f} s  "
              f"(rounds: {rounds(f'{t:.2f}' for t in copy_times)})")
        print(f"bare total:       {b:.2f} s  (rounds: {rounds(f'{t:.2f}' for t in totals)})")
    print(f"hub ingest:       {i:.2f} s  (rounds: {rounds(f'{t:.2f}' for t in ingest_times)})")
    print(f"ratio: {i / b:.2f}  (goal <= 1.5)")
    references = totals if sink is not None else bare_times
    print(f"ratio per round (interleaved, so each pair shares the machine's load): "
          f"{rounds(f'{t / r:.2f}' for t, r in zip(ingest_times, references))}")
    print(f"load average: {open('/proc/loadavg').read().strip()}")
    if pg is None:
        print(f"hub --help: {help_time():.3f} s  (goal < 0.3)")


if __name__ == "__main__":
    main()
