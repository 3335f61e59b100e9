"""Push speed: 100,000 changed persons to the sandbox HubSpot, limited like a Professional private app (190 requests
per 10 s), against the ceiling that limit allows (190 / 10 s x 100 records per batch = 1,900 records/s).

The sandbox runs in its own process (as the vendor would), so its server threads do not share the pusher's GIL. The
model table ``canonical.person`` is filled directly. The script prints:

  first push  - records/s achieved, the ceiling, ``ratio: achieved / ceiling`` (goal >= 0.9), the 429s the sandbox
                answered (each retried by the client), and a check that every record landed (none lost);
  1% changed  - the API calls the second push made, against the goal (1% of the first push's calls + 1 batch).

    python benchmarks/push.py [--persons 100000] [--change 0.01]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LIMIT = (190, 10.0)
BATCH = 100
SYNC = """
[syncs.person_to_hubspot]
model = "canonical.person"
to = "hubspot"
object = "contacts"
mode = "upsert"
match = { email = "email" }
fields = { first_name = "firstname", last_name = "lastname", phone = "phone" }
"""


def serve(conn) -> None:
    """The sandbox process: answers the benchmark's questions over a pipe until told to stop."""
    from hub.sandbox import Sandbox

    sb = Sandbox(seed=1, people=50, hubspot_rate_limit=LIMIT).start()
    conn.send((sb.hubspot.url, sb.hubspot.token))
    batch = "POST /crm/v3/objects/{objectType}/batch/{action}"
    while True:
        command = conn.recv()
        if command == "stop":
            break
        if command == "reset":
            sb.hubspot.requests.reset()
            conn.send(None)
        elif command == "requests":
            conn.send((sb.hubspot.requests.total, sb.hubspot.requests[batch]))
        elif command == "contacts":
            conn.send(sb.hubspot.store.count("contacts"))
    sb.stop()


def fill(project, persons: int) -> None:
    with project.warehouse() as wh:
        wh.execute("CREATE SCHEMA IF NOT EXISTS canonical")
        wh.execute(f"""
            CREATE OR REPLACE TABLE canonical.person AS
            SELECT 'p' || lpad(i::VARCHAR, 7, '0') AS person_id, 'person' || i || '@bench.example' AS email,
                   'First' || i AS first_name, 'Last' || (i % 997) AS last_name,
                   '+1415555' || lpad((i % 10000)::VARCHAR, 4, '0') AS phone, NULL::VARCHAR AS company_name,
                   1 AS source_count, now() AS first_seen_at, now() AS updated_at
            FROM range({persons}) t(i)""")


def change(project, share: float) -> int:
    step = max(1, round(1 / share))
    with project.warehouse() as wh:
        wh.execute(f"UPDATE canonical.person SET first_name = first_name || ' Jr' "
                   f"WHERE CAST(substr(person_id, 2) AS INTEGER) % {step} = 0")
        return wh.query(f"SELECT count(*) FROM canonical.person WHERE CAST(substr(person_id, 2) AS INTEGER) "
                        f"% {step} = 0").scalar()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--change", type=float, default=0.01, help="share of persons changed for the second push")
    args = parser.parse_args()

    from hub.project import Project
    from hub.reverse_etl import push, render_push_report

    parent, child = mp.Pipe()
    server = mp.Process(target=serve, args=(child,), daemon=True)
    server.start()
    url, token = parent.recv()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "hub.toml").write_text(f'[connections.hubspot]\ntype = "hubspot"\nbase_url = "{url}"\n{SYNC}')
        (root / "secrets.toml").write_text(f'[connections.hubspot]\ntoken = "{token}"\n')
        project = Project(root)
        fill(project, args.persons)
        parent.send("contacts")
        before = parent.recv()

        parent.send("reset")
        parent.recv()
        started = time.perf_counter()
        report = push(project)
        elapsed = time.perf_counter() - started
        parent.send("requests")
        served, batches = parent.recv()
        parent.send("contacts")
        after = parent.recv()
        result = report.results[0]
        rate, ceiling = args.persons / elapsed, LIMIT[0] / LIMIT[1] * BATCH
        acked = project.query("SELECT count(*) FROM _hub.sync_state WHERE target_id IS NOT NULL").scalar()
        print(render_push_report(report))
        print(f"first push: {args.persons:,} persons in {elapsed:.1f} s = {rate:,.0f} records/s; "
              f"ceiling {ceiling:,.0f} records/s ({LIMIT[0]} requests / {LIMIT[1]:.0f} s x {BATCH} records)")
        print(f"ratio: {rate / ceiling:.2f}")
        print(f"429s answered by the sandbox and retried: {batches - math.ceil(args.persons / BATCH)}; "
              f"requests served {served:,}; client API calls {result.api_calls:,}")
        lost = args.persons - (after - before)
        print(f"records lost: {lost} (contacts {before:,} -> {after:,}; acknowledged {acked:,}; "
              f"rejected {result.rejected})")

        changed = change(project, args.change)
        parent.send("reset")
        parent.recv()
        started = time.perf_counter()
        again = push(project)
        elapsed = time.perf_counter() - started
        parent.send("requests")
        served, _ = parent.recv()
        calls = again.results[0].api_calls
        goal = math.floor(args.change * result.api_calls) + 1
        print(render_push_report(again))
        print(f"{args.change:.0%} changed ({changed:,} persons): {calls} API calls ({served} served) in "
              f"{elapsed:.1f} s; goal <= {goal} (1% of {result.api_calls:,} calls + 1 batch)")
    parent.send("stop")
    server.join(timeout=10)


if __name__ == "__main__":
    main()
