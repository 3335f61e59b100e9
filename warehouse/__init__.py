"""The warehouse: every DuckDB connection of hub is opened here, and nowhere else."""

from hub.warehouse.duck import Result, Warehouse
from hub.warehouse.sql import qualified, quote

__all__ = ["Result", "Warehouse", "qualified", "quote"]
