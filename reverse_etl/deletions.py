"""Records a target deleted: not re-created unless the sync says so (``on_target_delete``).

A record the hub once pushed and that a user then deleted (or archived) in the target shows up
in two ways: the target's raw data marks it archived/deleted, or an update of it answers "missing". Under
``on_target_delete = "skip"`` (the default) the row is put in ``_hub.sync_skipped_deletions`` and from then on is
neither updated, nor found again by match key, nor created: that would resurrect what the user deleted. Its sync state
is left as it was, so the row stays a candidate; switching the sync to ``"recreate"`` then finds the record again by
match key, or creates it, and the row leaves the table. ``hub status`` lists what was skipped.

Everything here is set-based: one query loads a sync's tombstones, one statement records or clears many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from hub.warehouse.bookkeeping import now
from hub.warehouse.sql import quote

if TYPE_CHECKING:
    from hub.reverse_etl.config import SyncConfig
    from hub.warehouse.duck import Warehouse

SKIP, RECREATE = "skip", "recreate"

DDL = """
CREATE SCHEMA IF NOT EXISTS _hub;
CREATE TABLE IF NOT EXISTS _hub.sync_skipped_deletions (
    sync VARCHAR NOT NULL, key VARCHAR NOT NULL, target_id VARCHAR, detected_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (sync, key));
"""

_SCHEMA = pa.schema([("sync", pa.string()), ("key", pa.string()), ("target_id", pa.string()),
                     ("detected_at", pa.timestamp("us", tz="UTC"))])


def ensure(wh: Warehouse) -> None:
    """Create the skipped-deletions table if it is missing."""
    wh.execute(DDL)


@dataclass
class TargetDeletions:
    """One sync's records deleted in its target: which rows to hold back, and what to record or clear."""

    wh: Warehouse
    sync: SyncConfig
    held: set[str] = field(default_factory=set)        # keys not to send (skip policy)
    found: dict[str, str | None] = field(default_factory=dict)  # newly detected this run: key -> target id
    gone: list[str] = field(default_factory=list)      # rows that left the model: their tombstones go too

    @classmethod
    def load(cls, wh: Warehouse, sync: SyncConfig) -> TargetDeletions:
        """The sync's tombstones; under skip, first adds those the target's last ingest shows deleted."""
        ensure(wh)
        out = cls(wh, sync)
        if sync.on_target_delete == SKIP:
            _detect_in_raw(wh, sync)
            out.held = {r[0] for r in wh.query("SELECT key FROM _hub.sync_skipped_deletions WHERE sync = ?",
                                               [sync.name]).rows}
        return out

    @property
    def skip(self) -> bool:
        return self.sync.on_target_delete == SKIP

    def holds(self, key: str) -> bool:
        """True when the row's target record was deleted there and the sync must not bring it back."""
        return key in self.held

    def missing(self, key: str, target_id: str | None) -> bool:
        """An update answered "missing": under skip, record the deletion and return True (do not re-route)."""
        if not self.skip:
            return False
        self.found[key] = target_id
        self.held.add(key)
        return True

    def flush(self) -> None:
        """Record this run's detections; drop tombstones of rows now acknowledged with a record, or gone."""
        from hub.warehouse.rowsets import staged

        wh = self.wh
        with wh.transaction():
            if self.found:
                at = now()
                keys = list(self.found)
                table = pa.table([[self.sync.name] * len(keys), keys, [self.found[k] for k in keys],
                                  [at] * len(keys)], schema=_SCHEMA)
                with staged(wh, "_hub_target_deleted", table):
                    wh.execute("INSERT INTO _hub.sync_skipped_deletions SELECT * FROM _hub_target_deleted "
                               "ON CONFLICT DO NOTHING")
                self.found = {}
            # a row acknowledged with another record (re-created, or found again by match key) is no longer held
            wh.execute("DELETE FROM _hub.sync_skipped_deletions d WHERE d.sync = ? AND EXISTS ("
                       "SELECT 1 FROM _hub.sync_state st WHERE st.sync = d.sync AND st.key = d.key "
                       "AND st.target_id IS NOT NULL AND st.target_id IS DISTINCT FROM d.target_id)",
                       [self.sync.name])
            if self.gone:  # left the model (mirror): nothing is held back any more
                with staged(wh, "_hub_gone_deleted", pa.table({"key": pa.array(self.gone, pa.string())})):
                    wh.execute("DELETE FROM _hub.sync_skipped_deletions WHERE sync = ? AND key IN ("
                               "SELECT key FROM _hub_gone_deleted)", [self.sync.name])
                self.gone = []


def _detect_in_raw(wh: Warehouse, sync: SyncConfig) -> None:
    """Tombstone every acknowledged row whose target record the target's raw data marks archived/deleted."""
    from hub.reverse_etl.diff import _snapshot

    snap = _snapshot(wh, sync)
    if snap is None or snap.deleted is None or not wh.table_exists("_hub", "sync_state"):
        return
    wh.execute(f"INSERT INTO _hub.sync_skipped_deletions "
               f"SELECT st.sync, st.key, st.target_id, now() FROM _hub.sync_state st "
               f"JOIN {snap.relation} r ON CAST(r.{quote(snap.id_column)} AS VARCHAR) = st.target_id "
               f"WHERE st.sync = ? AND r.{quote(snap.deleted)} IS TRUE ON CONFLICT DO NOTHING", [sync.name])


def skipped(wh: Warehouse) -> list[dict[str, Any]]:
    """Every record a sync did not re-create because its target deleted it (oldest first)."""
    if not wh.table_exists("_hub", "sync_skipped_deletions"):
        return []
    return wh.query("SELECT sync, key, target_id, detected_at FROM _hub.sync_skipped_deletions "
                    "ORDER BY detected_at, sync, key").records()
