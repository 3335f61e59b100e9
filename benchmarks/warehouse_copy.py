"""`hub warehouse copy --to postgres` speed: a DuckDB table of N contact-like rows into a throwaway PostgreSQL.

Each round times, side by side, into fresh databases of the same cluster:
  bare  - the least a copy can do: DuckDB writes the table to a CSV file (its own COPY ... TO), then one
          `COPY ... FROM STDIN` of that file over psycopg into a table created by hand (no types checked, no count
          compared, no transaction spanning tables)
  copy  - hub.warehouse.copy.copy_to_postgres: plan, type mapping, Arrow batches -> CSV -> COPY, the row count
          compared, views and constraints, one transaction
and prints the medians, rows/s and `ratio: copy / bare`. The machine's load goes next to any figure you quote.

    python benchmarks/warehouse_copy.py [--rows 1000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLUMNS = """id VARCHAR PRIMARY KEY, email VARCHAR, firstname VARCHAR, lastname VARCHAR, phone VARCHAR,
    company VARCHAR, score DOUBLE, employees BIGINT, archived BOOLEAN, updated_at TIMESTAMPTZ"""


def make_source(path: Path, rows: int) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA raw_hubspot")
    con.execute(f"CREATE TABLE raw_hubspot.contacts ({COLUMNS})")
    con.execute(f"""INSERT INTO raw_hubspot.contacts SELECT 'c' || i, 'person' || i || '@example.com',
        'First' || (i % 997), 'Last' || (i % 1009), '+1212555' || lpad(CAST(i % 10000 AS VARCHAR), 4, '0'),
        CASE WHEN i % 7 = 0 THEN NULL ELSE 'Company ' || (i % 5003) END, i / 3.0, i % 100000, i % 11 = 0,
        TIMESTAMPTZ '2025-01-01 00:00:00+00' + INTERVAL (i) SECOND FROM range({rows}) t(i)""")
    con.close()


def bare(source: Path, server, database: str, scratch: Path) -> float:
    import duckdb
    import psycopg

    began = time.perf_counter()
    csv = scratch / "bare.csv"
    con = duckdb.connect(str(source), read_only=True)
    con.execute(f"COPY raw_hubspot.contacts TO '{csv}' (FORMAT csv, HEADER false)")
    con.close()
    with psycopg.connect(host=server.host, port=server.port, user="hub", password=server.password,
                         dbname=database) as pg:
        pg.execute("CREATE SCHEMA raw_hubspot")
        pg.execute("CREATE TABLE raw_hubspot.contacts (id VARCHAR PRIMARY KEY, email VARCHAR, firstname VARCHAR, "
                   "lastname VARCHAR, phone VARCHAR, company VARCHAR, score DOUBLE PRECISION, employees BIGINT, "
                   "archived BOOLEAN, updated_at TIMESTAMPTZ)")
        with pg.cursor() as cursor, cursor.copy("COPY raw_hubspot.contacts FROM STDIN (FORMAT csv)") as copy, \
                csv.open("rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
    return time.perf_counter() - began


def hub_copy(source: Path, server, database: str, anchor: Path) -> float:
    from hub.config import WarehouseConfig
    from hub.secrets import Secret
    from hub.warehouse.copy import copy_to_postgres

    config = WarehouseConfig(type="postgres", dsn=server.dsn(database), password=Secret(server.password))
    began = time.perf_counter()
    report = copy_to_postgres(source, config, anchor)
    took = time.perf_counter() - began
    assert all(t.source_rows == t.target_rows for t in report.tables)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from tests import pg

    server = pg.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            scratch = Path(tmp)
            source = scratch / "warehouse.duckdb"
            make_source(source, args.rows)
            bares, copies = [], []
            for _ in range(args.rounds):
                bares.append(bare(source, server, server.new_database(), scratch))
                copies.append(hub_copy(source, server, server.new_database(), scratch / ".hub" / "postgres"))
            b, c = statistics.median(bares), statistics.median(copies)
            print(f"rows: {args.rows:,}, rounds: {args.rounds}")
            print(f"bare (duckdb COPY TO csv + one COPY FROM STDIN): {b:.2f} s ({args.rows / b:,.0f} rows/s)")
            print(f"hub warehouse copy: {c:.2f} s ({args.rows / c:,.0f} rows/s)")
            print(f"ratio: copy / bare = {c / b:.2f}")
            print(f"load: {open('/proc/loadavg').read().strip()}")
    finally:
        pg.stop(server)


if __name__ == "__main__":
    main()
