"""The warehouse: every DuckDB connection of hub is opened here, and nowhere else."""

from warehouse.duck import Result, Warehouse
from warehouse.sql import qualified, quote

__all__ = ["Result", "Warehouse", "qualified", "quote"]
