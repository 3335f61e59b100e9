"""The warehouse: every DuckDB connection of hub is opened here, and nowhere else.

``Warehouse`` and ``Result`` load DuckDB on first use (PEP 562), so that modules of this package that do not need it,
the lock file and the run log, can be imported without it: `hub runs` answers without loading DuckDB.
"""

from __future__ import annotations

from typing import Any

from hub.warehouse.sql import qualified, quote

__all__ = ["Result", "Warehouse", "qualified", "quote"]


def __getattr__(name: str) -> Any:
    if name in ("Result", "Warehouse"):
        from hub.warehouse import duck

        return getattr(duck, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
