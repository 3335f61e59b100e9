"""Edits made in a two-way target between a run's ingest and its push are not overwritten.

A two-way sync plans its updates from the target's last ingest. A user may edit the record after that ingest; a
blind update would then replace their edit with a value the hub computed without it, and nothing would say so.
So before a two-way sync sends its updates, the records are read again by id (one read per batch, each target's own
way: :meth:`Pusher.read`), and each field about to be written is compared
with what the ingest saw. A record whose such field changed is left alone this run: its row stays unacknowledged
(so the next run plans it again, from an ingest that holds the edit, and field-level survivorship settles it) and
the field is recorded in ``_hub.sync_conflicts`` with status ``deferred``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hub.reverse_etl.base import Current
from hub.reverse_etl.config import is_link
from hub.reverse_etl.plan import Item, text

if TYPE_CHECKING:
    from hub.reverse_etl.engine import Target
    from hub.reverse_etl.plan import Plan


def hold_back(target: Target, plan: Plan) -> list[Item]:
    """Drop from ``plan.items`` the updates whose target record changed since the ingest, adding one ``deferred``
    conflict per changed field to ``plan.conflicts``; returns the items dropped. Updates whose target already holds
    the values to send (changed since the ingest to exactly those) move to ``plan.in_sync``. Does nothing for one-way
    syncs."""
    checked = [i for i in plan.items if plan.two_way and i.op == "update" and i.record.target_id and i.seen]
    if not checked:
        return []
    pusher, sync = target.pushers[0], plan.sync
    fields = [f for _, f in sync.mapping if not is_link(f)]   # links are no field of the record to read
    size = pusher.batch_limit("update")
    now: dict[str, Current] = {}
    for start in range(0, len(checked), size):
        now.update(pusher.read([str(i.record.target_id) for i in checked[start:start + size]], fields))
    stale: list[Item] = []
    settled: list[Item] = []   # the target already holds every value we meant to send
    for item in checked:
        current = now.get(str(item.record.target_id))
        if current is None:   # gone: the update itself finds out and the engine looks for the record anew
            continue
        edited, there = [], []
        for f, value in item.record.values.items():
            fold, now_value = f == sync.match_field, current.values.get(f)
            if _same(now_value, (item.seen or {}).get(f), fold):
                continue                      # as the ingest saw it: ours to write
            # changed since the ingest, to what we are about to write: our own earlier write (a run that died
            # before acknowledging it) or the same edit made there; nothing to overwrite, nothing to send
            (there if _same(now_value, text(value), fold) else edited).append(f)
        if edited:
            stale.append(item)
            plan.conflicts += [_deferred(plan, item, f, current) for f in edited]
        elif there and len(there) == len(item.record.values):
            settled.append(item)
        else:
            for f in there:
                del item.record.values[f]
    if stale or settled:
        gone = {id(i) for i in (*stale, *settled)}
        plan.items = [i for i in plan.items if id(i) not in gone]
        for item in settled:
            item.op = "in_sync"
        plan.in_sync += settled
    return stale


def _deferred(plan: Plan, item: Item, name: str, current: Current) -> dict[str, Any]:
    """The conflict record of one field edited in the target after the ingest."""
    sync = plan.sync
    column = next(c for c, f in sync.mapping if f == name)
    now_value, ours = text(current.values.get(name)), text(item.record.values.get(name))
    candidates = [{"connection": sync.to, "value": now_value, "edited_at": current.modified},
                  {"connection": "model", "value": ours, "edited_at": None}]
    fingerprint = "|".join(["deferred", sync.name, item.record.key, column, str(now_value), str(current.modified)])
    return {"conflict_id": hashlib.md5(fingerprint.encode()).hexdigest(), "model": sync.model,
            "key": item.record.key, "model_column": column, "policy": sync.policy, "winner": sync.to,
            "value": current.values.get(name), "resolved_value": now_value, "candidates": candidates,
            "status": "deferred", "syncs": sync.name, "run_id": None}


def _same(now: Any, seen: str | None, fold: bool) -> bool:
    """Whether the target's value now is the one the ingest saw (as text; datetimes by instant)."""
    a, b = text(now), seen
    if fold and a is not None and b is not None:
        return a.strip().lower() == b.strip().lower()
    if a == b:
        return True
    stamps = [_instant(v) for v in (a, b)]
    return stamps[0] is not None and stamps[0] == stamps[1]


def _instant(value: str | None) -> datetime | None:
    # targets may write "2025-01-01T10:00:00.000+0000" where the warehouse gives "2025-01-01T10:00:00+00:00"
    if value is None or len(value) < 19 or value[4] != "-" or "T" not in value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
