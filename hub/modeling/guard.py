"""The refusal guard of `hub build`: never let a rebuild wipe a source's records from the identity map by accident.

The identity map (``_hub.<entity>_identity``) is what keeps person ids stable: a record seen again gets the id it had.
If a build resolves a union that lacks every record of a connection (hub.toml emptied or truncated, a connection
renamed), identity ends those persons; when the configuration comes back, their records get new ids, and every sync
keyed on them sees new people. So a build that would remove every record of a connection whose raw tables still hold
data stops and says why; ``--full-refresh`` is how a user says the removal is meant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.errors import ModelError
from hub.warehouse.sql import qualified, quote

if TYPE_CHECKING:
    from hub.warehouse.duck import Warehouse


def check_no_source_vanishes(wh: Warehouse, entity: str, source: str, *, fed_by: set[str], id_column: str,
                             model: str, full_refresh: bool) -> None:
    """Refuse to resolve ``source`` into ``_hub.<entity>_identity`` when it holds no record of a connection the map
    holds records of, no staging model of that connection feeds it (``fed_by``), and the connection's
    ``raw_<connection>`` tables still hold rows; ``full_refresh`` allows it.

    A connection whose staging models do feed the union but yield nothing (every record deleted at the source) is a
    real change and goes through: only a connection whose models went missing while its data is still there is refused.
    """
    table = qualified("_hub", f"{entity}_identity")
    if full_refresh or not wh.table_exists("_hub", f"{entity}_identity"):
        return
    mapped = {c for c, in wh.query(f"SELECT DISTINCT connection FROM {table}").rows}
    if not mapped - fed_by:
        return   # the usual build: every mapped connection still feeds the union, nothing to count
    present = {c for c, in wh.query(f"SELECT DISTINCT connection FROM {source}").rows}
    vanishing = []
    for connection in sorted(mapped - present - fed_by):
        rows = raw_rows(wh, connection)
        if rows:
            ids = wh.query(f"SELECT count(DISTINCT {quote(id_column)}) FROM {table} WHERE connection = ?",
                           [connection]).scalar()
            vanishing.append((connection, f"'{connection}' ({ids:,} {entity} id(s); raw_{connection} still holds "
                                          f"{rows:,} row(s))"))
    if vanishing:
        raise ModelError(
            f"refusing to build: it would remove every {entity} record of connection "
            f"{', '.join(text for _, text in vanishing)}, and their ids would be lost", model=model,
            hint=f"restore [connections.{vanishing[0][0]}] in hub.toml (is the file emptied or cut short?), or "
                 f"run `hub build --full-refresh` to remove them on purpose")


def raw_rows(wh: Warehouse, connection: str) -> int:
    """Rows in the record tables of schema ``raw_<connection>`` (0 when it does not exist)."""
    # dlt's own tables (_dlt_loads, _dlt_version...) hold no records
    tables = wh.query("SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
                      "AND table_type = 'BASE TABLE' AND NOT starts_with(table_name, '_dlt')",
                      [f"raw_{connection}"]).rows
    if not tables:
        return 0
    counts = " + ".join(f"(SELECT count(*) FROM {qualified(f'raw_{connection}', t)})" for t, in tables)
    return int(wh.query(f"SELECT {counts}").scalar() or 0)
