"""hub: a warehouse-centric ELT hub. Ingest SaaS APIs into DuckDB, unify entities with SQL models, push changes back.

Heavy modules (dlt, duckdb, httpx) are imported lazily so that ``hub --help`` stays instant.
"""

__version__ = "0.1.0"
