"""How long a push's acknowledgement write takes on each engine: ``--rows`` sync-state rows (and a tenth as many
rejected rows) written by :class:`hub.reverse_etl.state.Acks` in one flush, first as inserts, then again as updates
of the same keys, into a DuckDB file and into a throwaway PostgreSQL cluster (tests/pg.py), side by side in one run.

    python benchmarks/push_acks.py --rows 100000

Prints seconds per flush, rows per second, and ``ratio:`` PostgreSQL / DuckDB; with the machine's load average.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def flushes(wh, rows: int) -> tuple[float, float]:
    """Seconds of a first flush (inserts) and a second one (updates of the same keys)."""
    from hub.reverse_etl import state

    state.ensure(wh)
    out = []
    for round_ in range(2):
        acks = state.Acks(wh, "bench")
        for i in range(rows):
            acks.synced(str(i), f"t{i}", f"h{round_}-{i}", {"email": f"p{i}@example.com", "phone": "+14155550100"})
        for i in range(rows, rows + rows // 10):
            acks.rejected(str(i), None, "create", "bad email", "INVALID_EMAIL", {"email": "nope"})
        started = time.perf_counter()
        acks.flush()
        out.append(time.perf_counter() - started)
    assert wh.query("SELECT count(*) FROM _hub.sync_state").scalar() == rows
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    from hub.config import WarehouseConfig
    from hub.secrets import Secret
    from hub.warehouse import Warehouse
    from hub.warehouse.postgres import PostgresWarehouse
    from tests import pg

    with tempfile.TemporaryDirectory() as tmp:
        with Warehouse(Path(tmp) / "bench.duckdb") as wh:
            duck = flushes(wh, args.rows)
        server = pg.start()
        try:
            database = server.new_database()
            config = WarehouseConfig(type="postgres", dsn=server.dsn(database), password=Secret(server.password))
            with PostgresWarehouse(config, Path(tmp) / ".hub" / "postgres") as wh:
                post = flushes(wh, args.rows)
        finally:
            pg.stop(server)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"] * 3
    print(f"acks: {args.rows:,} sync-state rows + {args.rows // 10:,} rejected rows per flush "
          f"(load average {' '.join(load)})")
    for name, (first, second) in (("duckdb", duck), ("postgres", post)):
        print(f"{name:>9}: insert {first:.2f} s ({args.rows / first:,.0f} rows/s), "
              f"update {second:.2f} s ({args.rows / second:,.0f} rows/s)")
    print(f"ratio: insert {post[0] / duck[0]:.2f}, update {post[1] / duck[1]:.2f} (postgres / duckdb)")


if __name__ == "__main__":
    main()
