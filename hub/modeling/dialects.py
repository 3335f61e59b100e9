"""What DuckDB says that other warehouses say differently: the rules live in the warehouse layer
(:mod:`hub.warehouse.dialect`), which both `hub compile --dialect` and a PostgreSQL warehouse use; this module keeps
the names the modeling code and its tests import."""

from __future__ import annotations

from hub.warehouse.dialect import (BIGQUERY, DUCKDB, HELPERS, POSTGRES, RULES, SECOND_OF_CHANGE, SNOWFLAKE, Rules,
                                   kinds_of, rewrite)

__all__ = ["BIGQUERY", "DUCKDB", "HELPERS", "POSTGRES", "RULES", "SECOND_OF_CHANGE", "SNOWFLAKE", "Rules", "kinds_of",
           "rewrite"]
