"""Shopify ingest paced by the query-cost bucket: how much of the bucket's restore rate the connector uses.

The Shopify emulator runs in its own process (as the vendor would) with 50,000 orders and a bucket restored at
``--restore-rate`` points a second (Shopify's Standard plan restores 100 a second into a bucket of 2,000; the
benchmark restores faster so that 50,000 orders take a minute or two, not hours; the single-query maximum stays
1,000). ``Project.ingest(["shopify.orders"], full_refresh=True)`` then pulls every order through the real connector:
discovery of the node cost, page sizes from it, waiting for the bucket, Arrow, dlt, DuckDB. The emulator counts the
points each query actually used and when the first and last query ran; the script prints the points used per second
against the restore rate, and ``ratio`` = points per second / restore rate, with the bucket's initial fill (spent
for free at the start) left out (goal >= 0.9), plus how often the emulator answered THROTTLED.

    python benchmarks/shopify_ingest.py [--orders 50000] [--restore-rate 15000] [--bucket-size 2000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def serve(orders: int, restore: float, bucket: float, conn) -> None:
    from hub.sandbox import Sandbox

    with Sandbox(seed=1, people=400, only={"shopify"}, shopify_orders=orders, shopify_restore_rate=restore,
                 shopify_bucket_size=bucket) as sb:
        emulator = sb.emulators["shopify"]
        conn.send((emulator.url, emulator.token))
        conn.recv()   # the ingest is done
        spent = emulator.bucket()
        conn.send((spent.spent, spent.first_at, spent.last_at, dict(emulator.refused)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--restore-rate", type=float, default=15_000.0)
    parser.add_argument("--bucket-size", type=float, default=2_000.0)
    args = parser.parse_args()

    ours, theirs = mp.Pipe()
    server = mp.get_context("spawn").Process(target=serve, args=(args.orders, args.restore_rate, args.bucket_size,
                                                                   theirs), daemon=True)
    server.start()
    url, token = ours.recv()
    from hub.project import Project

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "hub.toml").write_text(f'[connections.shopify]\ntype = "shopify"\nbase_url = "{url}"\n')
        (root / "secrets.toml").write_text(f'[connections.shopify]\ntoken = "{token}"\n')
        project = Project(root)
        started = time.perf_counter()
        project.ingest(["shopify.orders"], full_refresh=True)
        elapsed = time.perf_counter() - started
        rows = project.query("SELECT count(*) FROM raw_shopify.orders").scalar()
    ours.send("done")
    spent, first_at, last_at, refused = ours.recv()
    server.join(timeout=30)
    window = max(1e-9, last_at - first_at)
    rate = spent / window
    net = (spent - args.bucket_size) / window
    print(f"orders: {rows} (of {args.orders}), ingest {elapsed:.1f} s, queries ran for {window:.1f} s")
    print(f"points used: {spent:.0f} ({spent / max(rows, 1):.1f} per order); restore rate {args.restore_rate:.0f}/s, "
          f"bucket {args.bucket_size:.0f}")
    print(f"points used per second: {rate:.0f} (without the initial bucket: {net:.0f})")
    print(f"THROTTLED answers: {refused['THROTTLED']}, MAX_COST_EXCEEDED: {refused['MAX_COST_EXCEEDED']}")
    print(f"ratio: {net / args.restore_rate:.3f} (points per second without the initial bucket / restore rate; "
          f"goal >= 0.9)")


if __name__ == "__main__":
    main()
